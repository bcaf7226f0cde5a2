//! Audit events: one for every change, appended to a hash-chained log. An incident's
//! timeline is the events that name it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{IncidentId, ProgramSlug, UserName};

/// What a change did. The names are stable: scripts read them from `audit log --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "incident.opened")]
    IncidentOpened,
    #[serde(rename = "incident.severity")]
    SeverityChanged,
    #[serde(rename = "incident.assessed")]
    HarmAssessed,
    #[serde(rename = "incident.status")]
    StatusChanged,
    /// A data element was confirmed exposed or ruled out.
    #[serde(rename = "incident.element")]
    ElementDecided,
    #[serde(rename = "incident.note")]
    NoteAdded,
    #[serde(rename = "incident.assigned")]
    Assigned,
    #[serde(rename = "people.imported")]
    PeopleImported,
    #[serde(rename = "program.added")]
    ProgramAdded,
    #[serde(rename = "program.linked")]
    ProgramLinked,
    #[serde(rename = "program.unlinked")]
    ProgramUnlinked,
    #[serde(rename = "program.edited")]
    ProgramEdited,
    #[serde(rename = "program.pause-requested")]
    PauseRequested,
    #[serde(rename = "program.paused")]
    ProgramPaused,
    #[serde(rename = "program.pause-failed")]
    PauseFailed,
    #[serde(rename = "program.resume-refused")]
    ResumeRefused,
    #[serde(rename = "program.resume-requested")]
    ResumeRequested,
    #[serde(rename = "program.resumed")]
    ProgramResumed,
    #[serde(rename = "program.resume-failed")]
    ResumeFailed,
    #[serde(rename = "notify.queued")]
    NotificationsQueued,
    #[serde(rename = "notify.sent")]
    NotificationsSent,
    #[serde(rename = "notify.retried")]
    NotificationsRetried,
    #[serde(rename = "notify.bounced")]
    NotificationsBounced,
    #[serde(rename = "incident.member-added")]
    MemberAdded,
    #[serde(rename = "incident.member-removed")]
    MemberRemoved,
    #[serde(rename = "incident.clock")]
    ClockChanged,
    /// The exposure window changed.
    #[serde(rename = "incident.exposure")]
    ExposureChanged,
    #[serde(rename = "obligation.done")]
    ObligationDone,
    #[serde(rename = "obligation.waived")]
    ObligationWaived,
    /// A responder decided a rule applies although what happened does not trigger it.
    #[serde(rename = "obligation.applied")]
    ObligationApplied,
    /// An open obligation came due within an alert threshold (the deadline sweep).
    #[serde(rename = "obligation.due-soon")]
    ObligationDueSoon,
    /// An open obligation went past its due time (the deadline sweep).
    #[serde(rename = "obligation.overdue")]
    ObligationOverdue,
    #[serde(rename = "evidence.imported")]
    EvidenceImported,
    /// The incident's personal data was destroyed (retention).
    #[serde(rename = "incident.purged")]
    IncidentPurged,
    /// An admin started a new audit witness after the old one was lost.
    #[serde(rename = "audit.witness-reset")]
    WitnessReset,
    /// Someone read personal data.
    #[serde(rename = "access.read")]
    PersonalDataRead,
    /// Someone was refused.
    #[serde(rename = "access.denied")]
    AccessDenied,
}

impl AuditAction {
    /// The stable dotted name, e.g. `incident.opened`.
    pub fn as_str(self) -> &'static str {
        use AuditAction::*;
        match self {
            IncidentOpened => "incident.opened",
            SeverityChanged => "incident.severity",
            HarmAssessed => "incident.assessed",
            StatusChanged => "incident.status",
            ElementDecided => "incident.element",
            NoteAdded => "incident.note",
            Assigned => "incident.assigned",
            PeopleImported => "people.imported",
            ProgramAdded => "program.added",
            ProgramLinked => "program.linked",
            ProgramUnlinked => "program.unlinked",
            ProgramEdited => "program.edited",
            PauseRequested => "program.pause-requested",
            ProgramPaused => "program.paused",
            PauseFailed => "program.pause-failed",
            ResumeRefused => "program.resume-refused",
            ResumeRequested => "program.resume-requested",
            ProgramResumed => "program.resumed",
            ResumeFailed => "program.resume-failed",
            NotificationsQueued => "notify.queued",
            NotificationsSent => "notify.sent",
            NotificationsRetried => "notify.retried",
            NotificationsBounced => "notify.bounced",
            MemberAdded => "incident.member-added",
            MemberRemoved => "incident.member-removed",
            ClockChanged => "incident.clock",
            ExposureChanged => "incident.exposure",
            ObligationDone => "obligation.done",
            ObligationWaived => "obligation.waived",
            ObligationApplied => "obligation.applied",
            ObligationDueSoon => "obligation.due-soon",
            ObligationOverdue => "obligation.overdue",
            EvidenceImported => "evidence.imported",
            IncidentPurged => "incident.purged",
            WitnessReset => "audit.witness-reset",
            PersonalDataRead => "access.read",
            AccessDenied => "access.denied",
        }
    }

    /// Whether this is an access-log entry rather than a change.
    pub fn is_access(self) -> bool {
        matches!(
            self,
            AuditAction::PersonalDataRead | AuditAction::AccessDenied
        )
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event before the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDraft {
    pub at: DateTime<Utc>,
    pub actor: UserName,
    pub action: AuditAction,
    pub incident: Option<IncidentId>,
    pub program: Option<ProgramSlug>,
    pub detail: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// For access-log entries: which read path and how many records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessRecord>,
    /// Text that is personal or secret (a hook's command and output), sealed by the desk
    /// before it reaches the store (hex); the desk opens it only for those who may read
    /// the incident's details, into [`AuditEvent::revealed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
}

/// What an access-log entry covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// The read path, e.g. `people.list` or `tui.people`.
    pub path: String,
    /// How many records of personal data were read (0 for a refusal).
    pub records: u64,
}

impl EventDraft {
    /// A draft with no incident, programme or before/after values.
    pub fn new(
        actor: &UserName,
        at: DateTime<Utc>,
        action: AuditAction,
        detail: impl Into<String>,
    ) -> Self {
        EventDraft {
            at,
            actor: actor.clone(),
            action,
            incident: None,
            program: None,
            detail: detail.into(),
            before: None,
            after: None,
            access: None,
            sealed: None,
        }
    }

    /// Names the incident the event belongs to.
    pub fn on_incident(mut self, id: IncidentId) -> Self {
        self.incident = Some(id);
        self
    }

    /// Names the programme the event belongs to.
    pub fn on_program(mut self, slug: &ProgramSlug) -> Self {
        self.program = Some(slug.clone());
        self
    }

    /// Marks the event as an access-log entry.
    pub fn accessed(mut self, path: &str, records: u64) -> Self {
        self.access = Some(AccessRecord {
            path: path.to_owned(),
            records,
        });
        self
    }

    /// Records the value before and after the change.
    pub fn changed(mut self, before: impl ToString, after: impl ToString) -> Self {
        self.before = Some(before.to_string());
        self.after = Some(after.to_string());
        self
    }
}

/// An event in the chain: its sequence number, content and hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    #[serde(flatten)]
    pub draft: EventDraft,
    /// Hex SHA-256 of the previous event's hash and this event's stored bytes.
    pub hash: String,
    /// The sealed text, opened for a reader entitled to it; never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revealed: Option<String>,
}

/// What a committed change touched, as published to every watcher after the commit: enough
/// for a screen to know what to reload, nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNotice {
    pub seq: u64,
    pub action: AuditAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramSlug>,
}

impl ChangeNotice {
    /// The notice of a committed event; `None` for access-log entries, which change nothing.
    pub fn of(event: &AuditEvent) -> Option<ChangeNotice> {
        let d = &event.draft;
        (!d.action.is_access()).then(|| ChangeNotice {
            seq: event.seq,
            action: d.action,
            incident: d.incident,
            program: d.program.clone(),
        })
    }
}
