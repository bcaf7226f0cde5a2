//! The send journal shared by every daemon on the database.

use std::sync::{Arc, Condvar, Mutex};

use chrono::{DateTime, TimeZone as _, Utc};

use super::pool::PgPool;
use crate::store::StoreError;
use crate::store::engine::prefix_end;
use crate::store::journal::{JournalEntry, SharedJournal};

/// How long the writer lets notes gather before writing them.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// The send journal as the table `bd_journal`, read by every daemon: a daemon that takes over
/// a dead one's send first records what the dead one had delivered.
/// Notes from every connection of a send are written together (group commit) by a writer
/// thread: a note joins the batch being gathered while the previous one is written, in one
/// statement; whoever needs a note written waits for its batch.
pub(super) struct PgJournal {
    shared: Arc<Shared>,
}

struct Shared {
    pool: PgPool,
    group: Mutex<Group>,
    /// Signalled when a note joins, and when the journal closes.
    gathered: Condvar,
    /// Signalled when a batch is written.
    written: Condvar,
}

#[derive(Default)]
struct Group {
    /// Keys and times waiting for the next batch.
    pending: Vec<(Vec<u8>, i64)>,
    /// The number of the batch that `pending` will be written in.
    next: u64,
    /// The last batch written (or failed: a note is best effort, see `journal.rs`).
    done: u64,
    /// No more notes: the writer ends once the pending ones are written.
    closed: bool,
    /// How many are waiting for a note to be written.
    waiting: usize,
}

impl PgJournal {
    pub(super) fn new(pool: PgPool) -> PgJournal {
        let shared = Arc::new(Shared {
            pool,
            group: Mutex::new(Group {
                next: 1,
                ..Group::default()
            }),
            gathered: Condvar::new(),
            written: Condvar::new(),
        });
        let writer = Arc::clone(&shared);
        let started = std::thread::Builder::new()
            .name("pg-journal".into())
            .spawn(move || writer.write_batches());
        if started.is_err() {
            // Without a writer every note counts as failed at once (they are best effort).
            let mut group = shared.lock();
            group.closed = true;
        }
        PgJournal { shared }
    }
}

impl PgJournal {
    /// Waits until every note begun so far is written, so that reading or forgetting
    /// entries sees them all.
    fn settle(&self) {
        let last = {
            let group = self.shared.lock();
            if group.pending.is_empty() {
                group.next.saturating_sub(1)
            } else {
                group.next
            }
        };
        self.wait(last);
    }
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.gathered.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writer thread: writes what gathered, batch after batch, until closed.
    fn write_batches(&self) {
        let mut group = self.lock();
        loop {
            while group.pending.is_empty() && !group.closed {
                group = self.gathered.wait(group).unwrap_or_else(|p| p.into_inner());
            }
            // Let notes gather, until someone needs them written or for at most GATHER:
            // one statement for many letters costs the server far less than one each, and
            // a sender waits for a note only a letter later.
            let until = std::time::Instant::now() + GATHER;
            while group.waiting == 0 && !group.closed {
                let left = until.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                group = self
                    .gathered
                    .wait_timeout(group, left)
                    .map_or_else(|p| p.into_inner().0, |(g, _)| g);
            }
            if group.pending.is_empty() {
                // Closed with nothing left: whoever still waits is released.
                group.done = group.next.saturating_sub(1).max(group.done);
                self.written.notify_all();
                return;
            }
            let batch = std::mem::take(&mut group.pending);
            let number = group.next;
            group.next += 1;
            drop(group);
            // Best effort: a batch that fails still counts as done (see `journal.rs`).
            let _ = self.insert(&batch);
            group = self.lock();
            group.done = number;
            self.written.notify_all();
        }
    }

    fn insert(&self, batch: &[(Vec<u8>, i64)]) -> Result<(), StoreError> {
        let keys: Vec<&[u8]> = batch.iter().map(|(k, _)| k.as_slice()).collect();
        let stamps: Vec<i64> = batch.iter().map(|(_, at)| *at).collect();
        self.pool.with_client(|c| {
            c.query_typed(
                "INSERT INTO bd_journal (k, at) SELECT * FROM unnest($1::bytea[], $2::bigint[]) \
                 ON CONFLICT (k) DO NOTHING",
                &[
                    (&keys, postgres::types::Type::BYTEA_ARRAY),
                    (&stamps, postgres::types::Type::INT8_ARRAY),
                ],
            )
            .map(drop)
        })
    }
}

impl SharedJournal for PgJournal {
    fn begin_note(&self, keys: &[Vec<u8>], at: DateTime<Utc>) -> u64 {
        let stamp = at.timestamp_millis();
        let mut group = self.shared.lock();
        if group.closed {
            return 0;
        }
        if group.pending.is_empty() {
            self.shared.gathered.notify_one();
        }
        group
            .pending
            .extend(keys.iter().map(|k| (k.clone(), stamp)));
        group.next
    }

    fn wait(&self, ticket: u64) {
        let mut group = self.shared.lock();
        if group.done >= ticket {
            return;
        }
        group.waiting += 1;
        self.shared.gathered.notify_one();
        while group.done < ticket && !(group.closed && group.pending.is_empty()) {
            group = self
                .shared
                .written
                .wait(group)
                .unwrap_or_else(|p| p.into_inner());
        }
        group.waiting -= 1;
    }

    fn entries(&self) -> Result<Vec<JournalEntry>, StoreError> {
        self.settle();
        let rows = self
            .shared
            .pool
            .with_client(|c| c.query("SELECT k, at FROM bd_journal ORDER BY k", &[]))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let at = Utc.timestamp_millis_opt(r.get::<_, i64>(1)).single()?;
                Some((r.get::<_, Vec<u8>>(0), at))
            })
            .collect())
    }

    fn forget(&self, keys: &[Vec<u8>]) -> Result<(), StoreError> {
        self.settle();
        if keys.is_empty() {
            return Ok(());
        }
        self.shared.pool.with_client(|c| {
            c.query_typed(
                "DELETE FROM bd_journal WHERE k = ANY($1)",
                &[(&keys, postgres::types::Type::BYTEA_ARRAY)],
            )
            .map(drop)
        })
    }

    fn forget_prefix(&self, prefix: Option<&[u8]>) -> Result<(), StoreError> {
        self.settle();
        let Some(prefix) = prefix else {
            return self
                .shared
                .pool
                .with_client(|c| c.execute("DELETE FROM bd_journal", &[]).map(drop));
        };
        let end = prefix_end(prefix);
        self.shared.pool.with_client(|c| match &end {
            Some(end) => c
                .execute(
                    "DELETE FROM bd_journal WHERE k >= $1 AND k < $2",
                    &[&prefix, end],
                )
                .map(drop),
            None => c
                .execute("DELETE FROM bd_journal WHERE k >= $1", &[&prefix])
                .map(drop),
        })
    }
}
