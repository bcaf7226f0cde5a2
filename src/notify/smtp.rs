//! Getting messages to a mail server: SMTP through lettre's client, or `.eml` files in a
//! directory. Both sit behind [`Transport`].
//!
//! lettre 0.11's `SmtpConnection::message` writes the body and the closing `CRLF.CRLF` as
//! two writes; with Nagle's algorithm on, the second waits for the server's delayed ACK
//! (about 40 ms a message). We send the dot-stuffed body and its terminator as one
//! `SmtpConnection::command`, which is a single write, so no message waits.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use serde::Deserialize;
use thiserror::Error;

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
    pub from: Option<String>,
    pub reply_to: Option<String>,
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
    fn send(&mut self, message: &Outgoing<'_>) -> Result<(), SendError>;
}

/// An SMTP connection to the configured server, opened on first use and reopened after a
/// failure.
pub struct SmtpClient {
    settings: SmtpSettings,
    password: Option<String>,
    conn: Option<SmtpConnection>,
    /// The server offers PIPELINING: MAIL, RCPT and DATA go in one write.
    pipelining: bool,
}

impl SmtpClient {
    pub fn new(settings: &SmtpSettings) -> Result<Self, SmtpError> {
        if settings.username.is_some()
            && settings.password_env.is_none()
            && settings.password_file.is_none()
        {
            return Err(SmtpError::Config(
                "username is set but neither password_env nor password_file".into(),
            ));
        }
        Ok(SmtpClient {
            password: settings.password()?,
            settings: settings.clone(),
            conn: None,
            pipelining: false,
        })
    }

    fn connection(&mut self) -> Result<&mut SmtpConnection, SendError> {
        if self.conn.as_ref().is_some_and(SmtpConnection::has_broken) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let mut conn = self.open()?;
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
        let s = &self.settings;
        let timeout = Some(Duration::from_secs(s.timeout_secs.max(1)));
        let hello = ClientId::default();
        let tls = || {
            TlsParameters::new(s.host.clone())
                .map_err(|e| SendError::Permanent(format!("TLS set-up: {e}")))
        };
        let implicit = if s.tls == TlsMode::Tls {
            Some(tls()?)
        } else {
            None
        };
        let mut conn = SmtpConnection::connect(
            (s.host.as_str(), s.port),
            timeout,
            &hello,
            implicit.as_ref(),
            None,
        )
        .map_err(|e| classify(&e, &format!("connecting to {}:{}", s.host, s.port)))?;
        if s.tls == TlsMode::Starttls {
            if !conn.can_starttls() {
                return Err(SendError::Permanent(format!(
                    "{} does not offer STARTTLS",
                    s.host
                )));
            }
            conn.starttls(&tls()?, &hello)
                .map_err(|e| classify(&e, "STARTTLS"))?;
        }
        if let (Some(user), Some(pass)) = (&s.username, &self.password) {
            let creds = Credentials::new(user.clone(), pass.clone());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)
                .map_err(|e| classify(&e, "login"))?;
        }
        Ok(conn)
    }

    /// Connects, logs in if configured, and says goodbye: for `notify test-smtp`.
    pub fn check(&mut self) -> Result<String, SendError> {
        let conn = self.open()?;
        let info = conn.server_info().to_string();
        let mut conn = conn;
        let _ = conn.quit();
        Ok(info)
    }
}

impl Transport for SmtpClient {
    fn send(&mut self, message: &Outgoing<'_>) -> Result<(), SendError> {
        let pipelining = {
            self.connection()?;
            self.pipelining
        };
        let conn = self.connection()?;
        let mail = Mail::new(Some(message.from.clone()), vec![]);
        let rcpt = Rcpt::new(message.to.clone(), vec![]);
        let result = if pipelining {
            // One write, three replies; every reply is read even after a refusal so the
            // connection stays in step.
            let first = conn.command(Envelope(&mail, &rcpt));
            let second = conn.read_response();
            let third = conn.read_response();
            let refused_before_data = first.is_err() || second.is_err();
            if refused_before_data && third.is_ok() {
                // The server is waiting for a body nobody will send: start afresh.
                conn.abort();
            }
            first
                .and(second)
                .and(third)
                .and_then(|_| conn.command(DataBody(message.data)))
        } else {
            (|| {
                conn.command(mail)?;
                conn.command(rcpt)?;
                conn.command(Data)?;
                conn.command(DataBody(message.data))
            })()
        };
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let failure = classify(&e, "sending");
                if matches!(failure, SendError::Transient(_)) || conn.has_broken() {
                    // A half-finished transaction leaves the connection in an unknown
                    // state: start the next message on a fresh one.
                    conn.abort();
                    self.conn = None;
                } else if conn
                    .command(lettre::transport::smtp::commands::Rset)
                    .is_err()
                {
                    self.conn = None;
                }
                Err(failure)
            }
        }
    }
}

impl Drop for SmtpClient {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            let _ = conn.quit();
        }
    }
}

/// MAIL, RCPT and DATA pipelined into one write.
struct Envelope<'a>(&'a Mail, &'a Rcpt);

impl fmt::Display for Envelope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.0, self.1, Data)
    }
}

/// The message content of a DATA transaction: dot-stuffed, ending in `CRLF.CRLF`, written in
/// one piece.
struct DataBody<'a>(&'a str);

impl fmt::Display for DataBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(self.0.len() + 64);
        for line in self.0.split_inclusive('\n') {
            if line.starts_with('.') {
                out.push('.');
            }
            out.push_str(line);
        }
        if !out.ends_with("\r\n") {
            out.push_str("\r\n");
        }
        out.push_str(".\r\n");
        f.write_str(&out)
    }
}

fn classify(e: &lettre::transport::smtp::Error, doing: &str) -> SendError {
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
    fn data_is_dot_stuffed_and_terminated_once() {
        let body = DataBody("Subject: x\r\n\r\n.hidden\r\nline\r\n").to_string();
        assert_eq!(body, "Subject: x\r\n\r\n..hidden\r\nline\r\n.\r\n");
        assert_eq!(DataBody("no newline").to_string(), "no newline\r\n.\r\n");
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
