//! Persistence. The store owns the trees, the key layout, the encoding and the
//! transactions; a database engine (`engine.rs`: sled embedded, or PostgreSQL) keeps the
//! trees. Only `engine_sled.rs` knows sled and only `engine_pg/` knows PostgreSQL. Every
//! change the desk makes arrives here as one [`Changes`] value and is written, with its
//! audit events, in one transaction and flushed before `commit` returns.
//!
//! Trees and keys (integers big-endian, so scans come out in order):
//! - `meta`: `format_version` (u32), `audit_head` (seq u64 + hash + HMAC tag, see
//!   [`audit_head`])
//! - `incidents`: page number -> the page's incidents, [`INCIDENTS_PER_PAGE`] to a page in
//!   id order (scanning a few hundred pages is much cheaper in sled than scanning one key
//!   per incident)
//! - `people`: incident id + page number (u32) -> a page of affected people (see [`roster`])
//! - `programs`: slug -> programme
//! - `audit`: seq -> hash (32 bytes) + event body
//! - `audit_by_incident`: incident id + seq -> nothing (the timeline index)
//! - `outbox`: incident id + template + 0 + roster position + blinded recipient ->
//!   notification (its letter, headed by its queued state)
//! - `outbox_state`: the same key -> its recipient and delivery state (small, rewritten as
//!   it moves), from the first change on: a letter without one is queued (`letters.rs`)
//! - `outbox_tally`: incident id + template -> letters per delivery state (`tally.rs`)
//! - `outbox_attention`: outbox key -> nothing, for letters that failed, bounced or went to
//!   a previous address
//! - `outbox_dict`: incident id + template -> the dictionary its letters are compressed
//!   against (`letters.rs`)
//! - `evidence`: incident id -> the analysed access log of the exposed store
//! - `data_keys`: incident id -> its data key sealed under the database key, or the
//!   tombstone of a purge (`data_keys.rs`)
//!
//! Beside the trees, the send journal notes the letters a running send had accepted (see
//! `journal.rs`: `sent.journal` on sled, a table on PostgreSQL); `meta` also holds the send
//! leases.
//!
//! Files: `codec.rs` (keys and values as bytes), `outbox.rs` (letters, delivery states, send
//! leases, the journal's handle), `journal.rs` (the send journal file), `roster.rs` (roster
//! pages), `audit_head.rs` (the keyed head, the witness, reading the chain back), `dir.rs`
//! (the database directory and its modes), `notices.rs` (change notices to watchers),
//! `tally.rs` (outbox counts), `letters.rs` (how a letter is packed), `states.rs` (reading
//! delivery states, written or from a letter's head), `reads.rs` (reading
//! incidents, rosters, programmes and evidence), `data_keys.rs` (each incident's data key,
//! purges, the upgrade from one key).
//!
//! Personal data never reaches the disk in the clear: roster pages, letters, delivery
//! states, dictionaries and evidence are sealed under their incident's data key
//! ([`crate::crypto`], `data_keys.rs`), and outbox keys carry a
//! keyed hash of the recipient instead of the recipient. `meta` holds a sealed check value
//! so that a wrong key is refused at open instead of reading as garbage.

mod audit_head;
mod codec;
pub mod copy;
mod data_keys;
mod dir;
mod engine;
mod engine_pg;
mod engine_sled;
mod error;
mod journal;
pub use journal::Deferred;
mod letters;
pub use letters::{LetterSealer, SealedNew};
mod notices;
mod outbox;
mod reads;
mod roster;
mod states;
mod tally;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use data_keys::{WRAPPING_AAD, data_key_place};
pub use engine::{Engine, Tree, WriterLock};
pub use engine_pg::{PgEngine, SCHEMA_VERSION, describe_url, is_url};
pub use error::StoreError;
pub use outbox::{QueuedLetters, SendJournal};
pub use roster::{Appender, PAGE_SIZE, PageSealer, Roster, RosterPage, SealedPage};

use crate::audit::witness::Witness;
use crate::audit::{self, Head, HeadKey};
use crate::crypto::{Cipher, Key};
use crate::domain::{AuditEvent, ChangeNotice, EventDraft, Incident, IncidentId, Program};
use crate::notify::{Delivery, Notification, NotificationRef};
use audit_head::decode_head;
use codec::{
    StoredEvent, aad, decode, encode, incident_key, incident_page_key, page_key, timeline_key,
    unhex,
};
use dir::prepare_dir;

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 5;

/// The format before per-incident data keys (everything sealed under the database key).
const SHARED_KEY_FORMAT: u32 = 3;
/// The format whose data keys were sealed under the database key (no wrapping key).
const DATA_KEY_FORMAT: u32 = 4;

/// How many incidents one record of the `incidents` tree holds.
pub const INCIDENTS_PER_PAGE: u64 = 64;

const KEY_FORMAT: &[u8] = b"format_version";
const KEY_AUDIT_HEAD: &[u8] = b"audit_head";
const KEY_CHECK: &[u8] = b"key_check";
const KEY_SEND_LEASES: &[u8] = b"send_leases";
/// Set once the outbox tallies and attention index are built (see `tally.rs`).
const KEY_TALLY: &[u8] = b"outbox_tally_v1";
const CHECK_TEXT: &[u8] = b"breachdesk database key";
/// Associated data of the private texts in audit events.
const PRIVATE_AAD: &[u8] = b"audit.private";

/// An encoded key and value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// Everything one user action changes, written atomically.
#[derive(Debug, Default)]
pub struct Changes {
    pub incidents: Vec<Incident>,
    pub programs: Vec<Program>,
    pub pages: Vec<RosterPage>,
    /// Roster pages already sealed (by [`Store::page_sealer`]), written as they are.
    pub sealed_pages: Vec<SealedPage>,
    /// New notifications, queued (a letter built again for the same key is queued again).
    pub letters: Vec<Notification>,
    /// New notifications already sealed (by [`Store::letter_sealer`]), likewise: only for
    /// letters not in the outbox, checked under the desk's writer lock.
    pub sealed: Vec<letters::SealedNew>,
    /// Delivery states of existing notifications.
    pub deliveries: Vec<(NotificationRef, Delivery)>,
    /// An incident's exposure evidence, replacing any before.
    pub evidence: Option<(IncidentId, crate::evidence::Evidence)>,
    /// An incident whose data key this commit destroys (see `data_keys.rs`); its records
    /// are removed once the commit is on disk.
    pub purge: Option<IncidentId>,
    /// Starts a new audit witness where the one this database kept is gone (an admin's
    /// `audit witness reset`); any other commit is refused then (`audit_head.rs`).
    pub reset_witness: bool,
    pub events: Vec<EventDraft>,
}

impl Changes {
    /// Changes that only append events.
    pub fn events(events: Vec<EventDraft>) -> Self {
        Changes {
            events,
            ..Changes::default()
        }
    }
}

/// An open breachdesk database.
pub struct Store {
    /// Where the database is (sled), or where this process keeps its send journal beside a
    /// shared engine (PostgreSQL).
    path: PathBuf,
    engine: Box<dyn Engine>,
    dicts: letters::Dictionaries,
    data_key_cache: data_keys::DataKeys,
    wrapping_cache: data_keys::WrappingCache,
    cipher: Cipher,
    /// The secret behind blinded outbox keys, derived from the database key.
    blind: [u8; 32],
    /// Tags the audit head, derived from the database key.
    head_key: HeadKey,
    /// Where committed heads are also recorded, outside the database directory.
    witness: Option<Witness>,
    /// Set once this database is known to keep a witness at [`Store::witness`]'s path.
    witness_kept: std::sync::atomic::AtomicBool,
    journal: std::sync::Arc<journal::Journal>,
    watchers: std::sync::Arc<notices::Watchers>,
    /// This store's id in the notices it announces to other processes.
    id: String,
}

impl Store {
    /// Opens the database in `dir` with `key`, creating it (mode 0700) if it does not exist.
    /// Refuses a directory that holds something else, a database of another format version
    /// and a key that does not match. Every file the database writes holds personal data:
    /// the directory is 0700, so no other user reaches them, and the engine's files are set
    /// to 0600 once it has opened (the process's umask is left alone).
    pub fn open(dir: &Path, key: &Key) -> Result<Store, StoreError> {
        prepare_dir(dir)?;
        let engine = engine_sled::SledEngine::open(dir)?;
        Store::on_engine(Box::new(engine), dir, key)
    }

    /// Opens the PostgreSQL database at `url` with `key`; this process keeps its send
    /// journal in `local` (created 0700). Refuses a database whose schema needs
    /// `breachdesk db migrate`. Change notices of other processes on the same database
    /// reach this store's watchers.
    pub fn open_postgres(url: &str, key: &Key, local: &Path) -> Result<Store, StoreError> {
        dir::prepare_local_dir(local)?;
        let engine = PgEngine::open(url)?;
        let store = Store::on_engine(Box::new(engine), local, key)?;
        let watchers = std::sync::Arc::downgrade(&store.watchers);
        store.engine.listen(
            store.id.clone(),
            Box::new(move |payload| {
                let Some(watchers) = watchers.upgrade() else {
                    return false;
                };
                if let Some(notices) = payload
                    .and_then(|p| p.split_once(' '))
                    .and_then(|(_, json)| serde_json::from_str::<Vec<ChangeNotice>>(json).ok())
                {
                    watchers.publish_notices(&notices);
                }
                true
            }),
        );
        Ok(store)
    }

    /// Tells other processes on a shared engine what a commit changed, a few hundred
    /// notices an announcement (PostgreSQL takes up to 8,000 bytes). Notices are hints to
    /// reload: one that is lost costs a screen a reload, so a failure is not the commit's.
    fn announce(&self, notices: &[ChangeNotice]) {
        for part in notices.chunks(40) {
            if let Ok(json) = serde_json::to_string(part) {
                let _ = self.engine.announce(&format!("{} {json}", self.id));
            }
        }
    }

    /// The engine that keeps the trees.
    pub fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }

    /// Opens a database kept by `engine`, with this process's journal in `local`.
    pub(super) fn on_engine(
        engine: Box<dyn Engine>,
        local: &Path,
        key: &Key,
    ) -> Result<Store, StoreError> {
        let store = Store {
            journal: std::sync::Arc::new(journal::Journal::new(local, engine.shared_journal())),
            path: local.to_owned(),
            engine,
            dicts: letters::Dictionaries::default(),
            data_key_cache: data_keys::DataKeys::default(),
            wrapping_cache: data_keys::WrappingCache::default(),
            cipher: Cipher::new(key),
            blind: {
                use sha2::Digest as _;
                let mut h = sha2::Sha256::new();
                h.update(b"breachdesk outbox key blinding\0");
                h.update(key.to_hex().as_bytes());
                h.finalize().into()
            },
            head_key: HeadKey::derive(key),
            witness: None,
            witness_kept: std::sync::atomic::AtomicBool::new(false),
            watchers: std::sync::Arc::default(),
            id: {
                let mut raw = [0u8; 8];
                getrandom::fill(&mut raw).map_err(|e| StoreError::Encode(e.to_string()))?;
                raw.iter().map(|b| format!("{b:02x}")).collect()
            },
        };
        store.check_key()?;
        store.settle_wrapping()?;
        store.check_format()?;
        store.build_tally()?;
        store.settle_purges()?;
        store.settle_journal()?;
        Ok(store)
    }

    /// Refuses a key that does not open the check value; a new database records one.
    fn check_key(&self) -> Result<(), StoreError> {
        match self.engine.get(Tree::Meta, KEY_CHECK)? {
            Some(raw) => match self.cipher.open(KEY_CHECK, &raw) {
                Some(text) if text == CHECK_TEXT => Ok(()),
                _ => Err(StoreError::WrongKey {
                    path: self.path.clone(),
                }),
            },
            None => {
                let sealed = self.cipher.seal(KEY_CHECK, CHECK_TEXT)?;
                self.engine.put(Tree::Meta, KEY_CHECK, &sealed)?;
                self.engine.flush()?;
                Ok(())
            }
        }
    }

    /// Seals an encoded personal record for `tree` at `key`, under its incident's data key.
    fn seal<T: Serialize>(&self, tree: &str, key: &[u8], value: &T) -> Result<Vec<u8>, StoreError> {
        Ok(self
            .data_cipher(key)?
            .seal(&aad(tree, key), &encode(value)?)?)
    }

    /// Opens and decodes a sealed personal record of `tree` at `key`.
    fn unseal<T: DeserializeOwned>(
        &self,
        tree: &str,
        key: &[u8],
        raw: &[u8],
        what: &'static str,
    ) -> Result<T, StoreError> {
        let plain = self
            .data_cipher(key)?
            .open(&aad(tree, key), raw)
            .ok_or(StoreError::corrupt(what))?;
        decode(&plain, what)
    }

    /// Seals a private text of an audit event (a hook's command and output) for the desk,
    /// as hex; [`Store::open_text`] reverses it.
    pub fn seal_text(&self, text: &str) -> Result<String, StoreError> {
        let sealed = self.cipher.seal(PRIVATE_AAD, text.as_bytes())?;
        Ok(sealed.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Opens what [`Store::seal_text`] sealed; `None` when it does not open with this key.
    pub fn open_text(&self, sealed: &str) -> Option<String> {
        let raw = unhex(sealed)?;
        let plain = self.cipher.open(PRIVATE_AAD, &raw)?;
        String::from_utf8(plain).ok()
    }

    /// Waits until everything written is on disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.engine.flush()
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_format(&self) -> Result<(), StoreError> {
        match self.engine.get(Tree::Meta, KEY_FORMAT)? {
            Some(raw) => {
                let found = <[u8; 4]>::try_from(raw.as_ref())
                    .map(u32::from_be_bytes)
                    .unwrap_or(u32::MAX);
                if found == audit_head::UNKEYED_FORMAT {
                    self.key_unkeyed_head()?;
                }
                if found == audit_head::UNKEYED_FORMAT
                    || found == SHARED_KEY_FORMAT
                    || found == DATA_KEY_FORMAT
                {
                    // Format 4's data keys were resealed under the wrapping key at open.
                    if found != DATA_KEY_FORMAT {
                        self.reseal_under_data_keys()?;
                    }
                    self.engine
                        .put(Tree::Meta, KEY_FORMAT, &FORMAT_VERSION.to_be_bytes())?;
                    self.engine.flush()?;
                    return Ok(());
                }
                if found != FORMAT_VERSION {
                    return Err(StoreError::UnknownFormat {
                        path: self.path.clone(),
                        found,
                    });
                }
            }
            None => {
                let empty = self.engine.is_empty(Tree::Incidents)?
                    && self.engine.is_empty(Tree::Programs)?
                    && self.engine.is_empty(Tree::Audit)?;
                if !empty {
                    return Err(StoreError::UnknownFormat {
                        path: self.path.clone(),
                        found: 0,
                    });
                }
                self.engine
                    .put(Tree::Meta, KEY_FORMAT, &FORMAT_VERSION.to_be_bytes())?;
                self.engine.flush()?;
            }
        }
        Ok(())
    }

    /// Writes all of `changes` and their audit events in one transaction, flushes, then
    /// appends the new head to the witness (a witness that cannot be written fails the
    /// commit after the change is saved, saying so).
    /// Returns the events as chained.
    /// A purge also replaces the wrapping key (`data_keys.rs`): the caller holds the
    /// writer lock.
    pub fn commit(&self, changes: &Changes) -> Result<Vec<AuditEvent>, StoreError> {
        let rotation = match changes.purge {
            Some(id) => Some(self.begin_rotation(id)?),
            None => None,
        };
        let sealed = match (self.commit_rotating(changes, rotation.as_ref()), rotation) {
            (Ok(sealed), rotation) => {
                // A flush that fails leaves both slots: the next open keeps the one the
                // database names.
                self.engine.flush()?;
                if let Some(rotation) = rotation {
                    self.finish_rotation(rotation)?;
                }
                sealed
            }
            (Err(e), Some(rotation)) => {
                self.abandon_rotation(rotation);
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        };
        if let Some(id) = changes.purge {
            self.remove_purged_records(id)?;
        }
        self.witness_commit(&sealed)?;
        let notices = self.watchers.publish(&sealed);
        self.announce(&notices);
        Ok(sealed)
    }

    /// Notices of every change committed from now on (see `notices.rs`).
    pub fn watch(&self) -> std::sync::mpsc::Receiver<crate::domain::ChangeNotice> {
        self.watchers.subscribe()
    }

    /// Like [`Store::commit`] but without waiting for the disk: only for changes whose loss
    /// in a crash is harmless (marking letters `sending`, which a crash turns back into
    /// `queued` in effect: both are sent again with the same Message-ID).
    pub fn commit_unflushed(&self, changes: &Changes) -> Result<Vec<AuditEvent>, StoreError> {
        if changes.purge.is_some() {
            return Err(StoreError::Encode(
                "a purge is committed with Store::commit".into(),
            ));
        }
        self.commit_rotating(changes, None)
    }

    /// The transaction of a commit; a purge's also replaces the wrapping key.
    fn commit_rotating(
        &self,
        changes: &Changes,
        rotation: Option<&data_keys::Rotation>,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let keep_witness = self.witness_guard(changes.reset_witness)?;
        // The incidents whose personal records this commit writes.
        let personal: std::collections::BTreeSet<IncidentId> = changes
            .pages
            .iter()
            .map(|p| p.incident)
            .chain(changes.letters.iter().map(|n| n.target.incident))
            .chain(changes.sealed.iter().map(|n| n.incident))
            .chain(changes.deliveries.iter().map(|(r, _)| r.incident))
            .chain(changes.evidence.iter().map(|(id, _)| *id))
            .chain(changes.sealed_pages.iter().map(|p| p.incident))
            .collect();
        self.ensure_data_keys(personal.iter().copied())?;
        let programs: Vec<KeyValue> = changes
            .programs
            .iter()
            .map(|p| encode(p).map(|v| (p.slug.as_str().as_bytes().to_vec(), v)))
            .collect::<Result<_, _>>()?;
        let pages: Vec<KeyValue> = changes
            .pages
            .iter()
            .map(|page| {
                let key = page_key(page.incident, page.number);
                self.seal_page(&key, &page.people)
                    .map(|v| (key.to_vec(), v))
            })
            .collect::<Result<_, _>>()?;

        let (letters, new_dicts) = self.seal_letters(&changes.letters)?;
        let deliveries: Vec<KeyValue> = changes
            .deliveries
            .iter()
            .map(|(r, d)| {
                let key = self.outbox_key(r);
                self.seal_delivery(&key, r, d).map(|v| (key, v))
            })
            .collect::<Result<_, _>>()?;
        let evidence: Option<KeyValue> = match &changes.evidence {
            Some((id, e)) => {
                let key = incident_key(*id);
                Some((key.to_vec(), self.seal("evidence", &key, e)?))
            }
            None => None,
        };
        // Each written state's key, its new state and whether it needs attention (the last
        // write of a key in this commit wins).
        let mut written: std::collections::BTreeMap<&[u8], tally::Mark> =
            std::collections::BTreeMap::new();
        for (key, _) in &letters {
            written.insert(key, tally::Mark::QUEUED);
        }
        for ((_, d), (key, _)) in changes.deliveries.iter().zip(&deliveries) {
            written.insert(key, tally::Mark::of(d));
        }
        let mut sealed = Vec::new();
        self.engine.transaction(&mut |txn| {
            // The send's recorder writes without the desk's writer lock, so a purge may
            // have been committed meanwhile.
            for id in &personal {
                data_keys::refuse_purged(txn, *id)?;
            }
            if let Some(id) = changes.purge {
                txn.put(
                    Tree::DataKeys,
                    &id.number().to_be_bytes(),
                    data_keys::tombstone(),
                )?;
            }
            if let Some(rotation) = rotation {
                self.rotate_in(txn, rotation)?;
            }
            if let Some((key, path)) = &keep_witness {
                txn.put(Tree::Meta, key, path)?;
            }
            for (pair, _, sealed) in &new_dicts {
                letters::put_new_dict(txn, pair, sealed)?;
            }
            if let Some((key, value)) = &evidence {
                txn.put(Tree::Evidence, key, value)?;
            }
            let mut tallies = tally::Deltas::default();
            let keys: Vec<&[u8]> = written.keys().copied().collect();
            let olds = txn.get_many(Tree::OutboxState, &keys)?;
            // A letter without a written state is still queued (`letters.rs`): whether one
            // is there decides between that and none.
            let unwritten: Vec<&[u8]> = keys
                .iter()
                .zip(&olds)
                .filter(|(_, old)| old.is_none())
                .map(|(key, _)| *key)
                .collect();
            let mut letters_there = txn.get_many(Tree::Outbox, &unwritten)?.into_iter();
            for ((key, mark), old) in written.iter().zip(olds) {
                let old = match old {
                    Some(raw) => Some(
                        self.unseal::<outbox::StoredDelivery>(
                            "outbox_state",
                            key,
                            &raw,
                            "delivery state",
                        )
                        .map(|s| tally::Mark::of(&s.delivery))?,
                    ),
                    None => letters_there.next().flatten().map(|_| tally::Mark::QUEUED),
                };
                tallies.change(key, old, *mark)?;
                if mark.attention {
                    txn.put(Tree::OutboxAttention, key, &[])?;
                } else if old.is_some_and(|o| o.attention) {
                    txn.remove(Tree::OutboxAttention, key)?;
                }
            }
            // Letters sealed by their builders are new: the caller holds the desk's writer
            // lock and found no letter under their keys, and only it adds letters, so there
            // is no old state to read (nor one to remove).
            for n in &changes.sealed {
                tallies.change(&n.letter.0, None, tally::Mark::QUEUED)?;
            }
            tallies.apply(txn)?;
            // A letter's record holds its queued state; one built again drops the state its
            // old letter had reached (a state written below for the same key replaces that).
            for (key, letter) in &letters {
                txn.put(Tree::Outbox, key, letter)?;
                txn.remove(Tree::OutboxState, key)?;
            }
            for (key, letter) in changes.sealed.iter().map(|n| &n.letter) {
                txn.put(Tree::Outbox, key, letter)?;
            }
            for (key, state) in &deliveries {
                txn.put(Tree::OutboxState, key, state)?;
            }
            for incident in &changes.incidents {
                let key = incident_page_key(incident.id);
                let mut page: Vec<Incident> = match txn.get(Tree::Incidents, &key)? {
                    Some(raw) => decode(&raw, "incident page")?,
                    None => Vec::new(),
                };
                match page.binary_search_by_key(&incident.id, |i| i.id) {
                    Ok(at) => page[at] = incident.clone(),
                    Err(at) => page.insert(at, incident.clone()),
                }
                txn.put(Tree::Incidents, &key, &encode(&page)?)?;
            }
            for (key, value) in &programs {
                txn.put(Tree::Programs, key, value)?;
            }
            for (key, value) in pages
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice()))
                .chain(
                    changes
                        .sealed_pages
                        .iter()
                        .map(|p| (p.key.as_slice(), p.value.as_slice())),
                )
            {
                txn.put(Tree::People, key, value)?;
            }
            sealed = self.chain_events(txn, &changes.events)?;
            Ok(())
        })?;
        for (pair, dict, _) in new_dicts {
            self.dicts.remember(pair, dict);
        }
        Ok(sealed)
    }
    /// Appends `drafts` to the audit chain inside `txn`: each event linked to the head and
    /// the head moved on, so that two writers can never fork the chain.
    fn chain_events(
        &self,
        txn: &mut dyn engine::Txn,
        drafts: &[EventDraft],
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let mut head = txn
            .get(Tree::Meta, KEY_AUDIT_HEAD)?
            .map(|raw| decode_head(&raw))
            .transpose()?
            .unwrap_or(Head {
                seq: 0,
                hash: audit::GENESIS,
            });
        let mut sealed = Vec::with_capacity(drafts.len());
        for draft in drafts {
            let seq = head.seq + 1;
            let event = AuditEvent {
                seq,
                draft: draft.clone(),
                hash: String::new(),
                revealed: None,
            };
            let body = encode(&StoredEvent::from(&event))?;
            let hash = audit::link(&head.hash, &body);
            let mut record = Vec::with_capacity(32 + body.len());
            record.extend_from_slice(&hash);
            record.extend_from_slice(&body);
            txn.put(Tree::Audit, &seq.to_be_bytes(), &record)?;
            if let Some(id) = draft.incident {
                txn.put(Tree::AuditByIncident, &timeline_key(id, seq), &[])?;
            }
            head = Head { seq, hash };
            sealed.push(AuditEvent {
                hash: audit::hex(&hash),
                ..event
            });
        }
        txn.put(Tree::Meta, KEY_AUDIT_HEAD, &self.keyed_head(&head))?;
        Ok(sealed)
    }
}
