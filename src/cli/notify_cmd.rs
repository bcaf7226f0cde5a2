//! `breachdesk template ...` and `breachdesk notify ...`: letters to affected staff.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a send that stopped before the outbox was drained.
pub const INTERRUPTED: u8 = 3;
use std::time::Instant;

use super::args::{NotifyCommand, TemplateCommand};
use super::output::{self, safe};
use super::{CliError, Context, Invocation};
use crate::config::Settings;
use crate::desk::{PeopleFilter, ReadPath, SendOptions, SendProgress};
use crate::domain::{Email, EmployeeId};
use crate::notify::{Source, TemplateName};

pub fn template(
    ctx: &mut Context<'_>,
    cmd: TemplateCommand,
    invocation: &Invocation,
) -> Result<ExitCode, CliError> {
    let settings = Settings::load(&invocation.config, invocation.config_required)?;
    match cmd {
        TemplateCommand::List => {
            for name in TemplateName::ALL {
                writeln!(ctx.out, "{:<18} {}", name.as_str(), name.purpose())?;
                for (file, source) in settings
                    .templates
                    .sources()
                    .iter()
                    .filter(|(f, _)| f.starts_with(&format!("{name}.")))
                {
                    let from = match source {
                        Source::BuiltIn => "built in".to_owned(),
                        Source::Override(p) => {
                            format!("overridden by {}", crate::domain::text::display_path(p))
                        }
                    };
                    writeln!(ctx.out, "    {file:<32} {from}")?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        TemplateCommand::Check => {
            let check = crate::notify::check::check_templates(&settings);
            for line in &check.lines {
                writeln!(ctx.out, "{line}")?;
            }
            if let Some(problems) = check.problems() {
                return Err(CliError::User(problems));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run(ctx: &mut Context<'_>, cmd: NotifyCommand) -> Result<ExitCode, CliError> {
    match cmd {
        NotifyCommand::Preview {
            id,
            template,
            person,
            raw,
        } => {
            let person = person.as_deref().map(EmployeeId::parse).transpose()?;
            let message = ctx.desk.preview_letter(id, template, person)?;
            let shown = if raw {
                message
            } else {
                crate::notify::readable(&message).map_err(CliError::Failure)?
            };
            write!(ctx.out, "{}", safe_message(&shown))?;
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Queue {
            id,
            template,
            category,
            pending,
            recipients,
            allow_incomplete,
            reason,
        } => {
            let category = category.map(|c| ctx.desk.catalog().parse(&c)).transpose()?;
            let incomplete = if allow_incomplete {
                let reason = reason.unwrap_or_default();
                if reason.trim().is_empty() || reason.chars().any(char::is_control) {
                    return Err(CliError::User(
                        "--reason: say in one line why the incomplete letter is queued anyway"
                            .into(),
                    ));
                }
                Some(reason)
            } else {
                None
            };
            let recipients = recipients
                .iter()
                .map(|r| Email::parse(r))
                .collect::<Result<Vec<_>, _>>()?;
            let filter = PeopleFilter {
                category,
                pending,
                undeliverable: false,
                text: None,
            };
            let report = ctx
                .desk
                .queue_notifications(id, template, filter, recipients, incomplete)?;
            if report.queued == 0 && report.already > 0 {
                writeln!(
                    ctx.out,
                    "{id}: nothing new to queue; all {} '{template}' letters are already in the outbox",
                    report.already
                )?;
            } else {
                writeln!(
                    ctx.out,
                    "{id}: queued {} '{template}' letters ({} already in the outbox)",
                    report.queued, report.already
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Export { id, dir } => {
            let written = ctx.desk.export_letters(id, &dir)?;
            writeln!(
                ctx.out,
                "wrote {written} queued letters of {id} to {} (nothing was sent or marked)",
                safe(&dir.display().to_string())
            )?;
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Send { id, rate } => {
            // Ctrl-C or SIGTERM stops starting letters; those in flight finish and are
            // recorded, and the rest stay queued.
            let stop = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, Arc::clone(&stop))?;
            }
            let options = SendOptions {
                rate,
                stop: Some(Arc::clone(&stop)),
            };
            let started = Instant::now();
            let show_bar = std::io::stderr().is_terminal();
            let mut last_drawn = Instant::now();
            let err = &mut *ctx.err;
            let sent = ctx
                .desk
                .send_notifications(id, &options, &mut |p: &SendProgress| {
                    if show_bar && last_drawn.elapsed().as_millis() >= 100 {
                        last_drawn = Instant::now();
                        let _ = write!(err, "\r{}", bar(p));
                    }
                });
            let summary = match sent {
                Err(crate::desk::DeskError::Interrupted(what)) => {
                    writeln!(ctx.err, "\nINTERRUPTED: {what}")?;
                    return Ok(ExitCode::from(INTERRUPTED));
                }
                other => other?,
            };
            if show_bar {
                writeln!(ctx.err, "\r{}", bar(&summary))?;
            }
            let secs = started.elapsed().as_secs_f64();
            writeln!(
                ctx.out,
                "{} sent, {} failed of {} in {secs:.1} s ({:.0} letters/s)",
                summary.sent,
                summary.failed,
                summary.total,
                summary.sent as f64 / secs.max(0.001)
            )?;
            if summary.parked > 0 || stop.load(Ordering::Relaxed) {
                let who = if stop.load(Ordering::Relaxed) {
                    "the send was interrupted"
                } else {
                    "the daemon is stopping"
                };
                writeln!(
                    ctx.err,
                    "INTERRUPTED: {who}; {} sent, {} failed, {} still queued of {}. Send again to finish: nobody is mailed twice beyond the letters in flight",
                    summary.sent,
                    summary.failed,
                    summary.total.saturating_sub(summary.sent + summary.failed),
                    summary.total
                )?;
                return Ok(ExitCode::from(INTERRUPTED));
            }
            if summary.failed > 0 {
                writeln!(
                    ctx.err,
                    "some letters failed: see `breachdesk notify status`, then `notify retry`"
                )?;
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Status { id, json } => {
            let status = ctx.desk.outbox_status(id, ReadPath::NotifyStatus)?;
            if json {
                output::json(ctx.out, &status)?;
                return Ok(ExitCode::SUCCESS);
            }
            let counts: Vec<String> = status
                .counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            writeln!(ctx.out, "{id}: {}", counts.join(", "))?;
            for (template, states) in &status.by_template {
                let parts: Vec<String> = states.iter().map(|(k, v)| format!("{k} {v}")).collect();
                writeln!(ctx.out, "  {template}: {}", parts.join(", "))?;
            }
            for p in &status.sent_to_previous {
                writeln!(
                    ctx.out,
                    "  {} '{}': sent to a previous address, {} (the roster now has another address; decide whether to tell them there)",
                    safe(&p.recipient),
                    p.template,
                    safe(&p.sent_to)
                )?;
            }
            for b in &status.bounced {
                writeln!(
                    ctx.out,
                    "  BOUNCED {} {}: {} {} (not told: see `people list {id} --undeliverable`)",
                    b.template,
                    safe(&b.recipient),
                    b.status,
                    safe(&b.diagnostic)
                )?;
            }
            for f in &status.failures {
                writeln!(
                    ctx.out,
                    "  FAILED {} {} after {} attempts: {}",
                    f.template,
                    safe(&f.recipient),
                    f.attempts,
                    safe(&f.error)
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Bounces {
            id,
            maildir,
            mbox,
            json,
        } => super::bounces_cmd::run(ctx, id, maildir.as_deref(), mbox.as_deref(), json),
        NotifyCommand::Retry { id } => {
            let n = ctx.desk.retry_failed(id)?;
            writeln!(
                ctx.out,
                "{id}: requeued {n} failed letters; run `breachdesk notify send` to send them"
            )?;
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::TestSmtp => {
            let info = ctx.desk.test_smtp()?;
            writeln!(ctx.out, "connected to {}", safe(&info))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The message as printed: CRLF becomes LF, control characters are stripped per line.
fn safe_message(message: &str) -> String {
    message
        .lines()
        .map(|l| safe(l).into_owned() + "\n")
        .collect()
}

fn bar(p: &SendProgress) -> String {
    let done = p.sent + p.failed;
    let width = 30;
    let filled = (done * width).checked_div(p.total).unwrap_or(width);
    format!(
        "[{}{}] {done}/{} sent {} failed {} retrying {}",
        "#".repeat(filled),
        " ".repeat(width - filled),
        p.total,
        p.sent,
        p.failed,
        p.retrying
    )
}
