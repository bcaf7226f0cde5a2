//! What can be typed about letters and alerts: `notify`, `template` and `alerts`.

use super::*;

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// List templates and where each part comes from (built in or overridden)
    List,
    /// Render every template against a sample person; report errors with template and line
    Check,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Print the exact message one person would get (headers and both parts)
    Preview {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(long, value_parser = parse_template)]
        template: TemplateName,
        /// Employee id [default: the first person on the roster]
        #[arg(long, value_name = "EMPLOYEE_ID")]
        person: Option<String>,
        /// The message as it goes over the wire (MIME, quoted-printable) instead of its
        /// headers and decoded text and HTML parts
        #[arg(long)]
        raw: bool,
    },
    /// Queue one letter per matching person (again for the same person: no-op)
    Queue {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(long, value_parser = parse_template)]
        template: TemplateName,
        /// Only people with this data category exposed
        #[arg(long, value_name = "C")]
        category: Option<String>,
        /// Only people not yet notified
        #[arg(long)]
        pending: bool,
        /// For stakeholder-brief: an address to send it to (repeat for several)
        #[arg(long = "recipient", value_name = "ADDRESS")]
        recipients: Vec<String>,
        /// Queue a first notice that lacks what the law requires of it (needs --reason;
        /// recorded in the audit log)
        #[arg(long, requires = "reason")]
        allow_incomplete: bool,
        /// Why an incomplete letter is queued anyway
        #[arg(long, value_name = "R", requires = "allow_incomplete")]
        reason: Option<String>,
    },
    /// Send everything queued (for one incident, or all)
    Send {
        #[arg(value_parser = parse_incident)]
        id: Option<IncidentId>,
        /// Messages per second (0 = unlimited) [default: from config]
        #[arg(long, value_name = "N")]
        rate: Option<u32>,
    },
    /// Write an incident's queued letters as .eml files (changes nothing: not a send)
    Export {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// The directory to write into (created 0700 if missing; files are never overwritten)
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Counts per state, and every failure with the server's reply
    Status {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
    /// Read bounces (delivery status notifications) from the bounce mailbox and mark each
    /// matching letter bounced; reading the same messages again changes nothing
    #[command(group(clap::ArgGroup::new("mailbox").required(true).args(["maildir", "mbox"])))]
    Bounces {
        /// Only letters of this incident [default: every incident you may change]
        #[arg(value_parser = parse_incident)]
        id: Option<IncidentId>,
        /// A Maildir (its new/ and cur/), or a directory of message files
        #[arg(long, value_name = "DIR")]
        maildir: Option<PathBuf>,
        /// An mbox file
        #[arg(long, value_name = "FILE")]
        mbox: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Requeue the failed letters of an incident
    Retry {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
    },
    /// Check the connection and login to the configured mail server
    TestSmtp,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Record the deadline alerts now due and deliver what each destination has pending
    /// (for cron, when no daemon runs); exits 1 if a destination failed
    Send,
    /// Where delivery to each destination stands: sent, pending, failing and why
    List {
        /// Only the destinations that are failing
        #[arg(long)]
        failed: bool,
        #[arg(long)]
        json: bool,
    },
    /// Send a test alert to one destination and print what it answered
    Test { name: String },
}
