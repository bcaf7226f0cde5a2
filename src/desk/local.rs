//! [`LocalDesk`], the desk working directly on a local store: its state (store, settings,
//! clock, access policy, the single writer lock), the helpers every area shares (load,
//! guard, the one write helper for an incident's change), and `impl Desk`, which only
//! hands each call to its area's file. What an action does is in that file, not here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use super::{
    Desk, DeskError, IncidentFilter, LinkOutcome, OutboxStatus, PauseOutcome, PeopleFilter,
    QueueReport, ReadPath, ResumeOutcome, SendOptions, SendProgress,
};
use super::{ImportReport, audit::Identity};
use super::{audit, deadlines, incidents, notifications, people, programs, resume, sending};
use crate::access::{Need, Policy, Role};
use crate::audit::{HeadReport, Tamper, Verified};
use crate::config::Settings;
use crate::deadlines::Obligation;
use crate::domain::text::{Lines, checked};
use crate::domain::{
    AffectedPerson, AuditAction, AuditEvent, CategoryCatalog, DomainError, Email, EmployeeId,
    EventDraft, EvidenceSummary, Incident, IncidentId, NewIncident, NewProgram, ObligationState,
    Program, ProgramSlug, Severity, Status, UserName,
};
use crate::evidence::Evidence;
use crate::notify::TemplateName;
use crate::store::{Changes, Store};

/// How far past the desk's clock a time the user gives may be (when they became aware,
/// when an obligation was done). The user's clock and the desk's (the daemon's, in team
/// mode) are never quite in step, and a time typed as "now" should not be refused for a
/// few seconds' drift; anything further ahead is a mistake, and the legal clocks start
/// from these times.
pub(super) const CLOCK_SKEW_TOLERANCE: Duration = Duration::minutes(5);

/// Where the desk gets the time from; tests fix it.
pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A desk working directly on a local store.
pub struct LocalDesk {
    pub(super) store: Store,
    pub(super) settings: Settings,
    clock: Clock,
    pub(super) policy: Policy,
    /// When each user last opened each roster for browsing, so that scrolling is one
    /// access-log entry rather than one per screenful.
    pub(super) browsed: Mutex<HashMap<(UserName, IncidentId), Instant>>,
    /// Held from the first read to the commit of every change, so concurrent actions in one
    /// process cannot lose each other's updates.
    write: Mutex<()>,
    /// Signalled (with `write`) whenever a hook run ends, for a pause queued behind it.
    pub(super) program_changed: Condvar,
}

impl LocalDesk {
    /// A desk whose local user (admin when the config has no `[access]`) is the
    /// operating-system user running this process.
    pub fn new(store: Store, settings: Settings) -> Self {
        Self::for_local_user(store, settings, crate::identity::current_user())
    }

    /// A desk whose local user is `local`.
    pub fn for_local_user(store: Store, settings: Settings, local: UserName) -> Self {
        let policy = settings
            .roles
            .clone()
            .unwrap_or_else(|| Policy::single_user(local));
        LocalDesk {
            store,
            settings,
            clock: Box::new(Utc::now),
            policy,
            browsed: Mutex::new(HashMap::new()),
            write: Mutex::new(()),
            program_changed: Condvar::new(),
        }
    }

    /// The settings this desk runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The store, for the daemon's shutdown flush.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The same desk with its time taken from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Refuses a time the user gave that is further ahead of `now` than
    /// [`CLOCK_SKEW_TOLERANCE`].
    pub(super) fn not_future(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), DeskError> {
        if at > now + CLOCK_SKEW_TOLERANCE {
            return Err(DeskError::FutureTime(at));
        }
        Ok(())
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, ()> {
        self.write
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn load(&self, id: IncidentId) -> Result<Incident, DeskError> {
        self.store.incident(id)?.ok_or(DeskError::NoIncident(id))
    }

    pub(super) fn load_program(&self, slug: &ProgramSlug) -> Result<Program, DeskError> {
        self.store
            .program(slug)?
            .ok_or_else(|| DeskError::NoProgram(slug.clone()))
    }

    /// Refuses unless `actor` may do `need` on `incident`; a refusal is recorded.
    pub(super) fn guard(
        &self,
        actor: &UserName,
        incident: &Incident,
        need: Need,
        what: &str,
    ) -> Result<(), DeskError> {
        self.policy
            .check(actor, incident, need)
            .map_err(|reason| self.refuse(actor, Some(incident.id), what, reason))
    }

    /// Refuses unless `actor` holds at least `least`; a refusal is recorded.
    pub(super) fn guard_role(
        &self,
        actor: &UserName,
        least: Role,
        what: &str,
    ) -> Result<Role, DeskError> {
        self.policy
            .check_role(actor, least)
            .map_err(|reason| self.refuse(actor, None, what, reason))
    }

    /// The one write helper: under the write lock, loads the incident, checks that `actor`
    /// may do `need` on it, lets `change` change it, and commits it with the one event
    /// `change` describes. Severity, status, owner, members, the legal clocks and settling
    /// an obligation go through it; actions that commit other records with their own logic
    /// (opening, imports, notes, programmes, letters) write their own `Changes`.
    pub(super) fn change_incident(
        &self,
        actor: &UserName,
        id: IncidentId,
        what: &str,
        need: Need,
        change: impl FnOnce(&mut Incident) -> Result<Recorded, DeskError>,
    ) -> Result<Incident, DeskError> {
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        self.guard(actor, &incident, need, what)?;
        let now = self.now();
        let recorded = change(&mut incident)?;
        incident.updated_at = now;
        let mut event =
            EventDraft::new(actor, now, recorded.action, recorded.detail).on_incident(id);
        if let Some((before, after)) = recorded.change {
            event = event.changed(before, after);
        }
        self.store.commit(&Changes {
            incidents: vec![incident.clone()],
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(incident)
    }
}

/// A reason the user gave for a change, as the timeline keeps it.
pub(super) fn reason_text(reason: &str) -> Result<String, DomainError> {
    checked("reason", reason, 1000, Lines::Multi)
}

/// What a change to one incident records: the action, why, and (for a changed value) the
/// value before and after.
pub(super) struct Recorded {
    action: AuditAction,
    detail: String,
    change: Option<(String, String)>,
}

impl Recorded {
    /// A change of one value, from `before` to `after`.
    pub(super) fn new(
        action: AuditAction,
        detail: impl Into<String>,
        before: impl ToString,
        after: impl ToString,
    ) -> Self {
        Recorded {
            action,
            detail: detail.into(),
            change: Some((before.to_string(), after.to_string())),
        }
    }

    /// A change the detail alone describes.
    pub(super) fn described(action: AuditAction, detail: impl Into<String>) -> Self {
        Recorded {
            action,
            detail: detail.into(),
            change: None,
        }
    }
}

/// A desk session: the local desk, bound once to the user it acts for. Every operation of the
/// [`Desk`] trait runs as that user; nothing else says who is asking.
#[derive(Clone)]
pub struct Session {
    desk: Arc<LocalDesk>,
    user: UserName,
}

impl LocalDesk {
    /// A session acting as `user` (the operating-system user locally; in the daemon, the
    /// user the socket's peer credentials name, one session per connection).
    pub fn session(self: &Arc<Self>, user: UserName) -> Session {
        Session {
            desk: Arc::clone(self),
            user,
        }
    }
}

impl Session {
    /// The user this session acts for.
    pub fn user(&self) -> &UserName {
        &self.user
    }

    /// The desk behind the session.
    pub fn desk(&self) -> &Arc<LocalDesk> {
        &self.desk
    }
}

impl Desk for Session {
    fn catalog(&self) -> CategoryCatalog {
        self.desk.settings.catalog.clone()
    }

    fn rules(&self) -> crate::deadlines::RuleBook {
        self.desk.settings.rules.clone()
    }

    fn identity(&self) -> Result<Identity, DeskError> {
        audit::identity(&self.desk, &self.user)
    }

    fn set_member(&self, id: IncidentId, user: UserName, add: bool) -> Result<Incident, DeskError> {
        incidents::set_member(&self.desk, &self.user, id, user, add)
    }

    fn set_clock(
        &self,
        id: IncidentId,
        aware: Option<DateTime<Utc>>,
        determined: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        incidents::set_clock(&self.desk, &self.user, id, aware, determined, reason)
    }

    fn obligations(&self, id: Option<IncidentId>) -> Result<Vec<Obligation>, DeskError> {
        deadlines::obligations(&self.desk, &self.user, id)
    }

    fn settle_obligation(
        &self,
        id: IncidentId,
        rule: &str,
        state: ObligationState,
    ) -> Result<Obligation, DeskError> {
        deadlines::settle(&self.desk, &self.user, id, rule, state)
    }

    fn import_evidence(
        &self,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        allowed: &std::collections::HashSet<String>,
    ) -> Result<EvidenceSummary, DeskError> {
        deadlines::import_evidence(&self.desk, &self.user, id, log, source_name, allowed)
    }

    fn evidence(&self, id: IncidentId) -> Result<Evidence, DeskError> {
        deadlines::evidence(&self.desk, &self.user, id)
    }

    fn access_log(
        &self,
        incident: Option<IncidentId>,
        user: Option<&UserName>,
    ) -> Result<Vec<AuditEvent>, DeskError> {
        audit::access_log(&self.desk, &self.user, incident, user)
    }

    fn open_incident(&self, new: NewIncident) -> Result<Incident, DeskError> {
        incidents::open(&self.desk, &self.user, new)
    }

    fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, DeskError> {
        incidents::list(&self.desk, &self.user, filter)
    }

    fn incident(&self, id: IncidentId) -> Result<Incident, DeskError> {
        incidents::show(&self.desk, &self.user, id)
    }

    fn timeline(&self, id: IncidentId) -> Result<Vec<AuditEvent>, DeskError> {
        incidents::timeline(&self.desk, &self.user, id)
    }

    fn set_severity(
        &self,
        id: IncidentId,
        severity: Severity,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        incidents::set_severity(&self.desk, &self.user, id, severity, reason)
    }

    fn set_status(
        &self,
        id: IncidentId,
        status: Status,
        reason: Option<&str>,
    ) -> Result<Incident, DeskError> {
        incidents::set_status(&self.desk, &self.user, id, status, reason)
    }

    fn add_note(&self, id: IncidentId, text: &str) -> Result<AuditEvent, DeskError> {
        incidents::add_note(&self.desk, &self.user, id, text)
    }

    fn assign(&self, id: IncidentId, owner: UserName) -> Result<Incident, DeskError> {
        incidents::assign(&self.desk, &self.user, id, owner)
    }

    fn import_roster(
        &self,
        id: IncidentId,
        csv: &[u8],
        source_name: &str,
        dry_run: bool,
    ) -> Result<ImportReport, DeskError> {
        people::import(&self.desk, &self.user, id, csv, source_name, dry_run)
    }

    fn people(
        &self,
        id: IncidentId,
        filter: &PeopleFilter,
        path: ReadPath,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        people::list(&self.desk, &self.user, id, filter, path)
    }

    fn people_window(
        &self,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        people::window(&self.desk, &self.user, id, offset, limit)
    }

    fn add_program(&self, new: NewProgram) -> Result<Program, DeskError> {
        programs::add(&self.desk, &self.user, new)
    }

    fn programs(&self) -> Result<Vec<Program>, DeskError> {
        programs::list(&self.desk, &self.user)
    }

    fn link_program(&self, slug: &ProgramSlug, id: IncidentId) -> Result<LinkOutcome, DeskError> {
        programs::link(&self.desk, &self.user, slug, id)
    }

    fn pause_program(
        &self,
        slug: &ProgramSlug,
        id: IncidentId,
        reason: &str,
    ) -> Result<PauseOutcome, DeskError> {
        programs::pause(&self.desk, &self.user, slug, id, reason)
    }

    fn resume_program(
        &self,
        slug: &ProgramSlug,
        reason: &str,
        force: bool,
    ) -> Result<ResumeOutcome, DeskError> {
        resume::resume(&self.desk, &self.user, slug, reason, force)
    }

    fn audit_log(&self, incident: Option<IncidentId>) -> Result<Vec<AuditEvent>, DeskError> {
        audit::log(&self.desk, &self.user, incident)
    }

    fn verify_audit(&self) -> Result<Result<Verified, Tamper>, DeskError> {
        audit::verify(&self.desk, &self.user)
    }

    fn audit_head(&self) -> Result<Option<HeadReport>, DeskError> {
        audit::head(&self.desk, &self.user)
    }

    fn preview_letter(
        &self,
        id: IncidentId,
        template: TemplateName,
        person: Option<&EmployeeId>,
    ) -> Result<String, DeskError> {
        notifications::preview(&self.desk, &self.user, id, template, person)
    }

    fn queue_notifications(
        &self,
        id: IncidentId,
        template: TemplateName,
        filter: &PeopleFilter,
        recipients: &[Email],
    ) -> Result<QueueReport, DeskError> {
        notifications::queue(&self.desk, &self.user, id, template, filter, recipients)
    }

    fn export_letters(&self, id: IncidentId, dir: &std::path::Path) -> Result<usize, DeskError> {
        notifications::export(&self.desk, &self.user, id, dir)
    }

    fn send_notifications(
        &self,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError> {
        sending::send(&self.desk, &self.user, scope, options, progress)
    }

    fn outbox_status(&self, id: IncidentId, path: ReadPath) -> Result<OutboxStatus, DeskError> {
        notifications::status(&self.desk, &self.user, id, path)
    }

    fn retry_failed(&self, id: IncidentId) -> Result<usize, DeskError> {
        notifications::retry(&self.desk, &self.user, id)
    }

    fn test_smtp(&self) -> Result<String, DeskError> {
        notifications::test_smtp(&self.desk, &self.user)
    }

    fn watch(&self) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError> {
        audit::watch(&self.desk, &self.user)
    }
}
