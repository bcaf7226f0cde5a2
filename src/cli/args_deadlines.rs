//! The command line's obligation and evidence commands (`breachdesk obligation ...`,
//! `breachdesk evidence ...`), beside the rest of the grammar in `args.rs`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::args::{parse_incident, parse_time};
use crate::domain::IncidentId;

#[derive(Debug, Subcommand)]
pub enum ObligationCommand {
    /// The obligation was met: when, and the regulator's or mailing's reference
    Done {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// The rule id, e.g. gdpr-33 (see `breachdesk deadlines ID`)
        rule: String,
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: DateTime<Utc>,
        #[arg(long)]
        reference: Option<String>,
        /// For a report made in phases (GDPR Art. 33(4)): which one this is; after only
        /// the initial report the obligation shows as partly met
        #[arg(long, value_enum)]
        phase: Option<ReportPhase>,
    },
    /// The rule applies although what happened does not trigger it (viewing was
    /// acquisition, say), and why: the obligation opens
    Apply {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        rule: String,
        #[arg(long)]
        reason: String,
    },
    /// The obligation does not apply or was decided against, and why
    Waive {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        rule: String,
        #[arg(long)]
        reason: String,
    },
    /// Telling the people (GDPR Art. 34) is not required on one of the grounds of
    /// Art. 34(3): record which, and why; it settles the obligation
    Exempt {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// The rule: gdpr-34 or uk-gdpr-34
        rule: String,
        #[arg(long, value_enum)]
        ground: Art34Ground,
        #[arg(long)]
        reason: String,
    },
}

/// A report's phase, for `obligation done --phase`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportPhase {
    Initial,
    FollowUp,
}

pub use crate::deadlines::Art34Ground;

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Load the exposed store's access logs: CloudTrail, S3 server access logs, Google Cloud
    /// audit logs, Google Workspace Drive activity, Azure Storage logs, pgaudit csvlog,
    /// Elasticsearch audit, or CSV accessed_at,accessor,employee_id,action; gzip or not; a
    /// directory is read file by file. Each file adds up; the same file again changes nothing
    Import {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// Log files or directories
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The logs' format [default: detected from the content]
        #[arg(long, value_enum, default_value_t = crate::evidence::LogFormat::Auto)]
        format: crate::evidence::LogFormat,
        /// Principals whose reads were authorised, one per line (exact, or a glob with * and ?)
        #[arg(long, value_name = "FILE")]
        authorized: Option<PathBuf>,
        /// A regular expression with a named group employee_id (or email) that finds the
        /// person in each resource, e.g. 'monitoring/(?P<employee_id>E[0-9]+)/'
        #[arg(long, value_name = "REGEX")]
        person_from: Option<String>,
        /// CSV resource,employee_id naming the person of each resource one by one
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
    },
    /// Whether the data was read, by how many people, and who they were
    Summary {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
}
