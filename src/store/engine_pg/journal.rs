//! The send journal shared by every daemon on the database.

use std::sync::Mutex;

use chrono::{DateTime, TimeZone as _, Utc};

use super::pool::Pool;
use crate::store::StoreError;
use crate::store::engine::prefix_end;
use crate::store::journal::{Entry, SharedJournal};

/// The send journal as the table `bd_journal`, read by every daemon: a daemon that takes over
/// a dead one's send first records what the dead one had delivered.
/// Notes from every connection of a send are written together (group commit): a note joins
/// the batch being gathered; the first note to find no batch being written writes all that
/// were gathered, in one statement, while the next batch gathers.
pub(super) struct PgJournal {
    pool: Pool,
    group: Mutex<Group>,
    written: std::sync::Condvar,
}

#[derive(Default)]
struct Group {
    /// Keys and times waiting for the next batch.
    pending: Vec<(Vec<u8>, i64)>,
    /// The number of the batch that `pending` will be written in.
    next: u64,
    /// The last batch written (or failed: a note is best effort, see `journal.rs`).
    done: u64,
    writing: bool,
}

impl PgJournal {
    pub(super) fn new(pool: Pool) -> PgJournal {
        PgJournal {
            pool,
            group: Mutex::new(Group {
                next: 1,
                ..Group::default()
            }),
            written: std::sync::Condvar::new(),
        }
    }

    fn insert(&self, batch: &[(Vec<u8>, i64)]) -> Result<(), StoreError> {
        let keys: Vec<&[u8]> = batch.iter().map(|(k, _)| k.as_slice()).collect();
        let stamps: Vec<i64> = batch.iter().map(|(_, at)| *at).collect();
        self.pool.with_client(|c| {
            c.execute(
                "INSERT INTO bd_journal (k, at) SELECT * FROM unnest($1::bytea[], $2::bigint[]) \
                 ON CONFLICT (k) DO NOTHING",
                &[&keys, &stamps],
            )
            .map(drop)
        })
    }
}

impl SharedJournal for PgJournal {
    fn note(&self, keys: &[Vec<u8>], at: DateTime<Utc>) -> Result<(), StoreError> {
        let stamp = at.timestamp_millis();
        let lock = || self.group.lock().unwrap_or_else(|p| p.into_inner());
        let mut group = lock();
        group
            .pending
            .extend(keys.iter().map(|k| (k.clone(), stamp)));
        let mine = group.next;
        let mut result = Ok(());
        while group.done < mine {
            if group.writing {
                group = self.written.wait(group).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let batch = std::mem::take(&mut group.pending);
            let number = group.next;
            group.next += 1;
            group.writing = true;
            drop(group);
            let wrote = self.insert(&batch);
            group = lock();
            group.writing = false;
            group.done = number;
            if number == mine {
                result = wrote;
            }
            self.written.notify_all();
        }
        result
    }

    fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        let rows = self
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
        if keys.is_empty() {
            return Ok(());
        }
        self.pool.with_client(|c| {
            c.execute("DELETE FROM bd_journal WHERE k = ANY($1)", &[&keys])
                .map(drop)
        })
    }

    fn forget_prefix(&self, prefix: Option<&[u8]>) -> Result<(), StoreError> {
        let Some(prefix) = prefix else {
            return self
                .pool
                .with_client(|c| c.execute("DELETE FROM bd_journal", &[]).map(drop));
        };
        let end = prefix_end(prefix);
        self.pool.with_client(|c| match &end {
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
