//! What can be typed about programmes: register, list, link and unlink, edit, pause and
//! resume.

use clap::Subcommand;

use super::{parse_incident, parse_slug};
use crate::domain::{IncidentId, ProgramSlug};

#[derive(Debug, Subcommand)]
pub enum ProgramCommand {
    /// Register a programme
    Add {
        #[arg(value_parser = parse_slug)]
        slug: ProgramSlug,
        #[arg(long)]
        name: String,
        /// Who runs it [default: you]
        #[arg(long)]
        owner: Option<String>,
        /// A data category it collects (repeat for several)
        #[arg(long = "category", value_name = "C")]
        categories: Vec<String>,
        /// Command that stops collection, run with `sh -c`
        #[arg(long, value_name = "CMD")]
        pause_hook: Option<String>,
        /// Command that restarts collection, run with `sh -c`
        #[arg(long, value_name = "CMD")]
        resume_hook: Option<String>,
    },
    /// List programmes and their states
    List {
        #[arg(long)]
        json: bool,
    },
    /// Link a programme to an incident
    Link {
        #[arg(value_parser = parse_slug)]
        slug: ProgramSlug,
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
    },
    /// Unlink a programme from an incident (an admin's, while a critical incident holds it
    /// paused)
    Unlink {
        #[arg(value_parser = parse_slug)]
        slug: ProgramSlug,
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: String,
    },
    /// Change a programme's name, owner, categories or hooks (hooks: admins only); what is
    /// not given stays as it is
    Edit {
        #[arg(value_parser = parse_slug)]
        slug: ProgramSlug,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        /// Its data categories, replacing the ones before (repeat for several)
        #[arg(long = "category", value_name = "C")]
        categories: Vec<String>,
        /// The command that stops collection
        #[arg(long, value_name = "CMD", conflicts_with = "no_pause_hook")]
        pause_hook: Option<String>,
        /// Remove the pause hook
        #[arg(long)]
        no_pause_hook: bool,
        /// The command that restarts collection
        #[arg(long, value_name = "CMD", conflicts_with = "no_resume_hook")]
        resume_hook: Option<String>,
        /// Remove the resume hook
        #[arg(long)]
        no_resume_hook: bool,
    },
    /// Pause a programme for an incident, running its pause hook
    Pause {
        #[arg(value_parser = parse_slug)]
        slug: ProgramSlug,
        #[arg(long, value_parser = parse_incident)]
        incident: IncidentId,
        #[arg(long)]
        reason: String,
    },
    /// Resume a paused programme, running its resume hook
    Resume {
        #[arg(value_parser = parse_slug)]
        slug: ProgramSlug,
        #[arg(long)]
        reason: String,
        /// Resume even while linked SEV 0-2 incidents are unresolved (recorded)
        #[arg(long)]
        force: bool,
    },
}
