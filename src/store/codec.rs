//! How the store's records become bytes: the keys (integers big-endian, so scans come out
//! in order), JSON values, the associated data of sealed records, and the stored form of an
//! audit event (its hash, then its body). No sled here: these are plain functions on bytes.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{INCIDENTS_PER_PAGE, StoreError};
use crate::audit::{self, Hash};
use crate::domain::{AuditEvent, EventDraft, IncidentId};

/// The `incidents` key of the page that holds `id`.
pub(super) fn incident_page_key(id: IncidentId) -> [u8; 8] {
    (id.number().saturating_sub(1) / INCIDENTS_PER_PAGE).to_be_bytes()
}

/// An incident's number, the prefix of its records in the other trees.
pub(super) fn incident_key(id: IncidentId) -> [u8; 8] {
    id.number().to_be_bytes()
}

/// The `people` key of one roster page.
pub(super) fn page_key(id: IncidentId, page: u32) -> [u8; 12] {
    let mut key = [0; 12];
    key[..8].copy_from_slice(&incident_key(id));
    key[8..].copy_from_slice(&page.to_be_bytes());
    key
}

/// The `audit_by_incident` key of one event of one incident.
pub(super) fn timeline_key(id: IncidentId, seq: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&incident_key(id));
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The associated data of a sealed record: its tree and key.
pub(super) fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(tree.len() + 1 + key.len());
    aad.extend_from_slice(tree.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key);
    aad
}

pub(super) fn decode_u64(raw: &[u8], what: &'static str) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(raw)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::corrupt(what))
}

pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Encode(e.to_string()))
}

pub(super) fn decode<T: DeserializeOwned>(raw: &[u8], what: &'static str) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|_| StoreError::corrupt(what))
}

/// The stored form of an event's body: everything but the hash.
#[derive(Serialize, serde::Deserialize)]
pub(super) struct StoredEvent {
    pub(super) seq: u64,
    #[serde(flatten)]
    pub(super) draft: EventDraft,
}

impl From<&AuditEvent> for StoredEvent {
    fn from(event: &AuditEvent) -> Self {
        StoredEvent {
            seq: event.seq,
            draft: event.draft.clone(),
        }
    }
}

pub(super) fn split_record(raw: &[u8]) -> Option<(Hash, &[u8])> {
    let hash = Hash::try_from(raw.get(..32)?).ok()?;
    Some((hash, &raw[32..]))
}

pub(super) fn decode_event(raw: &[u8]) -> Result<AuditEvent, StoreError> {
    let (hash, body) = split_record(raw).ok_or_else(|| StoreError::corrupt("audit event"))?;
    let stored: StoredEvent = decode(body, "audit event")?;
    Ok(AuditEvent {
        seq: stored.seq,
        draft: stored.draft,
        hash: audit::hex(&hash),
        revealed: None,
    })
}

pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
