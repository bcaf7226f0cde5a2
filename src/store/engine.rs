//! What the store asks of a database engine: ordered trees of byte keys and values, reads,
//! atomic batches, one transaction that reads and writes several trees, and a lock that
//! every writer of the database takes. The store above it (keys, sealing, the audit chain,
//! the outbox) is the same on every engine; `engine_sled.rs` keeps the trees in an embedded
//! sled database, `engine_pg.rs` in PostgreSQL tables shared by several daemons. Values
//! reach an engine already sealed where they hold personal data.

use super::StoreError;

/// The trees of a breachdesk database (see the table in `store/mod.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    Meta,
    Incidents,
    People,
    Programs,
    Audit,
    AuditByIncident,
    Outbox,
    OutboxState,
    OutboxTally,
    OutboxAttention,
    OutboxDict,
    Evidence,
    DataKeys,
}

impl Tree {
    /// Every tree, in the order engines create them.
    pub const ALL: [Tree; 13] = [
        Tree::Meta,
        Tree::Incidents,
        Tree::People,
        Tree::Programs,
        Tree::Audit,
        Tree::AuditByIncident,
        Tree::Outbox,
        Tree::OutboxState,
        Tree::OutboxTally,
        Tree::OutboxAttention,
        Tree::OutboxDict,
        Tree::Evidence,
        Tree::DataKeys,
    ];

    /// The tree's name: sled's tree name, and the PostgreSQL table's after `bd_`.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Incidents => "incidents",
            Tree::People => "people",
            Tree::Programs => "programs",
            Tree::Audit => "audit",
            Tree::AuditByIncident => "audit_by_incident",
            Tree::Outbox => "outbox",
            Tree::OutboxState => "outbox_state",
            Tree::OutboxTally => "outbox_tally",
            Tree::OutboxAttention => "outbox_attention",
            Tree::OutboxDict => "outbox_dict",
            Tree::Evidence => "evidence",
            Tree::DataKeys => "data_keys",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// How many slots the wrapping key has: the key in force, and its successor while a purge
/// replaces it.
pub const WRAPPING_SLOTS: usize = 2;

/// A key and its value.
pub type Pair = (Vec<u8>, Vec<u8>);

/// Key-ordered pairs of one tree, read lazily.
pub type Pairs<'a> = Box<dyn Iterator<Item = Result<Pair, StoreError>> + Send + 'a>;

/// Key-ordered keys of one tree, read lazily.
pub type Keys<'a> = Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send + 'a>;

/// Takes another process's announcement (or `None`, asking whether to go on); false stops.
pub type Deliver = Box<dyn Fn(Option<&str>) -> bool + Send>;

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum Write {
    Put(Tree, Vec<u8>, Vec<u8>),
    Remove(Tree, Vec<u8>),
}

/// The first key after every key that starts with `prefix`; `None` when there is none (a
/// prefix of only 0xff bytes, or empty).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Reads and writes inside one transaction. Reads see the transaction's own writes.
pub trait Txn {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The values of `keys`, in order (one round trip on a database server).
    fn get_many(&mut self, tree: Tree, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(tree, k)).collect()
    }
    fn put(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), StoreError>;
}

/// The work of one transaction: it may run more than once when the engine sees a conflict
/// with another writer, so it keeps its results only from the run that returns `Ok`.
pub type Work<'a> = dyn FnMut(&mut dyn Txn) -> Result<(), StoreError> + 'a;

/// Held while a writer loads, checks and commits a change (the desk's writer lock): on an
/// engine shared by several processes it holds them all off.
pub trait WriterLock: Send {}

/// A database engine. Writes are durable once [`Engine::flush`] returns.
pub trait Engine: Send + Sync {
    /// What the database is, for messages: a directory or a server and database name.
    fn describe(&self) -> String;
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The values of `keys`, in order (one round trip on a database server).
    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(tree, k)).collect()
    }
    /// The pairs with `start <= key < end` (no end: to the end of the tree), in key order.
    fn range<'a>(&'a self, tree: Tree, start: &[u8], end: Option<&[u8]>) -> Pairs<'a>;
    /// The pair with the greatest key.
    fn last(&self, tree: Tree) -> Result<Option<Pair>, StoreError>;
    /// Applies `writes` atomically, in order.
    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// Removes every pair of `tree`.
    fn clear(&self, tree: Tree) -> Result<(), StoreError>;
    /// Runs `work` as one atomic, isolated transaction over every tree.
    fn transaction(&self, work: &mut Work<'_>) -> Result<(), StoreError>;
    /// Waits until everything applied or committed is durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Takes the lock every writer of this database holds while it changes something; the
    /// caller already holds its own process's lock.
    fn lock_writers(&self) -> Result<Option<Box<dyn WriterLock>>, StoreError>;

    /// The two slots of the wrapping key (see `data_keys.rs`), as last written; `None` for
    /// an empty slot.
    fn read_wrapping_slots(&self) -> Result<[Option<Vec<u8>>; WRAPPING_SLOTS], StoreError>;

    /// Writes slot `slot` (`None` empties it) so that it is durable when this returns, and
    /// so that nothing this engine keeps still holds what the slot held before: the one
    /// place of a database that truly forgets.
    fn write_wrapping_slot(&self, slot: usize, value: Option<&[u8]>) -> Result<(), StoreError>;

    /// Tells every other process on this database about a commit (`payload` starts with
    /// the announcing store's id and a space). Only shared engines have others to tell.
    fn announce(&self, _payload: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Hands what other processes announce, except what `me` announced, to `deliver`, on a
    /// thread of its own, until `deliver` returns false (it is also called with `None` now
    /// and then, to ask).
    fn listen(&self, _me: String, _deliver: Deliver) {}

    /// The send journal this engine keeps for every process on it; `None`: each process
    /// keeps its own file.
    fn shared_journal(&self) -> Option<std::sync::Arc<dyn super::journal::SharedJournal>> {
        None
    }

    /// Every pair whose key starts with `prefix`.
    fn scan_prefix<'a>(&'a self, tree: Tree, prefix: &[u8]) -> Pairs<'a> {
        let end = prefix_end(prefix);
        self.range(tree, prefix, end.as_deref())
    }

    /// Every key that starts with `prefix` (all keys with an empty one), without reading
    /// the values: an engine that can leave them unread overrides it.
    fn scan_keys<'a>(&'a self, tree: Tree, prefix: &[u8]) -> Keys<'a> {
        Box::new(self.scan_prefix(tree, prefix).map(|kv| kv.map(|(k, _)| k)))
    }

    /// Every pair of `tree`.
    fn iter(&self, tree: Tree) -> Pairs<'_> {
        self.range(tree, &[], None)
    }

    fn put(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.apply(vec![Write::Put(tree, key.to_vec(), value.to_vec())])
    }

    fn is_empty(&self, tree: Tree) -> Result<bool, StoreError> {
        Ok(self.iter(tree).next().transpose()?.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_ends_at_the_next_key_that_does_not_start_with_it() {
        assert_eq!(prefix_end(&[0, 0, 1]), Some(vec![0, 0, 2]));
        assert_eq!(prefix_end(&[0, 0xff]), Some(vec![1]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[]), None);
    }
}
