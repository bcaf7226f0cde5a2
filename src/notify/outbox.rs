//! The durable outbox: one notification per recipient and template, with its rendered
//! letter, a stable id and Message-ID, and its delivery state.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::template::{Letter, TemplateName};
use crate::domain::{IncidentId, UserName};

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Queued,
    /// Handed to the server; if the sender died here, the next run sends it again with the
    /// same Message-ID.
    Sending,
    Sent,
    Failed,
    /// Accepted by the server, then reported undeliverable (a bounce read back).
    Bounced,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 5] = [
        DeliveryState::Queued,
        DeliveryState::Sending,
        DeliveryState::Sent,
        DeliveryState::Failed,
        DeliveryState::Bounced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::Bounced => "bounced",
        }
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which notification: its incident, template and recipient (an employee id, or
/// `brief:ADDRESS` for a stakeholder brief).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NotificationRef {
    pub incident: IncidentId,
    pub template: TemplateName,
    pub recipient: String,
    /// Where the recipient is on the roster (people never move), so the outbox is kept in
    /// roster order; [`NotificationRef::STAFF`] for letters to staff.
    #[serde(default)]
    pub order: u64,
}

impl NotificationRef {
    /// The order of letters to staff (the stakeholder brief): after everyone on the roster.
    pub const STAFF: u64 = u64::MAX;
}

/// A notification's delivery state, kept apart from its letter so updates stay small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Set when the roster changed the person's address after this letter was sent to it:
    /// the address it went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to_previous: Option<String>,
    /// The bounce that came back for this letter, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounce: Option<crate::domain::Bounce>,
}

impl Delivery {
    pub fn queued(now: DateTime<Utc>) -> Self {
        Delivery {
            state: DeliveryState::Queued,
            attempts: 0,
            last_error: None,
            updated_at: now,
            sent_at: None,
            sent_to_previous: None,
            bounce: None,
        }
    }
}

/// One letter to one recipient, rendered when queued so every attempt sends the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    #[serde(flatten)]
    pub target: NotificationRef,
    pub to: String,
    pub to_name: String,
    pub letter: Letter,
    pub message_id: String,
    pub queued_at: DateTime<Utc>,
    pub queued_by: UserName,
    /// The whole message as it goes on the wire, built when queued so that a send only
    /// reads and writes it (and every attempt sends the same bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Notification {
    /// A notification with an id derived from what it is (so queuing twice finds the same
    /// one) and a Message-ID derived from the id.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: NotificationRef,
        to: String,
        to_name: String,
        letter: Letter,
        domain: &str,
        now: DateTime<Utc>,
        actor: &UserName,
    ) -> Self {
        let id = notification_id(&target);
        Notification {
            message_id: format!("<breachdesk.{id}@{domain}>"),
            id,
            target,
            to,
            to_name,
            letter,
            queued_at: now,
            queued_by: actor.clone(),
            message: None,
        }
    }
}

/// 16 hex digits of SHA-256 over incident, template and recipient.
pub fn notification_id(target: &NotificationRef) -> String {
    let mut h = Sha256::new();
    h.update(target.incident.to_string());
    h.update([0]);
    h.update(target.template.as_str());
    h.update([0]);
    h.update(&target.recipient);
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
