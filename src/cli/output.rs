//! How things look on stdout: the JSON views scripts rely on (stable field names, ids as
//! `INC-7`, severity as an integer, states in lower case) and the human tables. All text
//! that came from outside passes through the terminal sanitiser before it is printed.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::text::for_terminal;
use crate::domain::{AffectedPerson, AuditEvent, Incident, Program};

/// An incident as scripts see it.
#[derive(Serialize)]
pub struct IncidentView<'a> {
    pub id: String,
    pub title: &'a str,
    pub severity: u8,
    pub status: &'static str,
    pub summary: &'a str,
    pub categories: Vec<&'a str>,
    pub programs: Vec<&'a str>,
    pub owner: &'a str,
    pub opened_at: String,
    pub discovered_at: String,
    pub updated_at: String,
    pub people: u64,
    pub notified: u64,
    pub members: Vec<&'a str>,
    /// Whether the incident holds personal data and so is need-to-know.
    pub restricted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// When, by whom and why its personal data was destroyed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purged: Option<PurgeView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected: Option<Vec<PersonView<'a>>>,
    /// Affected people no rule covers, by location (`incident show` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncovered: Option<Vec<crate::deadlines::Uncovered>>,
}

impl<'a> IncidentView<'a> {
    pub fn new(i: &'a Incident) -> Self {
        IncidentView {
            id: i.id.to_string(),
            title: &i.title,
            severity: i.severity.level(),
            status: i.status.as_str(),
            summary: &i.summary,
            categories: i.categories.iter().map(|c| c.as_str()).collect(),
            programs: i.programs.iter().map(|p| p.as_str()).collect(),
            owner: i.owner.as_str(),
            opened_at: rfc3339(i.opened_at),
            discovered_at: rfc3339(i.discovered_at),
            updated_at: rfc3339(i.updated_at),
            people: i.people,
            notified: i.notified,
            members: i.members.iter().map(|m| m.as_str()).collect(),
            restricted: i.is_restricted(),
            closed_at: i.closed_time().map(rfc3339),
            purged: i.purged.as_ref().map(|p| PurgeView {
                at: rfc3339(p.at),
                by: p.by.as_str(),
                reason: &p.reason,
            }),
            timeline: None,
            affected: None,
            uncovered: None,
        }
    }
}

/// A purge as scripts see it.
#[derive(Serialize)]
pub struct PurgeView<'a> {
    pub at: String,
    pub by: &'a str,
    pub reason: &'a str,
}

/// An audit event as scripts see it.
#[derive(Serialize)]
pub struct EventView<'a> {
    pub seq: u64,
    pub at: String,
    pub actor: &'a str,
    pub action: &'static str,
    pub detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// A hook's command and output, for readers entitled to them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<&'a str>,
    pub hash: &'a str,
}

impl<'a> EventView<'a> {
    pub fn new(e: &'a AuditEvent) -> Self {
        let d = &e.draft;
        EventView {
            seq: e.seq,
            at: rfc3339(d.at),
            actor: d.actor.as_str(),
            action: d.action.as_str(),
            detail: &d.detail,
            incident: d.incident.map(|i| i.to_string()),
            program: d.program.as_ref().map(|p| p.as_str()),
            before: d.before.as_deref(),
            after: d.after.as_deref(),
            path: d.access.as_ref().map(|a| a.path.as_str()),
            records: d.access.as_ref().map(|a| a.records),
            private: e.revealed.as_deref(),
            hash: &e.hash,
        }
    }
}

/// An affected person as scripts see it.
#[derive(Serialize)]
pub struct PersonView<'a> {
    pub employee_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub categories: Vec<&'a str>,
    pub location: Option<&'a str>,
    pub notified: bool,
    pub notified_at: Option<String>,
}

impl<'a> PersonView<'a> {
    pub fn new(p: &'a AffectedPerson) -> Self {
        PersonView {
            employee_id: p.employee_id.as_str(),
            name: &p.name,
            email: p.email.as_str(),
            categories: p.categories.iter().map(|c| c.as_str()).collect(),
            location: p.location.as_ref().map(|l| l.as_str()),
            notified: p.is_notified(),
            notified_at: p.notified_at.map(rfc3339),
        }
    }
}

/// A programme as scripts see it.
#[derive(Serialize)]
pub struct ProgramView<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub owner: &'a str,
    pub state: &'static str,
    pub categories: Vec<&'a str>,
    pub incidents: Vec<String>,
    pub pause_hook: Option<&'a str>,
    pub resume_hook: Option<&'a str>,
    pub created_at: String,
    pub paused_at: Option<String>,
    /// The hook running now (state pausing or resuming).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<RunView<'a>>,
    /// A pause waiting for the running resume hook to end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_queued: Option<RunView<'a>>,
}

/// A hook run in flight, as scripts see it.
#[derive(Serialize)]
pub struct RunView<'a> {
    pub by: &'a str,
    pub incident: Option<String>,
    pub since: String,
    pub expires_at: String,
}

impl<'a> RunView<'a> {
    fn new(lease: &'a crate::domain::HookLease) -> Self {
        RunView {
            by: lease.by.as_str(),
            incident: lease.incident.map(|i| i.to_string()),
            since: rfc3339(lease.since),
            expires_at: rfc3339(lease.expires_at),
        }
    }
}

impl<'a> ProgramView<'a> {
    pub fn new(p: &'a Program) -> Self {
        ProgramView {
            slug: p.slug.as_str(),
            name: &p.name,
            owner: p.owner.as_str(),
            state: p.state.as_str(),
            categories: p.categories.iter().map(|c| c.as_str()).collect(),
            incidents: p.incidents.iter().map(ToString::to_string).collect(),
            pause_hook: p.pause_hook.as_deref(),
            resume_hook: p.resume_hook.as_deref(),
            created_at: rfc3339(p.created_at),
            paused_at: p.paused_at.map(rfc3339),
            running: p
                .run
                .as_ref()
                .filter(|_| p.state.is_in_flight())
                .map(RunView::new),
            pause_queued: p.pause_queued.as_ref().map(RunView::new),
        }
    }
}

pub use crate::domain::when::rfc3339;

/// A short UTC time for tables.
pub fn short_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// Writes `value` as JSON and a newline.
pub fn json<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    // A local buffer turns many small writes through `dyn Write` into a few large ones.
    let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer(&mut buffered, value).map_err(io::Error::other)?;
    writeln!(buffered)?;
    buffered.flush()
}

/// Untrusted text, made safe for the terminal.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    for_terminal(text)
}

/// Writes one timeline line per event.
pub fn timeline(out: &mut dyn Write, events: &[AuditEvent]) -> io::Result<()> {
    for e in events {
        let d = &e.draft;
        write!(
            out,
            "  {}  {:<10} {:<24} {}",
            short_time(d.at),
            safe(d.actor.as_str()),
            d.action.as_str(),
            safe(&d.detail)
        )?;
        if let (Some(before), Some(after)) = (&d.before, &d.after) {
            write!(out, " [{} -> {}]", safe(before), safe(after))?;
        }
        writeln!(out)?;
        for line in e.revealed.iter().flat_map(|r| r.lines()) {
            writeln!(out, "      | {}", safe(line))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path` that only the user can read (it must not exist:
/// personal data is never written over another file), and waits until it is on disk.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), super::CliError> {
    crate::files::write_private(path, bytes).map_err(|e| match e {
        crate::files::WriteError::Create(..) => super::CliError::User(e.to_string()),
        crate::files::WriteError::Write(..) => super::CliError::Failure(e.to_string()),
    })
}
