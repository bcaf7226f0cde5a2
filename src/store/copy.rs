//! Moving a database between engines (`breachdesk db copy`): every tree copied pair by pair
//! as it is stored, still sealed (no key is needed to copy, and nothing is opened on the
//! way), into a target that holds nothing yet; then every tree counted on both sides. The
//! command line then opens the copy with the key and verifies its audit chain.

use std::path::Path;

use super::engine::{Engine, Tree, Write};
use super::engine_pg::{PgEngine, is_url};
use super::engine_sled::SledEngine;
use super::{StoreError, dir};

/// Pairs written per batch.
const COPY_BATCH: usize = 1_000;

/// How many pairs each tree held, as copied and as counted on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub trees: Vec<(Tree, u64)>,
}

impl CopyReport {
    /// Every pair copied.
    pub fn total(&self) -> u64 {
        self.trees.iter().map(|(_, n)| n).sum()
    }
}

/// Opens the database `db` names (a directory, or a `postgres://` URL) to copy from: it
/// must exist.
pub fn open_source(db: &str) -> Result<Box<dyn Engine>, StoreError> {
    if is_url(db) {
        return Ok(Box::new(PgEngine::open(db)?));
    }
    let path = Path::new(db);
    if !path.join("conf").exists() {
        return Err(StoreError::NotADatabase {
            path: path.to_owned(),
        });
    }
    Ok(Box::new(SledEngine::open(path)?))
}

/// Opens the database `db` names to copy into, creating it (a PostgreSQL database gets its
/// tables if it has none yet); it must hold nothing.
pub fn open_target(db: &str) -> Result<Box<dyn Engine>, StoreError> {
    let engine: Box<dyn Engine> = if is_url(db) {
        let pg = PgEngine::connect(db)?;
        match pg.schema_version()? {
            None => {
                pg.migrate()?;
            }
            Some(super::engine_pg::SCHEMA_VERSION) => {}
            found => {
                return Err(StoreError::Schema {
                    at: pg.describe(),
                    found,
                    wanted: super::engine_pg::SCHEMA_VERSION,
                });
            }
        }
        Box::new(pg)
    } else {
        let path = Path::new(db);
        dir::prepare_dir(path)?;
        Box::new(SledEngine::open(path)?)
    };
    let slots_empty = engine.read_wrapping_slots()?.iter().all(Option::is_none);
    for tree in Tree::ALL {
        if !slots_empty || !engine.is_empty(tree)? {
            return Err(StoreError::TargetNotEmpty {
                at: engine.describe(),
            });
        }
    }
    Ok(engine)
}

/// Copies every tree of `from` into `to`, calling `progress` after each batch with the
/// tree and the pairs copied so far, then counts both sides.
pub fn copy(
    from: &dyn Engine,
    to: &dyn Engine,
    progress: &mut dyn FnMut(Tree, u64),
) -> Result<CopyReport, StoreError> {
    let mut trees = Vec::with_capacity(Tree::ALL.len());
    for tree in Tree::ALL {
        let mut copied = 0u64;
        let mut batch = Vec::with_capacity(COPY_BATCH);
        for kv in from.iter(tree) {
            let (k, v) = kv?;
            batch.push(Write::Put(tree, k, v));
            if batch.len() == COPY_BATCH {
                copied += batch.len() as u64;
                to.apply(std::mem::take(&mut batch))?;
                progress(tree, copied);
            }
        }
        copied += batch.len() as u64;
        to.apply(batch)?;
        progress(tree, copied);
        trees.push((tree, copied));
    }
    // The wrapping key that opens the data keys is kept beside the trees.
    for (slot, value) in from.read_wrapping_slots()?.iter().enumerate() {
        if let Some(value) = value {
            to.write_wrapping_slot(slot, Some(value))?;
        }
    }
    to.flush()?;
    for (tree, copied) in &trees {
        let source = count(from, *tree)?;
        let target = count(to, *tree)?;
        if source != *copied || target != *copied {
            return Err(StoreError::CopyMismatch {
                tree: tree.name(),
                in_source: source,
                target,
            });
        }
    }
    Ok(CopyReport { trees })
}

fn count(engine: &dyn Engine, tree: Tree) -> Result<u64, StoreError> {
    let mut n = 0;
    for kv in engine.iter(tree) {
        kv?;
        n += 1;
    }
    Ok(n)
}
