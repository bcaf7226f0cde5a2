//! The desk's audit and access actions: the audit log, verifying the chain and its head,
//! the access log, watching for change notices, and recording what goes into the access
//! log (each read of personal data, each refusal). Who may do what is [`crate::access`]'s;
//! the chain itself is [`crate::audit`]'s.

use std::fmt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::DeskError;
use super::local::LocalDesk;
use crate::access::{Denial, Role};
use crate::audit::{HeadReport, Tamper, Verified};
use crate::domain::{AuditAction, AuditEvent, EventDraft, Incident, IncidentId, UserName};
use crate::store::Changes;

/// A read of personal data, as the access log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadPath {
    #[serde(rename = "people.list")]
    PeopleList,
    #[serde(rename = "people.export")]
    PeopleExport,
    #[serde(rename = "incident.show")]
    IncidentShow,
    #[serde(rename = "tui.people")]
    TuiPeople,
    #[serde(rename = "letter.preview")]
    LetterPreview,
    #[serde(rename = "notify.status")]
    NotifyStatus,
    #[serde(rename = "tui.notifications")]
    TuiNotifications,
    #[serde(rename = "evidence.summary")]
    EvidenceSummary,
    #[serde(rename = "report")]
    Report,
    #[serde(rename = "notify.export")]
    LetterExport,
}

impl ReadPath {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadPath::PeopleList => "people.list",
            ReadPath::PeopleExport => "people.export",
            ReadPath::IncidentShow => "incident.show",
            ReadPath::TuiPeople => "tui.people",
            ReadPath::LetterPreview => "letter.preview",
            ReadPath::NotifyStatus => "notify.status",
            ReadPath::TuiNotifications => "tui.notifications",
            ReadPath::EvidenceSummary => "evidence.summary",
            ReadPath::Report => "report",
            ReadPath::LetterExport => "notify.export",
        }
    }
}

impl fmt::Display for ReadPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who the desk takes the caller to be, and their role (`None`: no access at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub user: UserName,
    pub role: Option<Role>,
}

/// How long one browsing of a roster in the TUI counts as one access-log entry.
const BROWSE_WINDOW: std::time::Duration = std::time::Duration::from_secs(600);

/// Who is calling, as the desk sees it.
pub(super) fn identity(desk: &LocalDesk, actor: &UserName) -> Result<Identity, DeskError> {
    Ok(Identity {
        user: actor.clone(),
        role: desk.policy.role(actor),
    })
}

/// The audit log, of one incident (its timeline) or, for admins, all of it.
pub(super) fn log(
    desk: &LocalDesk,
    actor: &UserName,
    incident: Option<IncidentId>,
) -> Result<Vec<AuditEvent>, DeskError> {
    match incident {
        Some(id) => super::incidents::timeline(desk, actor, id),
        None => {
            let mut events: Vec<AuditEvent> = desk.store.events().collect::<Result<_, _>>()?;
            desk.reveal(&mut events, true);
            Ok(events)
        }
    }
}

pub(super) fn verify(
    desk: &LocalDesk,
    _actor: &UserName,
) -> Result<Result<Verified, Tamper>, DeskError> {
    Ok(desk.store.verify_audit()?)
}

pub(super) fn head(desk: &LocalDesk, _actor: &UserName) -> Result<Option<HeadReport>, DeskError> {
    Ok(desk.store.audit_head()?)
}

/// Re-establishes a lost audit witness: the reset, with its reason, is the first head the
/// new witness records.
pub(super) fn reset_witness(
    desk: &LocalDesk,
    actor: &UserName,
    reason: String,
) -> Result<Option<HeadReport>, DeskError> {
    let reason = super::local::reason_text(&reason)?;
    let _guard = desk.lock()?;
    let Some(path) = desk
        .store
        .witness_path()
        .map(crate::domain::text::display_path)
    else {
        return Err(DeskError::Unchanged(
            "this database is opened without an audit witness: nothing to re-establish".into(),
        ));
    };
    if desk.store.witness_present() {
        return Err(DeskError::Unchanged(format!(
            "the audit witness {path} is there: nothing to re-establish (`breachdesk audit verify` checks it)"
        )));
    }
    let draft = EventDraft::new(
        actor,
        desk.now(),
        AuditAction::WitnessReset,
        format!("audit witness re-established at {path}: {reason}"),
    );
    desk.store.commit(&Changes {
        events: vec![draft],
        reset_witness: true,
        ..Changes::default()
    })?;
    Ok(desk.store.audit_head()?)
}

/// Access-log entries (reads of personal data and refusals), oldest first.
pub(super) fn access_log(
    desk: &LocalDesk,
    _actor: &UserName,
    incident: Option<IncidentId>,
    user: Option<UserName>,
) -> Result<Vec<AuditEvent>, DeskError> {
    let mut events: Vec<AuditEvent> = match incident {
        Some(id) => desk.store.incident_events(id)?,
        None => desk.store.events().collect::<Result<_, _>>()?,
    };
    events.retain(|e| {
        e.draft.action.is_access() && user.as_ref().is_none_or(|u| e.draft.actor == *u)
    });
    Ok(events)
}

/// Notices of every change committed from now on, for any viewer.
pub(super) fn watch(
    desk: &LocalDesk,
    actor: &UserName,
) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError> {
    desk.guard_role(actor, Role::Viewer, "watch")?;
    Ok(desk.store.watch())
}

impl LocalDesk {
    /// Records a refusal and returns the error to give the caller.
    pub(super) fn refuse(
        &self,
        actor: &UserName,
        incident: Option<IncidentId>,
        what: &str,
        reason: Denial,
    ) -> DeskError {
        let mut event = EventDraft::new(
            actor,
            self.now(),
            AuditAction::AccessDenied,
            format!("refused {what}: {reason}"),
        )
        .accessed(what, 0);
        if let Some(id) = incident {
            event = event.on_incident(id);
        }
        match self.store.commit(&Changes::events(vec![event])) {
            Ok(_) => DeskError::Denied {
                what: what.to_owned(),
                reason,
            },
            Err(e) => e.into(),
        }
    }

    /// Records that `actor` read `records` records of an incident's personal data.
    pub(super) fn record_read(
        &self,
        actor: &UserName,
        id: IncidentId,
        path: ReadPath,
        records: usize,
    ) -> Result<(), DeskError> {
        let event = EventDraft::new(
            actor,
            self.now(),
            AuditAction::PersonalDataRead,
            format!("{path}: {records} records"),
        )
        .on_incident(id)
        .accessed(path.as_str(), records as u64);
        self.store.commit(&Changes::events(vec![event]))?;
        Ok(())
    }

    /// Records a roster opened for browsing, once per user and incident per window.
    pub(super) fn record_browse(
        &self,
        actor: &UserName,
        incident: &Incident,
    ) -> Result<(), DeskError> {
        let key = (actor.clone(), incident.id);
        let now = Instant::now();
        {
            let mut seen = self
                .browsed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if seen
                .get(&key)
                .is_some_and(|at| now.duration_since(*at) < BROWSE_WINDOW)
            {
                return Ok(());
            }
            seen.insert(key, now);
        }
        self.record_read(
            actor,
            incident.id,
            ReadPath::TuiPeople,
            incident.people as usize,
        )
    }

    /// Opens the sealed text of each event for a reader `entitled` to it; drops it otherwise.
    pub(super) fn reveal(&self, events: &mut [AuditEvent], entitled: bool) {
        for event in events {
            if let Some(sealed) = event.draft.sealed.take()
                && entitled
            {
                event.revealed = Some(
                    self.store
                        .open_text(&sealed)
                        .unwrap_or_else(|| "(sealed text does not open with this key)".into()),
                );
            }
        }
    }
}
