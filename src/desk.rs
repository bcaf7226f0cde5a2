//! The desk: the one API every front end uses. Each method is one user action, made in a
//! session bound once to its user ([`LocalDesk::session`]; the daemon makes one per
//! connection). The desk validates, reads what it needs, and hands the store one set of
//! changes with its audit events, so it is the only writer. Front ends reach it through the
//! [`Desk`] trait, so that a remote desk can stand in for a local [`Session`].
//!
//! This file holds the trait and [`DeskError`]; [`LocalDesk`] and its shared helpers are in
//! `local.rs`, and each area's actions in a file of its own: `incidents.rs`, `people.rs`,
//! `programs.rs` and `resume.rs` (the kill switch), `notifications.rs` and `sending.rs`,
//! `deadlines.rs` (obligations and evidence), `audit.rs` (the audit log and the access log).

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::access::Denial;
#[allow(unused_imports)] // the table's rows name these types
use ops::vocabulary::*;

use crate::audit::{HeadReport, Tamper, Verified};
use crate::deadlines::Obligation;
use crate::domain::{
    AffectedPerson, AuditEvent, CategoryCatalog, DomainError, Incident, IncidentId, NewIncident,
    NewProgram, Program, ProgramSlug, Severity, Status, UserName,
};
use crate::domain::{EvidenceSummary, ObligationState};
use crate::evidence::{Evidence, EvidenceError};
use crate::notify::{LetterError, TemplateError, TemplateName};
use crate::roster::RosterError;
use crate::store::StoreError;

mod alerts;
mod audit;
mod bounces;
mod deadlines;
mod incidents;
mod letter_check;
mod local;
mod notifications;
pub(crate) mod ops;
mod outbox;
mod people;
mod program_edit;
mod programs;
mod queue_pipeline;
mod resume;
mod retention;
mod send_lease;
mod sending;

pub use audit::{Identity, ReadPath};
pub use bounces::{BounceOutcome, BounceRecorder};
pub use incidents::IncidentFilter;
pub use local::{Clock, LocalDesk, Session};
pub use notifications::{QueueReport, SendOptions, SendProgress};
pub use outbox::{BouncedView, FailureView, OutboxStatus};
pub use people::{ImportReport, PeopleFilter};
pub use programs::{HIDDEN_HOOK, LinkOutcome, PauseOutcome};
pub use resume::ResumeOutcome;

pub use crate::domain::ErrorKind;

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
        "not resuming '{slug}': linked incidents of SEV 0-2 are not yet resolved or closed: {blocking}; resolve them first, or an admin may force the resume (the Force field in the terminal UI, --force on the command line; recorded)"
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
    #[error(
        "not closing {id}: its legal obligations are still open: {open}. Meet, waive or exempt them first (`breachdesk obligation ...`), or close anyway with --with-open-obligations --reason R"
    )]
    OpenObligations { id: IncidentId, open: String },
    /// A purge the incident's state does not allow (not closed, a send running).
    #[error("not purging: {0}")]
    PurgeRefused(String),
    #[error("the time {0} is in the future; give a time that has passed")]
    FutureTime(DateTime<Utc>),
    /// A time no event can have happened at (before 1970).
    #[error("{0}")]
    InsaneTime(String),
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
    /// A first notice that lacks what the law requires of it (`letter_check.rs`).
    #[error("{0}")]
    IncompleteLetter(String),
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
            | DeskError::IncompleteLetter(_)
            | DeskError::Evidence(_)
            | DeskError::FutureTime(_)
            | DeskError::InsaneTime(_)
            | DeskError::NotConfigured(_) => ErrorKind::Invalid,
            DeskError::ProgramExists(_)
            | DeskError::ProgramRetired(_)
            | DeskError::ResumeRefused { .. }
            | DeskError::PauseRunning { .. }
            | DeskError::SendRunning(_)
            | DeskError::Unchanged(_)
            | DeskError::OpenObligations { .. }
            | DeskError::PurgeRefused(_)
            | DeskError::EmptyRoster(_) => ErrorKind::Conflict,
            DeskError::Delivery(_) | DeskError::Interrupted(_) => ErrorKind::Unavailable,
            DeskError::Internal(_) => ErrorKind::Internal,
            DeskError::Store(e) => e.kind(),
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

/// The trait's side of each row of the table: one method per operation.
macro_rules! desk_trait {
    (
        { $($extra:tt)* }
        $(
            $(#[doc = $doc:literal])*
            $variant:ident $name:ident ( $( $(#[$fattr:meta])* $arg:ident : $ty:ty ),* $(,)? )
                -> $reply:ty = $local:path, $access:expr ;
        )*
    ) => {
        /// The operations every front end calls: a local [`Session`] or, through the
        /// daemon, a remote desk. The methods come from the table in `ops.rs`, apart from
        /// the hand-written ones below it (the catalogue and rules every session holds,
        /// and the streaming calls).
        pub trait Desk: Send + Sync {
            $(
                $(#[doc = $doc])*
                fn $name(&self, $($arg: $ty),*) -> Result<$reply, DeskError>;
            )*
            $($extra)*
        }
    };
}

ops::desk_ops!(desk_trait {
    /// The data categories this installation knows.
    fn catalog(&self) -> CategoryCatalog;
    /// The jurisdiction rules in force (for showing deadlines without a call per incident).
    fn rules(&self) -> crate::deadlines::RuleBook;
    /// Reads the exposed store's access log (all or nothing) and keeps what it shows; through
    /// the daemon the log is streamed in chunks.
    fn import_evidence(
        &self,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        options: &crate::evidence::EvidenceOptions,
    ) -> Result<EvidenceSummary, DeskError>;
    /// Writes an incident's queued letters into `dir` as `.eml` files, changing no state;
    /// returns how many. Only on the machine that holds the database.
    fn export_letters(&self, id: IncidentId, dir: &std::path::Path) -> Result<usize, DeskError>;
    /// Drains the outbox (of one incident, or all); blocks until done, reporting progress.
    fn send_notifications(
        &self,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError>;
    /// Notices of every change committed from now on, by anyone (through the daemon: by
    /// any client); the channel ends when the desk (or the daemon) goes away.
    fn watch(&self) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError>;
});

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
    fn a_store_error_gets_one_exit_code_through_the_desk_and_the_command_line() {
        let path = std::path::PathBuf::from("/var/lib/breachdesk");
        let cases = [
            (
                StoreError::Locked { path: path.clone() },
                ErrorKind::Conflict,
                2,
            ),
            (
                StoreError::NotADatabase { path: path.clone() },
                ErrorKind::Invalid,
                2,
            ),
            (StoreError::WrongKey { path }, ErrorKind::Invalid, 2),
            (
                StoreError::Unreachable {
                    at: "PostgreSQL at db:5432".into(),
                    message: "connection refused".into(),
                },
                ErrorKind::Unavailable,
                1,
            ),
            (
                StoreError::Engine("I/O error".into()),
                ErrorKind::Internal,
                1,
            ),
            (StoreError::Corrupt("page"), ErrorKind::Internal, 1),
        ];
        for (error, kind, exit) in cases {
            let message = error.to_string();
            assert_eq!(error.kind(), kind, "{message}");
            let through_desk = crate::cli::CliError::from(DeskError::Store(error));
            let code = |e: &crate::cli::CliError| match e {
                crate::cli::CliError::User(_) => 2,
                _ => 1,
            };
            assert_eq!(code(&through_desk), exit, "{message}");
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
