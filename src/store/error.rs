//! Store errors, with messages that say which database and what to do.

use std::path::PathBuf;

use thiserror::Error;

use crate::domain::ErrorKind;
use crate::domain::text::display_path;

/// Something went wrong reading or writing the database.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "the database at {} is in use by another breachdesk process (one process at a time, such as an open terminal UI); close it, or to work alongside it run `breachdesk serve --socket PATH` once and give every command and the terminal UI `--remote PATH`",
        display_path(.path)
    )]
    Locked { path: PathBuf },
    #[error("cannot open the database at {}: {reason}", display_path(.path))]
    Open { path: PathBuf, reason: String },
    #[error(
        "{} is not a breachdesk database (it exists and holds other files); choose another --db directory",
        display_path(.path)
    )]
    NotADatabase { path: PathBuf },
    #[error(
        "the database at {} has format version {found}, which this breachdesk (format {}) cannot read; use the breachdesk release that wrote it",
        display_path(.path),
        super::FORMAT_VERSION
    )]
    UnknownFormat { path: PathBuf, found: u32 },
    #[error(
        "a queued letter is kept in format {found}, which this breachdesk (letter format {}) cannot read; use the breachdesk release that queued it",
        super::letters::FORMAT
    )]
    LetterFormat { found: u8 },
    #[error("{}: {source}", display_path(.path))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The database engine failed (an I/O error under sled, say). The engine puts its own
    /// error into words here; no engine type leaves the engine.
    #[error("database error: {0}")]
    Engine(String),
    /// The database could not be reached or dropped the connection (PostgreSQL).
    #[error("{at}: {message}")]
    Unreachable { at: String, message: String },
    #[error("{}", schema_message(.at, *.found, *.wanted))]
    Schema {
        at: String,
        found: Option<i32>,
        wanted: i32,
    },
    #[error(
        "{at} already holds a breachdesk database (or part of one); copy into a new directory or an empty PostgreSQL database"
    )]
    TargetNotEmpty { at: String },
    #[error(
        "the copy does not match: tree '{tree}' holds {in_source} records in the source and {target} in the copy; the copy is incomplete, do not use it"
    )]
    CopyMismatch {
        tree: &'static str,
        in_source: u64,
        target: u64,
    },
    /// Another writer changed what a transaction read; the engine runs it again.
    #[error("the database changed under a transaction; try again")]
    Conflict,
    #[error("the database holds an unreadable {0}; run `breachdesk audit verify`")]
    Corrupt(&'static str),
    #[error(
        "the wrapping key of generation {generation}, which opens every incident's data key, is missing from the database's key slots (wrapping-keys beside a sled database, bd_wrapping on PostgreSQL); restore the database from a backup taken whole"
    )]
    MissingWrappingKey { generation: u64 },
    #[error("could not encode a record: {0}")]
    Encode(String),
    #[error(
        "the key does not open the database at {}: it was encrypted with another key; set BREACHDESK_KEY or --key-file to the key it was created with",
        display_path(.path)
    )]
    WrongKey { path: PathBuf },
    #[error(
        "the personal data of incident {0} was purged: its roster, letters and evidence are destroyed (counts, obligations and the audit trail remain)"
    )]
    Purged(crate::domain::IncidentId),
    #[error(transparent)]
    Key(#[from] crate::crypto::KeyError),
    #[error(transparent)]
    Witness(#[from] crate::audit::witness::WitnessError),
    #[error(
        "nothing was written: the audit witness {} is gone, though this database has kept one (a database put back from an older copy hides behind a deleted witness); run `breachdesk audit verify`, and once the database is known to be the right one an admin re-establishes the witness with `breachdesk audit witness reset --reason R`",
        display_path(.path)
    )]
    WitnessLost { path: PathBuf },
}

fn schema_message(at: &str, found: Option<i32>, wanted: i32) -> String {
    match found {
        None => format!(
            "{at} holds no breachdesk tables yet: run `breachdesk db migrate --db {at}` (with the full URL) first"
        ),
        Some(v) if v < wanted => format!(
            "{at} has breachdesk schema version {v} and this breachdesk needs {wanted}: run `breachdesk db migrate --db {at}` (with the full URL)"
        ),
        Some(v) => format!(
            "{at} has breachdesk schema version {v}, newer than this breachdesk's {wanted}: use the breachdesk release that migrated it"
        ),
    }
}

impl StoreError {
    pub(super) fn corrupt(what: &'static str) -> Self {
        StoreError::Corrupt(what)
    }

    /// What kind of failure this is: the one classification every front end's exit code
    /// and the daemon's reply follow ([`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Open { .. }
            | StoreError::NotADatabase { .. }
            | StoreError::UnknownFormat { .. }
            | StoreError::LetterFormat { .. }
            | StoreError::Io { .. }
            | StoreError::Schema { .. }
            | StoreError::WrongKey { .. }
            | StoreError::Key(_) => ErrorKind::Invalid,
            StoreError::Locked { .. }
            | StoreError::TargetNotEmpty { .. }
            | StoreError::Purged(_)
            | StoreError::Witness(_)
            | StoreError::WitnessLost { .. } => ErrorKind::Conflict,
            StoreError::Unreachable { .. } => ErrorKind::Unavailable,
            StoreError::Engine(_)
            | StoreError::CopyMismatch { .. }
            | StoreError::Conflict
            | StoreError::Corrupt(_)
            | StoreError::MissingWrappingKey { .. }
            | StoreError::Encode(_) => ErrorKind::Internal,
        }
    }
}
