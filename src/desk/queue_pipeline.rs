//! How `notify queue` makes letters on several threads while one writes them: the people
//! to be told are read once, in roster order, and cut into blocks of [`QUEUE_CHUNK`]; each
//! of [`BUILDERS`] threads takes the next block (numbering it as it takes it), renders,
//! builds and seals its letters, and hands it to the writer, which commits blocks strictly
//! in their order, each with its audit event, holding one that arrives early until those
//! before it are written. Memory stays bounded: no block is taken more than [`AHEAD`]
//! blocks after the last one written. A builder that fails hands over what its
//! block made before the failure with the error; the writer commits the blocks before it
//! and that part, then stops, so nothing after the failure is written (queuing again skips
//! what was).

use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Condvar, Mutex};

use super::DeskError;
use crate::domain::AffectedPerson;

/// How many people's letters make one block, written together.
pub(super) const QUEUE_CHUNK: usize = 500;

/// How many threads build letters besides the one writing them.
const BUILDERS: usize = 2;

/// How many blocks may be taken beyond the last one written.
const AHEAD: usize = 2 * BUILDERS;

/// The people of a run, each with their order (roster position), from the start.
pub(super) type Targets<'a> =
    Box<dyn Iterator<Item = Result<(u64, AffectedPerson), DeskError>> + Send + 'a>;

/// Builds one target's letter; `None` when it is already in the outbox.
pub(super) type Build<'a, T> =
    dyn Fn(u64, &AffectedPerson) -> Result<Option<T>, DeskError> + Sync + 'a;

/// One block's letters, how far into the run it reaches, and the error that ended it.
struct LetterBlock<T> {
    number: usize,
    letters: Vec<T>,
    upto: usize,
    failed: Option<DeskError>,
}

/// The shared reading of the targets: the next block's number, how many targets were
/// read, and how many blocks were written.
struct TargetReader<'a> {
    targets: Targets<'a>,
    blocks: usize,
    read: usize,
    written: usize,
    done: bool,
}

impl TargetReader<'_> {
    /// The next block's number and targets, or the error that cut it short.
    #[allow(clippy::type_complexity)]
    fn next_block(&mut self) -> Option<(usize, Vec<(u64, AffectedPerson)>, Option<DeskError>)> {
        if self.done {
            return None;
        }
        let mut block = Vec::with_capacity(QUEUE_CHUNK);
        let mut failed = None;
        while block.len() < QUEUE_CHUNK {
            match self.targets.next() {
                Some(Ok(target)) => block.push(target),
                Some(Err(e)) => {
                    failed = Some(e);
                    self.done = true;
                    break;
                }
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        if block.is_empty() && failed.is_none() {
            return None;
        }
        self.read += block.len();
        let number = self.blocks;
        self.blocks += 1;
        Some((number, block, failed))
    }
}

/// Calls its function when dropped.
struct Finish<'f>(&'f dyn Fn());

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// Builds a letter for each target (`None`: it is already in the outbox) on
/// [`BUILDERS`] threads and hands each block to `commit` in order with how far into the
/// run it reaches. Returns how many letters were written and how many were already there.
pub(super) fn run<'a, T: Send>(
    targets: Targets<'a>,
    build: &Build<'_, T>,
    mut commit: impl FnMut(Vec<T>, usize) -> Result<(), DeskError>,
) -> Result<(usize, usize), DeskError> {
    let reader = Mutex::new(TargetReader {
        targets,
        blocks: 0,
        read: 0,
        written: 0,
        done: false,
    });
    // Signalled when a block is written or the run ends.
    let progress = Condvar::new();
    let finish = || {
        reader.lock().unwrap_or_else(|p| p.into_inner()).done = true;
        progress.notify_all();
    };
    let (out, blocks) = sync_channel::<LetterBlock<T>>(BUILDERS);
    let builder = |out: std::sync::mpsc::SyncSender<LetterBlock<T>>| -> usize {
        // However this builder ends, panicking included, no other waits for it to take a
        // block: without this, a builder that panicked holding the next block to write
        // left the others waiting for room and the writer waiting for them.
        let _finish = Finish(&finish);
        let mut already = 0;
        loop {
            let next = reader
                .lock()
                .and_then(|r| progress.wait_while(r, |r| !r.done && r.blocks >= r.written + AHEAD))
                .map(|mut r| {
                    r.next_block()
                        .map(|(number, block, failed)| (number, block, failed, r.read))
                });
            let Ok(Some((number, block, mut failed, mut upto))) = next else {
                return already;
            };
            let start = upto - block.len();
            let mut letters = Vec::with_capacity(block.len());
            for (at, (order, person)) in block.iter().enumerate() {
                match build(*order, person) {
                    Ok(Some(letter)) => letters.push(letter),
                    Ok(None) => already += 1,
                    Err(e) => {
                        failed = Some(e);
                        upto = start + at;
                        break;
                    }
                }
            }
            let stop = failed.is_some();
            let block = LetterBlock {
                number,
                letters,
                upto,
                failed,
            };
            if out.send(block).is_err() || stop {
                return already;
            }
        }
    };
    std::thread::scope(|scope| {
        let builders: Vec<_> = (0..BUILDERS)
            .map(|_| {
                let out = out.clone();
                scope.spawn(move || builder(out))
            })
            .collect();
        drop(out);
        let mut written = 0;
        let mut result = Ok(());
        let mut early: BTreeMap<usize, LetterBlock<T>> = BTreeMap::new();
        let mut next = 0;
        // Blocks are committed in their order; the channel closes when every builder is done.
        'receiving: while let Ok(block) = blocks.recv() {
            early.insert(block.number, block);
            while let Some(block) = early.remove(&next) {
                next += 1;
                written += block.letters.len();
                let committed = commit(block.letters, block.upto);
                if let Err(e) = committed.and(block.failed.map_or(Ok(()), Err)) {
                    result = Err(e);
                    break 'receiving;
                }
                if let Ok(mut r) = reader.lock() {
                    r.written = next;
                }
                progress.notify_all();
            }
        }
        // Builders still running stop at their next block.
        finish();
        drop(blocks);
        let mut already = 0;
        for b in builders {
            already += b
                .join()
                .map_err(|_| DeskError::Internal("a letter builder panicked".into()))?;
        }
        if result.is_ok() && !early.is_empty() {
            result = Err(DeskError::Internal(
                "a block of letters was built but never reached the writer".into(),
            ));
        }
        result.map(|()| (written, already))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(n: u64) -> Targets<'static> {
        Box::new((0..n).map(|i| Ok((i, AffectedPerson::numbered(i)))))
    }

    #[test]
    fn blocks_are_written_in_order_with_how_far_they_reach() {
        let mut seen = Vec::new();
        let build = |order: u64, _: &AffectedPerson| Ok((order % 7 != 3).then_some(order));
        let (written, already) = run(
            people(5 * QUEUE_CHUNK as u64 + 10),
            &build,
            |block, upto| {
                seen.push((block, upto));
                Ok(())
            },
        )
        .unwrap();
        let orders: Vec<u64> = seen.iter().flat_map(|(b, _)| b.iter().copied()).collect();
        let expected: Vec<u64> = (0..5 * QUEUE_CHUNK as u64 + 10)
            .filter(|o| o % 7 != 3)
            .collect();
        assert_eq!(orders, expected);
        assert_eq!(written + already, 5 * QUEUE_CHUNK + 10);
        let uptos: Vec<usize> = seen.iter().map(|(_, upto)| *upto).collect();
        let c = QUEUE_CHUNK;
        assert_eq!(uptos, [c, 2 * c, 3 * c, 4 * c, 5 * c, 5 * c + 10]);
    }

    #[test]
    fn a_builder_that_panics_ends_the_run_with_an_error() {
        let fails_at = QUEUE_CHUNK as u64 * 3 / 2;
        let build = |order: u64, _: &AffectedPerson| -> Result<Option<u64>, DeskError> {
            assert!(order != fails_at, "a builder fails");
            Ok(Some(order))
        };
        let mut committed = 0;
        let result = run(people(20 * QUEUE_CHUNK as u64), &build, |block, _| {
            committed += block.len();
            Ok(())
        });
        assert!(matches!(result, Err(DeskError::Internal(_))), "{result:?}");
        assert_eq!(
            committed, QUEUE_CHUNK,
            "only the block before the panic is written"
        );
    }

    #[test]
    fn an_error_keeps_what_came_before_it() {
        let fails_at = QUEUE_CHUNK * 2 + 234;
        let build = |order: u64, _: &AffectedPerson| -> Result<Option<u64>, DeskError> {
            if order == fails_at as u64 {
                return Err(DeskError::Internal("no".into()));
            }
            Ok(Some(order))
        };
        let mut seen = Vec::new();
        let result = run(people(10 * QUEUE_CHUNK as u64), &build, |block, upto| {
            seen.push((block.len(), upto));
            Ok(())
        });
        assert!(result.is_err());
        let c = QUEUE_CHUNK;
        assert_eq!(seen, [(c, c), (c, 2 * c), (234, fails_at)]);
    }
}
