//! The desk: the one API every front end uses. Each method is one user action and takes
//! the acting user. The desk validates, reads what it needs, and hands the store one set of
//! changes with its audit events, so it is the only writer. Front ends reach it through the
//! [`Desk`] trait, so that a remote desk can stand in for [`LocalDesk`].

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::{Denial, Need, Policy, Role};

use crate::audit::{HeadReport, Tamper, Verified};
use crate::config::Settings;
use crate::deadlines::Obligation;
use crate::domain::text::{Lines, checked};
use crate::domain::{
    AffectedPerson, AuditAction, AuditEvent, CategoryCatalog, CategoryName, DomainError,
    EventDraft, Incident, IncidentId, NewIncident, NewProgram, Program, ProgramSlug, Severity,
    Status, UserName,
};
use crate::domain::{EvidenceSummary, ObligationRecord, ObligationState};
use crate::evidence::{Evidence, EvidenceError};
use crate::hook::HookOutcome;
use crate::notify::{LetterError, TemplateError, TemplateName};
use crate::roster::{self, RosterError};
use crate::store::{Changes, Store, StoreError};

mod notifications;
mod programs;
mod sending;

pub use notifications::{FailureView, OutboxStatus, QueueReport, SendOptions, SendProgress};
pub use programs::HIDDEN_HOOK;

/// What kind of failure a [`DeskError`] is: the part of an error that front ends branch on
/// (exit codes, the TUI showing a refusal in place), and that crosses the daemon's socket
/// beside the message. The message is for the responder to read, never to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The caller may not do this (and the refusal was recorded).
    Denied,
    /// What the request names does not exist: an incident, programme, person or rule.
    NotFound,
    /// The request itself is wrong: a bad value, a bad file, a missing setting it needs.
    Invalid,
    /// The request is sound, but the state it meets does not allow it now (a running pause,
    /// a sender already at work, nothing to change).
    Conflict,
    /// Something outside the request failed or stopped it: the mail server, the daemon, a
    /// protocol mismatch, an interruption. Trying again later may work.
    Unavailable,
    /// breachdesk itself failed: the database, or a reply it could not encode.
    Internal,
}

impl ErrorKind {
    /// The name on the wire and in `--json` output: `denied`, `not-found`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Denied => "denied",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether the user can fix this by changing what they asked for (exit code 2).
    pub fn is_user_error(self) -> bool {
        match self {
            ErrorKind::Denied | ErrorKind::NotFound | ErrorKind::Invalid | ErrorKind::Conflict => {
                true
            }
            ErrorKind::Unavailable | ErrorKind::Internal => false,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a desk action did not happen. [`DeskError::kind`] says whose it is to fix.
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
        "not resuming '{slug}': linked incidents of SEV 0-2 are not yet resolved or closed: {blocking}; resolve them first, or an admin may force the resume (--force in the CLI; recorded)"
    )]
    ResumeRefused { slug: ProgramSlug, blocking: String },
    #[error("access denied (program.resume): {why}")]
    ResumeDenied { slug: ProgramSlug, why: String },
    #[error(
        "not resuming '{slug}': a pause by {by} is running since {since}; a pause wins, so resume after it has ended"
    )]
    PauseRunning {
        slug: ProgramSlug,
        by: UserName,
        since: DateTime<Utc>,
    },
    #[error("nothing to change: {0}")]
    Unchanged(String),
    #[error("the time {0} is in the future; give a time that has passed")]
    FutureTime(DateTime<Utc>),
    /// A setting or an argument the action needs is missing or does not fit (no sender
    /// address, a recipient for a letter that has none, a directory that is not one).
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
    #[error("not sending: {0}; one sender at a time goes over the same letters")]
    SendRunning(String),
    /// A send stopped by the user before the outbox was drained.
    #[error("interrupted: {0}")]
    Interrupted(String),
    #[error("mail server: {0}")]
    Delivery(String),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error("no rule '{rule}' applies to {id}; `breachdesk deadlines {id}` lists its obligations")]
    NoObligation { id: IncidentId, rule: String },
    #[error("access denied ({what}): {reason}")]
    Denied { what: String, reason: Denial },
    /// A fault in breachdesk itself, not in the request or the world around it.
    #[error("internal error: {0}; this is a bug in breachdesk, please report it")]
    Internal(String),
    /// An error reported by the daemon: its kind, and its message as the daemon worded it.
    #[error("{message}")]
    Remote { kind: ErrorKind, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeskError {
    /// What kind of failure this is. Every variant is placed here on purpose: the kind
    /// decides the exit code and crosses the daemon's socket.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DeskError::Denied { .. } | DeskError::ResumeDenied { .. } => ErrorKind::Denied,
            DeskError::NoIncident(_)
            | DeskError::NoProgram(_)
            | DeskError::NoPerson(..)
            | DeskError::NoObligation { .. } => ErrorKind::NotFound,
            DeskError::Invalid(_)
            | DeskError::Roster(_)
            | DeskError::Template(_)
            | DeskError::RenderFor(..)
            | DeskError::Letter(_)
            | DeskError::Evidence(_)
            | DeskError::FutureTime(_)
            | DeskError::NotConfigured(_) => ErrorKind::Invalid,
            DeskError::ProgramExists(_)
            | DeskError::ProgramRetired(_)
            | DeskError::ResumeRefused { .. }
            | DeskError::PauseRunning { .. }
            | DeskError::SendRunning(_)
            | DeskError::Unchanged(_)
            | DeskError::EmptyRoster(_) => ErrorKind::Conflict,
            DeskError::Delivery(_) | DeskError::Interrupted(_) => ErrorKind::Unavailable,
            DeskError::Internal(_) | DeskError::Store(_) => ErrorKind::Internal,
            DeskError::Remote { kind, .. } => *kind,
        }
    }

    /// Whether access was refused (locally or by the daemon).
    pub fn is_denied(&self) -> bool {
        self.kind() == ErrorKind::Denied
    }

    /// Whether the user can fix this by changing what they asked for.
    pub fn is_user_error(&self) -> bool {
        self.kind().is_user_error()
    }
}

#[cfg(test)]
mod error_kind_tests {
    use super::*;

    fn slug() -> ProgramSlug {
        "staff-monitoring".parse().unwrap()
    }

    #[test]
    fn each_desk_error_has_the_kind_front_ends_branch_on() {
        let id = IncidentId::new(7);
        let cases: Vec<(DeskError, ErrorKind)> = vec![
            (
                DeskError::Denied {
                    what: "people.list".into(),
                    reason: Denial::NoRole,
                },
                ErrorKind::Denied,
            ),
            (
                DeskError::ResumeDenied {
                    slug: slug(),
                    why: "not a member".into(),
                },
                ErrorKind::Denied,
            ),
            (DeskError::NoIncident(id), ErrorKind::NotFound),
            (DeskError::NoProgram(slug()), ErrorKind::NotFound),
            (
                DeskError::NoObligation {
                    id,
                    rule: "gdpr-33".into(),
                },
                ErrorKind::NotFound,
            ),
            (
                DeskError::Invalid(DomainError::Severity),
                ErrorKind::Invalid,
            ),
            (DeskError::FutureTime(Utc::now()), ErrorKind::Invalid),
            (
                DeskError::NotConfigured("no sender".into()),
                ErrorKind::Invalid,
            ),
            (DeskError::ProgramExists(slug()), ErrorKind::Conflict),
            (DeskError::ProgramRetired(slug()), ErrorKind::Conflict),
            (
                DeskError::ResumeRefused {
                    slug: slug(),
                    blocking: "INC-1".into(),
                },
                ErrorKind::Conflict,
            ),
            (DeskError::SendRunning("alice".into()), ErrorKind::Conflict),
            (DeskError::Unchanged("same".into()), ErrorKind::Conflict),
            (DeskError::EmptyRoster(id), ErrorKind::Conflict),
            (
                DeskError::Delivery("refused".into()),
                ErrorKind::Unavailable,
            ),
            (
                DeskError::Interrupted("1 sent".into()),
                ErrorKind::Unavailable,
            ),
            (DeskError::Internal("encode".into()), ErrorKind::Internal),
            (
                DeskError::Store(StoreError::Corrupt("page")),
                ErrorKind::Internal,
            ),
            (
                DeskError::Remote {
                    kind: ErrorKind::Denied,
                    message: "whatever the daemon said".into(),
                },
                ErrorKind::Denied,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
            assert_eq!(error.is_denied(), kind == ErrorKind::Denied, "{error}");
            assert_eq!(error.is_user_error(), kind.is_user_error(), "{error}");
        }
    }

    #[test]
    fn a_remote_error_is_judged_by_its_kind_never_its_words() {
        let worded_like_a_refusal = DeskError::Remote {
            kind: ErrorKind::Unavailable,
            message: "access denied (but really the daemon is gone)".into(),
        };
        assert!(!worded_like_a_refusal.is_denied());
        assert!(!worded_like_a_refusal.is_user_error());
    }

    #[test]
    fn kinds_are_named_in_kebab_case_and_split_into_user_errors_and_failures() {
        for (kind, name, user) in [
            (ErrorKind::Denied, "denied", true),
            (ErrorKind::NotFound, "not-found", true),
            (ErrorKind::Invalid, "invalid", true),
            (ErrorKind::Conflict, "conflict", true),
            (ErrorKind::Unavailable, "unavailable", false),
            (ErrorKind::Internal, "internal", false),
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.is_user_error(), user, "{kind}");
        }
    }
}

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub dry_run: bool,
}

/// What linking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkOutcome {
    Linked,
    AlreadyLinked,
}

/// What a pause did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PauseOutcome {
    /// It was paused already; nothing ran.
    AlreadyPaused { since: Option<DateTime<Utc>> },
    /// Paused; the hook, if the programme has one, succeeded.
    Paused { hook: Option<HookOutcome> },
    /// The hook failed or timed out: the programme may still be collecting.
    Failed { hook: HookOutcome },
    /// Another pause is running (or queued behind a resume); its hook runs once.
    InProgress { by: UserName, since: DateTime<Utc> },
}

/// What a resume did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Another resume is running.
    InProgress {
        by: UserName,
        since: DateTime<Utc>,
    },
    /// The resume hook ran, but a pause was asked for meanwhile (by `by`), and a pause
    /// wins: the programme is paused again.
    PausedAgain {
        hook: Option<HookOutcome>,
        by: UserName,
    },
}

/// The operations every front end calls.
pub trait Desk: Send + Sync {
    /// The data categories this installation knows.
    fn catalog(&self) -> CategoryCatalog;
    /// The jurisdiction rules in force (for showing deadlines without a call per incident).
    fn rules(&self) -> crate::deadlines::RuleBook;
    /// Who is calling, as the desk sees it (a daemon ignores `actor` and uses the socket's
    /// peer credentials).
    fn identity(&self, actor: &UserName) -> Result<Identity, DeskError>;
    /// Adds (`add`) or removes a member of an incident; members see its personal data.
    fn set_member(
        &self,
        actor: &UserName,
        id: IncidentId,
        user: UserName,
        add: bool,
    ) -> Result<Incident, DeskError>;
    /// Changes when the organisation became aware of the breach and when it was
    /// determined (the legal clocks' starts); recorded with the reason.
    fn set_clock(
        &self,
        actor: &UserName,
        id: IncidentId,
        aware: Option<DateTime<Utc>>,
        determined: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<Incident, DeskError>;
    /// The legal obligations of one incident, or of every unsettled incident, soonest due
    /// first.
    fn obligations(
        &self,
        actor: &UserName,
        id: Option<IncidentId>,
    ) -> Result<Vec<Obligation>, DeskError>;
    /// Records an obligation as done (with when and a reference) or waived (with why).
    fn settle_obligation(
        &self,
        actor: &UserName,
        id: IncidentId,
        rule: &str,
        state: ObligationState,
    ) -> Result<Obligation, DeskError>;
    /// Reads the exposed store's access log (all or nothing) and keeps what it shows.
    fn import_evidence(
        &self,
        actor: &UserName,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        allowed: &std::collections::HashSet<String>,
    ) -> Result<EvidenceSummary, DeskError>;
    /// The imported evidence in full: who read whose data (personal data: checked, logged).
    fn evidence(&self, actor: &UserName, id: IncidentId) -> Result<Evidence, DeskError>;
    /// Access-log entries (reads of personal data and refusals), oldest first.
    fn access_log(
        &self,
        actor: &UserName,
        incident: Option<IncidentId>,
        user: Option<&UserName>,
    ) -> Result<Vec<AuditEvent>, DeskError>;
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
    /// The matching people; `path` names the read in the access log.
    fn people(
        &self,
        actor: &UserName,
        id: IncidentId,
        filter: &PeopleFilter,
        path: ReadPath,
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
    /// Checks the hash chain, the head's key tag and the witness; the inner result is what
    /// was checked or the first thing found tampered.
    fn verify_audit(&self, actor: &UserName) -> Result<Result<Verified, Tamper>, DeskError>;
    /// The current head of the audit chain (`None` while the log is empty).
    fn audit_head(&self, actor: &UserName) -> Result<Option<HeadReport>, DeskError>;
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
    /// Writes an incident's queued letters into `dir` as `.eml` files, changing no state;
    /// returns how many.
    fn export_letters(
        &self,
        actor: &UserName,
        id: IncidentId,
        dir: &std::path::Path,
    ) -> Result<usize, DeskError>;
    /// Drains the outbox (of one incident, or all); blocks until done, reporting progress.
    fn send_notifications(
        &self,
        actor: &UserName,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError>;
    fn outbox_status(
        &self,
        actor: &UserName,
        id: IncidentId,
        path: ReadPath,
    ) -> Result<OutboxStatus, DeskError>;
    /// Requeues every failed letter of an incident; returns how many.
    fn retry_failed(&self, actor: &UserName, id: IncidentId) -> Result<usize, DeskError>;
    /// Connects and logs in to the configured mail server.
    fn test_smtp(&self, actor: &UserName) -> Result<String, DeskError>;
    /// Notices of every change committed from now on, by anyone (through the daemon: by
    /// any client); the channel ends when the desk (or the daemon) goes away.
    fn watch(
        &self,
        actor: &UserName,
    ) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError>;
}

/// Where the desk gets the time from; tests fix it.
pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A desk working directly on a local store.
pub struct LocalDesk {
    store: Store,
    settings: Settings,
    clock: Clock,
    policy: Policy,
    /// When each user last opened each roster for browsing, so that scrolling is one
    /// access-log entry rather than one per screenful.
    browsed: Mutex<HashMap<(UserName, IncidentId), Instant>>,
    /// Held from the first read to the commit of every change, so concurrent actions in one
    /// process cannot lose each other's updates.
    write: Mutex<()>,
    /// Signalled (with `write`) whenever a hook run ends, for a pause queued behind it.
    program_changed: Condvar,
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

    /// Refuses unless `actor` may do `need` on `incident`; a refusal is recorded.
    fn guard(
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
    fn guard_role(&self, actor: &UserName, least: Role, what: &str) -> Result<Role, DeskError> {
        self.policy
            .check_role(actor, least)
            .map_err(|reason| self.refuse(actor, None, what, reason))
    }

    /// Records a refusal and returns the error to give the caller.
    fn refuse(
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
    fn record_read(
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
    fn record_browse(&self, actor: &UserName, incident: &Incident) -> Result<(), DeskError> {
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

    /// Opens the sealed text of each event for a reader `entitled` to it; drops it otherwise.
    fn reveal(&self, events: &mut [AuditEvent], entitled: bool) {
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

    /// Updates one incident and records one event about it.
    fn change_incident(
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

    fn rules(&self) -> crate::deadlines::RuleBook {
        self.settings.rules.clone()
    }

    fn open_incident(&self, actor: &UserName, new: NewIncident) -> Result<Incident, DeskError> {
        let now = self.now();
        if let Some(at) = new.discovered_at
            && at > now + Duration::minutes(5)
        {
            return Err(DeskError::FutureTime(at));
        }
        if let Some(at) = new.aware_at
            && at > now + Duration::minutes(5)
        {
            return Err(DeskError::FutureTime(at));
        }
        self.guard_role(actor, Role::Responder, "incident.open")?;
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
        actor: &UserName,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, DeskError> {
        self.guard_role(actor, Role::Viewer, "incident.list")?;
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

    fn identity(&self, actor: &UserName) -> Result<Identity, DeskError> {
        Ok(Identity {
            user: actor.clone(),
            role: self.policy.role(actor),
        })
    }

    fn incident(&self, actor: &UserName, id: IncidentId) -> Result<Incident, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::Summary, "incident.show")?;
        Ok(incident)
    }

    fn timeline(&self, actor: &UserName, id: IncidentId) -> Result<Vec<AuditEvent>, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::Details, "incident.timeline")?;
        let mut events = self.store.incident_events(id)?;
        events.retain(|e| !e.draft.action.is_access());
        let entitled = self
            .policy
            .check(actor, &incident, Need::PersonalData)
            .is_ok();
        self.reveal(&mut events, entitled);
        Ok(events)
    }

    fn set_member(
        &self,
        actor: &UserName,
        id: IncidentId,
        user: UserName,
        add: bool,
    ) -> Result<Incident, DeskError> {
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        self.guard(actor, &incident, Need::Membership, "incident.members")?;
        let changed = if add {
            incident.members.insert(user.clone())
        } else {
            incident.members.remove(&user)
        };
        if !changed {
            let state = if add { "already" } else { "not" };
            return Err(DeskError::Unchanged(format!(
                "{user} is {state} a member of {id}"
            )));
        }
        let now = self.now();
        incident.updated_at = now;
        let (action, mut detail) = if add {
            (
                AuditAction::MemberAdded,
                format!("added {user} as a member"),
            )
        } else {
            (AuditAction::MemberRemoved, format!("removed member {user}"))
        };
        if add && self.policy.role(&user).is_none() {
            detail.push_str(&format!(
                " ({user} has no role yet, so cannot see it until an admin adds them to [access])"
            ));
        }
        let event = EventDraft::new(actor, now, action, detail).on_incident(id);
        self.store.commit(&Changes {
            incidents: vec![incident.clone()],
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(incident)
    }

    fn set_clock(
        &self,
        actor: &UserName,
        id: IncidentId,
        aware: Option<DateTime<Utc>>,
        determined: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        let reason = reason_text(reason)?;
        let now = self.now();
        for t in [aware, determined].into_iter().flatten() {
            if t > now + Duration::minutes(5) {
                return Err(DeskError::FutureTime(t));
            }
        }
        if aware.is_none() && determined.is_none() {
            return Err(DeskError::Unchanged(
                "give --aware, --determined or both".into(),
            ));
        }
        self.change_incident(actor, id, "incident.clock", Need::Change, |inc| {
            let show = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let before = format!(
                "aware {}, determined {}",
                show(inc.aware_time()),
                show(inc.determined_time())
            );
            if let Some(t) = aware {
                inc.aware_at = Some(t);
            }
            if let Some(t) = determined {
                inc.determined_at = Some(t);
            }
            let after = format!(
                "aware {}, determined {}",
                show(inc.aware_time()),
                show(inc.determined_time())
            );
            Ok(Recorded::new(
                AuditAction::ClockChanged,
                reason,
                before,
                after,
            ))
        })
    }

    fn obligations(
        &self,
        actor: &UserName,
        id: Option<IncidentId>,
    ) -> Result<Vec<Obligation>, DeskError> {
        let rules = &self.settings.rules;
        match id {
            Some(id) => {
                let incident = self.load(id)?;
                self.guard(actor, &incident, Need::Summary, "deadlines")?;
                Ok(rules.obligations(&incident))
            }
            None => {
                self.guard_role(actor, Role::Viewer, "deadlines")?;
                let mut all: Vec<Obligation> = self
                    .store
                    .incidents()?
                    .iter()
                    .filter(|i| !i.status.is_settled())
                    .flat_map(|i| rules.obligations(i))
                    .collect();
                all.sort_by(|a, b| {
                    (a.due_at.is_none(), a.due_at, a.incident, &a.rule).cmp(&(
                        b.due_at.is_none(),
                        b.due_at,
                        b.incident,
                        &b.rule,
                    ))
                });
                Ok(all)
            }
        }
    }

    fn settle_obligation(
        &self,
        actor: &UserName,
        id: IncidentId,
        rule: &str,
        state: ObligationState,
    ) -> Result<Obligation, DeskError> {
        let (action, detail) = match &state {
            ObligationState::Open => {
                return Err(DeskError::Unchanged(
                    "an obligation is settled as done or waived".into(),
                ));
            }
            ObligationState::Done { at, reference } => {
                if *at > self.now() + Duration::minutes(5) {
                    return Err(DeskError::FutureTime(*at));
                }
                if let Some(r) = reference {
                    checked("reference", r, 500, Lines::Single)?;
                }
                let mut d = format!(
                    "{rule} done at {}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                if let Some(r) = reference {
                    d.push_str(&format!(" (reference {r})"));
                }
                (AuditAction::ObligationDone, d)
            }
            ObligationState::Waived { reason } => {
                let reason = reason_text(reason)?;
                (
                    AuditAction::ObligationWaived,
                    format!("{rule} waived: {reason}"),
                )
            }
        };
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        self.guard(actor, &incident, Need::Change, "obligation.settle")?;
        let applies = |inc: &Incident| {
            self.settings
                .rules
                .obligations(inc)
                .into_iter()
                .find(|o| o.rule == rule)
        };
        let no_rule = || DeskError::NoObligation {
            id,
            rule: crate::domain::text::for_terminal(rule).into_owned(),
        };
        applies(&incident).ok_or_else(no_rule)?;
        let now = self.now();
        let before = incident
            .obligations
            .get(rule)
            .map_or("open", |r| r.state.as_str());
        let event = EventDraft::new(actor, now, action, detail)
            .on_incident(id)
            .changed(before, state.as_str());
        incident.obligations.insert(
            rule.to_owned(),
            ObligationRecord {
                state,
                by: actor.clone(),
            },
        );
        incident.updated_at = now;
        self.store.commit(&Changes {
            incidents: vec![incident.clone()],
            events: vec![event],
            ..Changes::default()
        })?;
        applies(&incident).ok_or_else(no_rule)
    }

    fn import_evidence(
        &self,
        actor: &UserName,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        allowed: &std::collections::HashSet<String>,
    ) -> Result<EvidenceSummary, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::Change, "evidence.import")?;
        // The name reaches messages, the timeline and reports; a client may have sent any.
        let source_name = &crate::domain::text::display_path(source_name);
        let roster: std::collections::HashSet<String> = self
            .store
            .people(id)
            .map(|p| p.map(|p| p.employee_id.to_string()))
            .collect::<Result<_, _>>()?;
        if roster.is_empty() {
            return Err(DeskError::EmptyRoster(id));
        }
        let evidence = crate::evidence::analyse(log, source_name, &roster, allowed)?;
        let now = self.now();
        let summary = EvidenceSummary {
            finding: evidence.finding,
            rows: evidence.rows,
            source: source_name.to_owned(),
            imported_at: now,
            accessors: evidence.accessors.len() as u64,
            unauthorized_accessors: evidence.unauthorized_accessors(),
            people_read: evidence.people_read(),
            people_acquired: evidence.people_acquired(),
            allow_list: !allowed.is_empty(),
        };
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        // Membership may have changed while the log was read.
        self.guard(actor, &incident, Need::Change, "evidence.import")?;
        let before = incident
            .evidence
            .as_ref()
            .map_or("unknown", |e| e.finding.as_str());
        incident.evidence = Some(summary.clone());
        incident.updated_at = now;
        let detail = format!(
            "{source_name}: {} rows; {} accessors ({} not on the allow-list); data of {} people read, of {} copied; finding: {}",
            summary.rows,
            summary.accessors,
            summary.unauthorized_accessors,
            summary.people_read,
            summary.people_acquired,
            summary.finding.as_str()
        );
        let event = EventDraft::new(actor, now, AuditAction::EvidenceImported, detail)
            .on_incident(id)
            .changed(before, summary.finding.as_str());
        self.store.commit(&Changes {
            incidents: vec![incident],
            evidence: Some((id, evidence)),
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(summary)
    }

    fn evidence(&self, actor: &UserName, id: IncidentId) -> Result<Evidence, DeskError> {
        let incident = self.load(id)?;
        let path = ReadPath::EvidenceSummary;
        self.guard(actor, &incident, Need::PersonalData, path.as_str())?;
        let evidence = self.store.evidence(id)?.unwrap_or_default();
        self.record_read(actor, id, path, evidence.people.len())?;
        Ok(evidence)
    }

    fn access_log(
        &self,
        actor: &UserName,
        incident: Option<IncidentId>,
        user: Option<&UserName>,
    ) -> Result<Vec<AuditEvent>, DeskError> {
        let mut events: Vec<AuditEvent> = match incident {
            Some(id) => {
                let incident = self.load(id)?;
                self.guard(actor, &incident, Need::Details, "audit.access")?;
                self.store.incident_events(id)?
            }
            None => {
                self.guard_role(actor, Role::Admin, "audit.access")?;
                self.store.events().collect::<Result<_, _>>()?
            }
        };
        events.retain(|e| e.draft.action.is_access() && user.is_none_or(|u| e.draft.actor == *u));
        Ok(events)
    }

    fn set_severity(
        &self,
        actor: &UserName,
        id: IncidentId,
        severity: Severity,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        let reason = reason_text(reason)?;
        self.change_incident(actor, id, "incident.severity", Need::Change, |inc| {
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
        self.change_incident(actor, id, "incident.status", Need::Change, |inc| {
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
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::Change, "incident.note")?;
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
        // Who owns an incident decides who sees its personal data: owner or admin only.
        self.change_incident(actor, id, "incident.assign", Need::Membership, |inc| {
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
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::Change, "people.import")?;
        let source_name = &crate::domain::text::display_path(source_name);
        let rows = roster::parse(csv, source_name, &self.settings.catalog)?;
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        // Membership may have changed while the file was read.
        self.guard(actor, &incident, Need::Change, "people.import")?;
        let mut roster = self.store.roster(id)?;
        let mut report = ImportReport {
            rows: rows.len(),
            added: 0,
            updated: 0,
            unchanged: 0,
            dry_run,
        };
        let mut categories = BTreeSet::new();
        let mut changed = Vec::new();
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
                if let Some(position) = roster.position(&merged.employee_id) {
                    changed.push((old.clone(), merged.clone(), position));
                }
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
        (incident.people_by_location, incident.people_by_category) = roster.counts();
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
        let stale = notifications::restale(self, actor, &incident, &changed)?;
        if stale.rebuilt > 0 || !stale.previous.is_empty() {
            detail.push_str(&format!(
                "; {} queued letters rebuilt for the new details, {} already sent to a previous address",
                stale.rebuilt,
                stale.previous.len()
            ));
        }
        let event =
            EventDraft::new(actor, now, AuditAction::PeopleImported, detail).on_incident(id);
        self.store.commit(&Changes {
            incidents: vec![incident],
            pages: roster.into_changed_pages(),
            letters: stale.letters,
            deliveries: stale.previous,
            events: vec![event],
            ..Changes::default()
        })?;
        Ok(report)
    }

    fn people(
        &self,
        actor: &UserName,
        id: IncidentId,
        filter: &PeopleFilter,
        path: ReadPath,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::PersonalData, path.as_str())?;
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
        self.record_read(actor, id, path, list.len())?;
        Ok(list)
    }

    fn people_window(
        &self,
        actor: &UserName,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::PersonalData, "tui.people")?;
        self.record_browse(actor, &incident)?;
        Ok(self.store.people_window(id, offset, limit)?)
    }

    fn add_program(&self, actor: &UserName, new: NewProgram) -> Result<Program, DeskError> {
        programs::add(self, actor, new)
    }

    fn programs(&self, actor: &UserName) -> Result<Vec<Program>, DeskError> {
        programs::list(self, actor)
    }

    fn link_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        id: IncidentId,
    ) -> Result<LinkOutcome, DeskError> {
        let _guard = self.lock();
        let mut incident = self.load(id)?;
        self.guard(actor, &incident, Need::Change, "program.link")?;
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
        programs::pause(self, actor, slug, id, reason)
    }

    fn resume_program(
        &self,
        actor: &UserName,
        slug: &ProgramSlug,
        reason: &str,
        force: bool,
    ) -> Result<ResumeOutcome, DeskError> {
        programs::resume(self, actor, slug, reason, force)
    }

    fn audit_log(
        &self,
        actor: &UserName,
        incident: Option<IncidentId>,
    ) -> Result<Vec<AuditEvent>, DeskError> {
        match incident {
            Some(id) => self.timeline(actor, id),
            None => {
                self.guard_role(actor, Role::Admin, "audit.log")?;
                let mut events: Vec<AuditEvent> = self.store.events().collect::<Result<_, _>>()?;
                self.reveal(&mut events, true);
                Ok(events)
            }
        }
    }

    fn verify_audit(&self, actor: &UserName) -> Result<Result<Verified, Tamper>, DeskError> {
        self.guard_role(actor, Role::Viewer, "audit.verify")?;
        Ok(self.store.verify_audit()?)
    }

    fn audit_head(&self, actor: &UserName) -> Result<Option<HeadReport>, DeskError> {
        self.guard_role(actor, Role::Viewer, "audit.head")?;
        Ok(self.store.audit_head()?)
    }
    fn preview_letter(
        &self,
        actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        person: Option<&crate::domain::EmployeeId>,
    ) -> Result<String, DeskError> {
        let incident = self.load(id)?;
        let path = ReadPath::LetterPreview;
        self.guard(actor, &incident, Need::PersonalData, path.as_str())?;
        let letter = notifications::preview(self, actor, id, template, person)?;
        self.record_read(actor, id, path, 1)?;
        Ok(letter)
    }

    fn queue_notifications(
        &self,
        actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        filter: &PeopleFilter,
        recipients: &[crate::domain::Email],
    ) -> Result<QueueReport, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::Change, "notify.queue")?;
        notifications::queue(self, actor, id, template, filter, recipients)
    }

    fn send_notifications(
        &self,
        actor: &UserName,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError> {
        match scope {
            Some(id) => {
                let incident = self.load(id)?;
                self.guard(actor, &incident, Need::Change, "notify.send")?;
            }
            None => {
                self.guard_role(actor, Role::Admin, "notify.send")?;
            }
        }
        sending::send(self, actor, scope, options, progress)
    }

    fn outbox_status(
        &self,
        actor: &UserName,
        id: IncidentId,
        path: ReadPath,
    ) -> Result<OutboxStatus, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::PersonalData, path.as_str())?;
        let status = notifications::status(self, id)?;
        self.record_read(actor, id, path, status.failures.len())?;
        Ok(status)
    }

    fn export_letters(
        &self,
        actor: &UserName,
        id: IncidentId,
        dir: &std::path::Path,
    ) -> Result<usize, DeskError> {
        let incident = self.load(id)?;
        let path = ReadPath::LetterExport;
        self.guard(actor, &incident, Need::PersonalData, path.as_str())?;
        let written = notifications::export(self, id, dir)?;
        self.record_read(actor, id, path, written)?;
        Ok(written)
    }

    fn retry_failed(&self, actor: &UserName, id: IncidentId) -> Result<usize, DeskError> {
        let incident = self.load(id)?;
        self.guard(actor, &incident, Need::Change, "notify.retry")?;
        notifications::retry(self, actor, id)
    }

    fn test_smtp(&self, actor: &UserName) -> Result<String, DeskError> {
        self.guard_role(actor, Role::Responder, "notify.test-smtp")?;
        notifications::test_smtp(self)
    }

    fn watch(
        &self,
        actor: &UserName,
    ) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError> {
        self.guard_role(actor, Role::Viewer, "watch")?;
        Ok(self.store.watch())
    }
}
