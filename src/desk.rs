//! The desk: the one API every front end uses. Each method is one user action and takes
//! the acting user. The desk validates, reads what it needs, and hands the store one set of
//! changes with its audit events, so it is the only writer. Front ends reach it through the
//! [`Desk`] trait, so that a remote desk can stand in for [`LocalDesk`].

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

use crate::audit::{self, Tamper};
use crate::config::Settings;
use crate::domain::text::{Lines, checked};
use crate::domain::{
    AffectedPerson, AuditAction, AuditEvent, CategoryCatalog, CategoryName, DomainError,
    EventDraft, Incident, IncidentId, NewIncident, NewProgram, Program, ProgramSlug, ProgramState,
    Severity, Status, UserName,
};
use crate::hook::{self, HookOutcome, HookRun};
use crate::notify::{LetterError, TemplateError, TemplateName};
use crate::roster::{self, RosterError};
use crate::store::{Changes, Store, StoreError};

mod notifications;

pub use notifications::{FailureView, OutboxStatus, QueueReport, SendOptions, SendProgress};

/// Why a desk action did not happen. Everything but [`DeskError::Store`] is the user's to
/// fix.
#[derive(Debug, Error)]
pub enum DeskError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("no incident {0}")]
    NoIncident(IncidentId),
    #[error("no programme '{0}'; `breachdesk program list` shows them")]
    NoProgram(ProgramSlug),
    #[error("programme '{0}' already exists")]
    ProgramExists(ProgramSlug),
    #[error("programme '{0}' is retired")]
    ProgramRetired(ProgramSlug),
    #[error(transparent)]
    Roster(#[from] RosterError),
    #[error(
        "not resuming '{slug}': linked incidents of SEV 0-2 are not yet resolved or closed: {blocking}; resolve them first, or force the resume (--force in the CLI; recorded)"
    )]
    ResumeRefused { slug: ProgramSlug, blocking: String },
    #[error("nothing to change: {0}")]
    Unchanged(String),
    #[error("the discovery time {0} is in the future")]
    FutureTime(DateTime<Utc>),
    #[error("{0}")]
    NotConfigured(String),
    #[error("{0} is not on the roster of {1}")]
    NoPerson(crate::domain::EmployeeId, IncidentId),
    #[error("{0} has no affected people yet; import a roster first")]
    EmptyRoster(IncidentId),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(
        "{0} (rendering the letter for {1}); {2} letters were queued before it, and queuing again skips them"
    )]
    RenderFor(TemplateError, String, usize),
    #[error(transparent)]
    Letter(#[from] LetterError),
    #[error("mail server: {0}")]
    Delivery(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeskError {
    /// Whether the user can fix this by changing what they asked for.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, DeskError::Store(_) | DeskError::Delivery(_))
    }
}

/// Which incidents to list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<Status>,
    /// Only incidents at this severity or more critical.
    pub max_severity: Option<Severity>,
}

/// Which people to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeopleFilter {
    pub category: Option<CategoryName>,
    /// Only people not yet notified.
    pub pending: bool,
    /// Only people whose employee id, name or email contains this, ignoring case.
    pub text: Option<String>,
}

impl PeopleFilter {
    /// Whether the filter lets everyone through.
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && !self.pending && self.text.as_deref().is_none_or(str::is_empty)
    }

    /// Whether `person` passes. `needle` is the search text in lower case.
    fn admits(&self, person: &AffectedPerson, needle: Option<&str>) -> bool {
        let category_ok = self
            .category
            .as_ref()
            .is_none_or(|c| person.categories.contains(c));
        let pending_ok = !(self.pending && person.is_notified());
        let text_ok = needle.is_none_or(|n| {
            person.employee_id.as_str().to_lowercase().contains(n)
                || person.name.to_lowercase().contains(n)
                || person.email.as_str().to_lowercase().contains(n)
        });
        category_ok && pending_ok && text_ok
    }
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub dry_run: bool,
}

/// What linking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    Linked,
    AlreadyLinked,
}

/// What a pause did.
#[derive(Debug, Clone, PartialEq)]
pub enum PauseOutcome {
    /// It was paused already; nothing ran.
    AlreadyPaused { since: Option<DateTime<Utc>> },
    /// Paused; the hook, if the programme has one, succeeded.
    Paused { hook: Option<HookOutcome> },
    /// The hook failed or timed out: the programme may still be collecting.
    Failed { hook: HookOutcome },
}

/// What a resume did.
#[derive(Debug, Clone, PartialEq)]
pub enum ResumeOutcome {
    AlreadyActive,
    /// Resumed; `forced_over` lists the incidents that would have blocked it.
    Resumed {
        hook: Option<HookOutcome>,
        forced_over: Vec<IncidentId>,
    },
    /// The resume hook failed: the programme stays paused.
    HookFailed {
        hook: HookOutcome,
    },
}

/// The operations every front end calls.
pub trait Desk: Send + Sync {
    /// The data categories this installation knows.
    fn catalog(&self) -> CategoryCatalog;
    fn open_incident(&self, actor: &UserName, new: NewIncident) -> Result<Incident, DeskError>;
    /// Incidents, most severe first, then newest.
    fn incidents(
        &self,
        actor: &UserName,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, DeskError>;
    fn incident(&self, actor: &UserName, id: IncidentId) -> Result<Incident, DeskError>;
    /// The incident's events and notes, oldest first.
    fn timeline(&self, actor: &UserName, id: IncidentId) -> Result<Vec<AuditEvent>, DeskError>;
    fn set_severity(
        &self,
        actor: &UserName,
        id: IncidentId,
        severity: Severity,
        reason: &str,
    ) -> Result<Incident, DeskError>;
    fn set_status(
        &self,
        actor: &UserName,
        id: IncidentId,
        status: Status,
        reason: Option<&str>,
    ) -> Result<Incident, DeskError>;
    fn add_note(
        &self,
        actor: &UserName,
        id: IncidentId,
        text: &str,
    ) -> Result<AuditEvent, DeskError>;
    fn assign(
        &self,
        actor: &UserName,
        id: IncidentId,
        owner: UserName,
    ) -> Result<Incident, DeskError>;
    /// Validates a CSV roster and, unless `dry_run`, merges it into the incident's people.
    fn import_roster(
        &self,
        actor: &UserName,
        id: IncidentId,
        csv: &[u8],
        source_name: &str,
        dry_run: bool,
    ) -> Result<ImportReport, DeskError>;
    fn people(
        &self,
        actor: &UserName,
        id: IncidentId,
        filter: &PeopleFilter,
    ) -> Result<Vec<AffectedPerson>, DeskError>;
    /// People `offset..offset + limit` of the roster in import order, reading only those.
    fn people_window(
        &self,
        actor: &UserName,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, DeskError>;
    fn add_program(&self, actor: &UserName, new: NewProgram) -> Result<Program, DeskError>;
    fn programs(&self, actor: &UserName) -> Result<Vec<Program>, DeskError>;
    fn link_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        id: IncidentId,
    ) -> Result<LinkOutcome, DeskError>;
    /// Records the pause and runs the pause hook; blocks until the hook ends.
    fn pause_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        id: IncidentId,
        reason: &str,
    ) -> Result<PauseOutcome, DeskError>;
    /// Resumes unless a linked SEV 0-2 incident is unsettled (or `force`); runs the hook.
    fn resume_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        reason: &str,
        force: bool,
    ) -> Result<ResumeOutcome, DeskError>;
    /// The audit log, oldest first, optionally only one incident's events.
    fn audit_log(
        &self,
        actor: &UserName,
        incident: Option<IncidentId>,
    ) -> Result<Vec<AuditEvent>, DeskError>;
    /// Checks the hash chain; the inner result is the number of events or the first break.
    fn verify_audit(&self, actor: &UserName) -> Result<Result<u64, Tamper>, DeskError>;
    /// The exact message one person would get (the first on the roster by default).
    fn preview_letter(
        &self,
        actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        person: Option<&crate::domain::EmployeeId>,
    ) -> Result<String, DeskError>;
    /// Queues one letter per matching person (or per `recipients` for the stakeholder
    /// brief); a letter already in the outbox is not queued again.
    fn queue_notifications(
        &self,
        actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        filter: &PeopleFilter,
        recipients: &[crate::domain::Email],
    ) -> Result<QueueReport, DeskError>;
    /// Drains the outbox (of one incident, or all); blocks until done, reporting progress.
    fn send_notifications(
        &self,
        actor: &UserName,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError>;
    fn outbox_status(&self, actor: &UserName, id: IncidentId) -> Result<OutboxStatus, DeskError>;
    /// Requeues every failed letter of an incident; returns how many.
    fn retry_failed(&self, actor: &UserName, id: IncidentId) -> Result<usize, DeskError>;
    /// Connects and logs in to the configured mail server.
    fn test_smtp(&self, actor: &UserName) -> Result<String, DeskError>;
}

/// Where the desk gets the time from; tests fix it.
pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A desk working directly on a local store.
pub struct LocalDesk {
    store: Store,
    settings: Settings,
    clock: Clock,
    /// Held from the first read to the commit of every change, so concurrent actions in one
    /// process cannot lose each other's updates.
    write: Mutex<()>,
}

impl LocalDesk {
    pub fn new(store: Store, settings: Settings) -> Self {
        LocalDesk {
            store,
            settings,
            clock: Box::new(Utc::now),
            write: Mutex::new(()),
        }
    }

    /// The same desk with its time taken from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.write
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn load(&self, id: IncidentId) -> Result<Incident, DeskError> {
        self.store.incident(id)?.ok_or(DeskError::NoIncident(id))
    }

    fn load_program(&self, slug: &ProgramSlug) -> Result<Program, DeskError> {
        self.store
            .program(slug)?
            .ok_or_else(|| DeskError::NoProgram(slug.clone()))
    }

    fn hook_run(
        &self,
        command: &str,
        slug: &ProgramSlug,
        id: Option<IncidentId>,
        actor: &UserName,
    ) -> HookRun {
        HookRun {
            command: command.to_owned(),
            env: vec![
                ("BREACHDESK_PROGRAM".into(), slug.to_string()),
                (
                    "BREACHDESK_INCIDENT".into(),
                    id.map(|i| i.to_string()).unwrap_or_default(),
                ),
                ("BREACHDESK_ACTOR".into(), actor.to_string()),
            ],
            timeout: self.settings.config.hooks.timeout(),
        }
    }

    /// Updates one incident and records one event about it.
    fn change_incident(
        &self,
        actor: &UserName,
        id: IncidentId,
        change: impl FnOnce(&mut Incident) -> Result<Recorded, DeskError>,
    ) -> Result<Incident, DeskError> {
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        let now = self.now();
        let recorded = change(&mut incident)?;
        incident.updated_at = now;
        let (before, after) = recorded.change;
        let event = EventDraft::new(actor, now, recorded.action, recorded.detail)
            .on_incident(id)
            .changed(before, after);
        self.store.commit(&Changes {
            incidents: vec![incident.clone()],
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(incident)
    }

    /// Incidents linked to `program` that keep it paused: SEV 0-2 and not settled.
    fn blocking_incidents(&self, program: &Program) -> Result<Vec<Incident>, DeskError> {
        let mut blocking = Vec::new();
        for id in &program.incidents {
            if let Some(inc) = self.store.incident(*id)?
                && inc.severity.is_critical()
                && !inc.status.is_settled()
            {
                blocking.push(inc);
            }
        }
        Ok(blocking)
    }
}

fn reason_text(reason: &str) -> Result<String, DomainError> {
    checked("reason", reason, 1000, Lines::Multi)
}

/// What a change to one incident records: the action, why, and the value before and after.
struct Recorded {
    action: AuditAction,
    detail: String,
    change: (String, String),
}

impl Recorded {
    fn new(
        action: AuditAction,
        detail: impl Into<String>,
        before: impl ToString,
        after: impl ToString,
    ) -> Self {
        Recorded {
            action,
            detail: detail.into(),
            change: (before.to_string(), after.to_string()),
        }
    }
}

impl Desk for LocalDesk {
    fn catalog(&self) -> CategoryCatalog {
        self.settings.catalog.clone()
    }

    fn open_incident(&self, actor: &UserName, new: NewIncident) -> Result<Incident, DeskError> {
        let now = self.now();
        if let Some(at) = new.discovered_at
            && at > now + Duration::minutes(5)
        {
            return Err(DeskError::FutureTime(at));
        }
        let _guard = self.lock();
        let mut programs = Vec::new();
        for slug in &new.programs {
            programs.push(self.load_program(slug)?);
        }
        let id = IncidentId::new(self.store.last_incident_number()? + 1);
        let incident = Incident::open(id, new, actor.clone(), now);
        let mut events = vec![
            EventDraft::new(
                actor,
                now,
                AuditAction::IncidentOpened,
                format!("{} {}: {}", id, incident.severity, incident.title),
            )
            .on_incident(id),
        ];
        for program in &mut programs {
            program.incidents.insert(id);
            events.push(
                EventDraft::new(
                    actor,
                    now,
                    AuditAction::ProgramLinked,
                    format!("linked programme '{}'", program.slug),
                )
                .on_incident(id)
                .on_program(&program.slug),
            );
        }
        self.store.commit(&Changes {
            incidents: vec![incident.clone()],
            programs,
            events,
            ..Changes::default()
        })?;
        Ok(incident)
    }

    fn incidents(
        &self,
        _actor: &UserName,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, DeskError> {
        let mut list: Vec<Incident> = self
            .store
            .incidents()?
            .into_iter()
            .filter(|i| filter.status.is_none_or(|s| i.status == s))
            .filter(|i| filter.max_severity.is_none_or(|s| i.severity <= s))
            .collect();
        list.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(b.opened_at.cmp(&a.opened_at))
                .then(b.id.cmp(&a.id))
        });
        Ok(list)
    }

    fn incident(&self, _actor: &UserName, id: IncidentId) -> Result<Incident, DeskError> {
        self.load(id)
    }

    fn timeline(&self, _actor: &UserName, id: IncidentId) -> Result<Vec<AuditEvent>, DeskError> {
        self.load(id)?;
        Ok(self.store.incident_events(id)?)
    }

    fn set_severity(
        &self,
        actor: &UserName,
        id: IncidentId,
        severity: Severity,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        let reason = reason_text(reason)?;
        self.change_incident(actor, id, |inc| {
            if inc.severity == severity {
                return Err(DeskError::Unchanged(format!("{id} is already {severity}")));
            }
            let before = inc.severity;
            inc.severity = severity;
            Ok(Recorded::new(
                AuditAction::SeverityChanged,
                reason,
                before,
                severity,
            ))
        })
    }

    fn set_status(
        &self,
        actor: &UserName,
        id: IncidentId,
        status: Status,
        reason: Option<&str>,
    ) -> Result<Incident, DeskError> {
        let reason = reason.map(reason_text).transpose()?.unwrap_or_default();
        self.change_incident(actor, id, |inc| {
            let before = inc.status;
            inc.move_to(status)?;
            Ok(Recorded::new(
                AuditAction::StatusChanged,
                reason,
                before,
                status,
            ))
        })
    }

    fn add_note(
        &self,
        actor: &UserName,
        id: IncidentId,
        text: &str,
    ) -> Result<AuditEvent, DeskError> {
        let text = checked("note", text, 10_000, Lines::Multi)?;
        let _guard = self.lock();
        self.load(id)?;
        let event =
            EventDraft::new(actor, self.now(), AuditAction::NoteAdded, text).on_incident(id);
        let mut sealed = self.store.commit(&Changes::events(vec![event]))?;
        sealed
            .pop()
            .ok_or(DeskError::Store(StoreError::Corrupt("note event")))
    }

    fn assign(
        &self,
        actor: &UserName,
        id: IncidentId,
        owner: UserName,
    ) -> Result<Incident, DeskError> {
        self.change_incident(actor, id, |inc| {
            if inc.owner == owner {
                return Err(DeskError::Unchanged(format!(
                    "{id} is already owned by {owner}"
                )));
            }
            let before = std::mem::replace(&mut inc.owner, owner.clone());
            Ok(Recorded::new(
                AuditAction::Assigned,
                format!("assigned to {owner}"),
                before,
                owner,
            ))
        })
    }

    fn import_roster(
        &self,
        actor: &UserName,
        id: IncidentId,
        csv: &[u8],
        source_name: &str,
        dry_run: bool,
    ) -> Result<ImportReport, DeskError> {
        self.load(id)?;
        let rows = roster::parse(csv, source_name, &self.settings.catalog)?;
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        let mut roster = self.store.roster(id)?;
        let mut report = ImportReport {
            rows: rows.len(),
            added: 0,
            updated: 0,
            unchanged: 0,
            dry_run,
        };
        let mut categories = BTreeSet::new();
        for person in rows {
            categories.extend(person.categories.iter().cloned());
            let Some(old) = roster.get(&person.employee_id) else {
                report.added += 1;
                roster.push(person);
                continue;
            };
            let mut merged = old.clone();
            merged.merge(person);
            if merged == *old {
                report.unchanged += 1;
            } else {
                report.updated += 1;
                roster.replace(merged);
            }
        }
        if dry_run {
            return Ok(report);
        }
        let now = self.now();
        let new_categories: Vec<String> = categories
            .difference(&incident.categories)
            .map(ToString::to_string)
            .collect();
        incident.categories.extend(categories);
        incident.people = roster.len() as u64;
        incident.updated_at = now;
        let mut detail = format!(
            "{source_name}: {} rows; {} added, {} updated, {} unchanged",
            report.rows, report.added, report.updated, report.unchanged
        );
        if !new_categories.is_empty() {
            detail.push_str(&format!(
                "; categories added to the incident: {}",
                new_categories.join(", ")
            ));
        }
        let event =
            EventDraft::new(actor, now, AuditAction::PeopleImported, detail).on_incident(id);
        self.store.commit(&Changes {
            incidents: vec![incident],
            pages: roster.into_changed_pages(),
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(report)
    }

    fn people(
        &self,
        _actor: &UserName,
        id: IncidentId,
        filter: &PeopleFilter,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        self.load(id)?;
        let needle = filter
            .text
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        let mut list = Vec::new();
        for person in self.store.people(id) {
            let person = person?;
            if filter.admits(&person, needle.as_deref()) {
                list.push(person);
            }
        }
        Ok(list)
    }

    fn people_window(
        &self,
        _actor: &UserName,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        self.load(id)?;
        Ok(self.store.people_window(id, offset, limit)?)
    }

    fn add_program(&self, actor: &UserName, new: NewProgram) -> Result<Program, DeskError> {
        let _guard = self.lock();
        if self.store.program(&new.slug)?.is_some() {
            return Err(DeskError::ProgramExists(new.slug));
        }
        let now = self.now();
        let program = Program::create(new, actor, now);
        let mut detail = format!("added programme '{}' ({})", program.slug, program.name);
        if let Some(hook) = &program.pause_hook {
            detail.push_str(&format!("; pause hook: {hook}"));
        }
        if let Some(hook) = &program.resume_hook {
            detail.push_str(&format!("; resume hook: {hook}"));
        }
        let event = EventDraft::new(actor, now, AuditAction::ProgramAdded, detail)
            .on_program(&program.slug);
        self.store.commit(&Changes {
            programs: vec![program.clone()],
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(program)
    }

    fn programs(&self, _actor: &UserName) -> Result<Vec<Program>, DeskError> {
        Ok(self.store.programs()?)
    }

    fn link_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        id: IncidentId,
    ) -> Result<LinkOutcome, DeskError> {
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        let mut program = self.load_program(slug)?;
        if incident.programs.contains(slug) && program.incidents.contains(&id) {
            return Ok(LinkOutcome::AlreadyLinked);
        }
        let now = self.now();
        incident.programs.insert(slug.clone());
        incident.updated_at = now;
        program.incidents.insert(id);
        let event = EventDraft::new(
            actor,
            now,
            AuditAction::ProgramLinked,
            format!("linked programme '{slug}' ({})", program.state),
        )
        .on_incident(id)
        .on_program(slug);
        self.store.commit(&Changes {
            incidents: vec![incident],
            programs: vec![program],
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(LinkOutcome::Linked)
    }

    fn pause_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        id: IncidentId,
        reason: &str,
    ) -> Result<PauseOutcome, DeskError> {
        let reason = reason_text(reason)?;
        let command = {
            let _guard = self.lock();
            let mut incident = self.load(id)?;
            let mut program = self.load_program(slug)?;
            match program.state {
                ProgramState::Paused => {
                    return Ok(PauseOutcome::AlreadyPaused {
                        since: program.paused_at,
                    });
                }
                ProgramState::Retired => return Err(DeskError::ProgramRetired(slug.clone())),
                ProgramState::Active | ProgramState::PauseFailed => {}
            }
            let now = self.now();
            let hook_note = match &program.pause_hook {
                Some(h) => format!("running pause hook: {h}"),
                None => "no pause hook configured; recording the pause only".to_owned(),
            };
            let mut events = Vec::new();
            if !program.incidents.contains(&id) {
                program.incidents.insert(id);
                incident.programs.insert(slug.clone());
                events.push(
                    EventDraft::new(
                        actor,
                        now,
                        AuditAction::ProgramLinked,
                        format!("linked programme '{slug}'"),
                    )
                    .on_incident(id)
                    .on_program(slug),
                );
            }
            events.push(
                EventDraft::new(
                    actor,
                    now,
                    AuditAction::PauseRequested,
                    format!("pause of '{slug}' requested: {reason}; {hook_note}"),
                )
                .on_incident(id)
                .on_program(slug),
            );
            self.store.commit(&Changes {
                incidents: vec![incident],
                programs: vec![program.clone()],
                events,
                ..Changes::default()
            })?;
            program.pause_hook
        };
        // The hook runs without the write lock: it may take up to its time limit.
        let outcome = command.map(|c| hook::run(&self.hook_run(&c, slug, Some(id), actor)));

        let _guard = self.lock();
        let mut program = self.load_program(slug)?;
        let now = self.now();
        let failed = outcome.as_ref().is_some_and(|o| !o.succeeded());
        let (action, detail) = match &outcome {
            Some(o) if failed => (
                AuditAction::PauseFailed,
                format!("PAUSE FAILED for '{slug}': pause hook {o}"),
            ),
            Some(o) => (
                AuditAction::ProgramPaused,
                format!("paused '{slug}': pause hook {o}"),
            ),
            None => (
                AuditAction::ProgramPaused,
                format!("paused '{slug}' (no hook; recorded only)"),
            ),
        };
        let before = program.state;
        program.state = if failed {
            ProgramState::PauseFailed
        } else {
            ProgramState::Paused
        };
        if !failed {
            program.paused_at = Some(now);
        }
        let event = EventDraft::new(actor, now, action, detail)
            .on_incident(id)
            .on_program(slug)
            .changed(before, program.state);
        self.store.commit(&Changes {
            programs: vec![program],
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(match outcome {
            Some(hook) if failed => PauseOutcome::Failed { hook },
            hook => PauseOutcome::Paused { hook },
        })
    }

    fn resume_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        reason: &str,
        force: bool,
    ) -> Result<ResumeOutcome, DeskError> {
        let reason = reason_text(reason)?;
        let (command, forced_over) = {
            let _guard = self.lock();
            let program = self.load_program(slug)?;
            match program.state {
                ProgramState::Active => return Ok(ResumeOutcome::AlreadyActive),
                ProgramState::Retired => return Err(DeskError::ProgramRetired(slug.clone())),
                ProgramState::Paused | ProgramState::PauseFailed => {}
            }
            let blocking = self.blocking_incidents(&program)?;
            let names: Vec<String> = blocking
                .iter()
                .map(|i| format!("{} ({}, {})", i.id, i.severity, i.status))
                .collect();
            let forced_over: Vec<IncidentId> = blocking.iter().map(|i| i.id).collect();
            if !blocking.is_empty() && !force {
                let detail = format!(
                    "resume of '{slug}' refused: {reason}; blocked by {}",
                    names.join(", ")
                );
                self.store.commit(&Changes::events(self.program_events(
                    actor,
                    &program,
                    AuditAction::ResumeRefused,
                    &detail,
                    None,
                )))?;
                return Err(DeskError::ResumeRefused {
                    slug: slug.clone(),
                    blocking: names.join(", "),
                });
            }
            (program.resume_hook.clone(), forced_over)
        };
        let outcome = command.map(|c| hook::run(&self.hook_run(&c, slug, None, actor)));

        let _guard = self.lock();
        let mut program = self.load_program(slug)?;
        let failed = outcome.as_ref().is_some_and(|o| !o.succeeded());
        let forced = if forced_over.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = forced_over.iter().map(ToString::to_string).collect();
            format!(" FORCED over {}", ids.join(", "))
        };
        let hook_text = outcome
            .as_ref()
            .map_or("no resume hook".to_owned(), |o| format!("resume hook {o}"));
        let before = program.state;
        let (action, detail) = if failed {
            (
                AuditAction::ResumeFailed,
                format!("RESUME FAILED for '{slug}'{forced}: {reason}; {hook_text}"),
            )
        } else {
            program.state = ProgramState::Active;
            program.paused_at = None;
            (
                AuditAction::ProgramResumed,
                format!("resumed '{slug}'{forced}: {reason}; {hook_text}"),
            )
        };
        let change = Some((before, program.state));
        let events = self.program_events(actor, &program, action, &detail, change);
        self.store.commit(&Changes {
            programs: vec![program],
            events,
            ..Changes::default()
        })?;
        Ok(match outcome {
            Some(hook) if failed => ResumeOutcome::HookFailed { hook },
            hook => ResumeOutcome::Resumed { hook, forced_over },
        })
    }

    fn audit_log(
        &self,
        _actor: &UserName,
        incident: Option<IncidentId>,
    ) -> Result<Vec<AuditEvent>, DeskError> {
        match incident {
            Some(id) => self.timeline(_actor, id),
            None => Ok(self.store.events().collect::<Result<_, _>>()?),
        }
    }

    fn verify_audit(&self, _actor: &UserName) -> Result<Result<u64, Tamper>, DeskError> {
        let (events, head) = self.store.raw_audit()?;
        Ok(audit::verify(events, head))
    }
    fn preview_letter(
        &self,
        actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        person: Option<&crate::domain::EmployeeId>,
    ) -> Result<String, DeskError> {
        notifications::preview(self, actor, id, template, person)
    }

    fn queue_notifications(
        &self,
        actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        filter: &PeopleFilter,
        recipients: &[crate::domain::Email],
    ) -> Result<QueueReport, DeskError> {
        notifications::queue(self, actor, id, template, filter, recipients)
    }

    fn send_notifications(
        &self,
        actor: &UserName,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError> {
        notifications::send(self, actor, scope, options, progress)
    }

    fn outbox_status(&self, _actor: &UserName, id: IncidentId) -> Result<OutboxStatus, DeskError> {
        notifications::status(self, id)
    }

    fn retry_failed(&self, actor: &UserName, id: IncidentId) -> Result<usize, DeskError> {
        notifications::retry(self, actor, id)
    }

    fn test_smtp(&self, _actor: &UserName) -> Result<String, DeskError> {
        notifications::test_smtp(self)
    }
}

impl LocalDesk {
    /// One event per linked incident, so each incident's timeline shows what happened to
    /// its programme; one unlinked event when the programme has no incidents.
    fn program_events(
        &self,
        actor: &UserName,
        program: &Program,
        action: AuditAction,
        detail: &str,
        change: Option<(ProgramState, ProgramState)>,
    ) -> Vec<EventDraft> {
        let now = self.now();
        let base = EventDraft::new(actor, now, action, detail).on_program(&program.slug);
        let base = match change {
            Some((before, after)) => base.changed(before, after),
            None => base,
        };
        if program.incidents.is_empty() {
            return vec![base];
        }
        program
            .incidents
            .iter()
            .map(|id| base.clone().on_incident(*id))
            .collect()
    }
}
