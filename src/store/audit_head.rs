//! The keyed audit head and its witness, as the store keeps them: the head record in `meta`
//! (seq, hash and the HMAC tag of [`crate::audit::HeadKey`]), tagging the head of a
//! format-2 database when it is first opened, appending each committed head to the
//! witness, gathering everything `audit verify` and `audit head` need, and reading the
//! chain back (every event, one incident's timeline). The checks themselves live in
//! [`crate::audit`].

use std::path::Path;

use chrono::{DateTime, SubsecRound as _, Utc};

use super::codec::{StoredEvent, decode_event, decode_u64, incident_key, split_record};
use super::engine::{Tree, Write};
use super::{KEY_AUDIT_HEAD, KEY_FORMAT, StoreError};
use crate::audit::witness::Witness;
use crate::audit::{self, Hash, Head, HeadReport, RawEvent, Tag, Tamper, Verified, WitnessCheck};
use crate::domain::{AuditEvent, IncidentId};

/// The format before heads were tagged; opening such a database tags its head.
pub(super) const UNKEYED_FORMAT: u32 = 2;

/// The head record: seq (u64 BE), hash, then the tag (absent in format 2).
pub(super) fn encode_head(head: &Head, tag: &Tag) -> Vec<u8> {
    let mut raw = Vec::with_capacity(72);
    raw.extend_from_slice(&head.seq.to_be_bytes());
    raw.extend_from_slice(&head.hash);
    raw.extend_from_slice(tag);
    raw
}

/// The head and its tag, if it has one.
pub(super) fn decode_stored_head(raw: &[u8]) -> Result<(Head, Option<Tag>), StoreError> {
    let bad = || StoreError::corrupt("audit head");
    let seq = decode_u64(raw.get(..8).ok_or_else(bad)?, "audit head")?;
    let hash = raw
        .get(8..40)
        .and_then(|h| Hash::try_from(h).ok())
        .ok_or_else(bad)?;
    let tag = match raw.get(40..) {
        Some([]) | None => None,
        Some(tag) => Some(Tag::try_from(tag).map_err(|_| bad())?),
    };
    Ok((Head { seq, hash }, tag))
}

/// The head without its tag.
pub(super) fn decode_head(raw: &[u8]) -> Result<Head, StoreError> {
    decode_stored_head(raw).map(|(head, _)| head)
}

impl super::Store {
    /// Appends every committed head to the witness at `path`, which must lie outside the
    /// database directory, and compares the database with it in `audit verify`.
    pub fn with_witness(mut self, path: &Path) -> Result<Self, StoreError> {
        self.witness = Some(Witness::new(path, &self.path)?);
        Ok(self)
    }

    /// The `meta` key that says this database keeps a witness at this store's witness path
    /// on this host, for this database directory (each daemon on a shared database keeps its
    /// own; a copy moved elsewhere starts its own).
    fn witness_key(&self) -> Option<Vec<u8>> {
        use sha2::Digest as _;
        let witness = self.witness.as_ref()?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let mut h = sha2::Sha256::new();
        h.update(host.trim().as_bytes());
        h.update([0]);
        h.update(witness.path().as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(witness.database().as_bytes());
        let digest = h.finalize();
        let mut key = b"witness_kept/".to_vec();
        key.extend(
            digest[..12]
                .iter()
                .flat_map(|b| format!("{b:02x}").into_bytes()),
        );
        Some(key)
    }

    /// Whether this database has kept a witness at this store's witness path.
    fn keeps_witness(&self) -> Result<bool, StoreError> {
        use std::sync::atomic::Ordering;
        if self.witness_kept.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let Some(key) = self.witness_key() else {
            return Ok(false);
        };
        let kept = self.engine.get(Tree::Meta, &key)?.is_some();
        self.witness_kept.store(kept, Ordering::Relaxed);
        Ok(kept)
    }

    /// Before a commit: refuses it when the witness this database keeps is gone (unless it
    /// is the admin's reset), and returns the `meta` record that says the database keeps
    /// one, to write with the commit, the first time the witness is there to keep.
    pub(super) fn witness_guard(&self, reset: bool) -> Result<Option<super::KeyValue>, StoreError> {
        let Some(witness) = &self.witness else {
            return Ok(None);
        };
        let there = std::fs::symlink_metadata(witness.path()).is_ok();
        let kept = self.keeps_witness()?;
        if kept && !there && !reset {
            return Err(StoreError::WitnessLost {
                path: witness.path().to_owned(),
            });
        }
        if kept || !there {
            return Ok(None);
        }
        let key = self.witness_key().unwrap_or_default();
        let path = witness.path().as_os_str().as_encoded_bytes().to_vec();
        Ok(Some((key, path)))
    }

    /// Whether the witness file is there (`false` without a witness).
    pub fn witness_present(&self) -> bool {
        self.witness
            .as_ref()
            .is_some_and(|w| std::fs::symlink_metadata(w.path()).is_ok())
    }

    /// The witness file, if the store has one.
    pub fn witness_path(&self) -> Option<&Path> {
        self.witness.as_ref().map(Witness::path)
    }

    /// The head record to store for `head`, tagged with this database's head key.
    pub(super) fn keyed_head(&self, head: &Head) -> Vec<u8> {
        encode_head(head, &self.head_key.tag(head))
    }

    /// Tags the head of a format-2 database and records the current format. Whatever head
    /// the database holds at that moment is trusted: this is the one unkeyed step.
    pub(super) fn key_unkeyed_head(&self) -> Result<(), StoreError> {
        let mut batch = Vec::new();
        if let Some(raw) = self.engine.get(Tree::Meta, KEY_AUDIT_HEAD)? {
            let (head, tag) = decode_stored_head(&raw)?;
            if tag.is_none() {
                batch.push(Write::Put(
                    Tree::Meta,
                    KEY_AUDIT_HEAD.to_vec(),
                    self.keyed_head(&head),
                ));
            }
        }
        batch.push(Write::Put(
            Tree::Meta,
            KEY_FORMAT.to_vec(),
            super::SHARED_KEY_FORMAT.to_be_bytes().to_vec(),
        ));
        self.engine.apply(batch)?;
        self.engine.flush()?;
        Ok(())
    }

    /// Appends the head a commit wrote (its last event) to the witness.
    pub(super) fn witness_commit(&self, sealed: &[AuditEvent]) -> Result<(), StoreError> {
        let (Some(witness), Some(last)) = (&self.witness, sealed.last()) else {
            return Ok(());
        };
        let hash = audit::parse_hex(&last.hash).ok_or(StoreError::corrupt("audit event hash"))?;
        let head = Head {
            seq: last.seq,
            hash,
        };
        witness.append(
            &head,
            &self.head_key.tag(&head),
            to_the_second(last.draft.at),
        )?;
        Ok(())
    }

    /// The stored head and its tag.
    fn stored_head(&self) -> Result<Option<(Head, Option<Tag>)>, StoreError> {
        self.engine
            .get(Tree::Meta, KEY_AUDIT_HEAD)?
            .map(|raw| decode_stored_head(&raw))
            .transpose()
    }

    /// The current head for reports and tickets; `None` while the log is empty.
    pub fn audit_head(&self) -> Result<Option<HeadReport>, StoreError> {
        let last_at = match self.engine.last(Tree::Audit)? {
            Some((_, raw)) => raw
                .get(32..)
                .and_then(|body| serde_json::from_slice::<StoredEvent>(body).ok())
                .map(|e| e.draft.at),
            None => None,
        };
        Ok(self
            .stored_head()?
            .map(|(head, tag)| head_report(&head, tag.as_ref(), last_at)))
    }

    /// Checks the chain, the head's tag and the witness, in that order; the inner error is
    /// the first thing found tampered.
    pub fn verify_audit(&self) -> Result<Result<Verified, Tamper>, StoreError> {
        let (events, _) = self.raw_audit()?;
        let stored = self.stored_head()?;
        let head = stored.as_ref().map(|(h, _)| *h);
        let reading = match &self.witness {
            Some(w) => w.read()?,
            None => None,
        };
        let witness = match &self.witness {
            Some(w) => w.compare(reading.as_ref(), &self.head_key, &events, head.as_ref()),
            None => Ok(WitnessCheck::NotConfigured),
        };
        let last_at = last_event_time(&events);
        let checked = match audit::verify(events, head) {
            Ok(n) => n,
            Err(tamper) => return Ok(Err(tamper)),
        };
        if let Some((head, tag)) = &stored {
            if let Err(tamper) = audit::check_tag(&self.head_key, head, tag.as_ref()) {
                return Ok(Err(tamper));
            }
        }
        let witness = match witness {
            Ok(WitnessCheck::Missing { path } | WitnessCheck::NoEntry { path })
                if self.keeps_witness()? =>
            {
                return Ok(Err(Tamper::WitnessLost { path }));
            }
            Ok(w) => w,
            Err(tamper) => return Ok(Err(tamper)),
        };
        Ok(Ok(Verified {
            events: checked,
            head: stored.map(|(h, t)| head_report(&h, t.as_ref(), last_at)),
            witness,
            unreadable_witness_lines: reading.map_or(0, |r| r.unreadable),
        }))
    }
}

/// Times in reports and the witness are whole seconds, as in all JSON output.
fn to_the_second(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(0)
}

fn head_report(head: &Head, tag: Option<&Tag>, at: Option<DateTime<Utc>>) -> HeadReport {
    HeadReport {
        seq: head.seq,
        hash: audit::hex(&head.hash),
        tag: tag.map(audit::hex),
        at: at.map(to_the_second),
    }
}

fn last_event_time(events: &[RawEvent]) -> Option<DateTime<Utc>> {
    let body = &events.last()?.body;
    serde_json::from_slice::<StoredEvent>(body)
        .ok()
        .map(|e| e.draft.at)
}

impl super::Store {
    /// Every audit event, oldest first.
    pub fn events(&self) -> impl Iterator<Item = Result<AuditEvent, StoreError>> + use<'_> {
        self.engine.iter(Tree::Audit).map(|kv| decode_event(&kv?.1))
    }

    /// Up to `limit` events after the one numbered `seq`, oldest first.
    pub fn events_after(&self, seq: u64, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let from = (seq + 1).to_be_bytes();
        self.engine
            .range(Tree::Audit, &from, None)
            .take(limit)
            .map(|kv| decode_event(&kv?.1))
            .collect()
    }

    /// The number of the last event, 0 when there is none.
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(match self.engine.last(Tree::Audit)? {
            Some((key, _)) => key
                .get(..8)
                .and_then(|k| k.try_into().ok())
                .map_or(0, u64::from_be_bytes),
            None => 0,
        })
    }

    /// The events that name one incident, oldest first.
    pub fn incident_events(&self, id: IncidentId) -> Result<Vec<AuditEvent>, StoreError> {
        let mut events = Vec::new();
        for kv in self
            .engine
            .scan_prefix(Tree::AuditByIncident, &incident_key(id))
        {
            let (key, _) = kv?;
            let seq = key
                .get(8..)
                .ok_or_else(|| StoreError::corrupt("timeline key"))?;
            let raw = self
                .engine
                .get(Tree::Audit, seq)?
                .ok_or_else(|| StoreError::corrupt("timeline entry without its event"))?;
            events.push(decode_event(&raw)?);
        }
        Ok(events)
    }

    /// The raw chain and its head, for verification.
    pub fn raw_audit(&self) -> Result<(Vec<RawEvent>, Option<Head>), StoreError> {
        let mut events = Vec::new();
        for kv in self.engine.iter(Tree::Audit) {
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
            .engine
            .get(Tree::Meta, KEY_AUDIT_HEAD)?
            .map(|raw| decode_head(&raw))
            .transpose()?;
        Ok((events, head))
    }
}
