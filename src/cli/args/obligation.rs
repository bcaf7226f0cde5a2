//! What can be typed about legal obligations: `obligation done`, `waive`, `apply` and the rest.

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::{parse_incident, parse_time};
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
