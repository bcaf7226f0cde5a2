//! The hash chain behind the audit log. Each stored event is its 32-byte hash followed by
//! its JSON body; the hash covers the previous event's hash and the body's exact bytes, so
//! changing, removing or reordering any event breaks the chain from that point on.
//!
//! The head (the last event's seq and hash) is kept apart and tagged with an HMAC under a
//! key derived from the database key ([`HeadKey`]), so it cannot be rewritten without the
//! key; every committed head is also appended to a witness outside the database
//! ([`witness`]), so a database put back from an older copy shows. This module owns the
//! checks and what they report; the store owns where heads and events are kept.

pub mod witness;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::crypto::Key;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash the first event is chained to.
pub const GENESIS: Hash = [0; 32];

/// The hash of an event whose body is `body`, following the event hashed `prev`.
pub fn link(prev: &Hash, body: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(body);
    hasher.finalize().into()
}

/// Lower-case hex of a hash.
pub fn hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses 64 hex digits into a hash or tag.
pub fn parse_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

/// The last event of the chain, kept apart so that removing events from the end shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: Hash,
}

/// An HMAC-SHA256 tag over a head.
pub type Tag = [u8; 32];

/// The key that tags chain heads: derived from the database key with its own label, so it
/// is never the key that seals records nor the outbox blinding secret.
pub struct HeadKey([u8; 32]);

impl std::fmt::Debug for HeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeadKey(..)")
    }
}

impl HeadKey {
    /// The head key of the database sealed with `key`.
    pub fn derive(key: &Key) -> HeadKey {
        let mut hasher = Sha256::new();
        hasher.update(b"breachdesk audit head key\0");
        hasher.update(key.to_hex().as_bytes());
        HeadKey(hasher.finalize().into())
    }

    #[allow(clippy::expect_used, reason = "HMAC accepts a key of any length")]
    fn mac(&self, head: &Head) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC accepts a key of any length");
        mac.update(b"breachdesk audit head\0");
        mac.update(&head.seq.to_be_bytes());
        mac.update(&head.hash);
        mac
    }

    /// The tag of `head`.
    pub fn tag(&self, head: &Head) -> Tag {
        self.mac(head).finalize().into_bytes().into()
    }

    /// Whether `tag` is `head`'s tag (compared in constant time).
    pub fn checks(&self, head: &Head, tag: &[u8]) -> bool {
        self.mac(head).verify_slice(tag).is_ok()
    }
}

/// A head as a witness line recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessedHead {
    pub seq: u64,
    /// Lower-case hex.
    pub hash: String,
    /// When its last event happened.
    pub at: DateTime<Utc>,
}

impl std::fmt::Display for WitnessedHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "event {} (hash {}…, {})",
            self.seq,
            self.hash.get(..12).unwrap_or(&self.hash),
            self.at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

/// The head of the chain as reports and tickets quote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadReport {
    pub seq: u64,
    /// Lower-case hex of the last event's hash.
    pub hash: String,
    /// Lower-case hex of the head's key tag; `None` for a head no key tagged.
    pub tag: Option<String>,
    /// When the last event happened (`None` if its body cannot be read).
    pub at: Option<DateTime<Utc>>,
}

/// What comparing the database with its witness found, when it found no rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WitnessCheck {
    /// The database holds the head its witness last recorded.
    Matches { path: PathBuf, last: WitnessedHead },
    /// There is no witness file.
    Missing { path: PathBuf },
    /// The witness file records no head of this database.
    NoEntry { path: PathBuf },
    /// The store was opened without a witness (only library users do that).
    NotConfigured,
}

/// A chain that verified, with what was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// How many events were checked.
    pub events: u64,
    pub head: Option<HeadReport>,
    pub witness: WitnessCheck,
    /// Witness lines that could not be read and were skipped (a torn write after a crash).
    pub unreadable_witness_lines: usize,
}

impl Verified {
    /// What a responder should know although nothing was found tampered.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let written = self.events > 0;
        match &self.witness {
            WitnessCheck::Missing { path } if written => out.push(format!(
                "no audit witness at {}: a database put back from an older copy cannot be detected (first run of this version, or the file was removed)",
                path.display()
            )),
            WitnessCheck::NoEntry { path } if written => out.push(format!(
                "the audit witness {} records no head of this database (moved, or the witness was replaced): a rollback cannot be detected",
                path.display()
            )),
            WitnessCheck::NotConfigured if written => {
                out.push("no audit witness configured: a rollback cannot be detected".into());
            }
            _ => {}
        }
        if self.unreadable_witness_lines > 0 {
            out.push(format!(
                "{} unreadable line(s) in the audit witness were skipped",
                self.unreadable_witness_lines
            ));
        }
        out
    }
}

/// One stored event as raw parts, as `verify` reads them.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// The sequence number in the event's key.
    pub key_seq: u64,
    /// The sequence number written inside the body, if the body could be read.
    pub body_seq: Option<u64>,
    pub stored_hash: Hash,
    pub body: Vec<u8>,
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Error, serde::Serialize, serde::Deserialize)]
pub enum Tamper {
    #[error(
        "event {seq}: its content or its place in the chain does not match its hash (altered, or an earlier event was replaced)"
    )]
    Altered { seq: u64 },
    #[error("event {expected} is missing (the log jumps from {prev} to {found})")]
    Missing {
        expected: u64,
        prev: u64,
        found: u64,
    },
    #[error("event {seq}: stored under key {key} (moved)")]
    Moved { seq: u64, key: u64 },
    #[error("event {seq}: unreadable record")]
    Unreadable { seq: u64 },
    #[error(
        "the log ends at event {last} but the chain head records event {head} (events removed from the end)"
    )]
    Truncated { last: u64, head: u64 },
    #[error("the chain head does not match the last event {seq} (the last event was replaced)")]
    HeadMismatch { seq: u64 },
    #[error(
        "the chain head (event {seq}) is not tagged with this database's key (the head was rewritten without the key)"
    )]
    HeadForged { seq: u64 },
    #[error(
        "the chain head (event {seq}) carries no key tag, though this database tags every head (the tag was removed)"
    )]
    HeadNotKeyed { seq: u64 },
    #[error(
        "the database is older than its witness: {} last witnessed {last}, but the database ends at event {ends} (restored from a copy?)",
        path.display()
    )]
    OlderThanWitness {
        path: PathBuf,
        last: WitnessedHead,
        ends: u64,
    },
    #[error(
        "the database is older than its witness: {} last witnessed {last}, but the database's event {} is a different one (restored from a copy and changed since?)",
        path.display(),
        last.seq
    )]
    DivergedFromWitness { path: PathBuf, last: WitnessedHead },
    #[error(
        "line {line} of the audit witness {} is not tagged with this database's key (the witness file was edited)",
        path.display()
    )]
    WitnessForged { path: PathBuf, line: usize },
    #[error(
        "the audit witness {} is gone or records nothing of this database, though this database has kept one: a database put back from an older copy hides behind a deleted witness; check where the database came from, then an admin re-establishes the witness with `breachdesk audit witness reset --reason R`",
        path.display()
    )]
    WitnessLost { path: PathBuf },
}

/// Checks a stored head's tag. An untagged head is tampering: the store tags every head it
/// writes, and tags a head written by an older version when it first opens it.
pub fn check_tag(key: &HeadKey, head: &Head, tag: Option<&Tag>) -> Result<(), Tamper> {
    match tag {
        Some(tag) if key.checks(head, tag) => Ok(()),
        Some(_) => Err(Tamper::HeadForged { seq: head.seq }),
        None => Err(Tamper::HeadNotKeyed { seq: head.seq }),
    }
}

/// Walks the events in key order and checks every link. Returns how many were checked.
pub fn verify(
    events: impl IntoIterator<Item = RawEvent>,
    head: Option<Head>,
) -> Result<u64, Tamper> {
    let mut prev_hash = GENESIS;
    let mut prev_seq = 0;
    for event in events {
        let seq = event.key_seq;
        if seq != prev_seq + 1 {
            return Err(Tamper::Missing {
                expected: prev_seq + 1,
                prev: prev_seq,
                found: seq,
            });
        }
        match event.body_seq {
            None => return Err(Tamper::Unreadable { seq }),
            Some(inner) if inner != seq => {
                return Err(Tamper::Moved {
                    seq: inner,
                    key: seq,
                });
            }
            Some(_) => {}
        }
        if link(&prev_hash, &event.body) != event.stored_hash {
            return Err(Tamper::Altered { seq });
        }
        prev_hash = event.stored_hash;
        prev_seq = seq;
    }
    match head {
        Some(h) if h.seq != prev_seq => Err(Tamper::Truncated {
            last: prev_seq,
            head: h.seq,
        }),
        Some(h) if h.hash != prev_hash => Err(Tamper::HeadMismatch { seq: prev_seq }),
        None if prev_seq != 0 => Err(Tamper::Truncated {
            last: prev_seq,
            head: 0,
        }),
        _ => Ok(prev_seq),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(bodies: &[&str]) -> (Vec<RawEvent>, Head) {
        let mut prev = GENESIS;
        let mut out = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let hash = link(&prev, body.as_bytes());
            out.push(RawEvent {
                key_seq: i as u64 + 1,
                body_seq: Some(i as u64 + 1),
                stored_hash: hash,
                body: body.as_bytes().to_vec(),
            });
            prev = hash;
        }
        let head = Head {
            seq: bodies.len() as u64,
            hash: prev,
        };
        (out, head)
    }

    #[test]
    fn intact_chain_verifies() {
        let (events, head) = chain(&["a", "b", "c"]);
        assert_eq!(verify(events, Some(head)), Ok(3));
        assert_eq!(verify(Vec::new(), None), Ok(0));
    }

    #[test]
    fn altered_body_is_named() {
        let (mut events, head) = chain(&["a", "b", "c"]);
        events[1].body = b"B".to_vec();
        assert_eq!(verify(events, Some(head)), Err(Tamper::Altered { seq: 2 }));
    }

    #[test]
    fn removed_event_is_named() {
        let (mut events, head) = chain(&["a", "b", "c"]);
        events.remove(1);
        assert!(matches!(
            verify(events, Some(head)),
            Err(Tamper::Missing { expected: 2, .. })
        ));
    }

    #[test]
    fn head_tag_holds_only_for_its_head_and_key() {
        let (_, head) = chain(&["a", "b"]);
        let key = HeadKey::derive(&Key::generate().unwrap());
        let tag = key.tag(&head);
        assert_eq!(check_tag(&key, &head, Some(&tag)), Ok(()));
        let moved = Head { seq: 1, ..head };
        assert_eq!(
            check_tag(&key, &moved, Some(&tag)),
            Err(Tamper::HeadForged { seq: 1 })
        );
        let other = HeadKey::derive(&Key::generate().unwrap());
        assert!(check_tag(&other, &head, Some(&tag)).is_err(), "another key");
        assert_eq!(
            check_tag(&key, &head, None),
            Err(Tamper::HeadNotKeyed { seq: 2 })
        );
        assert_eq!(parse_hex(&hex(&tag)), Some(tag));
        assert_eq!(parse_hex("abc"), None);
    }

    #[test]
    fn removed_tail_is_named() {
        let (mut events, head) = chain(&["a", "b", "c"]);
        events.pop();
        assert_eq!(
            verify(events, Some(head)),
            Err(Tamper::Truncated { last: 2, head: 3 })
        );
    }
}
