//! What can be typed: the clap definitions of every command and option. Turning these into
//! desk calls is the handlers' job.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::domain::{DataElement, DomainError, IncidentId, ProgramSlug, Severity, Status};
use crate::notify::TemplateName;

pub use super::args_db::DbCommand;
pub use super::args_deadlines::{EvidenceCommand, ObligationCommand, ReportPhase};
pub use super::args_program::ProgramCommand;
pub use super::args_setup::SetupCommand;

/// Incident-response tracker for privacy breaches.
///
/// With no command, opens the terminal UI.
#[derive(Debug, Parser)]
#[command(name = "breachdesk", version, about, propagate_version = true)]
pub struct Cli {
    /// Database directory, or a shared PostgreSQL database (postgres://user@host/db)
    /// [default: `[store] url` in the config, else breachdesk/ under your data directory]
    #[arg(long, global = true, env = "BREACHDESK_DB", value_name = "DIR|URL")]
    pub db: Option<PathBuf>,
    /// Config file [default: breachdesk/config.toml under your config directory]
    #[arg(long, global = true, env = "BREACHDESK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The database key file, created 0600 with a new database; BREACHDESK_KEY (64 hex
    /// digits) takes precedence [default: breachdesk/key under your config directory]
    #[arg(long, global = true, env = "BREACHDESK_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Work through the daemon listening on this socket (team mode) [default: `remote` in
    /// the config, else the local database]
    #[arg(long, global = true, env = "BREACHDESK_REMOTE", value_name = "SOCKET")]
    pub remote: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open, list, show and change incidents
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Import and list the people an incident affects
    #[command(subcommand)]
    People(PeopleCommand),
    /// Register, link, pause and resume data-collection programmes
    #[command(subcommand)]
    Program(ProgramCommand),
    /// Read and verify the tamper-evident audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// List and check the letter templates
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Preview, queue and send letters to affected staff
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Fill an empty database with a realistic demo (a SEV 2 exposure of 2,000 people)
    Demo,
    /// Legal deadlines: every obligation of one incident, or of all unsettled ones
    Deadlines {
        #[arg(value_parser = parse_incident)]
        id: Option<IncidentId>,
        #[arg(long)]
        json: bool,
        /// Only the affected people no rule covers, by location (with --json: a list of
        /// incident, location and people; `deadlines --json` stays a list of obligations)
        #[arg(long)]
        uncovered: bool,
        /// Only the open obligations due within this time (24h, 4h, 2d, 90m), overdue ones
        /// included; exits 4 when there is any, 0 when there is none (for cron)
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "uncovered")]
        due_within: Option<chrono::Duration>,
    },
    /// Record an obligation as done or waived
    #[command(subcommand)]
    Obligation(ObligationCommand),
    /// Import and summarise the exposed store's access log
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// A report of an incident, or a draft notification to a regulator
    Report {
        #[arg(value_parser = parse_incident)]
        id: IncidentId,
        #[arg(long, value_enum, default_value = "md")]
        format: ReportFormat,
        /// Draft the notification a regulator receives instead (gdpr-33; nz-notifyus, ico, hhs
        /// and us-ca-ag as Markdown or JSON)
        #[arg(long, value_name = "RULE")]
        regulator: Option<String>,
        /// Write here (created 0600; must not exist) instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// On-call alerts to the `[[alert]]` destinations (the daemon sends them by itself)
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// The breach register (GDPR Art. 33(5)): every incident, notified or not, with facts,
    /// counts, effects, remedial action and each obligation's decision; no personal data
    Register {
        #[arg(long, value_enum, default_value = "md")]
        format: RegisterFormat,
        /// Only incidents opened since (a date such as 2026-01-01, or an RFC 3339 time)
        #[arg(long, value_name = "DATE", value_parser = parse_since)]
        since: Option<DateTime<Utc>>,
    },
    /// Run the team daemon: own the database and answer on a Unix socket (SIGTERM stops it)
    Serve {
        /// The socket to create (0660 under [daemon] group, else 0600)
        #[arg(long, value_name = "PATH")]
        socket: PathBuf,
    },
    /// The database itself: create PostgreSQL tables, copy between engines
    #[command(subcommand)]
    Db(DbCommand),
    #[command(flatten)]
    Setup(SetupCommand),
}

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

fn parse_template(s: &str) -> Result<TemplateName, crate::notify::TemplateError> {
    s.parse()
}

fn severity_help() -> String {
    Severity::help_text()
}

fn parse_severity(s: &str) -> Result<Severity, DomainError> {
    s.parse()
}

fn parse_status(s: &str) -> Result<Status, DomainError> {
    s.parse()
}

pub(super) fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("'{s}' is not a duration such as 24h, 4h, 2d or 90m: {e}"))?;
    chrono::Duration::from_std(d).map_err(|_| format!("'{s}' is too long"))
}

pub(super) fn parse_element(s: &str) -> Result<DataElement, DomainError> {
    DataElement::parse(s)
}

pub(super) fn parse_incident(s: &str) -> Result<IncidentId, DomainError> {
    s.parse()
}

pub(super) fn parse_slug(s: &str) -> Result<ProgramSlug, DomainError> {
    s.parse()
}

pub use crate::report::register::RegisterFormat;

/// A day (its start, UTC) or an RFC 3339 time.
fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    match chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(day) => {
            let at = day
                .and_hms_opt(0, 0, 0)
                .map_or_else(Utc::now, |t| t.and_utc());
            match crate::domain::when::insane(at, Utc::now()) {
                Some(why) => Err(format!("'{}': {why}", s.trim())),
                None => Ok(at),
            }
        }
        Err(_) => parse_time(s).map_err(|why| {
            if why.contains("is not a time") {
                format!("'{s}' is neither a date such as 2026-01-01 nor an RFC 3339 time")
            } else {
                why
            }
        }),
    }
}

/// A time as `crate::domain::when` reads it (now, -2h, yesterday 14:30, RFC 3339, ...).
pub(super) fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    crate::domain::when::parse_when(s, Utc::now(), &chrono::Local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
