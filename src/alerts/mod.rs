//! Alerts to the on-call team: a pager, a chat channel, a webhook, an email list.
//!
//! Every alert comes from the audit log: the change that causes it (an incident opened, a
//! severity raised, a pause that failed, a send that finished) is recorded with its audit
//! event in the same commit, and the deadline sweep records an event when an obligation
//! comes due within a threshold or goes overdue (`obligation.due-soon`,
//! `obligation.overdue`), once, under the writer lock. Delivery walks the log from each
//! destination's cursor (`src/desk/alerts.rs`): one destination at a time under a lease, in order,
//! retried with backoff, the cursor moved past an alert only once the destination took it.
//!
//! What an alert carries: ids, counts, severity, status, rules, times and the responder who
//! acted; never an affected person's name or address, the incident's title or summary, or
//! evidence.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AuditAction, AuditEvent, Incident, IncidentId, ProgramSlug};

mod http;

pub use http::{Answer, send, send_test};

/// Where one destination's delivery stands, kept in the database (`meta`, per name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    pub name: String,
    /// The last audit event dealt with (sent, or not for this destination).
    pub cursor: u64,
    /// Alerts delivered.
    pub sent: u64,
    /// Failures in a row; the next try waits longer after each.
    pub failures: u32,
    pub next_try: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_sent_at: Option<DateTime<Utc>>,
    /// Who is delivering now, until when: one daemon at a time per destination.
    pub lease: Option<(String, DateTime<Utc>)>,
    /// Alerts waiting for this destination (counted when listed).
    #[serde(default)]
    pub pending: u64,
}

impl AlertState {
    /// Whether the destination is failing: its last try failed.
    pub fn failing(&self) -> bool {
        self.failures > 0
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// Deadline events the sweep recorded.
    pub recorded: u64,
    /// Alerts delivered, by destination.
    pub sent: Vec<(String, u64)>,
    /// Destinations that failed, with what went wrong.
    pub failed: Vec<(String, String)>,
}

/// What to alert on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertEvent {
    IncidentOpened,
    SeverityRaised,
    StatusChanged,
    PauseFailed,
    ProgramResumed,
    DueSoon,
    Overdue,
    /// An obligation met, waived or exempt: resolves its page.
    ObligationSettled,
    SendFinished,
    SendFailed,
    Bounces,
    /// `alerts test NAME`.
    Test,
}

impl AlertEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::IncidentOpened => "incident-opened",
            AlertEvent::SeverityRaised => "severity-raised",
            AlertEvent::StatusChanged => "status-changed",
            AlertEvent::PauseFailed => "pause-failed",
            AlertEvent::ProgramResumed => "program-resumed",
            AlertEvent::DueSoon => "due-soon",
            AlertEvent::Overdue => "overdue",
            AlertEvent::ObligationSettled => "obligation-settled",
            AlertEvent::SendFinished => "send-finished",
            AlertEvent::SendFailed => "send-failed",
            AlertEvent::Bounces => "bounces",
            AlertEvent::Test => "test",
        }
    }
}

/// Where alerts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    /// A documented JSON body, signed with HMAC-SHA256 when a secret is given.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
    /// A Microsoft Teams incoming webhook.
    Teams,
    /// PagerDuty Events API v2.
    Pagerduty,
    /// An email through the configured SMTP relay.
    Email,
}

/// PagerDuty's Events API v2 endpoint.
pub const PAGERDUTY_EVENTS: &str = "https://events.pagerduty.com/v2/enqueue";

/// One `[[alert]]` of the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// Shown in the terminal UI, `alerts list` and the audit trail.
    pub name: String,
    pub kind: DestinationKind,
    /// The endpoint (`https://...`); PagerDuty defaults to the Events API v2.
    #[serde(default)]
    pub url: Option<String>,
    /// Webhook: the environment variable, or the file, holding the signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// PagerDuty: the environment variable, or the file, holding the routing key.
    #[serde(default)]
    pub routing_key_env: Option<String>,
    #[serde(default)]
    pub routing_key_file: Option<PathBuf>,
    /// Email: who gets it.
    #[serde(default)]
    pub to: Vec<String>,
    /// What to send [default: everything].
    #[serde(default)]
    pub events: Vec<AlertEvent>,
    /// Only incidents at this severity or more critical (0 is the most) [default: all].
    #[serde(default)]
    pub max_severity: Option<u8>,
    /// An extra certificate authority to trust (PEM), for an internal endpoint.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl Destination {
    /// Why the destination cannot be used as configured, if it cannot (checked when the
    /// config is read; secrets are read when sending, never logged).
    pub fn problem(&self) -> Option<String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Some(format!(
                "alert name '{}' must be 1-64 letters, digits, '-' or '_'",
                crate::domain::text::for_terminal(&self.name)
            ));
        }
        let url_ok = |u: &Option<String>| {
            u.as_deref()
                .is_some_and(|u| u.starts_with("https://") || u.starts_with("http://"))
        };
        match self.kind {
            DestinationKind::Email if self.to.is_empty() => Some(format!(
                "alert '{}': an email destination needs to = [...]",
                self.name
            )),
            DestinationKind::Email => None,
            DestinationKind::Pagerduty
                if self.routing_key_env.is_none() && self.routing_key_file.is_none() =>
            {
                Some(format!(
                    "alert '{}': PagerDuty needs routing_key_env or routing_key_file (the key never goes in the config)",
                    self.name
                ))
            }
            DestinationKind::Pagerduty if self.url.is_some() && !url_ok(&self.url) => {
                Some(format!(
                    "alert '{}': url must start with https:// or http://",
                    self.name
                ))
            }
            DestinationKind::Pagerduty => None,
            _ if !url_ok(&self.url) => Some(format!(
                "alert '{}': give url = \"https://...\" (the endpoint to post to)",
                self.name
            )),
            _ => None,
        }
    }

    /// Whether this destination wants `alert`.
    pub fn wants(&self, alert: &Alert) -> bool {
        if alert.event == AlertEvent::Test {
            return true;
        }
        let event_ok = self.events.is_empty() || self.events.contains(&alert.event);
        let severity_ok = match (self.max_severity, alert.severity) {
            (Some(max), Some(sev)) => sev <= max,
            _ => true,
        };
        event_ok && severity_ok
    }
}

/// `[alerts]`: when deadlines and bounces become alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// An obligation due within each of these many hours is alerted once per threshold.
    #[serde(default = "AlertSettings::default_due_soon")]
    pub due_soon_hours: Vec<u32>,
    /// Bounces are alerted when more than this share of an incident's letters bounced.
    #[serde(default = "AlertSettings::default_bounce_share")]
    pub bounce_share: f64,
    /// Seconds before a failing destination is tried again, doubling after each failure
    /// (at most five minutes).
    #[serde(default = "AlertSettings::default_retry")]
    pub retry_after_secs: u32,
}

impl AlertSettings {
    fn default_due_soon() -> Vec<u32> {
        vec![24, 4]
    }
    fn default_bounce_share() -> f64 {
        0.05
    }
    fn default_retry() -> u32 {
        30
    }
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            due_soon_hours: Self::default_due_soon(),
            bounce_share: Self::default_bounce_share(),
            retry_after_secs: Self::default_retry(),
        }
    }
}

/// One alert, as every destination's format is built from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The audit event it comes from (0 for a test): with the destination, the delivery id.
    pub seq: u64,
    pub event: AlertEvent,
    pub incident: Option<IncidentId>,
    pub program: Option<ProgramSlug>,
    pub severity: Option<u8>,
    pub status: Option<String>,
    pub rule: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// One line for people: what happened, in ids and counts.
    pub text: String,
    /// Ends the page this alert's key names (PagerDuty `resolve`).
    pub resolve: bool,
}

impl Alert {
    /// The key a pager groups this alert under: the obligation's, else the incident's, else
    /// the programme's.
    pub fn dedup_key(&self) -> String {
        match (&self.incident, &self.rule, &self.program) {
            (Some(id), Some(rule), _) => format!("breachdesk-{id}-{rule}"),
            (Some(id), None, _) => format!("breachdesk-{id}"),
            (None, _, Some(slug)) => format!("breachdesk-program-{slug}"),
            _ => format!("breachdesk-{}", self.seq),
        }
    }
}

/// The numbers in an audit detail such as "12 letters sent, 3 failed (via ...)".
fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// The severity level in a before/after value such as `SEV2`.
fn level(text: Option<&str>) -> Option<u8> {
    text?.trim().strip_prefix("SEV")?.parse().ok()
}

/// The alert an audit event makes, if any. `incident` is the incident it names, as it
/// stands now (for its severity and status).
pub fn alert_for(
    event: &AuditEvent,
    incident: Option<&Incident>,
    settings: &AlertSettings,
) -> Option<Alert> {
    let d = &event.draft;
    let id = d.incident;
    let sev = incident.map(|i| i.severity.level());
    let status = incident.map(|i| i.status.to_string());
    let who = id.map_or_else(String::new, |i| i.to_string());
    let mut alert = Alert {
        seq: event.seq,
        event: AlertEvent::Test,
        incident: id,
        program: d.program.clone(),
        severity: sev,
        status,
        rule: None,
        due_at: None,
        actor: d.actor.to_string(),
        at: d.at,
        text: String::new(),
        resolve: false,
    };
    let sev_text = sev.map_or_else(String::new, |s| format!(" (SEV{s})"));
    let (kind, text) = match d.action {
        AuditAction::IncidentOpened => (
            AlertEvent::IncidentOpened,
            format!("{who} opened{sev_text} by {}", d.actor),
        ),
        AuditAction::SeverityChanged => {
            let (before, after) = (level(d.before.as_deref()), level(d.after.as_deref()));
            match (before, after) {
                (Some(b), Some(a)) if a < b => (
                    AlertEvent::SeverityRaised,
                    format!("{who} raised from SEV{b} to SEV{a} by {}", d.actor),
                ),
                _ => return None,
            }
        }
        AuditAction::StatusChanged => {
            let after = d.after.clone().unwrap_or_default();
            alert.resolve = after == "closed";
            (
                AlertEvent::StatusChanged,
                format!(
                    "{who}{sev_text} moved from {} to {after} by {}",
                    d.before.as_deref().unwrap_or("?"),
                    d.actor
                ),
            )
        }
        AuditAction::PauseFailed => (
            AlertEvent::PauseFailed,
            format!(
                "PAUSE FAILED: programme {} may still be collecting",
                d.program.as_ref().map_or("?", |p| p.as_str())
            ),
        ),
        AuditAction::ProgramResumed => (
            AlertEvent::ProgramResumed,
            format!(
                "programme {} resumed by {}",
                d.program.as_ref().map_or("?", |p| p.as_str()),
                d.actor
            ),
        ),
        AuditAction::ObligationDueSoon | AuditAction::ObligationOverdue => {
            let mut words = d.detail.split_whitespace();
            alert.rule = words.next().map(str::to_owned);
            alert.due_at = d
                .after
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.to_utc());
            let due = alert.due_at.map_or_else(String::new, |t| {
                format!(" at {}", crate::domain::when::rfc3339(t))
            });
            let rule = alert.rule.clone().unwrap_or_default();
            if d.action == AuditAction::ObligationOverdue {
                (
                    AlertEvent::Overdue,
                    format!("{who}{sev_text}: {rule} is OVERDUE (was due{due})"),
                )
            } else {
                (
                    AlertEvent::DueSoon,
                    format!("{who}{sev_text}: {rule} is due{due} ({})", d.detail),
                )
            }
        }
        AuditAction::ObligationDone | AuditAction::ObligationWaived => {
            let rule = d
                .detail
                .split([' ', ':'])
                .next()
                .unwrap_or_default()
                .to_owned();
            alert.rule = Some(rule.clone());
            alert.resolve = true;
            let how = if d.action == AuditAction::ObligationDone {
                "met"
            } else {
                "waived"
            };
            (
                AlertEvent::ObligationSettled,
                format!("{who}: {rule} {how} by {}", d.actor),
            )
        }
        AuditAction::NotificationsSent => {
            let n = numbers(&d.detail);
            let (sent, failed) = (
                n.first().copied().unwrap_or(0),
                n.get(1).copied().unwrap_or(0),
            );
            if failed > 0 || d.detail.contains("interrupted") {
                (
                    AlertEvent::SendFailed,
                    format!("{who}: a send ended with {sent} letters sent and {failed} failed"),
                )
            } else {
                (
                    AlertEvent::SendFinished,
                    format!("{who}: a send finished, {sent} letters sent"),
                )
            }
        }
        AuditAction::NotificationsBounced => {
            let bounced = numbers(&d.detail).first().copied().unwrap_or(0);
            let letters = incident.map_or(0, |i| i.notified) + bounced;
            let share = if letters == 0 {
                0.0
            } else {
                bounced as f64 / letters as f64
            };
            if share <= settings.bounce_share {
                return None;
            }
            (
                AlertEvent::Bounces,
                format!(
                    "{who}: {bounced} letters bounced ({:.0}% of those sent)",
                    share * 100.0
                ),
            )
        }
        _ => return None,
    };
    alert.event = kind;
    alert.text = text;
    Some(alert)
}
