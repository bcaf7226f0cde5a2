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
//! - `evidence`: incident id -> the analysed access log of the exposed store
//!
//! Beside the trees, `sent.journal` notes the letters a running send had accepted (see
//! `journal.rs`); `meta` also holds the send leases.
//!
//! Personal data never reaches the disk in the clear: roster pages, letters and delivery
//! states are sealed with the database key ([`crate::crypto`]), and outbox keys carry a
//! keyed hash of the recipient instead of the recipient. `meta` holds a sealed check value
//! so that a wrong key is refused at open instead of reading as garbage.

mod audit_head;
mod error;
mod journal;
mod notices;
mod roster;

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

pub use error::StoreError;
pub use roster::{PAGE_SIZE, Roster, RosterPage};

use crate::audit::witness::Witness;
use crate::audit::{self, Hash, Head, HeadKey, RawEvent};
use crate::crypto::{Cipher, Key};
use crate::domain::{
    AffectedPerson, AuditEvent, EventDraft, Incident, IncidentId, Program, ProgramSlug,
};
use crate::notify::{Delivery, DeliveryState, Notification, NotificationRef, TemplateName};
use audit_head::decode_head;

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 3;

/// How many incidents one record of the `incidents` tree holds.
pub const INCIDENTS_PER_PAGE: u64 = 64;

/// sled's page cache; its 1 GiB default made a 100,000-letter send peak at 440 MB.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

const KEY_FORMAT: &[u8] = b"format_version";
const KEY_AUDIT_HEAD: &[u8] = b"audit_head";
const KEY_CHECK: &[u8] = b"key_check";
const KEY_SEND_LEASES: &[u8] = b"send_leases";
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
    evidence: sled::Tree,
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

/// A handle on the send journal that sending threads can own.
#[derive(Clone)]
pub struct SendJournal {
    journal: std::sync::Arc<journal::Journal>,
    blind: [u8; 32],
}

impl SendJournal {
    /// Notes that the server accepted the letter at `target`, now.
    pub fn note(&self, target: &NotificationRef) -> Result<(), StoreError> {
        self.journal
            .append(&[outbox_key(&self.blind, target)], chrono::Utc::now())
    }
}

/// The outbox key of a notification: its incident, template and roster position in the
/// clear (for scans in roster order), its recipient as a keyed hash.
fn outbox_key(blind: &[u8; 32], target: &NotificationRef) -> Vec<u8> {
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

/// A delivery state as stored: with its recipient, which the key only holds blinded.
#[derive(Serialize, serde::Deserialize)]
struct StoredDelivery {
    recipient: String,
    #[serde(flatten)]
    delivery: Delivery,
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
            evidence: tree("evidence")?,
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
        store.check_format()?;
        store.check_key()?;
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

    /// Seals an encoded record for `tree` at `key`.
    fn seal<T: Serialize>(&self, tree: &str, key: &[u8], value: &T) -> Result<Vec<u8>, StoreError> {
        Ok(self.cipher.seal(&aad(tree, key), &encode(value)?)?)
    }

    /// Opens and decodes a sealed record of `tree` at `key`.
    fn unseal<T: DeserializeOwned>(
        &self,
        tree: &str,
        key: &[u8],
        raw: &[u8],
        what: &'static str,
    ) -> Result<T, StoreError> {
        let plain = self
            .cipher
            .open(&aad(tree, key), raw)
            .ok_or(StoreError::corrupt(what))?;
        decode(&plain, what)
    }

    /// The outbox key of a notification: its incident, template and roster position in the
    /// clear (for scans in roster order), its recipient as a keyed hash.
    fn outbox_key(&self, target: &NotificationRef) -> Vec<u8> {
        outbox_key(&self.blind, target)
    }

    fn seal_delivery(
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

    /// The send leases held now (see [`crate::notify::SendLease`]).
    pub fn send_leases(&self) -> Result<Vec<crate::notify::SendLease>, StoreError> {
        match self.meta.get(KEY_SEND_LEASES)? {
            Some(raw) => decode(&raw, "send leases"),
            None => Ok(Vec::new()),
        }
    }

    /// Replaces the send leases, on disk before it returns. The desk calls it under its
    /// write lock, so a read and this write cannot interleave with another's.
    pub fn put_send_leases(&self, leases: &[crate::notify::SendLease]) -> Result<(), StoreError> {
        self.meta.insert(KEY_SEND_LEASES, encode(&leases)?)?;
        self.db.flush()?;
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

    /// Empties the send journal; only after a commit that records every letter in it.
    pub fn clear_journal(&self) -> Result<(), StoreError> {
        self.journal.clear()
    }

    /// Applies what a sender that died left in the journal: each letter noted there was
    /// accepted by the mail server, so it is sent. Returns how many states changed.
    fn settle_journal(&self) -> Result<usize, StoreError> {
        let entries = self.journal.entries()?;
        let mut batch = sled::Batch::default();
        let mut changed = 0;
        for (key, at) in entries {
            let Some(raw) = self.outbox_state.get(&key)? else {
                continue;
            };
            let mut stored: StoredDelivery =
                self.unseal("outbox_state", &key, &raw, "delivery state")?;
            let d = &mut stored.delivery;
            if d.state == DeliveryState::Sent {
                continue;
            }
            d.state = DeliveryState::Sent;
            d.attempts += 1;
            d.sent_at = Some(at);
            d.updated_at = at;
            d.last_error = None;
            batch.insert(key.as_slice(), self.seal("outbox_state", &key, &stored)?);
            changed += 1;
        }
        if changed > 0 {
            self.outbox_state.apply_batch(batch)?;
            self.db.flush()?;
        }
        self.journal.clear()?;
        Ok(changed)
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
                    return self.key_unkeyed_head();
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

        let mut letters: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> =
            Vec::with_capacity(changes.letters.len());
        for n in &changes.letters {
            let key = self.outbox_key(&n.target);
            let state = self.seal_delivery(&key, &n.target, &Delivery::queued(n.queued_at))?;
            let letter = self.seal("outbox", &key, n)?;
            letters.push((key, letter, state));
        }
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
        );
        let result = trees.transaction(|(ev, meta, inc, ppl, prog, aud, idx, out, out_state)| {
            if let Some((key, value)) = &evidence {
                ev.insert(key.as_slice(), value.as_slice())?;
            }
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
        Ok(sealed)
    }

    /// One incident, if it exists.
    pub fn incident(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        let Some(raw) = self.incidents.get(incident_page_key(id))? else {
            return Ok(None);
        };
        let page: Vec<Incident> = decode(&raw, "incident page")?;
        Ok(page.into_iter().find(|i| i.id == id))
    }

    /// Every incident, in id order.
    pub fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let mut all = Vec::new();
        for kv in self.incidents.iter() {
            let page: Vec<Incident> = decode(&kv?.1, "incident page")?;
            all.extend(page);
        }
        Ok(all)
    }

    /// The highest incident number in use, 0 when there is none.
    pub fn last_incident_number(&self) -> Result<u64, StoreError> {
        match self.incidents.last()? {
            Some((_, raw)) => {
                let page: Vec<Incident> = decode(&raw, "incident page")?;
                Ok(page.last().map_or(0, |i| i.id.number()))
            }
            None => Ok(0),
        }
    }

    /// An incident's whole roster, loaded for changing.
    pub fn roster(&self, id: IncidentId) -> Result<Roster, StoreError> {
        let pages = self
            .people
            .scan_prefix(incident_key(id))
            .map(|kv| {
                let (key, value) = kv?;
                self.unseal("people", &key, &value, "roster page")
            })
            .collect::<Result<_, _>>()?;
        Ok(Roster::from_pages(id, pages))
    }

    /// Everyone on an incident's roster, in the order they were first imported, read a page
    /// at a time.
    pub fn people(
        &self,
        id: IncidentId,
    ) -> impl Iterator<Item = Result<AffectedPerson, StoreError>> + use<'_> {
        self.people.scan_prefix(incident_key(id)).flat_map(|kv| {
            match kv.map_err(StoreError::from).and_then(|(k, v)| {
                self.unseal::<Vec<AffectedPerson>>("people", &k, &v, "roster page")
            }) {
                Ok(page) => page.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            }
        })
    }

    /// Where each person is on an incident's roster (page, slot), without keeping the
    /// people: positions never change once a person is on the roster.
    pub fn roster_positions(
        &self,
        id: IncidentId,
    ) -> Result<std::collections::HashMap<crate::domain::EmployeeId, (u32, usize)>, StoreError>
    {
        let mut positions = std::collections::HashMap::new();
        for (p, kv) in self.people.scan_prefix(incident_key(id)).enumerate() {
            let (key, value) = kv?;
            let page: Vec<AffectedPerson> = self.unseal("people", &key, &value, "roster page")?;
            let p = u32::try_from(p).map_err(|_| StoreError::corrupt("roster page number"))?;
            for (slot, person) in page.into_iter().enumerate() {
                positions.insert(person.employee_id, (p, slot));
            }
        }
        Ok(positions)
    }

    /// One page of an incident's roster.
    pub fn roster_page(
        &self,
        id: IncidentId,
        number: u32,
    ) -> Result<Option<Vec<AffectedPerson>>, StoreError> {
        let key = page_key(id, number);
        self.people
            .get(key)?
            .map(|raw| self.unseal("people", &key, &raw, "roster page"))
            .transpose()
    }

    /// People `offset..offset + limit` of an incident's roster, reading only their pages.
    pub fn people_window(
        &self,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, StoreError> {
        let first = u32::try_from(offset / PAGE_SIZE).unwrap_or(u32::MAX);
        let mut skip = offset % PAGE_SIZE;
        let mut out = Vec::with_capacity(limit);
        let range = page_key(id, first)..=page_key(id, u32::MAX);
        for kv in self.people.range(range) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = kv?;
            let page: Vec<AffectedPerson> = self.unseal("people", &key, &value, "roster page")?;
            out.extend(page.into_iter().skip(skip).take(limit - out.len()));
            skip = 0;
        }
        Ok(out)
    }

    /// One programme, if it exists.
    pub fn program(&self, slug: &ProgramSlug) -> Result<Option<Program>, StoreError> {
        self.programs
            .get(slug.as_str().as_bytes())?
            .map(|raw| decode(&raw, "programme"))
            .transpose()
    }

    /// Every programme, in slug order.
    pub fn programs(&self) -> Result<Vec<Program>, StoreError> {
        self.programs
            .iter()
            .map(|kv| decode(&kv?.1, "programme"))
            .collect()
    }

    /// An incident's exposure evidence, if imported.
    pub fn evidence(
        &self,
        id: IncidentId,
    ) -> Result<Option<crate::evidence::Evidence>, StoreError> {
        let key = incident_key(id);
        self.evidence
            .get(key)?
            .map(|raw| self.unseal("evidence", &key, &raw, "exposure evidence"))
            .transpose()
    }

    /// Whether a notification exists.
    pub fn has_notification(&self, target: &NotificationRef) -> Result<bool, StoreError> {
        Ok(self.outbox_state.contains_key(self.outbox_key(target))?)
    }

    /// One notification's letter.
    pub fn notification(
        &self,
        target: &NotificationRef,
    ) -> Result<Option<Notification>, StoreError> {
        let key = self.outbox_key(target);
        self.outbox
            .get(&key)?
            .map(|raw| self.unseal("outbox", &key, &raw, "notification"))
            .transpose()
    }

    /// One notification's delivery state.
    pub fn delivery(&self, target: &NotificationRef) -> Result<Option<Delivery>, StoreError> {
        let key = self.outbox_key(target);
        self.outbox_state
            .get(&key)?
            .map(|raw| {
                self.unseal::<StoredDelivery>("outbox_state", &key, &raw, "delivery state")
                    .map(|s| s.delivery)
            })
            .transpose()
    }

    /// Delivery states, of one incident or of all, in key order.
    pub fn deliveries(
        &self,
        incident: Option<IncidentId>,
    ) -> Result<Vec<(NotificationRef, Delivery)>, StoreError> {
        let iter = match incident {
            Some(id) => self.outbox_state.scan_prefix(incident_key(id)),
            None => self.outbox_state.iter(),
        };
        iter.map(|kv| {
            let (key, value) = kv?;
            let stored: StoredDelivery =
                self.unseal("outbox_state", &key, &value, "delivery state")?;
            Ok((decode_outbox_key(&key, stored.recipient)?, stored.delivery))
        })
        .collect()
    }

    /// Every audit event, oldest first.
    pub fn events(&self) -> impl Iterator<Item = Result<AuditEvent, StoreError>> + use<> {
        self.audit.iter().map(|kv| decode_event(&kv?.1))
    }

    /// The events that name one incident, oldest first.
    pub fn incident_events(&self, id: IncidentId) -> Result<Vec<AuditEvent>, StoreError> {
        let mut events = Vec::new();
        for kv in self.audit_by_incident.scan_prefix(incident_key(id)) {
            let (key, _) = kv?;
            let seq = key
                .get(8..)
                .ok_or_else(|| StoreError::corrupt("timeline key"))?;
            let raw = self
                .audit
                .get(seq)?
                .ok_or_else(|| StoreError::corrupt("timeline entry without its event"))?;
            events.push(decode_event(&raw)?);
        }
        Ok(events)
    }

    /// The raw chain and its head, for verification.
    pub fn raw_audit(&self) -> Result<(Vec<RawEvent>, Option<Head>), StoreError> {
        let mut events = Vec::new();
        for kv in self.audit.iter() {
            let (key, value) = kv?;
            let key_seq = decode_u64(&key, "audit key")?;
            let (stored_hash, body) = split_record(&value).unwrap_or(([0; 32], &[]));
            let body_seq = serde_json::from_slice::<StoredEvent>(body)
                .ok()
                .map(|e| e.seq);
            events.push(RawEvent {
                key_seq,
                body_seq,
                stored_hash,
                body: body.to_vec(),
            });
        }
        let head = self
            .meta
            .get(KEY_AUDIT_HEAD)?
            .map(|raw| decode_head(&raw))
            .transpose()?;
        Ok((events, head))
    }
}

/// Creates the database directory with mode 0700, or tightens an existing one, and refuses
/// a non-empty directory that is not a sled database.
fn prepare_dir(dir: &Path) -> Result<(), StoreError> {
    let io = |e| StoreError::Io {
        path: dir.to_owned(),
        source: e,
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(StoreError::NotADatabase {
                path: dir.to_owned(),
            });
        }
        let has_entries = fs::read_dir(dir).map_err(io)?.next().is_some();
        if has_entries && !dir.join("conf").exists() {
            return Err(StoreError::NotADatabase {
                path: dir.to_owned(),
            });
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
    } else {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    Ok(())
}

/// The stored form of an event's body: everything but the hash.
#[derive(Serialize, serde::Deserialize)]
struct StoredEvent {
    seq: u64,
    #[serde(flatten)]
    draft: EventDraft,
}

impl From<&AuditEvent> for StoredEvent {
    fn from(event: &AuditEvent) -> Self {
        StoredEvent {
            seq: event.seq,
            draft: event.draft.clone(),
        }
    }
}

fn split_record(raw: &[u8]) -> Option<(Hash, &[u8])> {
    let hash = Hash::try_from(raw.get(..32)?).ok()?;
    Some((hash, &raw[32..]))
}

fn decode_event(raw: &[u8]) -> Result<AuditEvent, StoreError> {
    let (hash, body) = split_record(raw).ok_or_else(|| StoreError::corrupt("audit event"))?;
    let stored: StoredEvent = decode(body, "audit event")?;
    Ok(AuditEvent {
        seq: stored.seq,
        draft: stored.draft,
        hash: audit::hex(&hash),
        revealed: None,
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn incident_page_key(id: IncidentId) -> [u8; 8] {
    (id.number().saturating_sub(1) / INCIDENTS_PER_PAGE).to_be_bytes()
}

fn incident_key(id: IncidentId) -> [u8; 8] {
    id.number().to_be_bytes()
}

fn page_key(id: IncidentId, page: u32) -> [u8; 12] {
    let mut key = [0; 12];
    key[..8].copy_from_slice(&incident_key(id));
    key[8..].copy_from_slice(&page.to_be_bytes());
    key
}

fn timeline_key(id: IncidentId, seq: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&incident_key(id));
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The associated data of a sealed record: its tree and key.
fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(tree.len() + 1 + key.len());
    aad.extend_from_slice(tree.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key);
    aad
}

/// Sets every file under `dir` to 0600 and every directory to 0700, for databases whose
/// files were written before the umask was tightened.
fn tighten_files(dir: &Path) -> Result<(), StoreError> {
    let io = |e| StoreError::Io {
        path: dir.to_owned(),
        source: e,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let kind = entry.file_type().map_err(io)?;
        let path = entry.path();
        if kind.is_dir() {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).map_err(io)?;
            tighten_files(&path)?;
        } else if kind.is_file() {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    Ok(())
}

fn decode_outbox_key(key: &[u8], recipient: String) -> Result<NotificationRef, StoreError> {
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

fn decode_u64(raw: &[u8], what: &'static str) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(raw)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::corrupt(what))
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Encode(e.to_string()))
}

fn decode<T: DeserializeOwned>(raw: &[u8], what: &'static str) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|_| StoreError::corrupt(what))
}
