//! The hash chain behind the audit log. Each stored event is its 32-byte hash followed by
//! its JSON body; the hash covers the previous event's hash and the body's exact bytes, so
//! changing, removing or reordering any event breaks the chain from that point on.

use sha2::{Digest, Sha256};
use thiserror::Error;

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

/// The last event of the chain, kept apart so that removing events from the end shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: Hash,
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
    fn removed_tail_is_named() {
        let (mut events, head) = chain(&["a", "b", "c"]);
        events.pop();
        assert_eq!(
            verify(events, Some(head)),
            Err(Tamper::Truncated { last: 2, head: 3 })
        );
    }
}
