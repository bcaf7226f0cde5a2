//! What can be typed about the audit log and its witness: `audit ...`.

use super::*;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print audit events, oldest first
    Log {
        #[arg(long, value_parser = parse_incident)]
        incident: Option<IncidentId>,
        #[arg(long)]
        json: bool,
    },
    /// Check the hash chain, the head's key tag and the witness; exits 1 naming the first
    /// bad event, a forged head, or a database older than its witness
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Print the chain's current head (seq, hash, key tag, time) for reports and tickets
    Head {
        #[arg(long)]
        json: bool,
    },
    /// The audit witness: re-establish it once it is lost (admins)
    Witness {
        #[command(subcommand)]
        action: WitnessCommand,
    },
    /// Who read whose personal data, and who was refused
    Access {
        #[arg(long, value_parser = parse_incident)]
        incident: Option<IncidentId>,
        /// Only this user's reads
        #[arg(long, value_name = "U")]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Start a new witness where the one this database kept is gone, after checking where
    /// the database came from; recorded in the chain, prints the new head
    Reset {
        /// Why (recorded): what was checked
        #[arg(long, value_name = "R")]
        reason: String,
        #[arg(long)]
        json: bool,
    },
}
