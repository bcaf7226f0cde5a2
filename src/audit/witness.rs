//! The audit witness: a file outside the database directory to which every committed chain
//! head is appended, one JSON line each, so that a database put back from an older copy
//! shows in `audit verify`. This module owns the file: its lines, appending under a lock,
//! keeping it bounded, reading it back and comparing it with a chain. What a head is and
//! how it is tagged lives in [`super`]; when heads are written is the store's business.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Head, HeadKey, RawEvent, Tag, Tamper, WitnessCheck, WitnessedHead};

/// Past this size the witness is rewritten keeping only its latest lines.
pub const ROTATE_BYTES: u64 = 256 * 1024;

/// How many of the latest lines a rewrite keeps, besides each database's last line and every
/// line that shows a database going back (see [`lines_to_keep`]).
pub const KEEP_LINES: usize = 256;

/// How often an append retries when the file was replaced while it waited for the lock.
const LOCK_TRIES: usize = 16;

/// A witness that cannot be used.
#[derive(Debug, Error)]
pub enum WitnessError {
    #[error(
        "the change was saved, but the audit witness {path} could not be written ({source}); until it can, `audit verify` cannot detect a database put back from a copy: check the disk and the file's permissions, or move it with `[audit] witness`"
    )]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read the audit witness {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot resolve {path} to place the audit witness outside it: {source}")]
    Resolve { path: PathBuf, source: io::Error },
    #[error(
        "the audit witness {witness} is inside the database directory {db}, so a copy of the database would carry it along; set `[audit] witness` to a path outside it"
    )]
    InsideDatabase { witness: PathBuf, db: PathBuf },
}

/// One line of the witness: a head of one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessLine {
    /// The database directory (canonical), so several databases can share one witness.
    pub db: String,
    pub seq: u64,
    pub hash: String,
    pub tag: String,
    /// When the head's event happened.
    pub at: DateTime<Utc>,
}

/// What a witness file holds for one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessReading {
    /// This database's lines, with their (1-based) line numbers, in file order.
    pub lines: Vec<(usize, WitnessLine)>,
    /// Lines that are not witness lines (a write torn by a crash), skipped.
    pub unreadable: usize,
}

impl WitnessReading {
    /// The line recording the highest seq (the later one of equals).
    pub fn latest(&self) -> Option<&(usize, WitnessLine)> {
        self.lines.iter().rev().max_by_key(|(_, line)| line.seq)
    }
}

/// The witness of one database.
#[derive(Debug)]
pub struct Witness {
    path: PathBuf,
    db: String,
    /// What this process appended; held while appending.
    state: Mutex<Appended>,
}

/// What one process has appended to a witness.
#[derive(Debug)]
struct Appended {
    /// The highest seq appended, so that a commit that finishes late never records an
    /// older head after a newer one.
    last: u64,
    /// The size past which the file is next rewritten: [`ROTATE_BYTES`], or what the last
    /// rewrite kept plus [`ROTATE_BYTES`] when that is more, so that a file whose kept lines
    /// (every trace of a database that went back) exceed the limit is not rewritten on
    /// every commit.
    rotate_at: u64,
}

impl Witness {
    /// The witness at `path` for the database in `db_dir`; refuses a path inside it.
    pub fn new(path: &Path, db_dir: &Path) -> Result<Witness, WitnessError> {
        let resolve = |path: &Path| {
            let path = path.to_owned();
            move |source| WitnessError::Resolve { path, source }
        };
        let db = fs::canonicalize(db_dir).map_err(resolve(db_dir))?;
        let path = absolute(path).map_err(resolve(path))?;
        if path.starts_with(&db) {
            return Err(WitnessError::InsideDatabase { witness: path, db });
        }
        Ok(Witness {
            path,
            db: db.to_string_lossy().into_owned(),
            state: Mutex::new(Appended {
                last: 0,
                rotate_at: ROTATE_BYTES,
            }),
        })
    }

    /// Where the witness file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database its lines name (its canonical directory).
    pub fn database(&self) -> &str {
        &self.db
    }

    /// Appends `head` (an older or equal seq than the last appended is skipped), then
    /// rewrites the file if it has grown past [`ROTATE_BYTES`].
    pub fn append(&self, head: &Head, tag: &Tag, at: DateTime<Utc>) -> Result<(), WitnessError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if head.seq <= state.last {
            return Ok(());
        }
        let line = WitnessLine {
            db: self.db.clone(),
            seq: head.seq,
            hash: super::hex(&head.hash),
            tag: super::hex(tag),
            at,
        };
        let mut text = serde_json::to_string(&line).map_err(|e| self.write_error(e.into()))?;
        text.push('\n');
        let file = self.open_locked().map_err(|e| self.write_error(e))?;
        (&*file)
            .write_all(text.as_bytes())
            .map_err(|e| self.write_error(e))?;
        let size = file.metadata().map_err(|e| self.write_error(e))?.len();
        if size > state.rotate_at {
            let kept = self.rotate().map_err(|e| self.write_error(e))?;
            state.rotate_at = ROTATE_BYTES.max(kept + ROTATE_BYTES);
        }
        state.last = head.seq;
        Ok(())
    }

    /// What the file records for this database; `None` when there is no file.
    pub fn read(&self) -> Result<Option<WitnessReading>, WitnessError> {
        let text = match fs::read(&self.path) {
            Ok(raw) => String::from_utf8_lossy(&raw).into_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(WitnessError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut reading = WitnessReading {
            lines: Vec::new(),
            unreadable: 0,
        };
        for (n, raw) in text.lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<WitnessLine>(raw) {
                Ok(line) if line.db == self.db => reading.lines.push((n + 1, line)),
                Ok(_) => {}
                Err(_) => reading.unreadable += 1,
            }
        }
        Ok(Some(reading))
    }

    /// Compares a chain with every head the witness recorded for it: each must be an
    /// event the database holds, with the same hash. `events` are the database's events in
    /// key order and `head` its head; the chain itself is checked elsewhere.
    pub fn compare(
        &self,
        reading: Option<&WitnessReading>,
        key: &HeadKey,
        events: &[RawEvent],
        head: Option<&Head>,
    ) -> Result<WitnessCheck, Tamper> {
        let path = self.path.clone();
        let Some(reading) = reading else {
            return Ok(WitnessCheck::Missing { path });
        };
        let Some((_, latest)) = reading.latest() else {
            return Ok(WitnessCheck::NoEntry { path });
        };
        let mut witnessed = Vec::with_capacity(reading.lines.len());
        for (line_no, line) in &reading.lines {
            let forged = || Tamper::WitnessForged {
                path: path.clone(),
                line: *line_no,
            };
            let hash = super::parse_hex(&line.hash).ok_or_else(forged)?;
            let tag = super::parse_hex(&line.tag).ok_or_else(forged)?;
            let seen = Head {
                seq: line.seq,
                hash,
            };
            if !key.checks(&seen, &tag) {
                return Err(forged());
            }
            witnessed.push((seen, line));
        }
        let named = |line: &WitnessLine| WitnessedHead {
            seq: line.seq,
            hash: line.hash.clone(),
            at: line.at,
        };
        let ends = head.map_or(0, |h| h.seq);
        if latest.seq > ends {
            let last = named(latest);
            return Err(Tamper::OlderThanWitness { path, last, ends });
        }
        let differs = witnessed
            .iter()
            .filter(|(seen, _)| {
                let held = events.binary_search_by_key(&seen.seq, |e| e.key_seq);
                held.map_or(true, |at| events[at].stored_hash != seen.hash)
            })
            .max_by_key(|(seen, _)| seen.seq);
        if let Some((_, line)) = differs {
            let last = named(line);
            return Err(Tamper::DivergedFromWitness { path, last });
        }
        let last = named(latest);
        Ok(WitnessCheck::Matches { path, last })
    }

    fn write_error(&self, source: io::Error) -> WitnessError {
        WitnessError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Opens the file for appending (creating it 0600, its directory 0700) and locks it.
    /// A file replaced by another process's rewrite while this one waited is opened again.
    fn open_locked(&self) -> io::Result<Flock<File>> {
        if let Some(dir) = self.path.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        for _ in 0..LOCK_TRIES {
            let file = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                // Never through a link planted in its place.
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(&self.path)?;
            let file = Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, errno)| io::Error::from(errno))?;
            let held = file.metadata()?;
            let current = fs::metadata(&self.path)?;
            if held.dev() == current.dev() && held.ino() == current.ino() {
                if held.mode() & 0o077 != 0 {
                    file.set_permissions(fs::Permissions::from_mode(0o600))?;
                }
                return Ok(file);
            }
        }
        Err(io::Error::other(
            "the file kept being replaced while waiting for its lock",
        ))
    }

    /// Rewrites the file (the caller holds its lock) keeping what [`lines_to_keep`] keeps:
    /// written to a new file in the same directory, then renamed over the old one. Returns
    /// the size kept.
    fn rotate(&self) -> io::Result<u64> {
        let text = String::from_utf8_lossy(&fs::read(&self.path)?).into_owned();
        let kept = lines_to_keep(&text, KEEP_LINES);
        let name = self
            .path
            .file_name()
            .map_or_else(|| "witness".into(), |n| n.to_string_lossy().into_owned());
        let temp = self.path.with_file_name(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        let written = kept
            .iter()
            .try_for_each(|line| writeln!(out, "{line}"))
            .and_then(|()| out.sync_all())
            .and_then(|()| fs::rename(&temp, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written.map(|()| kept.iter().map(|line| line.len() as u64 + 1).sum())
    }
}

/// The lines a rewrite keeps, in file order: the last `keep`; the last line of each
/// database; and every line followed later by a line of the same database with a seq no
/// higher, which is the trace of a database that went back (it stays until someone moves
/// the witness aside). Unreadable lines are dropped.
fn lines_to_keep(text: &str, keep: usize) -> Vec<&str> {
    let lines: Vec<(&str, WitnessLine)> = text
        .lines()
        .filter_map(|raw| Some((raw, serde_json::from_str(raw).ok()?)))
        .collect();
    let tail_from = lines.len().saturating_sub(keep);
    // The lowest seq each database records after the line being looked at.
    let mut lowest_after: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    let mut wanted = vec![false; lines.len()];
    for (i, (_, line)) in lines.iter().enumerate().rev() {
        let db = line.db.as_str();
        wanted[i] = i >= tail_from
            || lowest_after
                .get(db)
                .is_none_or(|&lowest| lowest <= line.seq);
        let lowest = lowest_after.entry(db).or_insert(line.seq);
        *lowest = (*lowest).min(line.seq);
    }
    lines
        .iter()
        .zip(wanted)
        .filter_map(|((raw, _), keep)| keep.then_some(*raw))
        .collect()
}

/// `path` made absolute, with its directory resolved through symbolic links when it exists.
fn absolute(path: &Path) -> io::Result<PathBuf> {
    let path = std::path::absolute(path)?;
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if dir.exists() => Ok(fs::canonicalize(dir)?.join(name)),
        _ => Ok(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{self, GENESIS};
    use crate::crypto::Key;

    fn head(seq: u64) -> Head {
        Head {
            seq,
            hash: audit::link(&GENESIS, seq.to_string().as_bytes()),
        }
    }

    fn setup() -> (tempfile::TempDir, Witness, HeadKey) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("db")).unwrap();
        let witness =
            Witness::new(&dir.path().join("cfg/witness"), &dir.path().join("db")).unwrap();
        (dir, witness, HeadKey::derive(&Key::generate().unwrap()))
    }

    fn append(witness: &Witness, key: &HeadKey, seq: u64) {
        let h = head(seq);
        witness.append(&h, &key.tag(&h), Utc::now()).unwrap();
    }

    #[test]
    fn appends_are_read_back_and_older_heads_skipped() {
        let (_dir, witness, key) = setup();
        assert_eq!(witness.read().unwrap(), None, "no file yet");
        append(&witness, &key, 1);
        append(&witness, &key, 3);
        append(&witness, &key, 2);
        let reading = witness.read().unwrap().unwrap();
        let (line, latest) = reading.latest().unwrap();
        assert_eq!((*line, latest.seq), (2, 3));
        assert_eq!(
            fs::read_to_string(witness.path()).unwrap().lines().count(),
            2
        );
        assert_private(witness.path());
    }

    fn assert_private(path: &Path) {
        let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }

    #[test]
    fn lines_of_other_databases_and_torn_lines_are_not_this_databases_head() {
        let (dir, witness, key) = setup();
        append(&witness, &key, 2);
        fs::create_dir(dir.path().join("other")).unwrap();
        let other = Witness::new(witness.path(), &dir.path().join("other")).unwrap();
        append(&other, &key, 9);
        let mut file = OpenOptions::new()
            .append(true)
            .open(witness.path())
            .unwrap();
        file.write_all(b"{\"db\":\"/x\",\"se").unwrap();
        let reading = witness.read().unwrap().unwrap();
        assert_eq!(reading.latest().unwrap().1.seq, 2);
        assert_eq!(reading.lines.len(), 1);
        assert_eq!(reading.unreadable, 1);
    }

    #[test]
    fn rotation_keeps_the_latest_lines_and_each_databases_last() {
        let (dir, witness, key) = setup();
        fs::create_dir(dir.path().join("quiet")).unwrap();
        let quiet = Witness::new(witness.path(), &dir.path().join("quiet")).unwrap();
        append(&quiet, &key, 7);
        let line_len = fs::metadata(witness.path()).unwrap().len();
        let appends = ROTATE_BYTES / line_len + 10;
        for seq in 1..=appends {
            append(&witness, &key, seq);
        }
        let text = fs::read_to_string(witness.path()).unwrap();
        let count = text.lines().count();
        assert!(count <= KEEP_LINES + 20, "bounded: {count} lines");
        assert!(fs::metadata(witness.path()).unwrap().len() < ROTATE_BYTES);
        let latest = |w: &Witness| w.read().unwrap().unwrap().latest().unwrap().1.seq;
        assert_eq!(latest(&witness), appends);
        assert_eq!(latest(&quiet), 7, "kept");
        assert_private(witness.path());
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("cfg"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
    }

    #[test]
    fn a_file_whose_kept_lines_pass_the_limit_is_not_rewritten_on_every_append() {
        use std::os::unix::fs::MetadataExt;
        let (dir, witness, key) = setup();
        // Many databases, each keeping its last line, fill the file past the limit.
        let line = |db: usize| {
            serde_json::to_string(&WitnessLine {
                db: format!("/elsewhere/{db}"),
                seq: 1,
                hash: "0".repeat(64),
                tag: "0".repeat(64),
                at: DateTime::<Utc>::UNIX_EPOCH,
            })
            .unwrap()
        };
        let lines: Vec<String> = (0..(ROTATE_BYTES as usize / 150 + 100)).map(line).collect();
        fs::create_dir_all(dir.path().join("cfg")).unwrap();
        fs::write(witness.path(), lines.join("\n") + "\n").unwrap();
        let inode = || fs::metadata(witness.path()).unwrap().ino();
        append(&witness, &key, 1);
        let rewritten = inode();
        assert!(fs::metadata(witness.path()).unwrap().len() > ROTATE_BYTES);
        for seq in 2..50 {
            append(&witness, &key, seq);
        }
        assert_eq!(inode(), rewritten, "appended to, not rewritten again");
        assert_eq!(witness.read().unwrap().unwrap().latest().unwrap().1.seq, 49);
    }

    #[test]
    fn keep_selection_is_in_file_order() {
        let line = |db: &str, seq: u64| {
            serde_json::to_string(&WitnessLine {
                db: db.into(),
                seq,
                hash: String::new(),
                tag: String::new(),
                at: DateTime::<Utc>::UNIX_EPOCH,
            })
            .unwrap()
        };
        let lines = [
            line("a", 1),
            line("b", 1),
            line("a", 2),
            line("b", 2),
            line("a", 3),
        ];
        let text = lines.join("\n");
        assert_eq!(lines_to_keep(&text, 3), [&lines[2], &lines[3], &lines[4]]);
        assert_eq!(lines_to_keep(&text, 1), [&lines[3], &lines[4]]);
    }

    #[test]
    fn rotation_keeps_the_trace_of_a_database_that_went_back() {
        let line = |seq: u64| {
            serde_json::to_string(&WitnessLine {
                db: "a".into(),
                seq,
                hash: String::new(),
                tag: String::new(),
                at: DateTime::<Utc>::UNIX_EPOCH,
            })
            .unwrap()
        };
        // 1..=4, then back to 3 and on to 6.
        let lines: Vec<String> = [1, 2, 3, 4, 3, 4, 5, 6].into_iter().map(line).collect();
        let text = lines.join("\n");
        let kept = lines_to_keep(&text, 2);
        assert_eq!(kept, [&lines[2], &lines[3], &lines[6], &lines[7]]);
    }

    #[test]
    fn compare_names_a_rollback_a_divergence_and_a_forged_line() {
        let (dir, witness, key) = setup();
        let events: Vec<RawEvent> = (1..=3)
            .map(|seq| RawEvent {
                key_seq: seq,
                body_seq: Some(seq),
                stored_hash: head(seq).hash,
                body: Vec::new(),
            })
            .collect();
        append(&witness, &key, 3);
        let reading = witness.read().unwrap();
        let check = witness.compare(reading.as_ref(), &key, &events, Some(&head(3)));
        assert!(
            matches!(check, Ok(WitnessCheck::Matches { .. })),
            "{check:?}"
        );
        let check = witness.compare(reading.as_ref(), &key, &events[..2], Some(&head(2)));
        assert!(
            matches!(check, Err(Tamper::OlderThanWitness { ends: 2, .. })),
            "{check:?}"
        );
        let mut changed = events.clone();
        changed[2].stored_hash = [7; 32];
        let check = witness.compare(reading.as_ref(), &key, &changed, Some(&head(3)));
        assert!(
            matches!(check, Err(Tamper::DivergedFromWitness { .. })),
            "{check:?}"
        );
        // Put back to 2 and changed again by a later process: the witness now also records
        // the new event 3, and still the old one.
        let rewritten = Head {
            seq: 3,
            hash: [7; 32],
        };
        let later = Witness::new(witness.path(), &dir.path().join("db")).unwrap();
        later
            .append(&rewritten, &key.tag(&rewritten), Utc::now())
            .unwrap();
        let reading = later.read().unwrap();
        assert_eq!(reading.as_ref().unwrap().lines.len(), 2);
        let check = witness.compare(reading.as_ref(), &key, &changed, Some(&rewritten));
        assert!(
            matches!(check, Err(Tamper::DivergedFromWitness { .. })),
            "{check:?}"
        );
        let other = HeadKey::derive(&Key::generate().unwrap());
        let check = witness.compare(reading.as_ref(), &other, &events, Some(&head(3)));
        assert!(
            matches!(check, Err(Tamper::WitnessForged { line: 1, .. })),
            "{check:?}"
        );
        assert!(matches!(
            witness.compare(None, &key, &events, Some(&head(3))),
            Ok(WitnessCheck::Missing { .. })
        ));
    }

    #[test]
    fn a_witness_inside_the_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        fs::create_dir(&db).unwrap();
        let err = Witness::new(&db.join("witness"), &db).unwrap_err();
        assert!(matches!(err, WitnessError::InsideDatabase { .. }), "{err}");
    }
}
