//! The one error type for values that fail validation. Messages are written for the
//! responder who typed the value: they say what is wrong and what would be accepted.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A value that does not meet the rules of its type.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("severity must be 0 (most critical) to 5")]
    Severity,
    #[error(
        "unknown status '{given}'; statuses are: open, investigating, contained, resolved, closed"
    )]
    UnknownStatus { given: String },
    #[error("cannot move {id} from {from} to {to}; allowed from {from}: {allowed}")]
    IllegalTransition {
        id: String,
        from: String,
        to: String,
        allowed: String,
    },
    #[error("'{given}' is not an incident id (expected INC-7 or 7)")]
    IncidentId { given: String },
    #[error(
        "'{given}' is not a programme slug (1-64 characters: lowercase letters, digits and '-', starting with a letter or digit)"
    )]
    ProgramSlug { given: String },
    #[error("unknown state '{given}'; states are: active, paused, pause-failed, retired")]
    UnknownProgramState { given: String },
    #[error("unknown category '{given}'; known categories: {known}")]
    UnknownCategory { given: String, known: String },
    #[error("unknown data element '{given}'; known elements: {known}")]
    UnknownElement { given: String, known: String },
    #[error("'{given}' is not a category name (lowercase letters, digits and '-', up to 64)")]
    CategoryName { given: String },
    #[error("'{given}' is not an email address")]
    Email { given: String },
    #[error(
        "'{given}' is not a location (expected an ISO country code such as DE, or country-region such as US-CA)"
    )]
    Location { given: String },
    #[error("{field} is missing")]
    Missing { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains a control character")]
    ControlCharacter { field: &'static str },
    #[error(
        "the {field} holds a bidirectional control character (U+{code:04X}), which makes text display in another order than it is stored; remove it"
    )]
    BidiControl { field: &'static str, code: u32 },
    #[error("{field} '{given}' may not contain spaces or control characters")]
    Token { field: &'static str, given: String },
    #[error("language '{given}' is not a language tag such as de, pt-BR or zh-Hant")]
    Language { given: String },
    /// A harm-assessment input outside what the methodology allows.
    #[error("{0}")]
    Invalid(String),
}

/// What kind of failure a desk or store error is: the part of an error that front ends branch on
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
