//! Each incident's personal data (its roster pages, letters, their delivery states and
//! dictionaries, its evidence) is sealed under the incident's own data key: 256 random bits,
//! kept in `data_keys` sealed under the database key. Every record of those trees begins
//! with its incident's number, so the record's key says which data key opens it.
//!
//! Purging an incident replaces its data key with a tombstone in the same transaction as
//! the purge's audit event, then removes the records. Whatever is left of them afterwards
//! (old segments of sled's log, a copy of the database taken before the purge) no longer
//! opens, even with the database key: the only copy of the key that sealed them is gone.
//! A tombstone also stops a purged incident from ever getting a new key.
//!
//! Databases of format 3 sealed everything under the database key; opening one reseals
//! each record under its incident's new data key (`reseal_under_data_keys`). A record that
//! already opens under its data key is left as it is, so an upgrade cut short by a crash
//! resumes where it stopped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::codec::{aad, decode_u64};
use super::engine::{Tree, Write};
use super::{Store, StoreError};
use crate::crypto::{Cipher, Key};
use crate::domain::IncidentId;

/// What `data_keys` holds for a purged incident instead of its sealed key.
const PURGED: &[u8] = b"purged";

/// How many resealed records one batch of the format upgrade writes.
const RESEAL_BATCH: usize = 2_000;

/// The data keys opened so far, by incident number.
#[derive(Default)]
pub(super) struct DataKeys(Mutex<HashMap<u64, Arc<Cipher>>>);

impl DataKeys {
    fn get(&self, id: u64) -> Option<Arc<Cipher>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    fn remember(&self, id: u64, cipher: Arc<Cipher>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, cipher);
    }

    fn forget(&self, id: u64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}

/// The incident number a personal record's key begins with.
fn record_incident(key: &[u8]) -> Result<u64, StoreError> {
    let prefix = key
        .get(..8)
        .ok_or(StoreError::corrupt("personal record key"))?;
    decode_u64(prefix, "personal record key")
}

impl Store {
    /// The data key of the incident whose personal record is at `key`.
    pub(super) fn data_cipher(&self, key: &[u8]) -> Result<Arc<Cipher>, StoreError> {
        let id = record_incident(key)?;
        if let Some(cipher) = self.data_key_cache.get(id) {
            return Ok(cipher);
        }
        match self.load_data_key(id)? {
            Some(cipher) => Ok(cipher),
            None => Err(StoreError::corrupt("incident data key")),
        }
    }

    /// Reads incident `id`'s data key from `data_keys`: `None` when it has none yet, an
    /// error when the incident was purged.
    fn load_data_key(&self, id: u64) -> Result<Option<Arc<Cipher>>, StoreError> {
        let at = id.to_be_bytes();
        let Some(raw) = self.engine.get(Tree::DataKeys, &at)? else {
            return Ok(None);
        };
        if raw.as_slice() == PURGED {
            return Err(StoreError::Purged(IncidentId::new(id)));
        }
        let plain = self
            .cipher
            .open(&aad("data_keys", &at), &raw)
            .ok_or(StoreError::corrupt("incident data key"))?;
        let key = Key::from_bytes(&plain).ok_or(StoreError::corrupt("incident data key"))?;
        let cipher = Arc::new(Cipher::new(&key));
        self.data_key_cache.remember(id, Arc::clone(&cipher));
        Ok(Some(cipher))
    }

    /// Gives every incident in `ids` a data key, creating those it lacks. A key is written
    /// before the records it seals (sled keeps writes in order, so a commit flushed to disk
    /// has its keys on disk too); a key whose commit then fails seals nothing and is used
    /// by the next one.
    pub(super) fn ensure_data_keys(
        &self,
        ids: impl IntoIterator<Item = IncidentId>,
    ) -> Result<(), StoreError> {
        for id in ids {
            let n = id.number();
            if self.data_key_cache.get(n).is_some() || self.load_data_key(n)?.is_some() {
                continue;
            }
            let key = Key::generate()?;
            let at = n.to_be_bytes();
            let sealed = self.cipher.seal(&aad("data_keys", &at), key.bytes())?;
            let mut made = false;
            self.engine.transaction(&mut |txn| {
                made = txn.get(Tree::DataKeys, &at)?.is_none();
                if made {
                    txn.put(Tree::DataKeys, &at, &sealed)?;
                }
                Ok(())
            })?;
            if made {
                self.data_key_cache.remember(n, Arc::new(Cipher::new(&key)));
            } else {
                // Another writer made one first: use theirs.
                self.load_data_key(n)?;
            }
        }
        Ok(())
    }

    /// The trees of personal records, each with the name its records' associated data uses.
    const PERSONAL_TREES: [Tree; 5] = [
        Tree::People,
        Tree::Outbox,
        Tree::OutboxState,
        Tree::OutboxDict,
        Tree::Evidence,
    ];

    /// Removes what is left of a purged incident's records (its key is already gone): the
    /// personal trees and the attention index. The counts in `outbox_tally` stay.
    pub(super) fn remove_purged_records(&self, id: IncidentId) -> Result<usize, StoreError> {
        self.data_key_cache.forget(id.number());
        self.dicts.forget_incident(id);
        let prefix = id.number().to_be_bytes();
        let mut removed = 0;
        let trees = Self::PERSONAL_TREES
            .into_iter()
            .chain([Tree::OutboxAttention]);
        for tree in trees {
            let mut batch = Vec::new();
            for key in self.engine.scan_keys(tree, &prefix) {
                batch.push(Write::Remove(tree, key?));
                if batch.len() == RESEAL_BATCH {
                    removed += batch.len();
                    self.engine.apply(std::mem::take(&mut batch))?;
                }
            }
            removed += batch.len();
            self.engine.apply(batch)?;
        }
        self.engine.flush()?;
        Ok(removed)
    }

    /// At open: finishes any purge a crash cut short between destroying the key and
    /// removing the records.
    pub(super) fn settle_purges(&self) -> Result<(), StoreError> {
        let mut purged = Vec::new();
        for kv in self.engine.iter(Tree::DataKeys) {
            let (at, value) = kv?;
            if value.as_slice() == PURGED {
                purged.push(IncidentId::new(decode_u64(&at, "data key number")?));
            }
        }
        for id in purged {
            let prefix = id.number().to_be_bytes();
            let left = Self::PERSONAL_TREES
                .iter()
                .any(|tree| self.engine.scan_keys(*tree, &prefix).next().is_some());
            if left {
                self.remove_purged_records(id)?;
            }
        }
        Ok(())
    }

    /// Whether incident `id`'s data key was destroyed.
    pub fn is_purged(&self, id: IncidentId) -> Result<bool, StoreError> {
        Ok(self
            .engine
            .get(Tree::DataKeys, &id.number().to_be_bytes())?
            .is_some_and(|v| v.as_slice() == PURGED))
    }

    /// The format 3 to 4 upgrade: reseals every personal record, sealed under the database
    /// key, under its incident's data key, in batches.
    pub(super) fn reseal_under_data_keys(&self) -> Result<(), StoreError> {
        for tree in Self::PERSONAL_TREES {
            let name = tree.name();
            let mut batch = Vec::new();
            for kv in self.engine.iter(tree) {
                let (key, raw) = kv?;
                let id = IncidentId::new(record_incident(&key)?);
                self.ensure_data_keys([id])?;
                let place = aad(name, &key);
                let data = self.data_cipher(&key)?;
                if data.open(&place, &raw).is_some() {
                    continue;
                }
                let plain = self
                    .cipher
                    .open(&place, &raw)
                    .ok_or(StoreError::corrupt("personal record"))?;
                let sealed = data.seal(&place, &plain)?;
                batch.push(Write::Put(tree, key, sealed));
                if batch.len() == RESEAL_BATCH {
                    self.engine.apply(std::mem::take(&mut batch))?;
                }
            }
            self.engine.apply(batch)?;
        }
        self.engine.flush()?;
        Ok(())
    }
}

/// The tombstone the purge's transaction writes over the incident's data key.
pub(super) fn tombstone() -> &'static [u8] {
    PURGED
}

/// Fails a transaction that would write records of incident `id` after its purge: read
/// in the transaction, so that a purge committed meanwhile makes it retry and fail rather
/// than write records under a destroyed key.
pub(super) fn refuse_purged(
    txn: &mut dyn super::engine::Txn,
    id: IncidentId,
) -> Result<(), StoreError> {
    if txn
        .get(Tree::DataKeys, &id.number().to_be_bytes())?
        .is_some_and(|v| v.as_slice() == PURGED)
    {
        return Err(StoreError::Purged(id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Changes, RosterPage};

    fn page(id: u64, names: &[usize]) -> RosterPage {
        RosterPage {
            incident: IncidentId::new(id),
            number: 0,
            people: names
                .iter()
                .map(|&n| super::super::roster::tests::person(n))
                .collect(),
        }
    }

    #[test]
    fn each_incident_has_its_own_key_and_a_purge_destroys_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &Key::generate().unwrap()).unwrap();
        store
            .commit(&Changes {
                pages: vec![page(1, &[1, 2]), page(2, &[3])],
                ..Changes::default()
            })
            .unwrap();
        let one = store
            .engine
            .get(Tree::DataKeys, &1u64.to_be_bytes())
            .unwrap()
            .unwrap();
        let two = store
            .engine
            .get(Tree::DataKeys, &2u64.to_be_bytes())
            .unwrap()
            .unwrap();
        assert_ne!(one, two);
        store
            .commit(&Changes {
                purge: Some(IncidentId::new(1)),
                ..Changes::default()
            })
            .unwrap();
        assert!(store.is_purged(IncidentId::new(1)).unwrap());
        assert_eq!(store.people(IncidentId::new(1)).count(), 0);
        assert_eq!(store.people(IncidentId::new(2)).count(), 1);
        let again = store.commit(&Changes {
            pages: vec![page(1, &[4])],
            ..Changes::default()
        });
        assert!(matches!(again, Err(StoreError::Purged(_))), "{again:?}");
    }

    #[test]
    fn a_database_sealed_under_one_key_is_resealed_per_incident_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let key = Key::generate().unwrap();
        {
            let store = Store::open(&path, &key).unwrap();
            store
                .commit(&Changes {
                    pages: vec![page(1, &[1, 2]), page(2, &[3])],
                    ..Changes::default()
                })
                .unwrap();
            // Put it back the way format 3 kept it: sealed under the database key, no
            // data keys.
            let pairs: Vec<_> = store
                .engine
                .iter(Tree::People)
                .map(Result::unwrap)
                .collect();
            for (k, v) in pairs {
                let place = aad("people", &k);
                let plain = store.data_cipher(&k).unwrap().open(&place, &v).unwrap();
                let sealed = store.cipher.seal(&place, &plain).unwrap();
                store.engine.put(Tree::People, &k, &sealed).unwrap();
            }
            store.engine.clear(Tree::DataKeys).unwrap();
            store
                .engine
                .put(Tree::Meta, super::super::KEY_FORMAT, &3u32.to_be_bytes())
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(&path, &key).unwrap();
        let names: Vec<String> = store
            .people(IncidentId::new(1))
            .map(|p| p.unwrap().name)
            .collect();
        assert_eq!(names, ["P1", "P2"]);
        assert_eq!(store.people(IncidentId::new(2)).count(), 1);
        for kv in store.engine.iter(Tree::People) {
            let (k, v) = kv.unwrap();
            assert!(store.cipher.open(&aad("people", &k), &v).is_none());
        }
        let format = store
            .engine
            .get(Tree::Meta, super::super::KEY_FORMAT)
            .unwrap()
            .unwrap();
        assert_eq!(
            format.as_slice(),
            &super::super::FORMAT_VERSION.to_be_bytes()
        );
    }
}
