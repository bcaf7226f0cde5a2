//! Getting messages to a mail server: SMTP through lettre's client, or `.eml` files in a
//! directory. Both sit behind [`Transport`].
//!
//! lettre 0.11's `SmtpConnection::message` writes the body and the closing `CRLF.CRLF` as
//! two writes; with Nagle's algorithm on, the second waits for the server's delayed ACK
//! (about 40 ms a message). We send the dot-stuffed body and its terminator as one
//! `SmtpConnection::command`, which is a single write, so no message waits.
//!
//! What a TLS connection trusts, and how a refused certificate is worded, is `tls.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::SmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use serde::Deserialize;
use thiserror::Error;

use super::smtp_send::Ahead;
use super::tls::{self, Trust};
use crate::domain::text::display_path;

/// How to reach the mail server: `[smtp]` in config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    #[serde(default = "SmtpSettings::default_host")]
    pub host: String,
    #[serde(default = "SmtpSettings::default_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: TlsMode,
    pub username: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// A file holding the password (first line).
    pub password_file: Option<PathBuf>,
    /// Extra certificate authorities to trust (PEM, one or more certificates), beside the
    /// bundled roots and the operating system's store: a company's internal CA.
    pub ca_file: Option<PathBuf>,
    pub from: Option<String>,
    pub reply_to: Option<String>,
    /// Where bounces go: each letter's envelope sender becomes `LOCAL+TOKEN@DOMAIN` (VERP),
    /// so that `notify bounces` can tell which letter a bounce is about.
    pub bounce_address: Option<String>,
    /// Messages per second; 0 is unlimited.
    #[serde(default)]
    pub rate: u32,
    #[serde(default = "SmtpSettings::default_connections")]
    pub connections: u32,
    #[serde(default = "SmtpSettings::default_timeout")]
    pub timeout_secs: u64,
    /// Tries per message before a temporary failure becomes final.
    #[serde(default = "SmtpSettings::default_attempts")]
    pub max_attempts: u32,
    /// The first retry waits this long; each further one twice as long (at most a minute).
    #[serde(default = "SmtpSettings::default_retry_ms")]
    pub retry_base_ms: u64,
}

/// Transport security.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    #[default]
    None,
    Starttls,
    Tls,
}

impl SmtpSettings {
    fn default_host() -> String {
        "127.0.0.1".into()
    }
    fn default_port() -> u16 {
        25
    }
    fn default_connections() -> u32 {
        8
    }
    fn default_timeout() -> u64 {
        30
    }
    fn default_attempts() -> u32 {
        5
    }
    fn default_retry_ms() -> u64 {
        1000
    }

    /// The password, from the environment variable or file named in config.
    pub fn password(&self) -> Result<Option<String>, SmtpError> {
        if let Some(var) = &self.password_env {
            return std::env::var(var).map(Some).map_err(|_| {
                SmtpError::Config(format!("password_env names {var}, which is not set"))
            });
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                SmtpError::Config(format!(
                    "cannot read password_file {}: {e}",
                    display_path(path)
                ))
            })?;
            return Ok(Some(text.lines().next().unwrap_or("").to_owned()));
        }
        Ok(None)
    }
}

impl Default for SmtpSettings {
    #[allow(clippy::expect_used, reason = "every [smtp] setting has a default")]
    fn default() -> Self {
        toml::from_str("").expect("every [smtp] setting has a default")
    }
}

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendError {
    /// Worth trying again: 4xx replies, dropped connections, time-outs.
    #[error("{0}")]
    Transient(String),
    /// The server refused for good: 5xx replies.
    #[error("{0}")]
    Permanent(String),
    /// Not attempted: the sender is stopping; the letter stays queued.
    #[error("not sent: the sender is stopping")]
    Parked,
}

/// A configuration problem with the transport.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmtpError {
    #[error("smtp config: {0}")]
    Config(String),
}

/// One message ready to go: envelope addresses and the formatted message (CRLF lines).
pub struct Outgoing<'a> {
    pub id: &'a str,
    pub from: &'a Address,
    pub to: &'a Address,
    pub data: &'a str,
}

/// Something that delivers messages, one connection's worth.
pub trait Transport: Send {
    /// Sends `message`. `next` is the letter the caller will send after it, if it holds one
    /// already: a transport may prepare it (see `smtp_send.rs`), never deliver it.
    fn send(
        &mut self,
        message: &Outgoing<'_>,
        next: Option<&Outgoing<'_>>,
    ) -> Result<(), SendError>;
}

/// The mail server as configured, resolved once: the settings, the password, and the TLS
/// trust (reading the system's roots takes a while, so every connection of a send shares
/// one).
#[derive(Clone)]
pub struct SmtpTarget {
    settings: Arc<SmtpSettings>,
    password: Option<Arc<str>>,
    trust: Option<Trust>,
}

/// Whether `host` names this machine (where a password in the clear crosses no network).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpTarget {
    /// Checks the settings, reads the password and builds the TLS trust.
    pub fn new(settings: &SmtpSettings) -> Result<Self, SmtpError> {
        if settings.username.is_some()
            && settings.password_env.is_none()
            && settings.password_file.is_none()
        {
            return Err(SmtpError::Config(
                "username is set but neither password_env nor password_file".into(),
            ));
        }
        if settings.tls == TlsMode::None {
            if settings.ca_file.is_some() {
                return Err(SmtpError::Config(
                    "ca_file is set but tls = \"none\": nothing would check the server's certificate; set tls = \"starttls\" or \"tls\", or remove ca_file".into(),
                ));
            }
            if settings.username.is_some() && !is_loopback(&settings.host) {
                return Err(SmtpError::Config(format!(
                    "username is set but tls = \"none\": the password would cross the network to {} in the clear; set tls = \"starttls\" or \"tls\"",
                    settings.host
                )));
            }
        }
        let trust = match settings.tls {
            TlsMode::None => None,
            TlsMode::Starttls | TlsMode::Tls => {
                Some(Trust::load(&settings.host, settings.ca_file.as_deref())?)
            }
        };
        Ok(SmtpTarget {
            password: settings.password()?.map(Arc::from),
            settings: Arc::new(settings.clone()),
            trust,
        })
    }

    /// A client for one connection to this server (connected on first use).
    pub fn client(&self) -> SmtpClient {
        SmtpClient {
            target: self.clone(),
            conn: None,
            pipelining: false,
            ahead: None,
            refused: None,
        }
    }

    /// Where the roots come from, for `notify test-smtp`.
    fn trust_summary(&self) -> String {
        let Some(trust) = &self.trust else {
            return "no TLS (tls = \"none\")".to_owned();
        };
        let mode = match self.settings.tls {
            TlsMode::Tls => "implicit TLS",
            _ => "STARTTLS",
        };
        let ca_file = match &self.settings.ca_file {
            Some(path) => format!(
                ", {} from ca_file {}",
                trust.ca_file_roots,
                display_path(path)
            ),
            None => String::new(),
        };
        format!(
            "{mode}, certificate checked against the bundled roots, {} from the system store{ca_file}",
            trust.system_roots
        )
    }

    /// `text` with the password blotted out, in case a server echoes it back.
    fn redact(&self, text: String) -> String {
        match &self.password {
            Some(p) if !p.is_empty() && text.contains(&**p) => text.replace(&**p, "(password)"),
            _ => text,
        }
    }
}

/// An SMTP connection to the configured server, opened on first use and reopened after a
/// failure.
pub struct SmtpClient {
    target: SmtpTarget,
    pub(super) conn: Option<SmtpConnection>,
    /// The server offers PIPELINING: MAIL, RCPT and DATA go in one write.
    pub(super) pipelining: bool,
    /// The next letter's transaction, opened in the same write as this one's body.
    pub(super) ahead: Option<Ahead>,
    /// The handshake or login was refused for good: later letters on this client fail with
    /// the same reason instead of trying again for each one.
    refused: Option<SendError>,
}

impl SmtpClient {
    pub fn new(settings: &SmtpSettings) -> Result<Self, SmtpError> {
        Ok(SmtpTarget::new(settings)?.client())
    }

    pub(super) fn connection(&mut self) -> Result<&mut SmtpConnection, SendError> {
        if let Some(refused) = &self.refused {
            return Err(refused.clone());
        }
        if self.conn.as_ref().is_some_and(SmtpConnection::has_broken) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let mut conn = match self.open() {
                Ok(conn) => conn,
                Err(e) => {
                    if matches!(e, SendError::Permanent(_)) {
                        self.refused = Some(e.clone());
                    }
                    return Err(e);
                }
            };
            // lettre's ServerInfo does not record PIPELINING, so ask again and read the
            // reply's lines ourselves.
            self.pipelining = conn
                .command(lettre::transport::smtp::commands::Ehlo::new(
                    ClientId::default(),
                ))
                .map(|r| {
                    r.message()
                        .any(|line| line.trim().eq_ignore_ascii_case("PIPELINING"))
                })
                .unwrap_or(false);
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| SendError::Transient("no connection".into()))
    }

    fn open(&self) -> Result<SmtpConnection, SendError> {
        let target = &self.target;
        let s = &*target.settings;
        let timeout = Some(Duration::from_secs(s.timeout_secs.max(1)));
        let hello = ClientId::default();
        let tls = target.trust.as_ref().map(|t| &t.parameters);
        let implicit = if s.tls == TlsMode::Tls { tls } else { None };
        let mut conn =
            SmtpConnection::connect((s.host.as_str(), s.port), timeout, &hello, implicit, None)
                .map_err(|e| {
                    self.handshake_failure(&e, &format!("connecting to {}:{}", s.host, s.port))
                })?;
        if let (TlsMode::Starttls, Some(tls)) = (s.tls, tls) {
            if !conn.can_starttls() {
                return Err(SendError::Permanent(format!(
                    "{} does not offer STARTTLS: set `tls = \"tls\"` under [smtp] if it speaks \
                     TLS at once on port {}",
                    s.host, s.port
                )));
            }
            conn.starttls(tls, &hello).map_err(|e| {
                self.handshake_failure(&e, &format!("STARTTLS with {}:{}", s.host, s.port))
            })?;
        }
        if let (Some(user), Some(pass)) = (&s.username, &target.password) {
            let creds = Credentials::new(user.clone(), pass.to_string());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)
                .map_err(|e| self.login_failure(&e, user))?;
        }
        Ok(conn)
    }

    /// A failed connect or STARTTLS: a refused certificate is permanent and says which
    /// setting fixes it; anything else is classified as usual.
    fn handshake_failure(&self, e: &lettre::transport::smtp::Error, doing: &str) -> SendError {
        match tls::explain(e, &self.target.settings.host) {
            Some(why) => SendError::Permanent(format!("{doing}: {why}")),
            None => classify(e, doing),
        }
    }

    /// A refused login is permanent and names the settings involved, never the password.
    fn login_failure(&self, e: &lettre::transport::smtp::Error, user: &str) -> SendError {
        let text = if e.is_permanent() {
            format!(
                "the server refused the login as `{user}` ({e}): check `username` and the \
                 password named by `password_env` or `password_file` under [smtp]"
            )
        } else if e.is_client() {
            format!(
                "cannot log in as `{user}`: {e} (breachdesk speaks AUTH PLAIN and LOGIN; many \
                 servers offer them only over TLS: set `tls` under [smtp])"
            )
        } else {
            return SendError::Transient(self.target.redact(format!("login as `{user}`: {e}")));
        };
        SendError::Permanent(self.target.redact(text))
    }

    /// Connects, logs in if configured, and says goodbye: for `notify test-smtp`.
    pub fn check(&mut self) -> Result<String, SendError> {
        let mut conn = self.open()?;
        let s = &self.target.settings;
        let login = match &s.username {
            Some(user) => format!("logged in as {user}"),
            None => "no login (no username set)".to_owned(),
        };
        let info = format!(
            "{}:{} ({}); {}; {login}",
            s.host,
            s.port,
            describe_server(conn.server_info()),
            self.target.trust_summary()
        );
        let _ = conn.quit();
        Ok(info)
    }
}

/// The server's name and what it offers, in the words of its EHLO reply (lettre's own
/// `Display` prints a Rust debug set).
fn describe_server(info: &lettre::transport::smtp::extension::ServerInfo) -> String {
    use lettre::transport::smtp::authentication::Mechanism;
    use lettre::transport::smtp::extension::Extension;
    let mut offers: Vec<&str> = [
        (Extension::StartTls, "STARTTLS"),
        (Extension::EightBitMime, "8BITMIME"),
        (Extension::SmtpUtfEight, "SMTPUTF8"),
    ]
    .into_iter()
    .filter(|(e, _)| info.supports_feature(*e))
    .map(|(_, name)| name)
    .collect();
    let auth: Vec<&str> = [
        (Mechanism::Plain, "PLAIN"),
        (Mechanism::Login, "LOGIN"),
        (Mechanism::Xoauth2, "XOAUTH2"),
    ]
    .into_iter()
    .filter(|(m, _)| info.supports_auth_mechanism(*m))
    .map(|(_, name)| name)
    .collect();
    let auth = format!("AUTH {}", auth.join(" "));
    if auth != "AUTH " {
        offers.push(&auth);
    }
    let name = crate::domain::text::for_terminal(info.name()).into_owned();
    if offers.is_empty() {
        format!("{name}, offering nothing beyond plain SMTP")
    } else {
        format!("{name}, offering {}", offers.join(", "))
    }
}

impl Drop for SmtpClient {
    fn drop(&mut self) {
        self.close();
    }
}

pub(super) fn classify(e: &lettre::transport::smtp::Error, doing: &str) -> SendError {
    let text = format!("{doing}: {e}");
    if e.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_goes_in_the_clear_beyond_this_machine() {
        let with = |host: &str, extra: &str| {
            let text = format!(
                "host = \"{host}\"\nusername = \"mailer\"\npassword_env = \"BREACHDESK_TEST_NO_SUCH_VAR\"\n{extra}"
            );
            let settings: SmtpSettings = toml::from_str(&text).unwrap();
            SmtpTarget::new(&settings).err().map(|e| e.to_string())
        };
        let remote = with("relay.corp.example", "").unwrap_or_default();
        assert!(remote.contains("in the clear"), "{remote}");
        // On loopback the check passes (and the missing variable is the next complaint).
        let local = with("127.0.0.1", "").unwrap_or_default();
        assert!(!local.contains("in the clear"), "{local}");
        let ca = with("127.0.0.1", "ca_file = \"ca.pem\"\n").unwrap_or_default();
        assert!(ca.contains("ca_file is set but tls"), "{ca}");
        assert!(is_loopback("::1") && is_loopback("[::1]") && is_loopback("localhost"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[test]
    fn settings_have_defaults() {
        let s = SmtpSettings::default();
        assert_eq!(
            (s.host.as_str(), s.port, s.connections),
            ("127.0.0.1", 25, 8)
        );
        assert_eq!(s.tls, TlsMode::None);
    }
}
