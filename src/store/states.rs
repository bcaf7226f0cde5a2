//! Reading delivery states: a letter's state is its record in `outbox_state` once it has
//! changed; before that, the queued state at the head of its letter's record (`letters.rs`).

use super::codec::incident_key;
use super::outbox::StoredDelivery;
use super::{Store, StoreError, Tree};
use crate::domain::IncidentId;
use crate::notify::Delivery;

impl Store {
    /// The delivery state under outbox key `key`: its record in `outbox_state` once it has
    /// changed, before that the queued state its letter's record carries.
    pub(super) fn stored_delivery(&self, key: &[u8]) -> Result<Option<StoredDelivery>, StoreError> {
        if let Some(raw) = self.engine.get(Tree::OutboxState, key)? {
            return self
                .unseal("outbox_state", key, &raw, "delivery state")
                .map(Some);
        }
        match self.engine.get(Tree::Outbox, key)? {
            Some(letter) => self.queued_delivery(key, &letter),
            None => Ok(None),
        }
    }

    /// The queued state carried by the letter record `letter` at `key`.
    fn queued_delivery(
        &self,
        key: &[u8],
        letter: &[u8],
    ) -> Result<Option<StoredDelivery>, StoreError> {
        let plain = self
            .data_cipher(key)?
            .open(&super::aad("outbox", key), letter)
            .ok_or(StoreError::corrupt("notification"))?;
        let (recipient, at) = super::letters::queued_state(&plain)?;
        Ok(Some(StoredDelivery {
            recipient,
            delivery: Delivery::queued(at),
        }))
    }

    /// The delivery states, of one incident or of all, in key order, with their keys: the
    /// letters and the states written so far, read in one pass over each.
    pub(super) fn stored_deliveries(
        &self,
        incident: Option<IncidentId>,
    ) -> Result<Vec<(Vec<u8>, StoredDelivery)>, StoreError> {
        let scan = |tree| match incident {
            Some(id) => self.engine.scan_prefix(tree, &incident_key(id)),
            None => self.engine.iter(tree),
        };
        let mut states = scan(Tree::OutboxState);
        let mut state = states.next().transpose()?;
        let mut out = Vec::new();
        // States and letters (whose queued state is read from their records), opened a
        // block at a time on two threads (at the start of a send, nothing else runs yet).
        let mut block: Vec<(Vec<u8>, Found)> = Vec::new();
        for kv in scan(Tree::Outbox) {
            let (key, letter) = kv?;
            // A state without a letter is listed as it always was.
            while let Some((k, raw)) = state.take_if(|(k, _)| *k < key) {
                block.push((k, Found::Written(raw)));
                state = states.next().transpose()?;
            }
            match state.take_if(|(k, _)| *k == key) {
                Some((k, raw)) => {
                    block.push((k, Found::Written(raw)));
                    state = states.next().transpose()?;
                }
                None => block.push((key, Found::Letter(letter))),
            }
            if block.len() >= OPEN_BLOCK {
                self.open_block(std::mem::take(&mut block), &mut out)?;
            }
        }
        while let Some((k, raw)) = state {
            block.push((k, Found::Written(raw)));
            state = states.next().transpose()?;
        }
        self.open_block(block, &mut out)?;
        Ok(out)
    }
}

/// How many states and letters [`Store::stored_deliveries`] opens together.
const OPEN_BLOCK: usize = 4096;

/// A delivery state as found by [`Store::stored_deliveries`]: written, or to be read from
/// its letter.
enum Found {
    Written(Vec<u8>),
    Letter(Vec<u8>),
}

impl Store {
    /// Opens the states of `block` in order onto `out`, half of them on a second thread.
    fn open_block(
        &self,
        mut block: Vec<(Vec<u8>, Found)>,
        out: &mut Vec<(Vec<u8>, StoredDelivery)>,
    ) -> Result<(), StoreError> {
        let open = |part: Vec<(Vec<u8>, Found)>| -> Result<Vec<_>, StoreError> {
            let mut opened = Vec::with_capacity(part.len());
            for (key, found) in part {
                let stored = match found {
                    Found::Written(raw) => {
                        Some(self.unseal("outbox_state", &key, &raw, "delivery state")?)
                    }
                    Found::Letter(letter) => self.queued_delivery(&key, &letter)?,
                };
                if let Some(stored) = stored {
                    opened.push((key, stored));
                }
            }
            Ok(opened)
        };
        let second = block.split_off(block.len() / 2);
        let (first, second) = if second.len() < 64 {
            let mut first = open(block)?;
            first.extend(open(second)?);
            (first, Vec::new())
        } else {
            std::thread::scope(|s| {
                let helper = s.spawn(|| open(second));
                let first = open(block);
                let second = helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                first.and_then(|f| second.map(|s| (f, s)))
            })?
        };
        out.extend(first);
        out.extend(second);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::crypto::Key;
    use crate::notify::{DeliveryState, Notification, TemplateName};
    use crate::store::engine::Write;
    use crate::store::{Changes, KEY_TALLY};

    const INCIDENT: IncidentId = IncidentId::new(1);

    fn letter(order: u64) -> Notification {
        crate::store::letters::test_letter(&format!("E{order:05}"), order)
    }

    fn counts(store: &Store) -> BTreeMap<String, u64> {
        store.outbox_tally(INCIDENT).unwrap()[0].1.clone()
    }

    fn sent(at: chrono::DateTime<chrono::Utc>) -> Delivery {
        Delivery {
            state: DeliveryState::Sent,
            attempts: 1,
            sent_at: Some(at),
            ..Delivery::queued(at)
        }
    }

    #[test]
    fn states_read_in_blocks_on_two_threads_keep_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &Key::generate().unwrap()).unwrap();
        let count = OPEN_BLOCK as u64 + 300;
        let letters: Vec<Notification> = (0..count).map(letter).collect();
        store
            .commit(&Changes {
                letters: letters.clone(),
                ..Changes::default()
            })
            .unwrap();
        let at = chrono::Utc::now();
        let sent_ones: Vec<_> = letters
            .iter()
            .step_by(7)
            .map(|n| (n.target.clone(), sent(at)))
            .collect();
        store
            .commit(&Changes {
                deliveries: sent_ones,
                ..Changes::default()
            })
            .unwrap();
        let read = store.deliveries(Some(INCIDENT)).unwrap();
        assert_eq!(read.len(), letters.len());
        for (i, ((target, delivery), n)) in read.iter().zip(&letters).enumerate() {
            assert_eq!(target, &n.target);
            let expected = if i % 7 == 0 {
                sent(at)
            } else {
                Delivery::queued(n.queued_at)
            };
            assert_eq!(delivery, &expected, "letter {i}");
        }
    }

    #[test]
    fn a_letter_is_queued_until_its_state_is_written_and_counted_throughout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &Key::generate().unwrap()).unwrap();
        let letters: Vec<Notification> = (0..4).map(letter).collect();
        store
            .commit(&Changes {
                letters: letters.clone(),
                ..Changes::default()
            })
            .unwrap();
        // No state is written with a new letter: its record says it is queued, and since when.
        assert!(store.engine.is_empty(Tree::OutboxState).unwrap());
        for n in &letters {
            assert_eq!(
                store.delivery(&n.target).unwrap(),
                Some(Delivery::queued(n.queued_at))
            );
        }
        let queued = letters
            .iter()
            .map(|n| (n.target.clone(), Delivery::queued(n.queued_at)));
        assert_eq!(
            store.deliveries(Some(INCIDENT)).unwrap(),
            queued.collect::<Vec<_>>()
        );
        assert_eq!(counts(&store), BTreeMap::from([("queued".into(), 4)]));

        // The second is sent: its state is written and the tallies move.
        let at = chrono::Utc::now();
        store
            .commit(&Changes {
                deliveries: vec![(letters[1].target.clone(), sent(at))],
                ..Changes::default()
            })
            .unwrap();
        assert_eq!(
            counts(&store),
            BTreeMap::from([("queued".into(), 3), ("sent".into(), 1)])
        );
        let states: Vec<DeliveryState> = store
            .deliveries(None)
            .unwrap()
            .into_iter()
            .map(|(_, d)| d.state)
            .collect();
        use DeliveryState::{Queued, Sent};
        assert_eq!(states, [Queued, Sent, Queued, Queued]);
        assert_eq!(store.delivery(&letters[1].target).unwrap(), Some(sent(at)));

        // Tallies built from nothing (a database from before they were kept) agree.
        store
            .engine
            .apply(vec![Write::Remove(Tree::Meta, KEY_TALLY.to_vec())])
            .unwrap();
        store.build_tally().unwrap();
        assert_eq!(
            counts(&store),
            BTreeMap::from([("queued".into(), 3), ("sent".into(), 1)])
        );

        // A bounce names a letter that was never sent by its token all the same.
        let token = store.bounce_token(&letters[2].target);
        let found = store
            .by_bounce_token(Some(INCIDENT), &BTreeSet::from([token]))
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, letters[2].target);
        assert_eq!(found[0].2.state, DeliveryState::Queued);
        let queued = store
            .queued_letters(INCIDENT, TemplateName::Initial)
            .unwrap();
        assert!(letters.iter().all(|n| store.is_queued(&queued, &n.target)));

        // Built again for new details: queued again, the sent state gone with the old letter.
        let mut again = letter(1);
        again.queued_at = chrono::Utc::now();
        store
            .commit(&Changes {
                letters: vec![again.clone()],
                ..Changes::default()
            })
            .unwrap();
        assert_eq!(counts(&store), BTreeMap::from([("queued".into(), 4)]));
        assert_eq!(
            store.delivery(&again.target).unwrap(),
            Some(Delivery::queued(again.queued_at))
        );
        assert!(store.engine.is_empty(Tree::OutboxState).unwrap());
    }
}
