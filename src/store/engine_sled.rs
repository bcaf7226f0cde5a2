//! The embedded engine: every tree a sled tree in the database directory. sled lets one
//! process open a directory at a time, so the process's own writer lock is the only one
//! needed.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use super::StoreError;
use super::engine::{Engine, Keys, Pairs, Txn, Work, Write, WriterLock};
use super::engine::{Pair, Tree, WRAPPING_SLOTS};

/// sled's page cache; its 1 GiB default made a 100,000-letter send peak at 440 MB. 8 MiB
/// keeps that send under 150 MB (16 MiB: 158 MB, about 13% faster; docs/PERFORMANCE.md).
const CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// The file beside sled's own that holds the wrapping key's slots. sled's log keeps old
/// records until it compacts, so the wrapping key never goes into sled: this file is
/// overwritten in place, one file-system block a slot.
const WRAPPING_FILE: &str = "wrapping-keys";
/// Bytes a slot takes in [`WRAPPING_FILE`]: one block, written whole.
const SLOT_BYTES: usize = 4096;
/// What a written slot starts with, then the value's length (u32 little-endian).
const SLOT_MAGIC: &[u8; 4] = b"BDWK";

/// A sled database and its trees, indexed by [`Tree::index`].
pub struct SledEngine {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    dir: String,
    path: PathBuf,
}

/// sled's errors, put into words: nothing of sled's leaves this engine.
impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

/// Why sled could not open `path`: another process holding its lock, or anything else.
fn open_failed(path: &Path, e: sled::Error) -> StoreError {
    let locked = matches!(&e, sled::Error::Io(io)
        if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock"));
    if locked {
        StoreError::Locked {
            path: path.to_owned(),
        }
    } else {
        StoreError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        }
    }
}

impl Drop for SledEngine {
    fn drop(&mut self) {
        // Files sled created while open (snapshots, blobs) get their private modes too; a
        // failure here leaves them inside the 0700 directory, tightened at the next open.
        let _ = self.db.flush();
        let _ = super::dir::tighten_files(&self.path);
    }
}

impl SledEngine {
    pub fn open(dir: &Path) -> Result<SledEngine, StoreError> {
        // Every commit flushes before it returns, so sled's periodic flusher thread would
        // only burn a core.
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| open_failed(dir, e))?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()).map_err(|e| open_failed(dir, e)))
            .collect::<Result<_, _>>()?;
        // sled creates its files with the process's umask; the directory (0700) keeps other
        // users out, and its files are set to 0600 here and when the engine closes.
        super::dir::tighten_files(dir)?;
        Ok(SledEngine {
            db,
            trees,
            dir: crate::domain::text::display_path(dir).to_string(),
            path: dir.to_owned(),
        })
    }

    fn wrapping_file(&self, create: bool) -> Result<Option<File>, StoreError> {
        let path = self.path.join(WRAPPING_FILE);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path);
        let file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        if !file.metadata().map_err(io)?.is_file() {
            return Err(io(std::io::Error::other("not a regular file")));
        }
        if create {
            // The directory entry of a new file must be on disk before the key it holds is
            // relied on.
            File::open(&self.path)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(Some(file))
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
    }
}

fn pair(kv: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Pair, StoreError> {
    let (k, v) = kv?;
    Ok((k.to_vec(), v.to_vec()))
}

impl Engine for SledEngine {
    fn describe(&self) -> String {
        self.dir.clone()
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
    }

    fn range<'a>(&'a self, tree: Tree, start: &[u8], end: Option<&[u8]>) -> Pairs<'a> {
        let t = self.tree(tree);
        match end {
            Some(end) => Box::new(t.range(start.to_vec()..end.to_vec()).map(pair)),
            None => Box::new(t.range(start.to_vec()..).map(pair)),
        }
    }

    fn scan_keys<'a>(&'a self, tree: Tree, prefix: &[u8]) -> Keys<'a> {
        Box::new(
            self.tree(tree)
                .scan_prefix(prefix)
                .keys()
                .map(|k| k.map(|k| k.to_vec()).map_err(StoreError::from)),
        )
    }

    fn last(&self, tree: Tree) -> Result<Option<Pair>, StoreError> {
        Ok(self
            .tree(tree)
            .last()?
            .map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let tree_of = |w: &Write| match w {
            Write::Put(t, ..) | Write::Remove(t, _) => *t,
        };
        let Some(first) = writes.first().map(tree_of) else {
            return Ok(());
        };
        if writes.iter().all(|w| tree_of(w) == first) {
            let mut batch = sled::Batch::default();
            for w in writes {
                match w {
                    Write::Put(_, k, v) => batch.insert(k, v),
                    Write::Remove(_, k) => batch.remove(k),
                }
            }
            self.tree(first).apply_batch(batch)?;
            return Ok(());
        }
        self.transaction(&mut |txn| {
            for w in &writes {
                match w {
                    Write::Put(t, k, v) => txn.put(*t, k, v)?,
                    Write::Remove(t, k) => txn.remove(*t, k)?,
                }
            }
            Ok(())
        })
    }

    fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        self.tree(tree).clear()?;
        Ok(())
    }

    fn transaction(&self, work: &mut Work<'_>) -> Result<(), StoreError> {
        // sled takes a `Fn`; the work runs once at a time, so a RefCell lends it out.
        let work = std::cell::RefCell::new(work);
        let result = self.trees[..].transaction(|views| {
            let mut txn = SledTxn {
                views,
                conflict: false,
            };
            let ran = (*work.borrow_mut())(&mut txn);
            match ran {
                Ok(()) => Ok(()),
                // sled runs the closure again on a conflict.
                Err(_) if txn.conflict => Err(ConflictableTransactionError::Conflict),
                Err(e) => Err(ConflictableTransactionError::Abort(e)),
            }
        });
        result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::from(e),
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn lock_writers(&self) -> Result<Option<Box<dyn WriterLock>>, StoreError> {
        Ok(None)
    }

    fn read_wrapping_slots(&self) -> Result<[Option<Vec<u8>>; WRAPPING_SLOTS], StoreError> {
        let mut slots = [None, None];
        let Some(mut file) = self.wrapping_file(false)? else {
            return Ok(slots);
        };
        let mut raw = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut raw))
            .map_err(|source| StoreError::Io {
                path: self.path.join(WRAPPING_FILE),
                source,
            })?;
        for (n, slot) in slots.iter_mut().enumerate() {
            let Some(block) = raw.get(n * SLOT_BYTES..(n + 1) * SLOT_BYTES) else {
                continue;
            };
            if &block[..4] != SLOT_MAGIC {
                continue;
            }
            let len = u32::from_le_bytes([block[4], block[5], block[6], block[7]]) as usize;
            // A torn or foreign slot reads as empty; the value's seal says whether it is one.
            *slot = block.get(8..8 + len).map(<[u8]>::to_vec);
        }
        Ok(slots)
    }

    fn write_wrapping_slot(&self, slot: usize, value: Option<&[u8]>) -> Result<(), StoreError> {
        let path = self.path.join(WRAPPING_FILE);
        let mut block = vec![0u8; SLOT_BYTES];
        if let Some(value) = value {
            if value.len() > SLOT_BYTES - 8 {
                return Err(StoreError::corrupt("wrapping key slot"));
            }
            block[..4].copy_from_slice(SLOT_MAGIC);
            block[4..8].copy_from_slice(&(value.len() as u32).to_le_bytes());
            block[8..8 + value.len()].copy_from_slice(value);
        }
        let Some(file) = self.wrapping_file(true)? else {
            return Err(StoreError::corrupt("wrapping key file"));
        };
        // In place, over the same block: the slot's old bytes are gone from the file once
        // this returns (docs/security.md says what a file system may still keep).
        file.write_all_at(&block, (slot * SLOT_BYTES) as u64)
            .and_then(|()| file.sync_data())
            .map_err(|source| StoreError::Io { path, source })
    }
}

/// A sled transaction over every tree; notes a conflict so that the work runs again.
struct SledTxn<'a> {
    views: &'a [sled::transaction::TransactionalTree],
    conflict: bool,
}

impl SledTxn<'_> {
    fn failed(&mut self, e: sled::transaction::UnabortableTransactionError) -> StoreError {
        match e {
            sled::transaction::UnabortableTransactionError::Conflict => {
                self.conflict = true;
                StoreError::Conflict
            }
            sled::transaction::UnabortableTransactionError::Storage(e) => StoreError::from(e),
        }
    }
}

impl Txn for SledTxn<'_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.views[tree.index()].get(key) {
            Ok(v) => Ok(v.map(|v| v.to_vec())),
            Err(e) => Err(self.failed(e)),
        }
    }

    fn put(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        match self.views[tree.index()].insert(key, value) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(e)),
        }
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), StoreError> {
        match self.views[tree.index()].remove(key) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_scanned_in_order_within_their_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::open(dir.path()).unwrap();
        let writes = [&b"a1"[..], b"b2", b"b1", b"c"]
            .iter()
            .map(|k| Write::Put(Tree::Outbox, k.to_vec(), vec![7; 100]))
            .collect();
        engine.apply(writes).unwrap();
        let keys = |prefix: &[u8]| -> Vec<Vec<u8>> {
            engine
                .scan_keys(Tree::Outbox, prefix)
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(keys(b"b"), [b"b1".to_vec(), b"b2".to_vec()]);
        assert_eq!(keys(b"").len(), 4);
        assert!(keys(b"d").is_empty());
    }
}
