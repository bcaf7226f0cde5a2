//! What can be typed about exposure evidence: `evidence import` and `evidence summary`.

use std::path::PathBuf;

use clap::Subcommand;

use super::parse_incident;
use crate::domain::IncidentId;

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
