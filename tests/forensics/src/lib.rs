//! What someone holding a database key could open in the raw bytes a database leaves
//! behind (its files, a PostgreSQL data directory, a dump): the check behind breachdesk's
//! promise that a purged incident's data no longer opens. It tries every byte window, as an
//! attacker would, not what the store still reads: first every wrapping key sealed under
//! the root key, then every data key sealed under any key found so far, until nothing new
//! opens. It is a crate of its own so that test builds compile it optimised: a scan tries
//! tens of millions of windows.
//!
//! Records are breachdesk's: a 24-byte nonce, the XChaCha20-Poly1305 ciphertext and its
//! 16-byte tag; a wrapping key's plaintext is its generation (8 bytes) and the key.

use std::collections::{BTreeMap, BTreeSet};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const NONCE: usize = 24;
const TAG: usize = 16;
/// A sealed 32-byte key.
const SEALED_KEY: usize = NONCE + 32 + TAG;
/// A sealed wrapping key: its generation and the key.
const SEALED_WRAPPING: usize = NONCE + 8 + 32 + TAG;

/// What the scan is told of the records it looks for.
pub struct Places<'a> {
    /// The associated data of a wrapping key sealed under the root key.
    pub wrapping: &'a [u8],
    /// Per incident number, the associated data of its sealed data key.
    pub data_keys: Vec<(u64, Vec<u8>)>,
}

/// The keys found in the bytes scanned.
#[derive(Debug, Default)]
pub struct Findings {
    /// Wrapping keys, by their 32 bytes.
    pub wrapping_keys: BTreeSet<Vec<u8>>,
    /// Data keys found, by incident number.
    pub data_keys: BTreeMap<u64, BTreeSet<Vec<u8>>>,
}

/// Scans `files` (each the whole of one file or dump) with `root` (the database key).
pub fn scan(files: &[Vec<u8>], root: &[u8; 32], places: &Places<'_>) -> Findings {
    let root_cipher = XChaCha20Poly1305::new(root.into());
    let mut findings = Findings::default();
    let wrapping = [(0u64, places.wrapping.to_vec())];
    for (_, plain) in open_windows(files, SEALED_WRAPPING, &[root_cipher], &wrapping) {
        if let Some(key) = plain.get(8..) {
            findings.wrapping_keys.insert(key.to_vec());
        }
    }
    let mut tried: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut next: Vec<Vec<u8>> = std::iter::once(root.to_vec())
        .chain(findings.wrapping_keys.iter().cloned())
        .collect();
    while !next.is_empty() {
        let ciphers: Vec<XChaCha20Poly1305> = next
            .iter()
            .filter_map(|k| XChaCha20Poly1305::new_from_slice(k).ok())
            .collect();
        tried.extend(next.drain(..));
        for (n, key) in open_windows(files, SEALED_KEY, &ciphers, &places.data_keys) {
            if !tried.contains(&key) && !next.contains(&key) {
                next.push(key.clone());
            }
            findings.data_keys.entry(n).or_default().insert(key);
        }
    }
    findings
}

/// Every (place's number, plaintext) that a window of `width` bytes of `files` opens to
/// under one of `ciphers` at one of `places`, on every core.
fn open_windows(
    files: &[Vec<u8>],
    width: usize,
    ciphers: &[XChaCha20Poly1305],
    places: &[(u64, Vec<u8>)],
) -> Vec<(u64, Vec<u8>)> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut found = Vec::new();
    for file in files {
        let Some(last) = file.len().checked_sub(width) else {
            continue;
        };
        let share = (last + 1).div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..threads)
                .map(|t| {
                    let from = t * share;
                    let to = ((t + 1) * share).min(last + 1);
                    scope.spawn(move || {
                        let mut found = Vec::new();
                        for at in from..to {
                            let (nonce, body) = file[at..at + width].split_at(NONCE);
                            let nonce = XNonce::from_slice(nonce);
                            for cipher in ciphers {
                                for (n, aad) in places {
                                    let payload = Payload { msg: body, aad };
                                    if let Ok(plain) = cipher.decrypt(nonce, payload) {
                                        found.push((*n, plain));
                                    }
                                }
                            }
                        }
                        found
                    })
                })
                .collect();
            for part in parts {
                match part.join() {
                    Ok(part) => found.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_sealed_anywhere_in_the_bytes_is_found_and_what_it_seals_too() {
        let root = [7u8; 32];
        let wrap_key = [9u8; 32];
        let data_key = [3u8; 32];
        let seal = |key: &[u8; 32], aad: &[u8], plain: &[u8]| {
            let nonce = [5u8; NONCE];
            let mut out = nonce.to_vec();
            let cipher = XChaCha20Poly1305::new(key.into());
            let payload = Payload { msg: plain, aad };
            out.extend(cipher.encrypt(XNonce::from_slice(&nonce), payload).unwrap());
            out
        };
        let mut wrapped = 1u64.to_be_bytes().to_vec();
        wrapped.extend_from_slice(&wrap_key);
        let mut file = vec![0xAA; 13];
        file.extend(seal(&root, b"wrap", &wrapped));
        file.extend([1, 2, 3]);
        file.extend(seal(&wrap_key, b"dk1", &data_key));
        let places = Places {
            wrapping: b"wrap",
            data_keys: vec![(1, b"dk1".to_vec()), (2, b"dk2".to_vec())],
        };
        let found = scan(&[file], &root, &places);
        assert_eq!(found.wrapping_keys.len(), 1);
        assert_eq!(found.data_keys[&1].iter().next().unwrap(), &data_key.to_vec());
        assert!(!found.data_keys.contains_key(&2));
    }
}
