//! What can be typed to set breachdesk up: `init`, `completions` and `man`. None of them
//! opens the database.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Write an annotated config (contact, mail server, access) from a few questions or
    /// from flags, test the mail server, and say what is still missing
    Init(Box<InitArgs>),
    /// Print a completion script for a shell (see the README for where it goes)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page, or write one page per command into --dir
    Man {
        /// Write breachdesk.1, breachdesk-incident.1, ... here (created if missing); pages
        /// already there are refused unless --force
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// With --dir: replace pages already there (regular files only; a link is refused)
        #[arg(long, requires = "dir")]
        force: bool,
    },
}

/// How letters reach the mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitTls {
    /// STARTTLS on the submission port (587)
    Starttls,
    /// TLS from the first byte (465)
    Tls,
    /// Plain SMTP: only for a relay on this machine or a test server
    None,
}

impl InitTls {
    pub fn as_str(self) -> &'static str {
        match self {
            InitTls::Starttls => "starttls",
            InitTls::Tls => "tls",
            InitTls::None => "none",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            InitTls::Starttls => 587,
            InitTls::Tls => 465,
            InitTls::None => 25,
        }
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Take every answer from the flags; ask nothing
    #[arg(long)]
    pub non_interactive: bool,
    /// Replace an existing config file
    #[arg(long)]
    pub force: bool,
    /// Do not try the mail server
    #[arg(long)]
    pub no_test: bool,
    /// Who letters say they come from, e.g. "Example Corp Privacy Team"
    #[arg(long, value_name = "NAME")]
    pub contact_name: Option<String>,
    /// Where people write with questions
    #[arg(long, value_name = "ADDRESS")]
    pub contact_email: Option<String>,
    /// The data protection officer, as letters name them (GDPR Art. 34)
    #[arg(long, value_name = "TEXT")]
    pub dpo: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub phone: Option<String>,
    /// A toll-free number (HIPAA letters)
    #[arg(long, value_name = "NUMBER")]
    pub toll_free: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub postal_address: Option<String>,
    #[arg(long, value_name = "URL")]
    pub web: Option<String>,
    /// The mail server (the company relay)
    #[arg(long, value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// [default: 587 with starttls, 465 with tls, 25 with none]
    #[arg(long, value_name = "PORT")]
    pub smtp_port: Option<u16>,
    #[arg(long, value_enum)]
    pub tls: Option<InitTls>,
    /// The letters' sender, e.g. "Privacy Team <privacy@corp.example>" [default: the contact]
    #[arg(long, value_name = "MAILBOX")]
    pub from: Option<String>,
    /// Log in to the mail server as this user
    #[arg(long, value_name = "USER")]
    pub smtp_user: Option<String>,
    /// The environment variable holding the mail server's password [default: SMTP_PASSWORD
    /// with --smtp-user]
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Operating-system users who administer breachdesk [default: you]
    #[arg(long = "admin", value_name = "USER")]
    pub admins: Vec<String>,
    /// Responders (may open and work incidents)
    #[arg(long = "responder", value_name = "USER")]
    pub responders: Vec<String>,
}
