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
use super::{CliError, Context, Location};
use crate::config::Settings;
use crate::desk::{PeopleFilter, ReadPath, SendOptions, SendProgress};
use crate::domain::{
    AffectedPerson, CategoryCatalog, Email, EmployeeId, Incident, IncidentId, NewIncident,
    Severity, UserName,
};
use crate::notify::{IncidentContext, Source, TemplateName, stats};

pub fn template(
    ctx: &mut Context<'_>,
    cmd: TemplateCommand,
    location: &Location,
) -> Result<ExitCode, CliError> {
    let settings = Settings::load(&location.config, location.config_required)?;
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
            let sample = sample_context(&settings.catalog, &settings.config.contact)
                .with_law(&settings.rules, chrono::Utc::now());
            let mut bad = 0;
            // Each template for a sample person, and the letters to people for a sample
            // person of every jurisdiction whose rule lists letter elements.
            for name in TemplateName::ALL {
                let mut people = vec![(
                    "".to_owned(),
                    sample_person(&settings.catalog, "US-CA", &[]),
                )];
                if name == TemplateName::Initial {
                    people.extend(jurisdiction_samples(&settings));
                }
                for (rule, person) in &people {
                    let label = if rule.is_empty() {
                        name.to_string()
                    } else {
                        let at = person
                            .location
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default();
                        format!("{name} for {rule} ({at})")
                    };
                    let letter_ctx = sample.for_person(person, &settings.catalog);
                    match settings.templates.render(name, &letter_ctx) {
                        Ok(letter) => {
                            // What the person's law requires, by rule and element.
                            let gaps = if rule.is_empty() {
                                Vec::new()
                            } else {
                                crate::notify::check_letter(&letter, &letter_ctx, &settings.rules)
                            };
                            if gaps.is_empty() {
                                writeln!(ctx.out, "ok     {label}")?;
                            }
                            for gap in gaps {
                                bad += 1;
                                writeln!(ctx.out, "LACKS  {label}: {gap}")?;
                            }
                        }
                        Err(e) => {
                            bad += 1;
                            writeln!(ctx.out, "ERROR  {label}: {e}")?;
                        }
                    }
                }
            }
            // Each translation renders for a sample person who reads it; everyone whose
            // language has none gets the English letter.
            for name in TemplateName::ALL {
                for lang in settings.templates.languages(name) {
                    let mut person = sample_person(&settings.catalog, "DE", &[]);
                    person.language = crate::domain::Language::parse(lang).ok();
                    let letter_ctx = sample.for_person(&person, &settings.catalog);
                    match settings.templates.render(name, &letter_ctx) {
                        Ok(_) => writeln!(
                            ctx.out,
                            "ok     {name}.{lang} (for people whose language is {lang}; other languages get English)"
                        )?,
                        Err(e) => {
                            bad += 1;
                            writeln!(ctx.out, "ERROR  {name}.{lang}: {e}")?;
                        }
                    }
                }
            }
            let missing = settings
                .rules
                .missing_contact(|field| settings.config.contact.has(field));
            let mut hard = 0;
            for m in &missing {
                match m.stand_in {
                    Some(instead) => writeln!(
                        ctx.out,
                        "NOTE   [contact] {} is not set: rule {} letters give the contact {instead} as their {} instead",
                        m.field, m.rule, m.element
                    )?,
                    None => {
                        hard += 1;
                        writeln!(
                            ctx.out,
                            "MISSING [contact] {}: rule {} requires its letters to give {}",
                            m.field, m.rule, m.element
                        )?;
                    }
                }
            }
            let mut problems = Vec::new();
            if bad > 0 {
                problems.push(format!(
                    "{bad} problem(s) in the templates (failed to render, or lacking what a rule requires)"
                ));
            }
            if hard > 0 {
                problems.push(format!(
                    "{hard} contact detail(s) the letters must give are missing: set them under [contact] in the config"
                ));
            }
            if !problems.is_empty() {
                return Err(CliError::User(problems.join("; ")));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A sample person for each rule that lists letter elements: living at the rule's first
/// concrete location, with its data categories exposed if it names any.
fn jurisdiction_samples(settings: &Settings) -> Vec<(String, AffectedPerson)> {
    settings
        .rules
        .rules()
        .filter(|r| !r.letter.is_empty())
        .filter_map(|rule| {
            let at = rule.locations.iter().find(|l| !l.contains('*'))?;
            let extra: Vec<&str> = rule.categories.iter().map(String::as_str).collect();
            Some((
                rule.id.clone(),
                sample_person(&settings.catalog, at, &extra),
            ))
        })
        .collect()
}

fn sample_person(catalog: &CategoryCatalog, location: &str, extra: &[&str]) -> AffectedPerson {
    AffectedPerson {
        employee_id: EmployeeId::parse("E00001").expect("valid sample id"),
        name: "Ana Díaz".into(),
        email: Email::parse("ana.diaz@corp.example").expect("valid sample address"),
        categories: ["keystrokes", "chat-messages"]
            .iter()
            .chain(extra)
            .filter_map(|c| catalog.parse(c).ok())
            .collect(),
        location: crate::domain::Location::parse(location).ok(),
        notified_at: None,
        bounced: None,
        language: None,
    }
}

fn sample_context(catalog: &CategoryCatalog, contact: &crate::notify::Contact) -> IncidentContext {
    let new = NewIncident::new(
        "Sample incident",
        Severity::new(2).expect("2 is a severity"),
        "A sample summary.",
    )
    .expect("a valid sample incident");
    let incident = Incident::open(
        IncidentId::new(1),
        new,
        UserName::parse("sample").expect("valid"),
        chrono::Utc::now(),
    );
    let person = sample_person(catalog, "US-CA", &[]);
    IncidentContext::new(&incident, &[], contact, stats([&person], catalog))
}

pub fn run(ctx: &mut Context<'_>, cmd: NotifyCommand) -> Result<ExitCode, CliError> {
    match cmd {
        NotifyCommand::Preview {
            id,
            template,
            person,
        } => {
            let person = person.as_deref().map(EmployeeId::parse).transpose()?;
            let message = ctx.desk.preview_letter(id, template, person)?;
            write!(ctx.out, "{}", safe_message(&message))?;
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
        .split("\r\n")
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
