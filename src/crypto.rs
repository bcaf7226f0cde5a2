//! Encryption at rest: personal data (roster pages, letters, delivery states) is sealed
//! with XChaCha20-Poly1305 under a 256-bit key kept outside the database, in a key file
//! (mode 0600, created on first run) or the `BREACHDESK_KEY` environment variable.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use thiserror::Error;

use crate::domain::text::display_path;

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// The Poly1305 tag after each sealed record.
const TAG_BYTES: usize = 16;

/// A problem getting the key, naming where it was looked for.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error("BREACHDESK_KEY must be 64 hex digits (a 256-bit key)")]
    BadEnv,
    #[error("key file {} must hold 64 hex digits (a 256-bit key)", display_path(.0))]
    BadFile(PathBuf),
    #[error(
        "key file {} can be read by other users (mode {mode:o}); run `chmod 600 {}` first",
        display_path(.path),
        display_path(.path)
    )]
    Loose { path: PathBuf, mode: u32 },
    #[error(
        "the database at {} is encrypted, but its key file {} does not exist; restore the key file or set BREACHDESK_KEY (without the key the data cannot be read)",
        display_path(.db),
        display_path(.key)
    )]
    Missing { key: PathBuf, db: PathBuf },
    #[error("cannot read key file {}: {source}", display_path(.path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create key file {}: {source}", display_path(.path))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// A 256-bit key.
#[derive(Clone)]
pub struct Key([u8; KEY_BYTES]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A fresh random key.
    pub fn generate() -> Result<Key, KeyError> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Key(bytes))
    }

    /// Parses 64 hex digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Option<Key> {
        let text = text.trim();
        if text.len() != KEY_BYTES * 2 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; KEY_BYTES];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(Key(bytes))
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Key> {
        Some(Key(bytes.try_into().ok()?))
    }

    /// The key's 32 bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The key as 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key from `BREACHDESK_KEY` if set, else from `file`, which is created (0600, in a
    /// 0700 directory) only when the database does not exist yet.
    pub fn resolve(env: Option<&str>, file: &Path, db: &Path) -> Result<Key, KeyError> {
        if let Some(text) = env {
            return Key::from_hex(text).ok_or(KeyError::BadEnv);
        }
        match fs::metadata(file) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(KeyError::Loose {
                        path: file.to_owned(),
                        mode,
                    });
                }
                let text = fs::read_to_string(file).map_err(|source| KeyError::Read {
                    path: file.to_owned(),
                    source,
                })?;
                Key::from_hex(&text).ok_or_else(|| KeyError::BadFile(file.to_owned()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if db.join("conf").exists() {
                    return Err(KeyError::Missing {
                        key: file.to_owned(),
                        db: db.to_owned(),
                    });
                }
                let key = Key::generate()?;
                key.write_new(file)?;
                Ok(key)
            }
            Err(source) => Err(KeyError::Read {
                path: file.to_owned(),
                source,
            }),
        }
    }

    /// The key for the database in `db` as the command line finds it: `BREACHDESK_KEY`,
    /// else `file`, else the default key file.
    pub fn for_database(db: &Path, file: Option<&Path>) -> Result<Key, KeyError> {
        let env = std::env::var("BREACHDESK_KEY").ok();
        let file = match file {
            Some(f) => f.to_owned(),
            None => default_key_file().ok_or_else(|| KeyError::Read {
                path: PathBuf::from("breachdesk/key"),
                source: std::io::Error::other("no config directory (is HOME set?)"),
            })?,
        };
        Key::resolve(env.as_deref(), &file, db)
    }

    /// Writes the key to a new file only its owner can read.
    fn write_new(&self, file: &Path) -> Result<(), KeyError> {
        let failed = |source| KeyError::Write {
            path: file.to_owned(),
            source,
        };
        if let Some(dir) = file.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(failed)?;
        }
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
            .map_err(failed)?;
        writeln!(out, "{}", self.to_hex())
            .and_then(|()| out.sync_all())
            .map_err(failed)
    }
}

/// Seals and opens records under one key. Each record's AAD names its tree and key, so a
/// sealed record moved to another place no longer opens.
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl Cipher {
    pub fn new(key: &Key) -> Self {
        Cipher {
            aead: XChaCha20Poly1305::new(&key.0.into()),
        }
    }

    /// `nonce || ciphertext+tag`, with a random 192-bit nonce.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, KeyError> {
        // Encrypted in place in the one buffer returned: no second copy of each record.
        let mut out = Vec::with_capacity(NONCE_BYTES + plain.len() + TAG_BYTES);
        out.resize(NONCE_BYTES, 0);
        random_nonce(&mut out)?;
        out.extend_from_slice(plain);
        let (nonce, body) = out.split_at_mut(NONCE_BYTES);
        let tag = self
            .aead
            .encrypt_in_place_detached(XNonce::from_slice(nonce), aad, body)
            .map_err(|_| KeyError::Random("encryption failed".into()))?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// The plaintext, or `None` when the key is wrong or the record was altered or moved.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        self.aead
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .ok()
    }
}

/// Fills `out` with random bytes for a nonce from this thread's store of bytes read from
/// the operating system 4 KiB at a time: a system call for every 24 bytes cost a fifth as
/// much as sealing the letter itself. Each byte is handed out once and wiped as it is; the process
/// never forks without exec, so no two processes hold the same store.
fn random_nonce(out: &mut [u8]) -> Result<(), KeyError> {
    const STORE: usize = 4096;
    thread_local! {
        static BYTES: std::cell::RefCell<(Box<[u8; STORE]>, usize)> =
            std::cell::RefCell::new((Box::new([0; STORE]), STORE));
    }
    BYTES.with(|bytes| {
        let (store, used) = &mut *bytes.borrow_mut();
        if out.len() > STORE {
            return getrandom::fill(out).map_err(|e| KeyError::Random(e.to_string()));
        }
        if STORE - *used < out.len() {
            getrandom::fill(&mut store[..]).map_err(|e| KeyError::Random(e.to_string()))?;
            *used = 0;
        }
        let taken = &mut store[*used..*used + out.len()];
        out.copy_from_slice(taken);
        taken.fill(0);
        *used += out.len();
        Ok(())
    })
}

/// The default key file: `breachdesk/key` under the user's config directory.
pub fn default_key_file() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("breachdesk").join("key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_open_only_with_the_same_key_and_place() {
        let key = Key::generate().unwrap();
        let cipher = Cipher::new(&key);
        let sealed = cipher.seal(b"people/1", b"Ada Lovelace").unwrap();
        assert_eq!(cipher.open(b"people/1", &sealed).unwrap(), b"Ada Lovelace");
        assert!(cipher.open(b"people/2", &sealed).is_none(), "moved record");
        let other = Cipher::new(&Key::generate().unwrap());
        assert!(other.open(b"people/1", &sealed).is_none(), "wrong key");
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(cipher.open(b"people/1", &flipped).is_none(), "altered");
        assert!(
            cipher.open(b"people/1", &sealed[..10]).is_none(),
            "truncated"
        );
    }

    #[test]
    fn every_seal_has_its_own_nonce_across_refills_and_threads() {
        let cipher = std::sync::Arc::new(Cipher::new(&Key::generate().unwrap()));
        // 500 nonces a thread use the 4 KiB store about three times over.
        let nonces = |cipher: std::sync::Arc<Cipher>| {
            (0..500)
                .map(|_| cipher.seal(b"a", b"x").unwrap()[..NONCE_BYTES].to_vec())
                .collect::<Vec<_>>()
        };
        let other = std::thread::spawn({
            let cipher = std::sync::Arc::clone(&cipher);
            move || nonces(cipher)
        });
        let mut all = nonces(std::sync::Arc::clone(&cipher));
        all.extend(other.join().unwrap());
        let distinct: std::collections::HashSet<&Vec<u8>> = all.iter().collect();
        assert_eq!(distinct.len(), 1000);
        assert!(all.iter().all(|n| n.iter().any(|b| *b != 0)));
    }

    #[test]
    fn keys_round_trip_as_hex_and_bad_text_is_refused() {
        let key = Key::generate().unwrap();
        assert_eq!(Key::from_hex(&key.to_hex()).unwrap().0, key.0);
        assert!(Key::from_hex("abc").is_none());
        assert!(Key::from_hex(&"zz".repeat(32)).is_none());
        assert!(Key::from_hex(&"é".repeat(32)).is_none());
    }

    #[test]
    fn key_file_is_created_private_once_and_required_after() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cfg").join("key");
        let db = dir.path().join("db");
        let key = Key::resolve(None, &file, &db).unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(Key::resolve(None, &file, &db).unwrap().0, key.0);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Key::resolve(None, &file, &db),
            Err(KeyError::Loose { .. })
        ));
        fs::remove_file(&file).unwrap();
        fs::create_dir_all(&db).unwrap();
        fs::write(db.join("conf"), "").unwrap();
        let err = Key::resolve(None, &file, &db).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(matches!(
            Key::resolve(Some("nope"), &file, &db),
            Err(KeyError::BadEnv)
        ));
    }
}
