//! Sending one alert to one destination: the body each service expects, over HTTPS with
//! rustls (ureq), or as an email through the configured SMTP relay. Secrets are read from the
//! environment or a file when sending, and never appear in a message or a log.
//!
//! - webhook: `{"event", "incident", "severity", "status", "rule", "due_at", "actor", "at",
//!   "text", "delivery"}`, with `X-Breachdesk-Delivery: <destination>-<seq>` (the same on a
//!   retry: a receiver drops a repeat by it) and, with a secret, `X-Breachdesk-Signature:
//!   sha256=<hex HMAC-SHA256 of the body>`;
//! - Slack and Teams incoming webhooks: `{"text": ...}`;
//! - PagerDuty Events API v2: `routing_key`, `event_action` (`trigger`, or `resolve` when an
//!   obligation is settled or the incident closed), `dedup_key` per incident and per
//!   obligation, `payload` with `summary`, `severity`, `source`, `timestamp` and
//!   `custom_details`.

use std::time::Duration;

use hmac::Mac;
use serde_json::json;

use super::{Alert, AlertEvent, Destination, DestinationKind, PAGERDUTY_EVENTS};
use crate::notify::SmtpSettings;

/// How long a destination has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer's body kept (for `alerts test` and the last error).
const ANSWER: usize = 500;

/// What a destination answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// A secret from the environment variable or the file the config names.
fn secret(
    env: Option<&str>,
    file: Option<&std::path::Path>,
    what: &str,
) -> Result<Option<String>, String> {
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_owned())),
            _ => Err(format!(
                "the {what} is not set: the environment variable {var} is empty or missing"
            )),
        };
    }
    if let Some(path) = file {
        return std::fs::read_to_string(path)
            .map(|v| Some(v.trim().to_owned()))
            .map_err(|e| {
                format!(
                    "the {what} file {} cannot be read: {e}",
                    crate::domain::text::display_path(path)
                )
            });
    }
    Ok(None)
}

/// PagerDuty's severity for an alert.
fn pager_severity(alert: &Alert) -> &'static str {
    match (alert.event, alert.severity) {
        (AlertEvent::Overdue | AlertEvent::PauseFailed, _) => "critical",
        (_, Some(0 | 1)) => "critical",
        (AlertEvent::DueSoon | AlertEvent::SendFailed | AlertEvent::Bounces, _) => "warning",
        (_, Some(2)) => "error",
        (_, Some(3)) => "warning",
        _ => "info",
    }
}

/// The body `dest` expects for `alert`.
fn body(dest: &Destination, alert: &Alert, routing_key: Option<&str>) -> serde_json::Value {
    let text = format!("[breachdesk] {}", alert.text);
    match dest.kind {
        DestinationKind::Slack | DestinationKind::Teams => json!({ "text": text }),
        DestinationKind::Pagerduty => json!({
            "routing_key": routing_key.unwrap_or_default(),
            "event_action": if alert.resolve { "resolve" } else { "trigger" },
            "dedup_key": alert.dedup_key(),
            "payload": {
                "summary": text.chars().take(1024).collect::<String>(),
                "severity": pager_severity(alert),
                "source": "breachdesk",
                "timestamp": crate::domain::when::rfc3339(alert.at),
                "custom_details": {
                    "event": alert.event.as_str(),
                    "incident": alert.incident.map(|i| i.to_string()),
                    "rule": alert.rule,
                    "due_at": alert.due_at.map(crate::domain::when::rfc3339),
                    "status": alert.status,
                },
            },
        }),
        DestinationKind::Webhook | DestinationKind::Email => json!({
            "event": alert.event.as_str(),
            "incident": alert.incident.map(|i| i.to_string()),
            "program": alert.program.as_ref().map(ToString::to_string),
            "severity": alert.severity,
            "status": alert.status,
            "rule": alert.rule,
            "due_at": alert.due_at.map(crate::domain::when::rfc3339),
            "actor": alert.actor,
            "at": crate::domain::when::rfc3339(alert.at),
            "text": alert.text,
            "resolve": alert.resolve,
            "delivery": format!("{}-{}", dest.name, alert.seq),
        }),
    }
}

/// An HTTP client for `dest`: rustls, the web's roots or the destination's own CA.
fn agent(dest: &Destination) -> Result<ureq::Agent, String> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(path) = &dest.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "ca_file {} cannot be read: {e}",
                crate::domain::text::display_path(path)
            )
        })?;
        let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(format!(
                "ca_file {} holds no certificate",
                crate::domain::text::display_path(path)
            ));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build();
    Ok(config.into())
}

/// Sends `alert` to `dest`; a 2xx answer is delivery, anything else an error saying what
/// the destination answered.
pub fn send(dest: &Destination, alert: &Alert, smtp: &SmtpSettings) -> Result<Answer, String> {
    if dest.kind == DestinationKind::Email {
        return email(dest, alert, smtp);
    }
    let routing_key = secret(
        dest.routing_key_env.as_deref(),
        dest.routing_key_file.as_deref(),
        "PagerDuty routing key",
    )?;
    let url = match (&dest.url, dest.kind) {
        (Some(u), _) => u.clone(),
        (None, DestinationKind::Pagerduty) => PAGERDUTY_EVENTS.to_owned(),
        (None, _) => return Err(format!("alert '{}' has no url", dest.name)),
    };
    let bytes = serde_json::to_vec(&body(dest, alert, routing_key.as_deref()))
        .map_err(|e| format!("cannot build the body: {e}"))?;
    let mut request = agent(dest)?
        .post(&url)
        .header("Content-Type", "application/json")
        .header(
            "User-Agent",
            concat!("breachdesk/", env!("CARGO_PKG_VERSION")),
        );
    if dest.kind == DestinationKind::Webhook {
        request = request.header(
            "X-Breachdesk-Delivery",
            &format!("{}-{}", dest.name, alert.seq),
        );
        if let Some(secret) = secret(
            dest.secret_env.as_deref(),
            dest.secret_file.as_deref(),
            "webhook secret",
        )? {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
                .map_err(|_| "the webhook secret cannot key HMAC-SHA256".to_owned())?;
            mac.update(&bytes);
            let hex = crate::remote::protocol::to_hex(&mac.finalize().into_bytes());
            request = request.header("X-Breachdesk-Signature", &format!("sha256={hex}"));
        }
    }
    let mut response = request
        .send(&bytes[..])
        .map_err(|e| format!("{}: {e}", crate::domain::text::for_terminal(&url)))?;
    let status = response.status().as_u16();
    let mut text = String::new();
    {
        use std::io::Read;
        let _ = response
            .body_mut()
            .as_reader()
            .take(ANSWER as u64)
            .read_to_string(&mut text);
    }
    let answer = Answer {
        status,
        body: crate::domain::text::for_terminal(text.trim()).into_owned(),
    };
    if (200..300).contains(&status) {
        Ok(answer)
    } else {
        Err(format!("answered {status}: {}", answer.body))
    }
}

/// The alert as an email to each of `dest.to`, through the relay letters use.
fn email(dest: &Destination, alert: &Alert, smtp: &SmtpSettings) -> Result<Answer, String> {
    use crate::notify::Transport as _;
    let from = smtp
        .from
        .as_deref()
        .ok_or("email alerts need [smtp] from: the sender address")?;
    let mailbox: lettre::message::Mailbox = from
        .parse()
        .map_err(|_| format!("[smtp] from '{from}' is not an address"))?;
    let from = mailbox.email.clone();
    // The subject is built from ids and counts; a line break would end the header.
    let subject: String = format!("[breachdesk] {}", alert.text)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let body = serde_json::to_string_pretty(&body(dest, alert, None))
        .map_err(|e| format!("cannot build the body: {e}"))?;
    let mut client = crate::notify::SmtpClient::new(smtp).map_err(|e| e.to_string())?;
    for to in &dest.to {
        let to_addr: lettre::Address = to
            .parse()
            .map_err(|_| format!("alert '{}': '{to}' is not an address", dest.name))?;
        let id = format!("alert-{}-{}", dest.name, alert.seq);
        let data = format!(
            "From: {from}\r\nTo: {to_addr}\r\nSubject: {subject}\r\nMessage-ID: <{id}@breachdesk>\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n\r\n{}\r\n",
            alert.text,
            body.replace('\n', "\r\n")
        );
        client
            .send(
                &crate::notify::Outgoing {
                    id: &id,
                    from: &from,
                    to: &to_addr,
                    data: &data,
                },
                None,
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(Answer {
        status: 250,
        body: format!("accepted for {}", dest.to.join(", ")),
    })
}

/// `alerts test NAME`: a test alert, and what the destination answered.
pub fn send_test(dest: &Destination, smtp: &SmtpSettings, actor: &str) -> Result<Answer, String> {
    let alert = Alert {
        seq: 0,
        event: AlertEvent::Test,
        incident: None,
        program: None,
        severity: None,
        status: None,
        rule: None,
        due_at: None,
        actor: actor.to_owned(),
        at: chrono::Utc::now(),
        text: format!(
            "test alert to '{}': breachdesk can reach this destination",
            dest.name
        ),
        resolve: false,
    };
    send(dest, &alert, smtp)
}
