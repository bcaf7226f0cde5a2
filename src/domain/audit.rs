//! Audit events: one for every change, appended to a hash-chained log. An incident's
//! timeline is the events that name it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{IncidentId, ProgramSlug, UserName};

/// Declares [`AuditAction`] with each action's stable name written once: the enum, its
/// name ([`AuditAction::as_str`]), its serde form (that name) and [`AuditAction::ALL`].
macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)+) => {
        /// What a change did. The names are stable: scripts read them from `audit log --json`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)+
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &[AuditAction] = &[$(AuditAction::$variant,)+];

            /// The stable dotted name, e.g. `incident.opened`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)+
                }
            }

            /// The action named `name`, if there is one.
            pub fn from_name(name: &str) -> Option<AuditAction> {
                match name {
                    $($name => Some(AuditAction::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

audit_actions! {
    IncidentOpened = "incident.opened",
    SeverityChanged = "incident.severity",
    /// The title or the summary was rewritten.
    IncidentDescribed = "incident.described",
    HarmAssessed = "incident.assessed",
    StatusChanged = "incident.status",
    /// A data element was confirmed exposed or ruled out.
    ElementDecided = "incident.element",
    NoteAdded = "incident.note",
    Assigned = "incident.assigned",
    PeopleImported = "people.imported",
    ProgramAdded = "program.added",
    ProgramLinked = "program.linked",
    ProgramUnlinked = "program.unlinked",
    ProgramEdited = "program.edited",
    PauseRequested = "program.pause-requested",
    ProgramPaused = "program.paused",
    PauseFailed = "program.pause-failed",
    ResumeRefused = "program.resume-refused",
    ResumeRequested = "program.resume-requested",
    ProgramResumed = "program.resumed",
    ResumeFailed = "program.resume-failed",
    NotificationsQueued = "notify.queued",
    NotificationsSent = "notify.sent",
    NotificationsRetried = "notify.retried",
    NotificationsBounced = "notify.bounced",
    MemberAdded = "incident.member-added",
    MemberRemoved = "incident.member-removed",
    ClockChanged = "incident.clock",
    /// The exposure window changed.
    ExposureChanged = "incident.exposure",
    ObligationDone = "obligation.done",
    ObligationWaived = "obligation.waived",
    /// A responder decided a rule applies although what happened does not trigger it.
    ObligationApplied = "obligation.applied",
    /// An open obligation came due within an alert threshold (the deadline sweep).
    ObligationDueSoon = "obligation.due-soon",
    /// An open obligation went past its due time (the deadline sweep).
    ObligationOverdue = "obligation.overdue",
    EvidenceImported = "evidence.imported",
    /// The incident's personal data was destroyed (retention).
    IncidentPurged = "incident.purged",
    /// An admin started a new audit witness after the old one was lost.
    WitnessReset = "audit.witness-reset",
    /// Someone read personal data.
    PersonalDataRead = "access.read",
    /// Someone was refused.
    AccessDenied = "access.denied",
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        AuditAction::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown audit action '{name}'")))
    }
}

impl AuditAction {
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

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn each_action_has_one_unique_name_that_is_also_its_stored_form() {
        let mut seen = std::collections::BTreeSet::new();
        for &action in AuditAction::ALL {
            assert!(seen.insert(action.as_str()), "{action} named twice");
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            assert_eq!(serde_json::from_str::<AuditAction>(&json).unwrap(), action);
        }
        assert!(serde_json::from_str::<AuditAction>("\"incident.nothing\"").is_err());
    }
}
