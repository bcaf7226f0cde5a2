//! The one error type for values that fail validation. Messages are written for the
//! responder who typed the value: they say what is wrong and what would be accepted.

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
