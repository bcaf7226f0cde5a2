//! The shared engine: every tree a PostgreSQL table `bd_<tree>` of `(k bytea primary key,
//! v bytea)`, so several daemons on several hosts work on one database that the company
//! backs up and replicates. What reaches a table is what sled would hold: personal records
//! sealed, outbox keys blinded.
//!
//! Two advisory locks make the daemons one writer, as sled's single process is:
//! - the **writer lock** ([`WRITER_LOCK`], held on a connection of its own for as long as
//!   the desk's writer lock is held) spans a whole load-check-change-commit, so no daemon
//!   changes an incident between another's load and commit;
//! - the **commit lock** ([`COMMIT_LOCK`], taken first in every transaction and released at
//!   its end) orders every commit, including the send's outcomes, which commit without the
//!   writer lock: a transaction reads the audit head and writes the next one while no other
//!   can, so the chain never forks.
//!
//! The schema has a version (`bd_schema`); `breachdesk db migrate` creates or upgrades it,
//! and opening a database with another version is refused with what to run. Change notices
//! travel between daemons by `NOTIFY` on [`CHANNEL`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use postgres::Client;
use postgres::types::Type;

/// Parameter types, so that each statement goes in one round trip (no separate prepare).
const BYTEA: Type = Type::BYTEA;
const BYTEA_ARRAY: Type = Type::BYTEA_ARRAY;
const INT8: Type = Type::INT8;

use super::StoreError;
use super::engine::{
    Deliver, Engine, Keys, Pair, Pairs, Tree, Txn, Work, Write, WriterLock, prefix_end,
};
use super::journal::SharedJournal;

mod journal;
mod pool;

use journal::PgJournal;
pub use pool::describe_url;
use pool::{PgPool, explain, failed, listen_loop};

/// The schema this build reads and writes.
/// Version 2 added `bd_wrapping`, the wrapping key's slots.
pub const SCHEMA_VERSION: i32 = 2;

/// Advisory lock keys (the first ASCII letters of "breachdesk" and a number).
const WRITER_LOCK: i64 = 0x6264_0001;
const COMMIT_LOCK: i64 = 0x6264_0002;
const MIGRATE_LOCK: i64 = 0x6264_0003;

/// The channel change notices are announced on.
pub const CHANNEL: &str = "breachdesk_changes";

/// Pairs read per round trip when scanning.
const SCAN_CHUNK: i64 = 1_000;

/// Connections kept open for reuse.
const POOL_KEEP: usize = 8;

/// Whether `db` names a PostgreSQL database rather than a directory.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// A PostgreSQL database: where it is, and connections to it.
pub struct PgEngine {
    pool: Arc<PgPool>,
    /// The connection that holds the writer lock, kept between uses.
    lock_conn: Arc<Mutex<Option<Client>>>,
}

fn table(tree: Tree) -> String {
    format!("bd_{}", tree.name())
}

impl PgEngine {
    /// Connects and checks the schema version; refuses a database that needs
    /// `breachdesk db migrate`.
    pub fn open(url: &str) -> Result<PgEngine, StoreError> {
        let engine = PgEngine::connect(url)?;
        let found = engine.schema_version()?;
        if found != Some(SCHEMA_VERSION) {
            return Err(StoreError::Schema {
                at: engine.pool.shown.clone(),
                found,
                wanted: SCHEMA_VERSION,
            });
        }
        Ok(engine)
    }

    /// Connects without looking at the schema.
    pub fn connect(url: &str) -> Result<PgEngine, StoreError> {
        let pool = PgPool {
            url: url.to_owned(),
            shown: describe_url(url),
            clients: Mutex::new(Vec::new()),
            setup: "",
            keep: POOL_KEEP,
        };
        let first = pool.new_client()?;
        pool.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(first);
        Ok(PgEngine {
            pool: Arc::new(pool),
            lock_conn: Arc::new(Mutex::new(None)),
        })
    }

    fn with_client<T>(
        &self,
        f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.pool.with_client(f)
    }

    /// The schema version the database has; `None` before the first migration.
    pub fn schema_version(&self) -> Result<Option<i32>, StoreError> {
        self.with_client(|c| {
            let exists: bool = c
                .query_one("SELECT to_regclass('bd_schema') IS NOT NULL", &[])?
                .get(0);
            if !exists {
                return Ok(None);
            }
            let row = c.query_opt("SELECT version FROM bd_schema", &[])?;
            Ok(row.map(|r| r.get::<_, i32>(0)))
        })
    }

    /// Creates the tables, or upgrades them to [`SCHEMA_VERSION`]; returns the version found
    /// before. Refuses a database newer than this build.
    pub fn migrate(&self) -> Result<Option<i32>, StoreError> {
        let found = self.schema_version()?;
        if let Some(v) = found
            && v > SCHEMA_VERSION
        {
            return Err(StoreError::Schema {
                at: self.pool.shown.clone(),
                found,
                wanted: SCHEMA_VERSION,
            });
        }
        self.with_client(|c| {
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS bd_schema (version integer NOT NULL)")?;
            for tree in Tree::ALL {
                tx.batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {} (k bytea PRIMARY KEY, v bytea NOT NULL)",
                    table(tree)
                ))?;
            }
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS bd_journal (k bytea PRIMARY KEY, at bigint NOT NULL)",
            )?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS bd_wrapping (slot integer PRIMARY KEY, v bytea NOT NULL)",
            )?;
            tx.execute("DELETE FROM bd_schema", &[])?;
            tx.execute(
                "INSERT INTO bd_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )?;
            tx.commit()
        })?;
        Ok(found)
    }
}

impl Engine for PgEngine {
    fn describe(&self) -> String {
        self.pool.shown.clone()
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!("SELECT v FROM {} WHERE k = $1", table(tree));
        self.with_client(|c| Ok(c.query_typed_opt(&sql, &[(&key, BYTEA)])?.map(|r| r.get(0))))
    }

    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let sql = format!("SELECT k, v FROM {} WHERE k = ANY($1)", table(tree));
        let rows = self.with_client(|c| c.query_typed(&sql, &[(&keys, BYTEA_ARRAY)]))?;
        Ok(in_order(keys.iter().map(Vec::as_slice), rows))
    }

    fn range<'a>(&'a self, tree: Tree, start: &[u8], end: Option<&[u8]>) -> Pairs<'a> {
        Box::new(Chunks {
            engine: self,
            tree,
            from: start.to_vec(),
            inclusive: true,
            end: end.map(<[u8]>::to_vec),
            buffer: std::collections::VecDeque::new(),
            done: false,
            keys_only: false,
        })
    }

    fn scan_keys<'a>(&'a self, tree: Tree, prefix: &[u8]) -> Keys<'a> {
        Box::new(
            Chunks {
                engine: self,
                tree,
                from: prefix.to_vec(),
                inclusive: true,
                end: prefix_end(prefix),
                buffer: std::collections::VecDeque::new(),
                done: false,
                keys_only: true,
            }
            .map(|kv| kv.map(|(k, _)| k)),
        )
    }

    fn last(&self, tree: Tree) -> Result<Option<Pair>, StoreError> {
        let sql = format!("SELECT k, v FROM {} ORDER BY k DESC LIMIT 1", table(tree));
        self.with_client(|c| Ok(c.query_opt(&sql, &[])?.map(|r| (r.get(0), r.get(1)))))
    }

    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
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
        let sql = format!("DELETE FROM {}", table(tree));
        self.with_client(|c| c.execute(&sql, &[]).map(|_| ()))
    }

    fn transaction(&self, work: &mut Work<'_>) -> Result<(), StoreError> {
        // Under the commit lock no other transaction runs, so the work runs once.
        let mut outcome: Result<(), StoreError> = Ok(());
        // The inner result is the COMMIT's: once it is sent, its outcome is unknown if the
        // connection dies, so only what fails before it may run again.
        let committed = self.with_client(|c| {
            let mut tx = c.transaction()?;
            tx.query_typed("SELECT pg_advisory_xact_lock($1)", &[(&COMMIT_LOCK, INT8)])?;
            let mut txn = PgTxn {
                tx: &mut tx,
                writes: BTreeMap::new(),
                error: None,
            };
            outcome = work(&mut txn);
            if let Some(e) = txn.error.take() {
                return Err(e);
            }
            if outcome.is_err() {
                return tx.rollback().map(Ok);
            }
            let writes = std::mem::take(&mut txn.writes);
            write_all(&mut tx, writes)?;
            Ok(tx.commit())
        })?;
        committed.map_err(|e| failed(&self.pool.shown, &e))?;
        outcome
    }

    fn flush(&self) -> Result<(), StoreError> {
        // Every transaction is durable when its COMMIT returns.
        Ok(())
    }

    fn read_wrapping_slots(
        &self,
    ) -> Result<[Option<Vec<u8>>; super::engine::WRAPPING_SLOTS], StoreError> {
        let rows = self.with_client(|c| c.query("SELECT slot, v FROM bd_wrapping", &[]))?;
        let mut slots = [None, None];
        for row in rows {
            let slot: i32 = row.get(0);
            if let Some(place) = usize::try_from(slot).ok().and_then(|s| slots.get_mut(s)) {
                *place = Some(row.get(1));
            }
        }
        Ok(slots)
    }

    fn write_wrapping_slot(&self, slot: usize, value: Option<&[u8]>) -> Result<(), StoreError> {
        let at = i32::try_from(slot).map_err(|_| StoreError::corrupt("wrapping key slot"))?;
        self.with_client(|c| {
            let mut tx = c.transaction()?;
            tx.execute("DELETE FROM bd_wrapping WHERE slot = $1", &[&at])?;
            if let Some(value) = value {
                tx.execute(
                    "INSERT INTO bd_wrapping (slot, v) VALUES ($1, $2)",
                    &[&at, &value],
                )?;
            }
            tx.commit()
        })?;
        if value.is_none() {
            self.forget_wrapping_history()?;
        }
        Ok(())
    }

    fn announce(&self, payload: &str) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
                .map(|_| ())
        })
    }

    fn listen(&self, me: String, deliver: Deliver) {
        let url = self.pool.url.clone();
        let started = std::thread::Builder::new()
            .name("pg-listen".into())
            .spawn(move || listen_loop(&url, &me, &*deliver));
        // Without the thread, notices from other daemons arrive with the next reload.
        drop(started);
    }

    fn shared_journal(&self) -> Option<Arc<dyn SharedJournal>> {
        Some(Arc::new(PgJournal::new(PgPool {
            url: self.pool.url.clone(),
            shown: self.pool.shown.clone(),
            clients: Mutex::new(Vec::new()),
            // A note must outlive the daemon that wrote it, not a crash of the server:
            // the server writes it out within a fraction of a second, and a note costs
            // one round trip instead of a synced commit.
            setup: "SET synchronous_commit = off",
            keep: 2,
        })))
    }

    fn lock_writers(&self) -> Result<Option<Box<dyn WriterLock>>, StoreError> {
        let kept = self
            .lock_conn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let (mut client, reused) = self.pool.fresh_or(kept)?;
        let mut locked = client.execute("SELECT pg_advisory_lock($1)", &[&WRITER_LOCK]);
        if reused
            && locked
                .as_ref()
                .is_err_and(|e| pool::connection_lost(e, &client))
        {
            // The server restarted since the lock's connection was last used: a lock it
            // held went with it, so take it again on a new connection.
            self.pool.drop_all();
            client = self.pool.new_client()?;
            locked = client.execute("SELECT pg_advisory_lock($1)", &[&WRITER_LOCK]);
        }
        locked.map_err(|e| failed(&self.pool.shown, &e))?;
        Ok(Some(Box::new(PgWriterLock {
            client: Some(client),
            home: Arc::clone(&self.lock_conn),
        })))
    }
}

impl PgEngine {
    /// After a slot is emptied: rewrites `bd_wrapping` into a new file, so that the dead
    /// row holding the old key is gone from the table's files, then ends the current
    /// write-ahead log segment and checkpoints, so that the server retires the segments
    /// that recorded it (removed, not recycled, where `wal_recycle = off`; docs/deploy.md).
    /// The last two need rights a daemon's role may lack (superuser, or `pg_checkpoint` and
    /// `pg_switch_wal`): without them the server's own checkpoints retire those segments
    /// later.
    fn forget_wrapping_history(&self) -> Result<(), StoreError> {
        self.with_client(|c| c.batch_execute("VACUUM FULL bd_wrapping"))?;
        let _ = self.with_client(|c| c.batch_execute("SELECT pg_switch_wal(); CHECKPOINT"));
        Ok(())
    }
}

/// Writes a transaction's buffered writes, one statement per tree and kind.
fn write_all(
    tx: &mut postgres::Transaction<'_>,
    writes: BTreeMap<(Tree, Vec<u8>), Option<Vec<u8>>>,
) -> Result<(), postgres::Error> {
    // Per tree: keys and values to write, keys to remove.
    type Columns = (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<Vec<u8>>);
    let mut by_tree: BTreeMap<Tree, Columns> = BTreeMap::new();
    for ((tree, key), value) in writes {
        let (keys, values, removed) = by_tree.entry(tree).or_default();
        match value {
            Some(v) => {
                keys.push(key);
                values.push(v);
            }
            None => removed.push(key),
        }
    }
    for (tree, (keys, values, removed)) in by_tree {
        let name = table(tree);
        if !removed.is_empty() {
            tx.query_typed(
                &format!("DELETE FROM {name} WHERE k = ANY($1)"),
                &[(&removed, BYTEA_ARRAY)],
            )?;
        }
        if !keys.is_empty() {
            tx.query_typed(
                &format!(
                    "INSERT INTO {name} (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
                ),
                &[(&keys, BYTEA_ARRAY), (&values, BYTEA_ARRAY)],
            )?;
        }
    }
    Ok(())
}

/// A transaction in progress: reads go to the server (after the transaction's own writes),
/// writes wait in `writes` until the commit.
struct PgTxn<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    writes: BTreeMap<(Tree, Vec<u8>), Option<Vec<u8>>>,
    /// A server error seen by a read; the transaction is rolled back with it.
    error: Option<postgres::Error>,
}

impl Txn for PgTxn<'_, '_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(written) = self.writes.get(&(tree, key.to_vec())) {
            return Ok(written.clone());
        }
        let sql = format!("SELECT v FROM {} WHERE k = $1", table(tree));
        match self.tx.query_typed_opt(&sql, &[(&key, BYTEA)]) {
            Ok(row) => Ok(row.map(|r| r.get(0))),
            Err(e) => {
                let message = explain(&e);
                self.error = Some(e);
                Err(StoreError::Unreachable {
                    at: String::new(),
                    message,
                })
            }
        }
    }

    fn get_many(&mut self, tree: Tree, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let unwritten: Vec<&[u8]> = keys
            .iter()
            .copied()
            .filter(|k| !self.writes.contains_key(&(tree, k.to_vec())))
            .collect();
        let read = if unwritten.is_empty() {
            Vec::new()
        } else {
            let sql = format!("SELECT k, v FROM {} WHERE k = ANY($1)", table(tree));
            match self.tx.query_typed(&sql, &[(&unwritten, BYTEA_ARRAY)]) {
                Ok(rows) => in_order(unwritten.iter().copied(), rows),
                Err(e) => {
                    let message = explain(&e);
                    self.error = Some(e);
                    return Err(StoreError::Unreachable {
                        at: String::new(),
                        message,
                    });
                }
            }
        };
        let mut read = read.into_iter();
        Ok(keys
            .iter()
            .map(|k| match self.writes.get(&(tree, k.to_vec())) {
                Some(written) => written.clone(),
                None => read.next().flatten(),
            })
            .collect())
    }

    fn put(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.writes
            .insert((tree, key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), StoreError> {
        self.writes.insert((tree, key.to_vec()), None);
        Ok(())
    }
}

/// A scan read [`SCAN_CHUNK`] pairs at a time, each chunk on whichever connection is free.
struct Chunks<'a> {
    engine: &'a PgEngine,
    tree: Tree,
    from: Vec<u8>,
    inclusive: bool,
    end: Option<Vec<u8>>,
    buffer: std::collections::VecDeque<Pair>,
    done: bool,
    /// Values are not fetched (each pair's value is left empty).
    keys_only: bool,
}

impl Chunks<'_> {
    fn fetch(&mut self) -> Result<(), StoreError> {
        let op = if self.inclusive { ">=" } else { ">" };
        let name = table(self.tree);
        let v = if self.keys_only { "''::bytea" } else { "v" };
        let rows = match &self.end {
            Some(end) => {
                let sql = format!(
                    "SELECT k, {v} FROM {name} WHERE k {op} $1 AND k < $2 ORDER BY k LIMIT $3"
                );
                self.engine.with_client(|c| {
                    c.query_typed(
                        &sql,
                        &[(&self.from, BYTEA), (end, BYTEA), (&SCAN_CHUNK, INT8)],
                    )
                })?
            }
            None => {
                let sql = format!("SELECT k, {v} FROM {name} WHERE k {op} $1 ORDER BY k LIMIT $2");
                self.engine.with_client(|c| {
                    c.query_typed(&sql, &[(&self.from, BYTEA), (&SCAN_CHUNK, INT8)])
                })?
            }
        };
        self.done = (rows.len() as i64) < SCAN_CHUNK;
        for row in rows {
            self.buffer.push_back((row.get(0), row.get(1)));
        }
        if let Some((last, _)) = self.buffer.back() {
            self.from = last.clone();
            self.inclusive = false;
        }
        Ok(())
    }
}

impl Iterator for Chunks<'_> {
    type Item = Result<Pair, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            if let Err(e) = self.fetch() {
                self.done = true;
                return Some(Err(e));
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// The writer lock, held on its own connection; released (and the connection kept for the
/// next time) when dropped. A connection that dies releases it on the server.
struct PgWriterLock {
    client: Option<Client>,
    home: Arc<Mutex<Option<Client>>>,
}

impl WriterLock for PgWriterLock {}

impl Drop for PgWriterLock {
    fn drop(&mut self) {
        let Some(mut client) = self.client.take() else {
            return;
        };
        if client
            .execute("SELECT pg_advisory_unlock($1)", &[&WRITER_LOCK])
            .is_ok()
        {
            *self.home.lock().unwrap_or_else(|p| p.into_inner()) = Some(client);
        }
    }
}

/// The values of `rows` (key, value) in the order of `keys`; `None` for a key not found.
fn in_order<'k>(
    keys: impl Iterator<Item = &'k [u8]>,
    rows: Vec<postgres::Row>,
) -> Vec<Option<Vec<u8>>> {
    let found: std::collections::HashMap<Vec<u8>, Vec<u8>> = rows
        .into_iter()
        .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
        .collect();
    keys.map(|k| found.get(k).cloned()).collect()
}
