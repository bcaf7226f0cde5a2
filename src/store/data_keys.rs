//! Each incident's personal data (its roster pages, letters, their delivery states and
//! dictionaries, its evidence) is sealed under the incident's own data key: 256 random bits,
//! kept in `data_keys` sealed under the **wrapping key**. Every record of those trees begins
//! with its incident's number, so the record's key says which data key opens it.
//!
//! The wrapping key is the one secret a purge must truly forget, so it never goes into a
//! tree: the engine keeps it in two slots that can be overwritten (`Engine::
//! write_wrapping_slot`: a file rewritten in place beside sled's, a PostgreSQL table
//! rewritten and its log retired), sealed under the database key, with its generation.
//! `meta` names the generation in force.
//!
//! Purging an incident (`Rotation`):
//! 1. a new wrapping key, of the next generation, is written to the free slot;
//! 2. one transaction writes the tombstone over the incident's data key, reseals every
//!    other incident's data key under the new wrapping key and names the new generation,
//!    with the purge's audit event;
//! 3. the old slot is emptied, and the incident's records are removed.
//!
//! Whatever an engine keeps of the past afterwards (old segments of sled's log, dead
//! PostgreSQL rows) holds the purged data key only sealed under a wrapping key that no
//! longer exists anywhere, so it no longer opens, even with the database key; and the
//! records it sealed open with nothing. A crash between the steps is settled at open:
//! whichever slot does not hold the generation `meta` names is emptied, which finishes the
//! purge after step 2 and undoes step 1 before it. A tombstone also stops a purged
//! incident from ever getting a new key.
//!
//! Databases of format 3 sealed everything under the database key; opening one reseals
//! each record under its incident's new data key (`reseal_under_data_keys`). A record that
//! already opens under its data key is left as it is, so an upgrade cut short by a crash
//! resumes where it stopped. Databases of format 4 sealed the data keys under the database
//! key; opening one reseals them under a first wrapping key (`settle_wrapping`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::codec::{aad, decode_u64};
use super::engine::{Tree, WRAPPING_SLOTS, Write};
use super::{Store, StoreError};
use crate::crypto::{Cipher, Key};
use crate::domain::IncidentId;

/// What `data_keys` holds for a purged incident instead of its sealed key.
const PURGED: &[u8] = b"purged";

/// `meta`: the generation of the wrapping key in force (u64 big-endian).
pub(super) const KEY_WRAPPING: &[u8] = b"wrapping_generation";

/// Associated data of a wrapping key sealed under the database key, in its slot.
pub const WRAPPING_AAD: &[u8] = b"breachdesk wrapping key";

/// The wrapping key in force: its generation and the cipher it gives.
#[derive(Clone)]
pub(super) struct Wrapping {
    generation: u64,
    cipher: Arc<Cipher>,
}

/// The wrapping key as last read, shared by the store's threads.
#[derive(Default)]
pub(super) struct WrappingCache(Mutex<Option<Wrapping>>);

impl WrappingCache {
    fn get(&self) -> Option<Wrapping> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, wrapping: Option<Wrapping>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = wrapping;
    }
}

/// A purge's new wrapping key, written to its slot and not yet in force.
pub(super) struct Rotation {
    old: Wrapping,
    old_slot: Option<usize>,
    new: Wrapping,
    new_slot: usize,
    /// The data keys to reseal: every incident's but the purged one's.
    keys: Vec<Vec<u8>>,
}

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
        let place = aad("data_keys", &at);
        let plain = match self.wrapping()?.cipher.open(&place, &raw) {
            Some(plain) => plain,
            // Another process on a shared engine may have replaced the wrapping key.
            None => {
                self.wrapping_cache.set(None);
                self.wrapping()?
                    .cipher
                    .open(&place, &raw)
                    .ok_or(StoreError::corrupt("incident data key"))?
            }
        };
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
            let made = loop {
                let wrapping = self.wrapping()?;
                let sealed = wrapping.cipher.seal(&aad("data_keys", &at), key.bytes())?;
                let mut made = false;
                let mut stale = false;
                self.engine.transaction(&mut |txn| {
                    // Sealed under the generation in force, or not at all.
                    stale = read_generation(txn.get(Tree::Meta, KEY_WRAPPING)?)?
                        != Some(wrapping.generation);
                    made = !stale && txn.get(Tree::DataKeys, &at)?.is_none();
                    if made {
                        txn.put(Tree::DataKeys, &at, &sealed)?;
                    }
                    Ok(())
                })?;
                if !stale {
                    break made;
                }
                self.wrapping_cache.set(None);
            };
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

    /// The wrapping key in force, read from its slot when not known yet.
    fn wrapping(&self) -> Result<Wrapping, StoreError> {
        if let Some(w) = self.wrapping_cache.get() {
            return Ok(w);
        }
        let generation = self
            .generation()?
            .ok_or(StoreError::corrupt("wrapping key generation"))?;
        let slots = self.engine.read_wrapping_slots()?;
        let (_, wrapping) = self
            .slot_of(&slots, generation)
            .ok_or(StoreError::MissingWrappingKey { generation })?;
        self.wrapping_cache.set(Some(wrapping.clone()));
        Ok(wrapping)
    }

    fn generation(&self) -> Result<Option<u64>, StoreError> {
        read_generation(self.engine.get(Tree::Meta, KEY_WRAPPING)?)
    }

    /// The slot holding the wrapping key of `generation`, and that key.
    fn slot_of(
        &self,
        slots: &[Option<Vec<u8>>; WRAPPING_SLOTS],
        generation: u64,
    ) -> Option<(usize, Wrapping)> {
        slots.iter().enumerate().find_map(|(n, raw)| {
            let found = self.open_slot(raw.as_deref()?)?;
            (found.generation == generation).then_some((n, found))
        })
    }

    fn open_slot(&self, raw: &[u8]) -> Option<Wrapping> {
        let plain = self.cipher.open(WRAPPING_AAD, raw)?;
        let (generation, key) = plain.split_first_chunk::<8>()?;
        Some(Wrapping {
            generation: u64::from_be_bytes(*generation),
            cipher: Arc::new(Cipher::new(&Key::from_bytes(key)?)),
        })
    }

    /// A new wrapping key of `generation`, and its slot's value.
    fn new_wrapping(&self, generation: u64) -> Result<(Wrapping, Vec<u8>), StoreError> {
        let key = Key::generate()?;
        let mut plain = generation.to_be_bytes().to_vec();
        plain.extend_from_slice(key.bytes());
        let sealed = self.cipher.seal(WRAPPING_AAD, &plain)?;
        plain.fill(0);
        Ok((
            Wrapping {
                generation,
                cipher: Arc::new(Cipher::new(&key)),
            },
            sealed,
        ))
    }

    /// At open: empties a slot that does not hold the generation in force (what a crash
    /// left of a purge), and gives a database without a wrapping key its first, resealing
    /// the data keys that format 4 sealed under the database key. Under the writer lock,
    /// so that no other process is between the steps of a purge meanwhile.
    pub(super) fn settle_wrapping(&self) -> Result<(), StoreError> {
        // A database of a later format is left untouched, for `check_format` to refuse.
        if let Some(raw) = self.engine.get(Tree::Meta, super::KEY_FORMAT)?
            && <[u8; 4]>::try_from(raw.as_slice())
                .map_or(true, |f| u32::from_be_bytes(f) > super::FORMAT_VERSION)
        {
            return Ok(());
        }
        let slots = self.engine.read_wrapping_slots()?;
        if let Some(generation) = self.generation()?
            && let Some((n, _)) = self.slot_of(&slots, generation)
            && slots.iter().enumerate().all(|(m, s)| m == n || s.is_none())
        {
            return Ok(());
        }
        let _lock = self.engine.lock_writers()?;
        let slots = self.engine.read_wrapping_slots()?;
        let keep = match self.generation()? {
            Some(generation) => {
                self.slot_of(&slots, generation)
                    .ok_or(StoreError::MissingWrappingKey { generation })?
                    .0
            }
            None => self.first_wrapping()?,
        };
        for n in (0..WRAPPING_SLOTS).filter(|n| *n != keep) {
            if slots[n].is_some() {
                self.engine.write_wrapping_slot(n, None)?;
            }
        }
        Ok(())
    }

    /// Makes the first wrapping key (in slot 0) and reseals every data key under it;
    /// returns its slot.
    fn first_wrapping(&self) -> Result<usize, StoreError> {
        let (wrapping, sealed) = self.new_wrapping(1)?;
        self.engine.write_wrapping_slot(0, Some(&sealed))?;
        let mut keys = Vec::new();
        for kv in self.engine.iter(Tree::DataKeys) {
            let (at, raw) = kv?;
            if raw.as_slice() == PURGED {
                continue;
            }
            let place = aad("data_keys", &at);
            let plain = self
                .cipher
                .open(&place, &raw)
                .ok_or(StoreError::corrupt("incident data key"))?;
            keys.push(Write::Put(
                Tree::DataKeys,
                at,
                wrapping.cipher.seal(&place, &plain)?,
            ));
        }
        keys.push(Write::Put(
            Tree::Meta,
            KEY_WRAPPING.to_vec(),
            1u64.to_be_bytes().to_vec(),
        ));
        self.engine.apply(keys)?;
        self.engine.flush()?;
        self.wrapping_cache.set(Some(wrapping));
        Ok(0)
    }

    /// A purge's step 1: a new wrapping key in the slot the one in force does not use.
    /// The caller holds the writer lock, so no other data key is made until the purge
    /// commits or [`Store::abandon_rotation`] undoes this.
    pub(super) fn begin_rotation(&self, purged: IncidentId) -> Result<Rotation, StoreError> {
        self.wrapping_cache.set(None);
        let old = self.wrapping()?;
        let slots = self.engine.read_wrapping_slots()?;
        let old_slot = self.slot_of(&slots, old.generation).map(|(n, _)| n);
        let new_slot = usize::from(old_slot == Some(0));
        let (new, sealed) = self.new_wrapping(old.generation + 1)?;
        self.engine.write_wrapping_slot(new_slot, Some(&sealed))?;
        let purged_at = purged.number().to_be_bytes();
        let keys = self
            .engine
            .scan_keys(Tree::DataKeys, &[])
            .filter(|k| k.as_ref().map_or(true, |k| k.as_slice() != purged_at))
            .collect::<Result<_, _>>()?;
        Ok(Rotation {
            old,
            old_slot,
            new,
            new_slot,
            keys,
        })
    }

    /// A purge's step 2, inside its transaction: the new generation named and every data
    /// key but the purged one resealed under it.
    pub(super) fn rotate_in(
        &self,
        txn: &mut dyn super::engine::Txn,
        rotation: &Rotation,
    ) -> Result<(), StoreError> {
        if read_generation(txn.get(Tree::Meta, KEY_WRAPPING)?)? != Some(rotation.old.generation) {
            return Err(StoreError::Conflict);
        }
        txn.put(
            Tree::Meta,
            KEY_WRAPPING,
            &rotation.new.generation.to_be_bytes(),
        )?;
        let keys: Vec<&[u8]> = rotation.keys.iter().map(Vec::as_slice).collect();
        let sealed = txn.get_many(Tree::DataKeys, &keys)?;
        for (at, raw) in keys.iter().zip(sealed) {
            let Some(raw) = raw.filter(|r| r.as_slice() != PURGED) else {
                continue;
            };
            let place = aad("data_keys", at);
            let plain = rotation
                .old
                .cipher
                .open(&place, &raw)
                .ok_or(StoreError::corrupt("incident data key"))?;
            txn.put(
                Tree::DataKeys,
                at,
                &rotation.new.cipher.seal(&place, &plain)?,
            )?;
        }
        Ok(())
    }

    /// A purge's step 3, once its transaction is on disk: the old wrapping key forgotten.
    pub(super) fn finish_rotation(&self, rotation: Rotation) -> Result<(), StoreError> {
        self.wrapping_cache.set(Some(rotation.new));
        if let Some(old) = rotation.old_slot {
            self.engine.write_wrapping_slot(old, None)?;
        }
        Ok(())
    }

    /// Undoes step 1 of a purge whose transaction failed, once the database is seen to
    /// name the old generation still: a failure whose outcome is unknown (a connection lost
    /// at COMMIT) may have committed, and then the new slot is the one to keep. When the
    /// database cannot be asked, both slots stay, and the next open keeps the one it names.
    pub(super) fn abandon_rotation(&self, rotation: Rotation) {
        self.wrapping_cache.set(None);
        match self.generation() {
            Ok(Some(g)) if g == rotation.old.generation => {
                let _ = self.engine.write_wrapping_slot(rotation.new_slot, None);
            }
            Ok(Some(g)) if g == rotation.new.generation => {
                let _ = self.finish_rotation(rotation);
            }
            _ => {}
        }
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

/// The associated data of incident `number`'s data key as sealed in `data_keys`: for
/// checks that look for it in raw bytes (tests/desk/purge.rs).
pub fn data_key_place(number: u64) -> Vec<u8> {
    aad("data_keys", &number.to_be_bytes())
}

/// A generation as `meta` keeps it.
fn read_generation(raw: Option<Vec<u8>>) -> Result<Option<u64>, StoreError> {
    raw.map(|r| decode_u64(&r, "wrapping key generation"))
        .transpose()
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

    /// Incident 1 gets people 1 and 2, incident 2 person 3.
    fn fill(store: &Store) {
        store
            .commit(&Changes {
                pages: vec![page(1, &[1, 2]), page(2, &[3])],
                ..Changes::default()
            })
            .unwrap();
    }

    #[test]
    fn each_incident_has_its_own_key_and_a_purge_destroys_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &Key::generate().unwrap()).unwrap();
        fill(&store);
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
            fill(&store);
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

    /// A purge cut short at each step: the next open keeps the generation `meta` names and
    /// empties the other slot, and every live incident's data still opens.
    #[test]
    fn a_purge_cut_short_is_settled_at_open_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let key = Key::generate().unwrap();
        let filled = |store: &Store| {
            store
                .commit(&Changes {
                    pages: vec![page(1, &[1]), page(2, &[2, 3])],
                    ..Changes::default()
                })
                .unwrap();
        };
        let slots_used = |store: &Store| {
            store
                .engine
                .read_wrapping_slots()
                .unwrap()
                .iter()
                .filter(|s| s.is_some())
                .count()
        };
        {
            let store = Store::open(&path, &key).unwrap();
            filled(&store);
            // Crash after step 1: a new key in the free slot, nothing committed.
            let rotation = store.begin_rotation(IncidentId::new(1)).unwrap();
            assert_eq!(slots_used(&store), 2);
            std::mem::forget(rotation);
        }
        {
            let store = Store::open(&path, &key).unwrap();
            assert_eq!(slots_used(&store), 1);
            assert_eq!(
                store.generation().unwrap(),
                Some(1),
                "the purge never happened"
            );
            assert_eq!(store.people(IncidentId::new(1)).count(), 1);
            // Crash after step 2: committed, the old slot not yet emptied.
            let rotation = store.begin_rotation(IncidentId::new(1)).unwrap();
            store
                .commit_rotating(
                    &Changes {
                        purge: Some(IncidentId::new(1)),
                        ..Changes::default()
                    },
                    Some(&rotation),
                )
                .unwrap();
            store.flush().unwrap();
            std::mem::forget(rotation);
        }
        let store = Store::open(&path, &key).unwrap();
        assert_eq!(slots_used(&store), 1);
        assert_eq!(store.generation().unwrap(), Some(2));
        assert!(store.is_purged(IncidentId::new(1)).unwrap());
        assert_eq!(store.people(IncidentId::new(1)).count(), 0);
        let names: Vec<String> = store
            .people(IncidentId::new(2))
            .map(|p| p.unwrap().name)
            .collect();
        assert_eq!(names, ["P2", "P3"]);
    }

    /// A database of format 4 (data keys sealed under the database key, no wrapping key)
    /// gets its first wrapping key at open, with every data key resealed under it.
    #[test]
    fn a_format_4_database_gets_a_wrapping_key_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let key = Key::generate().unwrap();
        {
            let store = Store::open(&path, &key).unwrap();
            fill(&store);
            // Put it back the way format 4 kept it.
            let wrapping = store.wrapping().unwrap();
            let keys: Vec<_> = store
                .engine
                .iter(Tree::DataKeys)
                .map(Result::unwrap)
                .collect();
            for (at, raw) in keys {
                let place = aad("data_keys", &at);
                let plain = wrapping.cipher.open(&place, &raw).unwrap();
                let sealed = store.cipher.seal(&place, &plain).unwrap();
                store.engine.put(Tree::DataKeys, &at, &sealed).unwrap();
            }
            for slot in 0..WRAPPING_SLOTS {
                store.engine.write_wrapping_slot(slot, None).unwrap();
            }
            store
                .engine
                .apply(vec![
                    Write::Remove(Tree::Meta, KEY_WRAPPING.to_vec()),
                    Write::Put(
                        Tree::Meta,
                        super::super::KEY_FORMAT.to_vec(),
                        4u32.to_be_bytes().to_vec(),
                    ),
                ])
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(&path, &key).unwrap();
        assert_eq!(store.generation().unwrap(), Some(1));
        let names: Vec<String> = store
            .people(IncidentId::new(1))
            .map(|p| p.unwrap().name)
            .collect();
        assert_eq!(names, ["P1", "P2"]);
        for kv in store.engine.iter(Tree::DataKeys) {
            let (at, raw) = kv.unwrap();
            assert!(
                store.cipher.open(&aad("data_keys", &at), &raw).is_none(),
                "a data key still sealed under the database key"
            );
        }
    }
}
