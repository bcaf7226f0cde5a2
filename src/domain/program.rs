//! A programme: a data-collection or processing activity that incidents link to and that
//! can be paused while an incident is handled.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::text::{Lines, checked, optional};
use super::{CategoryName, DomainError, IncidentId, ProgramSlug, UserName};

/// Whether a programme is collecting data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProgramState {
    Active,
    /// A pause hook is running (see [`Program::run`]).
    Pausing,
    Paused,
    /// A resume hook is running (see [`Program::run`]); a pause asked for meanwhile waits
    /// in [`Program::pause_queued`] and runs as soon as the resume hook ends.
    Resuming,
    /// A pause was asked for but the kill-switch hook failed: it may still be collecting.
    PauseFailed,
    Retired,
}

impl ProgramState {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramState::Active => "active",
            ProgramState::Pausing => "pausing",
            ProgramState::Paused => "paused",
            ProgramState::Resuming => "resuming",
            ProgramState::PauseFailed => "pause-failed",
            ProgramState::Retired => "retired",
        }
    }

    /// Anything but paused or retired: the programme may still be collecting data (while
    /// a hook runs, nobody knows yet).
    pub fn may_be_collecting(self) -> bool {
        !matches!(self, ProgramState::Paused | ProgramState::Retired)
    }

    /// Pausing or resuming: a hook is running.
    pub fn is_in_flight(self) -> bool {
        matches!(self, ProgramState::Pausing | ProgramState::Resuming)
    }
}

impl fmt::Display for ProgramState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A programme as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub slug: ProgramSlug,
    pub name: String,
    pub owner: UserName,
    pub categories: BTreeSet<CategoryName>,
    pub pause_hook: Option<String>,
    pub resume_hook: Option<String>,
    pub state: ProgramState,
    pub incidents: BTreeSet<IncidentId>,
    pub created_at: DateTime<Utc>,
    /// Who registered it: with the admins, the one who may change it. Programmes
    /// registered before this was kept have none, and only admins change them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_by: Option<UserName>,
    /// When the current pause took effect.
    pub paused_at: Option<DateTime<Utc>>,
    /// The hook running now, while the state is pausing or resuming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<HookLease>,
    /// A pause asked for while a resume hook ran; it runs when that hook ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_queued: Option<HookLease>,
}

/// Who is running a programme's hook, since when, and until when the claim holds. A lease
/// outlives the hook's own time limit; one past its expiry was left by a process that died,
/// and the next pause may take it over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookLease {
    /// Random, so that a runner can tell its own lease from a successor's.
    pub token: u64,
    pub by: UserName,
    pub incident: Option<IncidentId>,
    pub since: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The state before the run, to return to when a resume hook fails.
    pub from: ProgramState,
}

impl HookLease {
    /// Whether the lease still holds at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

/// What a responder gives to register a programme, already validated (also when decoded
/// from a request: the name and hooks are checked as [`NewProgram::new`] checks them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "NewProgramFields")]
pub struct NewProgram {
    pub slug: ProgramSlug,
    pub name: String,
    pub owner: Option<UserName>,
    pub categories: BTreeSet<CategoryName>,
    pub pause_hook: Option<String>,
    pub resume_hook: Option<String>,
}

/// A [`NewProgram`] as it arrives, before its text is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProgramFields {
    slug: ProgramSlug,
    name: String,
    #[serde(default)]
    owner: Option<UserName>,
    #[serde(default)]
    categories: BTreeSet<CategoryName>,
    #[serde(default)]
    pause_hook: Option<String>,
    #[serde(default)]
    resume_hook: Option<String>,
}

impl TryFrom<NewProgramFields> for NewProgram {
    type Error = DomainError;
    fn try_from(f: NewProgramFields) -> Result<Self, Self::Error> {
        let mut new = NewProgram::new(
            f.slug,
            &f.name,
            f.pause_hook.as_deref(),
            f.resume_hook.as_deref(),
        )?;
        new.owner = f.owner;
        new.categories = f.categories;
        Ok(new)
    }
}

impl NewProgram {
    /// Checks the name (one line, up to 200 characters) and hooks (up to 4,096
    /// characters; newlines allowed, as they go to `sh -c`).
    pub fn new(
        slug: ProgramSlug,
        name: &str,
        pause_hook: Option<&str>,
        resume_hook: Option<&str>,
    ) -> Result<Self, DomainError> {
        let hook = |field, h: Option<&str>| {
            h.map(|h| optional(field, h, 4096, Lines::Multi))
                .transpose()
                .map(|h| h.filter(|h| !h.is_empty()))
        };
        Ok(NewProgram {
            slug,
            name: checked("name", name, 200, Lines::Single)?,
            owner: None,
            categories: BTreeSet::new(),
            pause_hook: hook("pause hook", pause_hook)?,
            resume_hook: hook("resume hook", resume_hook)?,
        })
    }
}

impl Program {
    /// Builds the stored programme, active and linked to nothing.
    pub fn create(new: NewProgram, actor: &UserName, now: DateTime<Utc>) -> Self {
        Program {
            slug: new.slug,
            name: new.name,
            owner: new.owner.unwrap_or_else(|| actor.clone()),
            categories: new.categories,
            pause_hook: new.pause_hook,
            resume_hook: new.resume_hook,
            state: ProgramState::Active,
            incidents: BTreeSet::new(),
            created_at: now,
            registered_by: Some(actor.clone()),
            paused_at: None,
            run: None,
            pause_queued: None,
        }
    }

    /// The running hook's lease, if one is running and its runner is alive.
    pub fn live_run(&self, now: DateTime<Utc>) -> Option<&HookLease> {
        self.run
            .as_ref()
            .filter(|l| self.state.is_in_flight() && l.is_live(now))
    }
}
