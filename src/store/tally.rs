//! The outbox's counts, kept as states change: per incident and template, how many letters
//! are in each state (`outbox_tally`), and which letters need a responder's eye: failed,
//! bounced, or sent to a previous address (`outbox_attention`, keys only). Both are updated
//! inside the transaction that writes the states (`Store::commit_unflushed`), from the state
//! each key had before, so `notify status` reads a few records instead of opening every
//! letter's state. A database from before the tallies gets them built once when opened.

use std::collections::BTreeMap;

use super::codec::{decode, encode, incident_key};
use super::engine::{Txn, Write};
use super::outbox::{StoredDelivery, decode_outbox_key};
use super::{KEY_TALLY, Store, StoreError, Tree};
use crate::domain::IncidentId;
use crate::notify::{Delivery, DeliveryState, NotificationRef, TemplateName};

/// What the tallies need of one delivery state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mark {
    pub(super) state: DeliveryState,
    pub(super) attention: bool,
}

impl Mark {
    /// A queued letter's.
    pub(super) const QUEUED: Mark = Mark {
        state: DeliveryState::Queued,
        attention: false,
    };

    pub(super) fn of(d: &Delivery) -> Self {
        Mark {
            state: d.state,
            attention: matches!(d.state, DeliveryState::Failed | DeliveryState::Bounced)
                || d.sent_to_previous.is_some(),
        }
    }
}

/// Changes to the tallies of one commit, by tally key (incident and template).
#[derive(Default)]
pub(super) struct Deltas(BTreeMap<Vec<u8>, BTreeMap<&'static str, i64>>);

impl Deltas {
    /// The letter at outbox key `key` went from `old` (none: new) to `new`.
    pub(super) fn change(
        &mut self,
        key: &[u8],
        old: Option<Mark>,
        new: Mark,
    ) -> Result<(), StoreError> {
        let counts = self.0.entry(tally_key(key)?.to_vec()).or_default();
        if let Some(old) = old {
            *counts.entry(old.state.as_str()).or_default() -= 1;
        }
        *counts.entry(new.state.as_str()).or_default() += 1;
        Ok(())
    }

    /// Adds the changes to the stored tallies.
    pub(super) fn apply(&self, txn: &mut dyn Txn) -> Result<(), StoreError> {
        for (key, changes) in &self.0 {
            let mut counts: BTreeMap<String, i64> = match txn.get(Tree::OutboxTally, key)? {
                Some(raw) => decode(&raw, "outbox tally")?,
                None => BTreeMap::new(),
            };
            for (state, n) in changes {
                *counts.entry((*state).to_owned()).or_default() += n;
            }
            counts.retain(|_, n| *n != 0);
            txn.put(Tree::OutboxTally, key, &encode(&counts)?)?;
        }
        Ok(())
    }
}

/// The tally key of an outbox key: its incident and template, up to the 0 after it.
pub(super) fn tally_key(outbox_key: &[u8]) -> Result<&[u8], StoreError> {
    let end = outbox_key
        .iter()
        .skip(8)
        .position(|b| *b == 0)
        .ok_or_else(|| StoreError::corrupt("outbox key"))?;
    Ok(&outbox_key[..8 + end])
}

/// One template's letters counted by delivery state.
pub type TemplateTally = (TemplateName, BTreeMap<String, u64>);

impl Store {
    /// Letters per template and state of one incident, without reading a letter.
    pub fn outbox_tally(&self, id: IncidentId) -> Result<Vec<TemplateTally>, StoreError> {
        self.engine
            .scan_prefix(Tree::OutboxTally, &incident_key(id))
            .map(|kv| {
                let (key, value) = kv?;
                let template = std::str::from_utf8(&key[8..])
                    .ok()
                    .and_then(|t| t.parse::<TemplateName>().ok())
                    .ok_or_else(|| StoreError::corrupt("outbox tally key"))?;
                let counts: BTreeMap<String, i64> = decode(&value, "outbox tally")?;
                let counts = counts
                    .into_iter()
                    .map(|(state, n)| (state, u64::try_from(n).unwrap_or(0)))
                    .collect();
                Ok((template, counts))
            })
            .collect()
    }

    /// The delivery states of one incident's letters that need attention (failed, bounced,
    /// sent to a previous address), in key order. Each has changed since it was queued, so
    /// its state is in `outbox_state`.
    pub fn outbox_attention(
        &self,
        id: IncidentId,
    ) -> Result<Vec<(NotificationRef, Delivery)>, StoreError> {
        let mut out = Vec::new();
        for kv in self
            .engine
            .scan_prefix(Tree::OutboxAttention, &incident_key(id))
        {
            let (key, _) = kv?;
            let Some(raw) = self.engine.get(Tree::OutboxState, &key)? else {
                continue;
            };
            let stored: StoredDelivery =
                self.unseal("outbox_state", &key, &raw, "delivery state")?;
            out.push((decode_outbox_key(&key, stored.recipient)?, stored.delivery));
        }
        Ok(out)
    }

    /// Builds the tallies and the attention index from every delivery state, once, for a
    /// database written before they were kept.
    pub(super) fn build_tally(&self) -> Result<(), StoreError> {
        if self.engine.get(Tree::Meta, KEY_TALLY)?.is_some() {
            return Ok(());
        }
        self.engine.clear(Tree::OutboxTally)?;
        self.engine.clear(Tree::OutboxAttention)?;
        let mut deltas = Deltas::default();
        let mut attention = Vec::new();
        for (key, stored) in self.stored_deliveries(None)? {
            let mark = Mark::of(&stored.delivery);
            deltas.change(&key, None, mark)?;
            if mark.attention {
                attention.push(Write::Put(Tree::OutboxAttention, key, Vec::new()));
            }
        }
        let mut tallies = Vec::new();
        for (key, changes) in &deltas.0 {
            let counts: BTreeMap<&str, i64> = changes.iter().map(|(s, n)| (*s, *n)).collect();
            tallies.push(Write::Put(Tree::OutboxTally, key.clone(), encode(&counts)?));
        }
        self.engine.apply(tallies)?;
        self.engine.apply(attention)?;
        self.engine.put(Tree::Meta, KEY_TALLY, &[1])?;
        self.engine.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tally_key_is_the_incident_and_template() {
        let mut key = 7u64.to_be_bytes().to_vec();
        key.extend_from_slice(b"initial\0");
        key.extend_from_slice(&[9; 24]);
        assert_eq!(super::tally_key(&key).unwrap(), &key[..15]);
        assert!(super::tally_key(&[1, 2, 3]).is_err());
    }
}
