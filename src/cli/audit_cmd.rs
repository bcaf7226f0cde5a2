//! `breachdesk audit ...`: print and verify the audit log, and quote its head.

use std::process::ExitCode;

use super::args::{AuditCommand, WitnessCommand};
use super::output::{self, EventView};
use super::{CliError, Context};
use crate::audit::{HeadReport, Tamper, Verified, WitnessCheck};
use crate::domain::UserName;

pub fn run(ctx: &mut Context<'_>, cmd: AuditCommand) -> Result<ExitCode, CliError> {
    match cmd {
        AuditCommand::Log { incident, json } => {
            let events = ctx.desk.audit_log(incident)?;
            if json {
                let views: Vec<_> = events.iter().map(EventView::new).collect();
                output::json(ctx.out, &views)?;
            } else {
                for e in &events {
                    let scope = match (&e.draft.incident, &e.draft.program) {
                        (Some(i), _) => i.to_string(),
                        (None, Some(p)) => p.to_string(),
                        (None, None) => "-".to_owned(),
                    };
                    write!(ctx.out, "{:>6} {:<10}", e.seq, scope)?;
                    output::timeline(ctx.out, std::slice::from_ref(e))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Access {
            incident,
            user,
            json,
        } => {
            let user = user.map(|u| UserName::parse(&u)).transpose()?;
            let events = ctx.desk.access_log(incident, user)?;
            if json {
                let views: Vec<_> = events.iter().map(EventView::new).collect();
                output::json(ctx.out, &views)?;
                return Ok(ExitCode::SUCCESS);
            }
            if events.is_empty() {
                writeln!(ctx.out, "no reads of personal data recorded")?;
            }
            for e in &events {
                let d = &e.draft;
                let (path, records) = d
                    .access
                    .as_ref()
                    .map_or(("-", 0), |a| (a.path.as_str(), a.records));
                let outcome = if d.action == crate::domain::AuditAction::AccessDenied {
                    "REFUSED".to_owned()
                } else {
                    format!("{records} records")
                };
                writeln!(
                    ctx.out,
                    "{}  {:<10} {:<8} {:<18} {}",
                    output::short_time(d.at),
                    output::safe(d.actor.as_str()),
                    d.incident.map_or("-".to_owned(), |i| i.to_string()),
                    path,
                    outcome
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { json } => {
            let result = ctx.desk.verify_audit()?;
            if json {
                return verify_json(ctx, &result);
            }
            match result {
                Ok(verified) => {
                    print_verified(ctx, &verified)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(tamper) => {
                    writeln!(ctx.err, "AUDIT LOG TAMPERED: {tamper}")?;
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Witness {
            action: WitnessCommand::Reset { reason, json },
        } => {
            let head = ctx.desk.reset_witness(reason)?;
            if json {
                output::json(ctx.out, &head)?;
            } else if let Some(head) = &head {
                writeln!(ctx.out, "audit witness re-established; the new head:")?;
                print_head(ctx, head)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Head { json } => {
            let head = ctx.desk.audit_head()?;
            if json {
                output::json(ctx.out, &head)?;
            } else if let Some(head) = &head {
                print_head(ctx, head)?;
            } else {
                writeln!(ctx.out, "the audit log is empty")?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `audit verify --json`: one object whether or not the log is intact; exit 1 if not.
fn verify_json(
    ctx: &mut Context<'_>,
    result: &Result<Verified, Tamper>,
) -> Result<ExitCode, CliError> {
    let value = match result {
        Ok(v) => serde_json::json!({
            "intact": true,
            "events": v.events,
            "head": v.head,
            "witness": v.witness,
            "warnings": v.warnings(),
        }),
        Err(tamper) => serde_json::json!({
            "intact": false,
            "tampered": tamper.to_string(),
            "detail": tamper,
        }),
    };
    output::json(ctx.out, &value)?;
    Ok(if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_verified(ctx: &mut Context<'_>, verified: &Verified) -> Result<(), CliError> {
    writeln!(
        ctx.out,
        "audit log intact: {} events checked",
        verified.events
    )?;
    if let Some(head) = &verified.head {
        writeln!(
            ctx.out,
            "head: event {} (hash {}…), keyed",
            head.seq,
            head.hash.get(..12).unwrap_or(&head.hash)
        )?;
    }
    if let WitnessCheck::Matches { path, last } = &verified.witness {
        writeln!(ctx.out, "witness: {} last recorded {last}", path.display())?;
    }
    for warning in verified.warnings() {
        writeln!(ctx.err, "warning: {warning}")?;
    }
    Ok(())
}

fn print_head(ctx: &mut Context<'_>, head: &HeadReport) -> Result<(), CliError> {
    writeln!(ctx.out, "event {}", head.seq)?;
    writeln!(ctx.out, "hash  {}", head.hash)?;
    match &head.tag {
        Some(tag) => writeln!(ctx.out, "tag   {tag}")?,
        None => writeln!(ctx.out, "tag   none (not keyed)")?,
    }
    match head.at {
        Some(at) => writeln!(ctx.out, "at    {}", at.format("%Y-%m-%dT%H:%M:%SZ"))?,
        None => writeln!(ctx.out, "at    unknown (last event unreadable)")?,
    }
    Ok(())
}
