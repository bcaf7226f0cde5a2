//! The outbox as the store keeps it: letters and their delivery states under keys that hold
//! the recipient only as a keyed hash, the send leases in `meta`, and the send journal's
//! handle (the journal file itself is `journal.rs`), including applying what a dead sender
//! left in it when the database is opened. The desk decides what to send; this file only
//! reads and writes.

use serde::Serialize;

use super::codec::{decode, decode_u64, encode, incident_key};
use super::{KEY_SEND_LEASES, Store, StoreError, Tree, journal};
use crate::domain::IncidentId;
use crate::notify::{Delivery, DeliveryState, Notification, NotificationRef, TemplateName};

/// A handle on the send journal that sending threads can own.
#[derive(Clone)]
pub struct SendJournal {
    journal: std::sync::Arc<journal::Journal>,
    blind: [u8; 32],
}

impl SendJournal {
    /// Notes that the server accepted the letter at `target`, now: in the file at once,
    /// in a shared engine's table when the returned note has been waited for.
    pub fn note(&self, target: &NotificationRef) -> Result<super::Deferred, StoreError> {
        self.journal
            .append_deferred(&[outbox_key(&self.blind, target)], chrono::Utc::now())
    }
}

/// The outbox key of a notification: its incident, template and roster position in the
/// clear (for scans in roster order), its recipient as a keyed hash.
pub(super) fn outbox_key(blind: &[u8; 32], target: &NotificationRef) -> Vec<u8> {
    use sha2::Digest as _;
    let mut key = incident_key(target.incident).to_vec();
    key.extend_from_slice(target.template.as_str().as_bytes());
    key.push(0);
    key.extend_from_slice(&target.order.to_be_bytes());
    let mut h = sha2::Sha256::new();
    h.update(blind);
    h.update(target.recipient.as_bytes());
    key.extend_from_slice(&h.finalize()[..16]);
    key
}

/// The bounce token of an outbox key (see [`Store::bounce_token`]).
#[allow(clippy::expect_used, reason = "HMAC accepts a key of any length")]
fn token_of(blind: &[u8; 32], key: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(blind)
        .expect("HMAC takes a key of any length");
    mac.update(b"breachdesk bounce token\0");
    mac.update(key);
    mac.finalize().into_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The outbox keys of one incident and template's letters (see [`Store::queued_letters`]).
pub struct QueuedLetters {
    keys: std::collections::HashSet<Vec<u8>>,
}

/// A delivery state as stored: with its recipient, which the key only holds blinded.
#[derive(Serialize, serde::Deserialize)]
pub(super) struct StoredDelivery {
    pub(super) recipient: String,
    #[serde(flatten)]
    pub(super) delivery: Delivery,
}

impl Store {
    /// The outbox key of a notification: its incident, template and roster position in the
    /// clear (for scans in roster order), its recipient as a keyed hash.
    pub(super) fn outbox_key(&self, target: &NotificationRef) -> Vec<u8> {
        outbox_key(&self.blind, target)
    }

    pub(super) fn seal_delivery(
        &self,
        key: &[u8],
        target: &NotificationRef,
        delivery: &Delivery,
    ) -> Result<Vec<u8>, StoreError> {
        self.seal(
            "outbox_state",
            key,
            &StoredDelivery {
                recipient: target.recipient.clone(),
                delivery: delivery.clone(),
            },
        )
    }

    /// Where alert delivery to the destination `name` stands, if it has started.
    pub fn alert_state(&self, name: &str) -> Result<Option<crate::alerts::AlertState>, StoreError> {
        let key = format!("alert/{name}");
        match self.engine.get(Tree::Meta, key.as_bytes())? {
            Some(raw) => decode(&raw, "alert state").map(Some),
            None => Ok(None),
        }
    }

    /// Keeps where alert delivery stands (under the desk's write lock).
    pub fn put_alert_state(&self, state: &crate::alerts::AlertState) -> Result<(), StoreError> {
        let key = format!("alert/{}", state.name);
        self.engine
            .put(Tree::Meta, key.as_bytes(), &encode(state)?)?;
        self.engine.flush()
    }

    /// The send leases held now (see [`crate::notify::SendLease`]).
    pub fn send_leases(&self) -> Result<Vec<crate::notify::SendLease>, StoreError> {
        match self.engine.get(Tree::Meta, KEY_SEND_LEASES)? {
            Some(raw) => decode(&raw, "send leases"),
            None => Ok(Vec::new()),
        }
    }

    /// Replaces the send leases, on disk before it returns. The desk calls it under its
    /// write lock, so a read and this write cannot interleave with another's.
    pub fn put_send_leases(&self, leases: &[crate::notify::SendLease]) -> Result<(), StoreError> {
        self.engine
            .put(Tree::Meta, KEY_SEND_LEASES, &encode(&leases)?)?;
        self.engine.flush()?;
        Ok(())
    }

    /// Where a sender's workers note each letter the server accepted: one write each, which
    /// outlives the sender's death (see `journal.rs`).
    pub fn send_journal(&self) -> SendJournal {
        SendJournal {
            journal: std::sync::Arc::clone(&self.journal),
            blind: self.blind,
        }
    }

    /// Forgets what a send over `scope` noted in the journal; only after a commit that
    /// records every letter it noted.
    pub fn clear_journal(&self, scope: Option<IncidentId>) -> Result<(), StoreError> {
        let prefix = scope.map(incident_key);
        self.journal
            .forget_prefix(prefix.as_ref().map(|p| p.as_slice()))
    }

    /// Applies what a sender that died, or failed to record its outcomes (a database that
    /// went away mid-send), left in the journal: each letter noted there was accepted by
    /// the mail server, so it is sent. Returns how many states changed.
    pub fn settle_journal(&self) -> Result<usize, StoreError> {
        let entries = self.journal.entries()?;
        let mut settled = Vec::new();
        for (key, at) in entries.iter().cloned() {
            let Some(stored) = self.stored_delivery(&key)? else {
                continue;
            };
            let mut d = stored.delivery;
            if d.state == DeliveryState::Sent {
                continue;
            }
            d.state = DeliveryState::Sent;
            d.attempts += 1;
            d.sent_at = Some(at);
            d.updated_at = at;
            d.last_error = None;
            settled.push((decode_outbox_key(&key, stored.recipient)?, d));
        }
        let changed = settled.len();
        if changed > 0 {
            // Through the commit, so that the tallies follow.
            self.commit_unflushed(&super::Changes {
                deliveries: settled,
                ..super::Changes::default()
            })?;
            self.engine.flush()?;
        }
        self.journal.forget(&entries)?;
        Ok(changed)
    }

    /// The letter's bounce token: 16 hex digits of a keyed hash of its outbox key, put in
    /// the envelope sender (`bounces+TOKEN@...`) so that a bounce names its letter. Without
    /// the database key it says nothing about the person or the incident.
    pub fn bounce_token(&self, target: &NotificationRef) -> String {
        token_of(&self.blind, &self.outbox_key(target))
    }

    /// The notifications, of one incident or of all, whose bounce token is one of `tokens`.
    /// Reads only the keys (not the letters), and opens just the matching states.
    pub fn by_bounce_token(
        &self,
        incident: Option<IncidentId>,
        tokens: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<(String, NotificationRef, Delivery)>, StoreError> {
        let mut found = Vec::new();
        if tokens.is_empty() {
            return Ok(found);
        }
        let prefix = incident.map(incident_key);
        let scope = prefix.as_ref().map_or(&[][..], |p| p.as_slice());
        for key in self.engine.scan_keys(Tree::Outbox, scope) {
            let key = key?;
            let token = token_of(&self.blind, &key);
            if !tokens.contains(&token) {
                continue;
            }
            let Some(stored) = self.stored_delivery(&key)? else {
                continue;
            };
            found.push((
                token,
                decode_outbox_key(&key, stored.recipient)?,
                stored.delivery,
            ));
        }
        Ok(found)
    }

    /// The letters of one incident and template in the outbox, read in one scan of their
    /// keys, for asking of many targets whether each is already there: a lookup each in a
    /// tree that is being written to cost about 15 µs, 1.6 s over 100,000 people.
    pub fn queued_letters(
        &self,
        id: IncidentId,
        template: TemplateName,
    ) -> Result<QueuedLetters, StoreError> {
        let mut prefix = incident_key(id).to_vec();
        prefix.extend_from_slice(template.as_str().as_bytes());
        prefix.push(0);
        let keys = self
            .engine
            .scan_keys(Tree::Outbox, &prefix)
            .collect::<Result<_, _>>()?;
        Ok(QueuedLetters { keys })
    }

    /// Whether `target` is among `letters`.
    pub fn is_queued(&self, letters: &QueuedLetters, target: &NotificationRef) -> bool {
        letters.keys.contains(&self.outbox_key(target))
    }

    /// One notification's letter.
    pub fn notification(
        &self,
        target: &NotificationRef,
    ) -> Result<Option<Notification>, StoreError> {
        let key = self.outbox_key(target);
        match self.engine.get(Tree::Outbox, &key)? {
            Some(raw) => self.open_notification(&key, &raw).map(Some),
            None => Ok(None),
        }
    }

    /// Several notifications' letters, in the order asked, read together (one round trip
    /// on a database server).
    pub fn notifications(
        &self,
        targets: &[&NotificationRef],
    ) -> Result<Vec<Option<Notification>>, StoreError> {
        let keys: Vec<Vec<u8>> = targets.iter().map(|t| self.outbox_key(t)).collect();
        let raws = self.engine.get_many(Tree::Outbox, &keys)?;
        keys.iter()
            .zip(raws)
            .map(|(key, raw)| raw.map(|raw| self.open_notification(key, &raw)).transpose())
            .collect()
    }

    fn open_notification(&self, key: &[u8], raw: &[u8]) -> Result<Notification, StoreError> {
        let plain = self
            .data_cipher(key)?
            .open(&super::aad("outbox", key), raw)
            .ok_or(StoreError::corrupt("notification"))?;
        super::letters::unpack(&plain, || {
            self.letter_dict(super::tally::tally_key(key)?)?
                .ok_or(StoreError::corrupt("letter dictionary"))
        })
    }

    /// One notification's delivery state.
    pub fn delivery(&self, target: &NotificationRef) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .stored_delivery(&self.outbox_key(target))?
            .map(|s| s.delivery))
    }

    /// Delivery states, of one incident or of all, in key order.
    pub fn deliveries(
        &self,
        incident: Option<IncidentId>,
    ) -> Result<Vec<(NotificationRef, Delivery)>, StoreError> {
        self.stored_deliveries(incident)?
            .into_iter()
            .map(|(key, stored)| Ok((decode_outbox_key(&key, stored.recipient)?, stored.delivery)))
            .collect()
    }
}

pub(super) fn decode_outbox_key(
    key: &[u8],
    recipient: String,
) -> Result<NotificationRef, StoreError> {
    let bad = || StoreError::corrupt("outbox key");
    let incident = IncidentId::new(decode_u64(key.get(..8).ok_or_else(bad)?, "outbox key")?);
    let rest = key.get(8..).ok_or_else(bad)?;
    let split = rest.iter().position(|b| *b == 0).ok_or_else(bad)?;
    let template = std::str::from_utf8(&rest[..split])
        .ok()
        .and_then(|t| t.parse::<TemplateName>().ok())
        .ok_or_else(bad)?;
    let order = decode_u64(
        rest.get(split + 1..split + 9).ok_or_else(bad)?,
        "outbox key",
    )?;
    Ok(NotificationRef {
        incident,
        template,
        recipient,
        order,
    })
}
