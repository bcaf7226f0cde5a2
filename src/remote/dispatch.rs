//! The daemon's dispatch: one request, validated as the command line validates it, run on
//! the daemon's desk as the caller the socket names. Connections, frames and replies are
//! `server.rs`; uploads `upload.rs`; watching `watch.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::protocol::{PROTOCOL_VERSION, Request, Welcome, from_hex};
use super::server::Daemon;
use crate::desk::{Desk, DeskError, IncidentFilter, PeopleFilter, SendOptions, Session};
use crate::domain::{
    DomainError, Email, EmployeeId, NewIncident, NewProgram, ProgramSlug, Severity, Status,
    UserName,
};

pub(super) fn json<T: Serialize>(value: T) -> Result<Box<serde_json::value::RawValue>, DeskError> {
    serde_json::value::to_raw_value(&value)
        .map_err(|e| DeskError::Internal(format!("cannot encode the reply: {e}")))
}

fn user(name: &str) -> Result<UserName, DeskError> {
    Ok(UserName::parse(name)?)
}

fn slug(text: &str) -> Result<ProgramSlug, DeskError> {
    Ok(text.parse::<ProgramSlug>()?)
}

fn severity(level: u8) -> Result<Severity, DeskError> {
    Ok(Severity::new(level)?)
}

/// Runs one request in the connection's session, validating every value as the command
/// line does.
pub(super) fn handle(
    daemon: &Daemon,
    desk: &Session,
    request: Request,
    progress: &mut dyn FnMut(&crate::desk::SendProgress),
    hung_up: &AtomicBool,
) -> Result<Box<serde_json::value::RawValue>, DeskError> {
    let catalog = desk.catalog();
    let people_filter = |category: Option<String>, pending: bool, text: Option<String>| {
        Ok::<_, DeskError>(PeopleFilter {
            category: category.map(|c| catalog.parse(&c)).transpose()?,
            pending,
            text,
        })
    };
    match request {
        Request::Hello { .. } => json({
            let (rules, targets) = desk.rules().parts();
            Welcome {
                identity: desk.identity()?,
                catalog: catalog.defs().to_vec(),
                rules,
                targets,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                protocol: PROTOCOL_VERSION,
            }
        }),
        Request::OpenIncident {
            title,
            severity: level,
            summary,
            categories,
            programs,
            discovered_at,
            aware_at,
        } => {
            let mut new = NewIncident::new(&title, severity(level)?, &summary)?;
            for c in &categories {
                new.categories.insert(catalog.parse(c)?);
            }
            for p in &programs {
                new.programs.insert(slug(p)?);
            }
            new.discovered_at = discovered_at;
            new.aware_at = aware_at;
            json(desk.open_incident(new)?)
        }
        Request::Incidents {
            status,
            max_severity,
        } => {
            let filter = IncidentFilter {
                status: status.map(|s| s.parse::<Status>()).transpose()?,
                max_severity: max_severity.map(severity).transpose()?,
            };
            json(desk.incidents(&filter)?)
        }
        Request::Incident { id } => json(desk.incident(id)?),
        Request::Timeline { id } => json(desk.timeline(id)?),
        Request::SetSeverity {
            id,
            severity: level,
            reason,
        } => json(desk.set_severity(id, severity(level)?, &reason)?),
        Request::SetStatus { id, status, reason } => {
            let status = status.parse::<Status>()?;
            json(desk.set_status(id, status, reason.as_deref())?)
        }
        Request::AddNote { id, text } => json(desk.add_note(id, &text)?),
        Request::Assign { id, owner } => json(desk.assign(id, user(&owner)?)?),
        Request::SetMember {
            id,
            user: name,
            add,
        } => json(desk.set_member(id, user(&name)?, add)?),
        Request::AccessLog {
            incident,
            user: name,
        } => {
            let name = name.map(|n| user(&n)).transpose()?;
            json(desk.access_log(incident, name.as_ref())?)
        }
        Request::ImportRoster {
            id,
            csv_hex,
            source_name,
            dry_run,
        } => {
            let csv = from_hex(&csv_hex).ok_or(DeskError::Invalid(DomainError::Token {
                field: "csv_hex",
                given: "(not hex)".into(),
            }))?;
            let source_name = crate::domain::text::for_terminal(&source_name).into_owned();
            json(desk.import_roster(id, &csv, &source_name, dry_run)?)
        }
        Request::People {
            id,
            category,
            pending,
            text,
            path,
        } => {
            let filter = people_filter(category, pending, text)?;
            json(desk.people(id, &filter, path)?)
        }
        Request::PeopleWindow { id, offset, limit } => {
            let offset = usize::try_from(offset).unwrap_or(usize::MAX);
            let limit = usize::try_from(limit.min(10_000)).unwrap_or(10_000);
            json(desk.people_window(id, offset, limit)?)
        }
        Request::AddProgram {
            slug: s,
            name,
            owner,
            categories,
            pause_hook,
            resume_hook,
        } => {
            let mut new = NewProgram::new(
                slug(&s)?,
                &name,
                pause_hook.as_deref(),
                resume_hook.as_deref(),
            )?;
            new.owner = owner.map(|o| user(&o)).transpose()?;
            for c in &categories {
                new.categories.insert(catalog.parse(c)?);
            }
            json(desk.add_program(new)?)
        }
        Request::Programs => json(desk.programs()?),
        Request::LinkProgram { slug: s, id } => json(desk.link_program(&slug(&s)?, id)?),
        Request::PauseProgram {
            slug: s,
            id,
            reason,
        } => json(desk.pause_program(&slug(&s)?, id, &reason)?),
        Request::ResumeProgram {
            slug: s,
            reason,
            force,
        } => json(desk.resume_program(&slug(&s)?, &reason, force)?),
        Request::AuditLog { incident } => json(desk.audit_log(incident)?),
        Request::VerifyAudit => json(desk.verify_audit()?),
        Request::AuditHead => json(desk.audit_head()?),
        Request::PreviewLetter {
            id,
            template,
            person,
        } => {
            let person = person.map(|p| EmployeeId::parse(&p)).transpose()?;
            json(desk.preview_letter(id, template, person.as_ref())?)
        }
        Request::QueueNotifications {
            id,
            template,
            category,
            pending,
            text,
            recipients,
        } => {
            let filter = people_filter(category, pending, text)?;
            let recipients = recipients
                .iter()
                .map(|r| Email::parse(r))
                .collect::<Result<Vec<_>, _>>()?;
            json(desk.queue_notifications(id, template, &filter, &recipients)?)
        }
        Request::SendNotifications { scope, rate } => {
            // This send stops starting letters when the daemon stops or its client hangs
            // up (Ctrl-C in the CLI); what is in flight is still recorded.
            let stop = Arc::new(AtomicBool::new(false));
            let options = SendOptions {
                rate,
                stop: Some(Arc::clone(&stop)),
            };
            let mut watched = |p: &crate::desk::SendProgress| {
                progress(p);
                if daemon.stop.load(Ordering::SeqCst) || hung_up.load(Ordering::SeqCst) {
                    stop.store(true, Ordering::SeqCst);
                }
            };
            json(desk.send_notifications(scope, &options, &mut watched)?)
        }
        Request::OutboxStatus { id, path } => json(desk.outbox_status(id, path)?),
        Request::RetryFailed { id } => json(desk.retry_failed(id)?),
        Request::TestSmtp => json(desk.test_smtp()?),
        Request::SetClock {
            id,
            aware,
            determined,
            reason,
        } => json(desk.set_clock(id, aware, determined, &reason)?),
        Request::Obligations { id } => json(desk.obligations(id)?),
        Request::SettleObligation { id, rule, state } => {
            json(desk.settle_obligation(id, &rule, state)?)
        }
        Request::Evidence { id } => json(desk.evidence(id)?),
        Request::ImportEvidence { .. } | Request::Watch => Err(DeskError::Internal(
            "an evidence upload or a watch is served by the connection, not here".into(),
        )),
    }
}
