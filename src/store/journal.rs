//! The send journal: where a sender notes each letter the mail server accepted, before that
//! letter's connection may take its next one. It is a file in the database directory (on
//! PostgreSQL, in the daemon's local directory), one `write` per group; a shared engine
//! also keeps it in a table every daemon reads, so that a daemon taking over a dead one's
//! send first records what the dead one had delivered ([`SharedJournal`]). A `write` survives the sender's own death (`kill -9`), and costs far less than
//! a flushed transaction, so sending keeps its pace while a crash resends at most one letter
//! per connection. The delivery states are committed to the trees in larger groups, after
//! which the journal is emptied; whatever a dead sender left in it is applied when the
//! database is next opened. It holds outbox keys only (incident, template, roster position
//! and the recipient's keyed hash): nothing personal.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};

use super::StoreError;

const FILE: &str = "sent.journal";

/// One noted letter: its outbox key and when the server accepted it.
pub type JournalEntry = (Vec<u8>, DateTime<Utc>);

/// A journal kept by a shared engine.
pub trait SharedJournal: Send + Sync {
    /// Starts noting `keys` as accepted at `at` (a note survives the noting process's
    /// death once written); the ticket is for [`SharedJournal::wait`].
    fn begin_note(&self, keys: &[Vec<u8>], at: DateTime<Utc>) -> u64;
    /// Waits until the note of `ticket` was written, or failed (notes are best effort).
    fn wait(&self, ticket: u64);
    /// Every entry, of every process.
    fn entries(&self) -> Result<Vec<JournalEntry>, StoreError>;
    /// Forgets `keys` (their states are committed).
    fn forget(&self, keys: &[Vec<u8>]) -> Result<(), StoreError>;
    /// Forgets every entry whose key starts with `prefix` (all with `None`).
    fn forget_prefix(&self, prefix: Option<&[u8]>) -> Result<(), StoreError>;
}

/// The journal of one database: this process's file, and on a shared engine the engine's
/// table too. A letter is noted in the file first (that survives this process's death
/// whatever the database does), then in the table, which lets another daemon that takes a
/// dead one's send over record what it had delivered; a note the table refuses (the
/// database went away) is still in the file, and the send stops at its next commit anyway.
pub struct Journal {
    file: FileJournal,
    shared: Option<std::sync::Arc<dyn SharedJournal>>,
}

impl Journal {
    pub fn new(dir: &Path, shared: Option<std::sync::Arc<dyn SharedJournal>>) -> Journal {
        Journal {
            file: FileJournal::new(dir),
            shared,
        }
    }

    /// Notes `keys` in the file, and starts noting them in the shared table: the returned
    /// [`Deferred`] waits for that. A sender waits for it before the letter after next
    /// goes out, so the table, too, misses at most two accepted letters per connection.
    pub fn append_deferred(
        &self,
        keys: &[Vec<u8>],
        at: DateTime<Utc>,
    ) -> Result<Deferred, StoreError> {
        self.file.append(keys, at)?;
        // Best effort: the file already holds the note (see above).
        Ok(Deferred(self.shared.as_ref().map(|shared| {
            let ticket = shared.begin_note(keys, at);
            (std::sync::Arc::clone(shared), ticket)
        })))
    }

    /// Every entry of the file and of the shared table, each key once.
    pub fn entries(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let mut entries = self.file.entries()?;
        if let Some(shared) = &self.shared {
            entries.extend(shared.entries()?);
            entries.sort();
            entries.dedup_by(|a, b| a.0 == b.0);
        }
        Ok(entries)
    }

    /// Forgets the entries `settled` (just committed). The file is emptied: it is only
    /// settled when this process runs no other send.
    pub fn forget(&self, settled: &[JournalEntry]) -> Result<(), StoreError> {
        self.file.clear()?;
        if let Some(shared) = &self.shared {
            let keys: Vec<Vec<u8>> = settled.iter().map(|(k, _)| k.clone()).collect();
            shared.forget(&keys)?;
        }
        Ok(())
    }

    /// Forgets what a finished send over `prefix` (an incident's keys; `None`: all) noted.
    pub fn forget_prefix(&self, prefix: Option<&[u8]>) -> Result<(), StoreError> {
        self.file.clear()?;
        match &self.shared {
            Some(shared) => shared.forget_prefix(prefix),
            None => Ok(()),
        }
    }
}

/// A note on its way to the shared table.
#[must_use = "a deferred note is waited for before the letter after next goes out"]
pub struct Deferred(Option<(std::sync::Arc<dyn SharedJournal>, u64)>);

impl Deferred {
    /// Waits until the shared table holds the note (at once without one).
    pub fn wait(self) {
        if let Some((shared, ticket)) = self.0 {
            shared.wait(ticket);
        }
    }
}

/// The journal file of a database directory.
pub struct FileJournal {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl FileJournal {
    pub fn new(dir: &Path) -> FileJournal {
        FileJournal {
            path: dir.join(FILE),
            file: Mutex::new(None),
        }
    }

    fn io(&self, e: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source: e,
        }
    }

    /// Notes that the letters under `keys` were accepted at `at`, in one write.
    pub fn append(&self, keys: &[Vec<u8>], at: DateTime<Utc>) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let stamp = at.timestamp_millis().to_string();
        let mut text = Vec::with_capacity(keys.len() * 80);
        for key in keys {
            for b in key {
                text.push(HEX[usize::from(b >> 4)]);
                text.push(HEX[usize::from(b & 15)]);
            }
            text.push(b' ');
            text.extend_from_slice(stamp.as_bytes());
            text.push(b'\n');
        }
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if file.is_none() {
            *file = Some(
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(0o600)
                    // Never through a link planted in its place.
                    .custom_flags(nix::libc::O_NOFOLLOW)
                    .open(&self.path)
                    .map_err(|e| self.io(e))?,
            );
        }
        match file.as_mut() {
            Some(f) => f.write_all(&text).map_err(|e| self.io(e)),
            None => Ok(()),
        }
    }

    /// Empties the journal once the trees hold everything in it.
    pub fn clear(&self) -> Result<(), StoreError> {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        match file.as_ref() {
            Some(f) => f.set_len(0).map_err(|e| self.io(e)),
            None => match File::options()
                .write(true)
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(&self.path)
            {
                Ok(f) => f.set_len(0).map_err(|e| self.io(e)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(self.io(e)),
            },
        }
    }

    /// What the journal holds: each key with its acceptance time. A torn last line (the
    /// writer died mid-write) is skipped: its letter had not been released yet.
    pub fn entries(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let opened = File::options()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&self.path);
        let file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        let mut entries = Vec::new();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| self.io(e))?;
            if let Some(entry) = parse(&line) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }
}

fn parse(line: &str) -> Option<JournalEntry> {
    let (hex, stamp) = line.split_once(' ')?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let key = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let at = Utc.timestamp_millis_opt(stamp.parse().ok()?).single()?;
    Some((key, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = FileJournal::new(dir.path());
        let at = Utc.timestamp_millis_opt(1_700_000_000_123).unwrap();
        journal.append(&[vec![0, 1, 255], vec![7]], at).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .unwrap()
            .write_all(b"0a0b")
            .unwrap();
        let entries = journal.entries().unwrap();
        assert_eq!(entries, vec![(vec![0, 1, 255], at), (vec![7], at)]);
        journal.clear().unwrap();
        assert!(journal.entries().unwrap().is_empty());
    }
}
