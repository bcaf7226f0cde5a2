//! `breachdesk audit ...`: print and verify the audit log.

use std::process::ExitCode;

use super::args::AuditCommand;
use super::output::{self, EventView};
use super::{CliError, Context};
use crate::domain::UserName;

pub fn run(ctx: &mut Context<'_>, cmd: AuditCommand) -> Result<ExitCode, CliError> {
    match cmd {
        AuditCommand::Log { incident, json } => {
            let events = ctx.desk.audit_log(&ctx.actor, incident)?;
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
            let events = ctx.desk.access_log(&ctx.actor, incident, user.as_ref())?;
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
        AuditCommand::Verify => match ctx.desk.verify_audit(&ctx.actor)? {
            Ok(count) => {
                writeln!(ctx.out, "audit log intact: {count} events checked")?;
                Ok(ExitCode::SUCCESS)
            }
            Err(tamper) => {
                writeln!(ctx.err, "AUDIT LOG TAMPERED: {tamper}")?;
                Ok(ExitCode::FAILURE)
            }
        },
    }
}
