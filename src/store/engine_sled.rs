//! The embedded engine: every tree a sled tree in the database directory. sled lets one
//! process open a directory at a time, so the process's own writer lock is the only one
//! needed.

use std::path::Path;

use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use super::StoreError;
use super::engine::{Engine, Keys, Pairs, Txn, Work, Write, WriterLock};
use super::engine::{Pair, Tree};

/// sled's page cache; its 1 GiB default made a 100,000-letter send peak at 440 MB. 8 MiB
/// keeps that send under 150 MB (16 MiB: 158 MB, about 13% faster; docs/PERFORMANCE.md).
const CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// A sled database and its trees, indexed by [`Tree::index`].
pub struct SledEngine {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    dir: String,
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
            .map_err(|e| StoreError::open(dir, e))?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()).map_err(|e| StoreError::open(dir, e)))
            .collect::<Result<_, _>>()?;
        Ok(SledEngine {
            db,
            trees,
            dir: crate::domain::text::display_path(dir).to_string(),
        })
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
            TransactionError::Storage(e) => StoreError::Sled(e),
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn lock_writers(&self) -> Result<Option<Box<dyn WriterLock>>, StoreError> {
        Ok(None)
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
            sled::transaction::UnabortableTransactionError::Storage(e) => StoreError::Sled(e),
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
