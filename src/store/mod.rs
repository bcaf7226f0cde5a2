//! Persistence on sled. This is the only module that knows sled: it owns the trees, the
//! key layout, the encoding and the transactions. Every change the desk makes arrives here
//! as one [`Changes`] value and is written, with its audit events, in one transaction and
//! flushed before `commit` returns.
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
//!   notification (its letter)
//! - `outbox_state`: the same key -> its recipient and delivery state (small, rewritten as
//!   it moves)
//! - `outbox_tally`: incident id + template -> letters per delivery state (`tally.rs`)
//! - `outbox_attention`: outbox key -> nothing, for letters that failed, bounced or went to
//!   a previous address
//! - `outbox_dict`: incident id + template -> the dictionary its letters are compressed
//!   against (`letters.rs`)
//! - `evidence`: incident id -> the analysed access log of the exposed store
//! - `data_keys`: incident id -> its data key sealed under the database key, or the
//!   tombstone of a purge (`data_keys.rs`)
//!
//! Beside the trees, `sent.journal` notes the letters a running send had accepted (see
//! `journal.rs`); `meta` also holds the send leases.
//!
//! Files: `codec.rs` (keys and values as bytes), `outbox.rs` (letters, delivery states, send
//! leases, the journal's handle), `journal.rs` (the send journal file), `roster.rs` (roster
//! pages), `audit_head.rs` (the keyed head, the witness, reading the chain back), `dir.rs`
//! (the database directory and its modes), `notices.rs` (change notices to watchers),
//! `tally.rs` (outbox counts), `letters.rs` (how a letter is packed), `reads.rs` (reading
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
mod data_keys;
mod dir;
mod error;
mod journal;
mod letters;
mod notices;
mod outbox;
mod reads;
mod roster;
mod tally;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

pub use error::StoreError;
pub use outbox::{QueuedLetters, SendJournal};
pub use roster::{PAGE_SIZE, Roster, RosterPage};

use crate::audit::witness::Witness;
use crate::audit::{self, Head, HeadKey};
use crate::crypto::{Cipher, Key};
use crate::domain::{AuditEvent, EventDraft, Incident, IncidentId, Program};
use crate::notify::{Delivery, Notification, NotificationRef};
use audit_head::decode_head;
use codec::{
    StoredEvent, aad, decode, encode, incident_key, incident_page_key, page_key, timeline_key,
    unhex,
};
use dir::{prepare_dir, tighten_files};

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 4;

/// The format before per-incident data keys (everything sealed under the database key).
const SHARED_KEY_FORMAT: u32 = 3;

/// How many incidents one record of the `incidents` tree holds.
pub const INCIDENTS_PER_PAGE: u64 = 64;

/// sled's page cache; its 1 GiB default made a 100,000-letter send peak at 440 MB. 8 MiB
/// keeps that send under 150 MB (16 MiB: 158 MB, about 13% faster; docs/PERFORMANCE.md).
const CACHE_BYTES: u64 = 8 * 1024 * 1024;

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
    /// New notifications, stored with a queued delivery state.
    pub letters: Vec<Notification>,
    /// Delivery states of existing notifications.
    pub deliveries: Vec<(NotificationRef, Delivery)>,
    /// An incident's exposure evidence, replacing any before.
    pub evidence: Option<(IncidentId, crate::evidence::Evidence)>,
    /// An incident whose data key this commit destroys (see `data_keys.rs`); its records
    /// are removed once the commit is on disk.
    pub purge: Option<IncidentId>,
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
    path: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    incidents: sled::Tree,
    people: sled::Tree,
    programs: sled::Tree,
    audit: sled::Tree,
    audit_by_incident: sled::Tree,
    outbox: sled::Tree,
    outbox_state: sled::Tree,
    /// Letters per state, per incident and template, kept in each commit (`tally.rs`).
    outbox_tally: sled::Tree,
    /// The letters a responder must look at (failed, bounced, sent to a previous address).
    outbox_attention: sled::Tree,
    /// Per incident and template, the dictionary its letters are compressed against.
    outbox_dict: sled::Tree,
    dicts: letters::Dictionaries,
    evidence: sled::Tree,
    /// Per incident, its data key sealed under the database key, or a purge's tombstone.
    data_keys: sled::Tree,
    data_key_cache: data_keys::DataKeys,
    cipher: Cipher,
    /// The secret behind blinded outbox keys, derived from the database key.
    blind: [u8; 32],
    /// Tags the audit head, derived from the database key.
    head_key: HeadKey,
    /// Where committed heads are also recorded, outside the database directory.
    witness: Option<Witness>,
    journal: std::sync::Arc<journal::Journal>,
    watchers: notices::Watchers,
}

impl Store {
    /// Opens the database in `dir` with `key`, creating it (mode 0700) if it does not exist.
    /// Refuses a directory that holds something else, a database of another format version
    /// and a key that does not match. Opening tightens the process's umask to 077: every
    /// file the database writes holds personal data.
    pub fn open(dir: &Path, key: &Key) -> Result<Store, StoreError> {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
        prepare_dir(dir)?;
        // Every commit flushes before it returns, so sled's periodic flusher thread would
        // only burn a core.
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| StoreError::open(dir, e))?;
        let tree = |name: &str| db.open_tree(name).map_err(|e| StoreError::open(dir, e));
        let store = Store {
            path: dir.to_owned(),
            meta: tree("meta")?,
            incidents: tree("incidents")?,
            people: tree("people")?,
            programs: tree("programs")?,
            audit: tree("audit")?,
            audit_by_incident: tree("audit_by_incident")?,
            outbox: tree("outbox")?,
            outbox_state: tree("outbox_state")?,
            outbox_tally: tree("outbox_tally")?,
            outbox_attention: tree("outbox_attention")?,
            outbox_dict: tree("outbox_dict")?,
            dicts: letters::Dictionaries::default(),
            evidence: tree("evidence")?,
            data_keys: tree("data_keys")?,
            data_key_cache: data_keys::DataKeys::default(),
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
            journal: std::sync::Arc::new(journal::Journal::new(dir)),
            watchers: notices::Watchers::default(),
            db,
        };
        store.check_key()?;
        store.check_format()?;
        store.build_tally()?;
        store.settle_purges()?;
        store.settle_journal()?;
        tighten_files(dir)?;
        Ok(store)
    }

    /// Refuses a key that does not open the check value; a new database records one.
    fn check_key(&self) -> Result<(), StoreError> {
        match self.meta.get(KEY_CHECK)? {
            Some(raw) => match self.cipher.open(KEY_CHECK, &raw) {
                Some(text) if text == CHECK_TEXT => Ok(()),
                _ => Err(StoreError::WrongKey {
                    path: self.path.clone(),
                }),
            },
            None => {
                let sealed = self.cipher.seal(KEY_CHECK, CHECK_TEXT)?;
                self.meta.insert(KEY_CHECK, sealed)?;
                self.db.flush()?;
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
        self.db.flush()?;
        Ok(())
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_format(&self) -> Result<(), StoreError> {
        match self.meta.get(KEY_FORMAT)? {
            Some(raw) => {
                let found = <[u8; 4]>::try_from(raw.as_ref())
                    .map(u32::from_be_bytes)
                    .unwrap_or(u32::MAX);
                if found == audit_head::UNKEYED_FORMAT {
                    self.key_unkeyed_head()?;
                }
                if found == audit_head::UNKEYED_FORMAT || found == SHARED_KEY_FORMAT {
                    self.reseal_under_data_keys()?;
                    self.meta
                        .insert(KEY_FORMAT, &FORMAT_VERSION.to_be_bytes())?;
                    self.db.flush()?;
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
                let empty =
                    self.incidents.is_empty() && self.programs.is_empty() && self.audit.is_empty();
                if !empty {
                    return Err(StoreError::UnknownFormat {
                        path: self.path.clone(),
                        found: 0,
                    });
                }
                self.meta
                    .insert(KEY_FORMAT, &FORMAT_VERSION.to_be_bytes())?;
                self.db.flush()?;
            }
        }
        Ok(())
    }

    /// Writes all of `changes` and their audit events in one transaction, flushes, then
    /// appends the new head to the witness (a witness that cannot be written fails the
    /// commit after the change is saved, saying so).
    /// Returns the events as chained.
    pub fn commit(&self, changes: &Changes) -> Result<Vec<AuditEvent>, StoreError> {
        let sealed = self.commit_unflushed(changes)?;
        self.db.flush()?;
        if let Some(id) = changes.purge {
            self.remove_purged_records(id)?;
        }
        self.witness_commit(&sealed)?;
        self.watchers.publish(&sealed);
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
        // The incidents whose personal records this commit writes.
        let personal: std::collections::BTreeSet<IncidentId> = changes
            .pages
            .iter()
            .map(|p| p.incident)
            .chain(changes.letters.iter().map(|n| n.target.incident))
            .chain(changes.deliveries.iter().map(|(r, _)| r.incident))
            .chain(changes.evidence.iter().map(|(id, _)| *id))
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
                self.seal("people", &key, &page.people)
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
        let trees = (
            &self.evidence,
            &self.meta,
            &self.incidents,
            &self.people,
            &self.programs,
            &self.audit,
            &self.audit_by_incident,
            &self.outbox,
            &self.outbox_state,
            &self.outbox_tally,
            &self.outbox_attention,
            &self.outbox_dict,
            &self.data_keys,
        );
        // Each written state's key, its new state and whether it needs attention (the last
        // write of a key in this commit wins).
        let mut written: std::collections::BTreeMap<&[u8], tally::Mark> =
            std::collections::BTreeMap::new();
        for (n, (key, _, _)) in changes.letters.iter().zip(&letters) {
            written.insert(key, tally::Mark::of(&Delivery::queued(n.queued_at)));
        }
        for ((_, d), (key, _)) in changes.deliveries.iter().zip(&deliveries) {
            written.insert(key, tally::Mark::of(d));
        }
        let result = trees.transaction(|trees| {
            let (
                ev,
                meta,
                inc,
                ppl,
                prog,
                aud,
                idx,
                out,
                out_state,
                out_tally,
                out_attention,
                out_dict,
                data_keys,
            ) = trees;
            // Read in the transaction, so that a purge committed meanwhile (the send's
            // recorder writes without the desk's writer lock) makes this commit retry and
            // fail rather than write records under a destroyed key.
            for id in &personal {
                if data_keys
                    .get(id.number().to_be_bytes())?
                    .is_some_and(|v| v.as_ref() == data_keys::tombstone())
                {
                    return Err(ConflictableTransactionError::Abort(StoreError::Purged(*id)));
                }
            }
            if let Some(id) = changes.purge {
                data_keys.insert(&id.number().to_be_bytes(), data_keys::tombstone())?;
            }
            for (pair, _, sealed) in &new_dicts {
                if out_dict.get(pair)?.is_some() {
                    // Letters are written under the desk's writer lock, so this is a bug.
                    return Err(ConflictableTransactionError::Abort(StoreError::Encode(
                        "two writers made a letter dictionary at once".into(),
                    )));
                }
                out_dict.insert(pair.as_slice(), sealed.as_slice())?;
            }
            if let Some((key, value)) = &evidence {
                ev.insert(key.as_slice(), value.as_slice())?;
            }
            let mut tallies = tally::Deltas::default();
            for (key, mark) in &written {
                let old = match out_state.get(key)? {
                    Some(raw) => Some(
                        self.unseal::<outbox::StoredDelivery>(
                            "outbox_state",
                            key,
                            &raw,
                            "delivery state",
                        )
                        .map(|s| tally::Mark::of(&s.delivery))
                        .map_err(ConflictableTransactionError::Abort)?,
                    ),
                    None => None,
                };
                tallies
                    .change(key, old, *mark)
                    .map_err(ConflictableTransactionError::Abort)?;
                if mark.attention {
                    out_attention.insert(*key, &[])?;
                } else if old.is_some_and(|o| o.attention) {
                    out_attention.remove(*key)?;
                }
            }
            tallies.apply(out_tally)?;
            for (key, letter, state) in &letters {
                out.insert(key.as_slice(), letter.as_slice())?;
                out_state.insert(key.as_slice(), state.as_slice())?;
            }
            for (key, state) in &deliveries {
                out_state.insert(key.as_slice(), state.as_slice())?;
            }
            for incident in &changes.incidents {
                let key = incident_page_key(incident.id);
                let mut page: Vec<Incident> = match inc.get(key)? {
                    Some(raw) => decode(&raw, "incident page")
                        .map_err(ConflictableTransactionError::Abort)?,
                    None => Vec::new(),
                };
                match page.binary_search_by_key(&incident.id, |i| i.id) {
                    Ok(at) => page[at] = incident.clone(),
                    Err(at) => page.insert(at, incident.clone()),
                }
                let value = encode(&page).map_err(ConflictableTransactionError::Abort)?;
                inc.insert(&key, value)?;
            }
            for (key, value) in &programs {
                prog.insert(key.as_slice(), value.as_slice())?;
            }
            for (key, value) in &pages {
                ppl.insert(key.as_slice(), value.as_slice())?;
            }

            let mut head = meta
                .get(KEY_AUDIT_HEAD)?
                .map(|raw| decode_head(&raw))
                .transpose()
                .map_err(ConflictableTransactionError::Abort)?
                .unwrap_or(Head {
                    seq: 0,
                    hash: audit::GENESIS,
                });
            let mut sealed = Vec::with_capacity(changes.events.len());
            for draft in &changes.events {
                let seq = head.seq + 1;
                let event = AuditEvent {
                    seq,
                    draft: draft.clone(),
                    hash: String::new(),
                    revealed: None,
                };
                let body = encode(&StoredEvent::from(&event))
                    .map_err(ConflictableTransactionError::Abort)?;
                let hash = audit::link(&head.hash, &body);
                let mut record = Vec::with_capacity(32 + body.len());
                record.extend_from_slice(&hash);
                record.extend_from_slice(&body);
                aud.insert(&seq.to_be_bytes(), record)?;
                if let Some(id) = draft.incident {
                    idx.insert(timeline_key(id, seq).as_slice(), &[])?;
                }
                head = Head { seq, hash };
                sealed.push(AuditEvent {
                    hash: audit::hex(&hash),
                    ..event
                });
            }
            meta.insert(KEY_AUDIT_HEAD, self.keyed_head(&head))?;
            Ok(sealed)
        });
        let sealed = result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        })?;
        for (pair, dict, _) in new_dicts {
            self.dicts.remember(pair, dict);
        }
        Ok(sealed)
    }
}
