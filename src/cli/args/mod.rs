//! What can be typed: the clap definitions of every command and option, one file a group of
//! commands. Turning these into desk calls is the handlers' job.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::domain::{DataElement, DomainError, IncidentId, ProgramSlug, Severity, Status};
use crate::notify::TemplateName;

mod audit;
mod db;
mod evidence;
mod incident;
mod notify;
mod obligation;
mod people;
mod program;
mod setup;

pub use audit::{AuditCommand, WitnessCommand};
pub use db::DbCommand;
pub use evidence::EvidenceCommand;
pub use incident::{IncidentCommand, MemberChange, OpenArgs, ReportFormat};
pub use notify::{AlertsCommand, NotifyCommand, TemplateCommand};
pub use obligation::{ObligationCommand, ReportPhase};
pub use people::PeopleCommand;
pub use program::ProgramCommand;
pub use setup::{InitArgs, InitTls, SetupCommand};

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
