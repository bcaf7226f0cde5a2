//! What can be typed about incidents: `incident open`, its fields, members, clocks,
//! reports and the rest of `incident ...`.

use super::*;

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Open a new incident and print its id
    Open(OpenArgs),
    /// List incidents, most severe first, then newest
    List {
        /// Only incidents with this status
        #[arg(long, value_parser = parse_status)]
        status: Option<Status>,
        /// Only incidents at this severity or more critical (0 = most critical)
        #[arg(long, value_name = "N", value_parser = parse_severity, long_help = severity_help())]
        max_severity: Option<Severity>,
        #[arg(long)]
        json: bool,
    },
    /// Show an incident with its timeline
    Show {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// Also list the affected people (personal data: checked and logged)
        #[arg(long)]
        people: bool,
        #[arg(long)]
        json: bool,
    },
    /// Record a harm assessment with the ENISA methodology: severity = DPC x EI + CB
    /// (below 2 low, from 2 medium, from 3 high, from 4 very high; GDPR Art. 34 applies
    /// from high)
    Assess {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// Data processing context: 1 simple, 2 behavioural, 3 financial, 4 sensitive
        /// (after any adjustment for the context)
        #[arg(long, value_name = "N")]
        dpc: u8,
        /// Why that DPC (for an adjusted one)
        #[arg(long, value_name = "R")]
        dpc_reason: Option<String>,
        /// Ease of identification: 0.25, 0.5, 0.75 or 1
        #[arg(long, value_name = "X")]
        ei: String,
        /// Loss of confidentiality: 0, 0.25 or 0.5
        #[arg(long, value_name = "X")]
        cb_confidentiality: String,
        /// Loss of integrity: 0, 0.25 or 0.5
        #[arg(long, value_name = "X")]
        cb_integrity: String,
        /// Loss of availability: 0, 0.25 or 0.5
        #[arg(long, value_name = "X")]
        cb_availability: String,
        /// Malicious intent: 0 or 0.5
        #[arg(long, value_name = "X")]
        cb_malicious: String,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Confirm or rule out a statutory data element the exposed categories may contain
    /// (keystrokes may hold typed passwords): the rules limited to it stop being `possible`.
    /// Without --confirm or --rule-out, lists each element's state
    Elements {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// The element was exposed (government-id, financial-account, payment-card,
        /// credentials, health, ...)
        #[arg(long, value_name = "ELEMENT", value_parser = parse_element, conflicts_with = "rule_out")]
        confirm: Option<DataElement>,
        /// The element was not exposed (needs --reason)
        #[arg(long, value_name = "ELEMENT", value_parser = parse_element, requires = "reason")]
        rule_out: Option<DataElement>,
        /// Why (recorded in the timeline)
        #[arg(long, value_name = "R", default_value = "")]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Record New Zealand's serious-harm test (Privacy Act 2020 s112-113): whether the
    /// breach is notifiable, with how each s113 factor was considered
    SeriousHarm {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// Serious harm is likely: a notifiable privacy breach
        #[arg(
            long,
            conflicts_with = "unlikely",
            required_unless_present = "unlikely"
        )]
        likely: bool,
        /// Serious harm is not likely: not notifiable
        #[arg(long)]
        unlikely: bool,
        /// s113(a): action taken to reduce the risk of harm
        #[arg(long, value_name = "T")]
        mitigation: String,
        /// s113(b): whether the information is sensitive
        #[arg(long, value_name = "T")]
        sensitivity: String,
        /// s113(c): the nature of the harm that may be caused
        #[arg(long, value_name = "T")]
        harm: String,
        /// s113(d): who has obtained or may obtain the information
        #[arg(long, value_name = "T")]
        recipients: String,
        /// s113(e): whether a security measure protects it
        #[arg(long, value_name = "T")]
        security: String,
        /// s113(f): any other relevant matters
        #[arg(long, value_name = "T", default_value = "")]
        other: String,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: String,
    },
    /// Destroy a closed incident's personal data (roster, letters, evidence) for good,
    /// keeping counts, obligations and the audit trail (admins)
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "due"])))]
    Purge {
        #[arg(value_parser = parse_incident)]
        id: Option<IncidentId>,
        /// Every incident closed longer than `[retention] days_after_close`
        #[arg(long, conflicts_with = "reason")]
        due: bool,
        /// With --due: only list them
        #[arg(long, requires = "due")]
        dry_run: bool,
        /// Why (recorded in the timeline); required with an ID
        #[arg(long, required_unless_present = "due")]
        reason: Option<String>,
    },
    /// Change when the organisation became aware, or determined the breach (legal clocks)
    Clock {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        aware: Option<DateTime<Utc>>,
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        determined: Option<DateTime<Utc>>,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: String,
    },
    /// Set the exposure window access logs are held against: when the data became exposed
    /// and (once it was closed) when that ended; recorded, and the evidence finding follows
    Exposure {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// When the data became exposed, RFC 3339
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        from: DateTime<Utc>,
        /// When the exposure ended, RFC 3339 [default: still exposed]
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        until: Option<DateTime<Utc>>,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: String,
    },
    /// List an incident's members, or add or remove one (owner or admin; recorded)
    Members {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(value_enum, requires = "user")]
        change: Option<MemberChange>,
        user: Option<String>,
    },
    /// Rewrite an incident's title or summary as the facts become clearer
    Describe {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        /// The new title (one line, up to 200 characters)
        #[arg(long)]
        title: Option<String>,
        /// The new summary
        #[arg(long)]
        summary: Option<String>,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: String,
    },
    /// Change an incident's severity
    Severity {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(value_name = "N", value_parser = parse_severity, allow_hyphen_values = true, long_help = severity_help())]
        severity: Severity,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: String,
    },
    /// Move an incident through its lifecycle: open, investigating, contained, resolved, closed
    Status {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(value_parser = parse_status)]
        status: Status,
        /// Why (recorded in the timeline)
        #[arg(long)]
        reason: Option<String>,
        /// Close although legal obligations are still open (needs --reason; they stay on
        /// the board and in `deadlines` until met, waived or exempt)
        #[arg(long, requires = "reason")]
        with_open_obligations: bool,
    },
    /// Add a note to an incident's timeline
    Note {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        text: String,
    },
    /// Make a user the incident's owner
    Assign {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        user: String,
    },
}

pub use crate::report::render::ReportFormat;

/// Adding or removing an incident member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MemberChange {
    Add,
    Remove,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// One line saying what happened
    #[arg(long)]
    pub title: String,
    #[arg(long, value_name = "N", value_parser = parse_severity, allow_hyphen_values = true, long_help = severity_help())]
    pub severity: Severity,
    /// What is known so far
    #[arg(long, default_value = "")]
    pub summary: String,
    /// A data category exposed (repeat for several)
    #[arg(long = "category", value_name = "C")]
    pub categories: Vec<String>,
    /// A programme involved (repeat for several)
    #[arg(long = "program", value_name = "SLUG", value_parser = parse_slug)]
    pub programs: Vec<ProgramSlug>,
    /// When the breach was discovered, RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub discovered: Option<DateTime<Utc>>,
    /// When the organisation became aware of it, RFC 3339; most legal clocks start here
    /// [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub aware: Option<DateTime<Utc>>,
    /// When the data became exposed, RFC 3339: access logs are held against the window
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub exposed_from: Option<DateTime<Utc>>,
    /// When the exposure ended, RFC 3339 [default: still exposed]
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "exposed_from")]
    pub exposed_until: Option<DateTime<Utc>>,
}
