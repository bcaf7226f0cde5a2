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
    Paused,
    /// A pause was asked for but the kill-switch hook failed: it may still be collecting.
    PauseFailed,
    Retired,
}

impl ProgramState {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramState::Active => "active",
            ProgramState::Paused => "paused",
            ProgramState::PauseFailed => "pause-failed",
            ProgramState::Retired => "retired",
        }
    }

    /// Active or pause-failed: the programme may still be collecting data.
    pub fn may_be_collecting(self) -> bool {
        matches!(self, ProgramState::Active | ProgramState::PauseFailed)
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
    /// When the current pause took effect.
    pub paused_at: Option<DateTime<Utc>>,
}

/// What a responder gives to register a programme, already validated.
#[derive(Debug, Clone)]
pub struct NewProgram {
    pub slug: ProgramSlug,
    pub name: String,
    pub owner: Option<UserName>,
    pub categories: BTreeSet<CategoryName>,
    pub pause_hook: Option<String>,
    pub resume_hook: Option<String>,
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
            paused_at: None,
        }
    }
}
