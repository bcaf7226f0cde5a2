//! [`LocalDesk`], the desk working directly on a local store: its state (store, settings,
//! clock, access policy, the single writer lock), the helpers every area shares (load,
//! guard, the one write helper for an incident's change), and `impl Desk`, which only
//! hands each call to its area's file. What an action does is in that file, not here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use super::ops::vocabulary::*;
use super::{Desk, DeskError, SendOptions, SendProgress};
use super::{
    alerts, audit, bounces, deadlines, incidents, notifications, outbox, people, program_edit,
    programs, resume, retention, sending,
};
use crate::access::Policy;
use crate::config::Settings;
use crate::domain::text::{Lines, checked};
use crate::domain::{AuditAction, CategoryCatalog, DomainError, EventDraft, EvidenceSummary};
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

/// The writer lock, held from the first read of a change to its commit.
pub(super) struct WriteGuard<'a> {
    local: MutexGuard<'a, ()>,
    _shared: Option<Box<dyn crate::store::WriterLock>>,
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
    /// [`CLOCK_SKEW_TOLERANCE`], or before 1970-01-01.
    pub(super) fn not_future(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), DeskError> {
        if at > now + CLOCK_SKEW_TOLERANCE {
            return Err(DeskError::FutureTime(at));
        }
        if let Some(why) = crate::domain::when::insane(at, now) {
            return Err(DeskError::InsaneTime(why));
        }
        Ok(())
    }

    /// The writer lock: this process's, and on a shared engine every daemon's (so that no
    /// other daemon changes what this one loaded before it commits).
    pub(super) fn lock(&self) -> Result<WriteGuard<'_>, DeskError> {
        let local = self
            .write
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let shared = self.store.engine().lock_writers()?;
        Ok(WriteGuard {
            local,
            _shared: shared,
        })
    }

    /// Gives up the writer lock until `changed` is signalled or `wait` passes (at most a
    /// second: a change made by another daemon signals nothing here), then takes it again.
    pub(super) fn wait_for_change<'a>(
        &'a self,
        guard: WriteGuard<'a>,
        wait: std::time::Duration,
    ) -> Result<WriteGuard<'a>, DeskError> {
        let WriteGuard { local, _shared } = guard;
        drop(_shared);
        let local = self
            .program_changed
            .wait_timeout(local, wait.min(std::time::Duration::from_secs(1)))
            .map(|(g, _)| g)
            .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        let shared = self.store.engine().lock_writers()?;
        Ok(WriteGuard {
            local,
            _shared: shared,
        })
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

    /// Refuses unless `actor` has the access a row of the table of operations states (see
    /// [`Access`]); a refusal is recorded. Changes check again under the write lock, with
    /// the incident they change, so that a membership removed in between still counts.
    pub(super) fn admit(&self, actor: &UserName, access: Access) -> Result<(), DeskError> {
        match access {
            Access::Anyone => Ok(()),
            Access::Role(least, what) | Access::Scoped(None, _, least, what) => {
                self.guard_role(actor, least, what).map(|_| ())
            }
            Access::Incident(id, need, what) | Access::Scoped(Some(id), need, _, what) => {
                self.guard(actor, &self.load(id)?, need, what)
            }
        }
    }

    /// Checks again, against `incident` as loaded under the write lock, the access the
    /// caller's row of the table states: a membership removed since the session admitted
    /// the call still counts. The area function does not restate the access.
    pub(super) fn recheck(
        &self,
        caller: &Caller<'_>,
        incident: &Incident,
    ) -> Result<(), DeskError> {
        match caller.access {
            Access::Anyone => Ok(()),
            Access::Role(least, what) => self.guard_role(caller.user, least, what).map(|_| ()),
            Access::Incident(_, need, what) | Access::Scoped(_, need, _, what) => {
                self.guard(caller.user, incident, need, what)
            }
        }
    }

    /// Checks again the role the caller's row states, and gives the caller's role.
    pub(super) fn recheck_role(&self, caller: &Caller<'_>) -> Result<Role, DeskError> {
        let (least, what) = match caller.access {
            Access::Role(least, what) | Access::Scoped(_, _, least, what) => (least, what),
            Access::Anyone | Access::Incident(..) => (Role::Viewer, "role"),
        };
        self.guard_role(caller.user, least, what)
    }

    /// The one write helper: under the write lock, loads the incident, checks again the
    /// access of the caller's row (see [`LocalDesk::recheck`]), lets `change` change it, and
    /// commits it with the one event `change` describes. Severity, status, owner, members,
    /// the legal clocks and settling an obligation go through it; actions that commit other
    /// records with their own logic (opening, imports, notes, programmes, letters) write
    /// their own `Changes`.
    pub(super) fn change_incident(
        &self,
        caller: &Caller<'_>,
        id: IncidentId,
        change: impl FnOnce(&mut Incident) -> Result<Recorded, DeskError>,
    ) -> Result<Incident, DeskError> {
        let actor = caller.user;
        let _guard = self.lock()?;
        let mut incident = self.load(id)?;
        self.recheck(caller, &incident)?;
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

/// Who calls an area function, with the access the operation's row of the table states
/// (`src/desk/ops.rs`): handed over by the session, so that the area function checks it
/// again where it must ([`LocalDesk::recheck`]) without restating it. It reads as the
/// calling user wherever a user is wanted.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub user: &'a UserName,
    pub access: Access,
}

impl std::ops::Deref for Caller<'_> {
    type Target = UserName;

    fn deref(&self) -> &UserName {
        self.user
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

/// The session's side of each row of the table: check the row's access, then run the
/// area's function as the session's user.
macro_rules! session_calls {
    (
        { $($extra:tt)* }
        $(
            $(#[doc = $doc:literal])*
            $variant:ident $name:ident ( $( $(#[$fattr:meta])* $arg:ident : $ty:ty ),* $(,)? )
                -> $reply:ty = $local:path, $access:expr ;
        )*
    ) => {
        impl Desk for Session {
            $(
                fn $name(&self, $($arg: $ty),*) -> Result<$reply, DeskError> {
                    let caller = Caller {
                        user: &self.user,
                        access: $access,
                    };
                    self.desk.admit(&self.user, caller.access)?;
                    $local(&self.desk, &caller, $($arg),*)
                }
            )*
            $($extra)*
        }
    };
}

super::ops::desk_ops!(session_calls {
    fn catalog(&self) -> CategoryCatalog {
        self.desk.settings.catalog.clone()
    }

    fn rules(&self) -> crate::deadlines::RuleBook {
        self.desk.settings.rules.clone()
    }

    fn import_evidence(
        &self,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        options: &crate::evidence::EvidenceOptions,
    ) -> Result<EvidenceSummary, DeskError> {
        deadlines::import_evidence(&self.desk, &self.user, id, log, source_name, options)
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

    fn watch(&self) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError> {
        audit::watch(&self.desk, &self.user)
    }
});
