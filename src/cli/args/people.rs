//! What can be typed about the affected people: `people import`, `list`, `show` and the rest.

use super::*;

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Import a CSV roster: employee_id,name,email,categories[,location]; all or nothing
    Import {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        file: PathBuf,
        /// Validate and report without writing anything
        #[arg(long)]
        dry_run: bool,
    },
    /// List the people an incident affects
    List {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// Only people with this data category exposed
        #[arg(long, value_name = "C")]
        category: Option<String>,
        /// Only people not yet notified
        #[arg(long)]
        pending: bool,
        /// Only people whose letter bounced and whom nothing has reached since
        #[arg(long)]
        undeliverable: bool,
        /// Only people whose employee id, name or email contains TEXT (any case)
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write an incident's roster as CSV (personal data: checked and logged)
    Export {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// Write here (created 0600; must not exist) instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Only people whose letter bounced and whom nothing has reached since, with the
        /// bounce (for a postal or substitute notice)
        #[arg(long)]
        undeliverable: bool,
    },
}
