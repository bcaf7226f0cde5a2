//! What is known about an exposure and what has been done about its legal obligations:
//! stored on the incident, used by the deadline rules ([`crate::deadlines`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::UserName;

/// What the exposure evidence says happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finding {
    /// No evidence imported: every trigger is assumed.
    #[default]
    Unknown,
    /// The access log shows nobody outside the allow-list read the data.
    NoAccess,
    /// Read, not copied.
    Accessed,
    /// Downloaded, exported or copied.
    Acquired,
}

impl Finding {
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Unknown => "unknown",
            Finding::NoAccess => "no-access",
            Finding::Accessed => "accessed",
            Finding::Acquired => "acquired",
        }
    }
}

/// What has been done about an obligation, as stored on the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ObligationState {
    Open,
    Done {
        /// When it was met: for a report in phases, when the initial report went.
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// For a report made in phases (GDPR Art. 33(4)), the latest phase sent: after only
        /// the initial report the obligation is partly met.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<Phase>,
    },
    Waived {
        reason: String,
    },
    /// The rule covers the people but what happened does not trigger it (a rule on
    /// acquisition, and the logs show reads only): why, on screen and in `--json`. A
    /// responder who judges otherwise records `obligation apply`. Never stored.
    NotTriggered {
        reason: String,
    },
}

impl ObligationState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ObligationState::Open => "open",
            ObligationState::Done {
                phase: Some(Phase::Initial),
                ..
            } => "partly-met",
            ObligationState::Done { .. } => "done",
            ObligationState::Waived { .. } => "waived",
            ObligationState::NotTriggered { .. } => "not-triggered",
        }
    }
}

/// A phase of a report made in phases (GDPR Art. 33(4)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Initial,
    FollowUp,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Initial => "initial",
            Phase::FollowUp => "follow-up",
        }
    }
}

/// One report sent for an obligation met in phases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub phase: Phase,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub by: UserName,
}

/// A record of an obligation met or waived, with who recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationRecord {
    #[serde(flatten)]
    pub state: ObligationState,
    pub by: UserName,
    /// Each report of an obligation met in phases, in the order recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub submissions: Vec<Submission>,
}

/// What the exposure evidence showed, kept on the incident (counts only; the per-person
/// detail is sealed in the store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceSummary {
    pub finding: Finding,
    pub rows: u64,
    pub source: String,
    pub imported_at: DateTime<Utc>,
    /// Distinct accessors in the log.
    pub accessors: u64,
    /// Distinct accessors not on the allow-list.
    pub unauthorized_accessors: u64,
    /// Affected people whose data someone outside the allow-list read.
    pub people_read: u64,
    /// Affected people whose data someone outside the allow-list took a copy of.
    pub people_acquired: u64,
    /// Whether an allow-list was given (without one, every accessor counts as unauthorised).
    pub allow_list: bool,
    /// The finding in words, against the exposure window: "no access found in logs
    /// covering 100% of the exposure window", "not determinable: ...", "accessed: ...".
    #[serde(default)]
    pub statement: String,
    /// Whole percent of the exposure window covered by logs that can show reads.
    #[serde(default)]
    pub coverage: Option<u8>,
    /// Logs imported (each file a source).
    #[serde(default)]
    pub sources: u64,
    /// Refused requests, calls that are not reads, and reads of resources naming nobody
    /// on the roster.
    #[serde(default)]
    pub denied: u64,
    #[serde(default)]
    pub not_reads: u64,
    #[serde(default)]
    pub unmatched: u64,
    /// The last import's file had been imported before: nothing changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already_imported: bool,
    /// In the reply to an import (not kept on the incident): the files it added, and those
    /// imported before, which changed nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imported: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchanged: Vec<String>,
}

impl EvidenceSummary {
    /// What an import found, in one line: rows, accessors, people read and copied, finding.
    pub fn counts(&self) -> String {
        let mut out = format!(
            "{} rows; {} accessors, {} not on the allow-list; data of {} people read, of {} copied; finding: {}",
            self.rows,
            self.accessors,
            self.unauthorized_accessors,
            self.people_read,
            self.people_acquired,
            self.finding.as_str()
        );
        if !self.statement.is_empty() {
            out.push_str(" (");
            out.push_str(&self.statement);
            out.push(')');
        }
        out
    }
}
