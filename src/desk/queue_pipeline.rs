//! How `notify queue` makes letters on several threads while one writes them: the people
//! to be told are cut into blocks of [`QUEUE_CHUNK`] by their place in the run; builder `i`
//! of `n` renders and builds the blocks `i`, `i + n`, ... and hands each over on its own
//! channel (room for one), and the writer takes block 0 from builder 0, block 1 from builder
//! 1, and so on, so blocks are committed in order, each with its audit event, and memory
//! stays bounded. A builder that fails hands over what its block made before the failure
//! with the error; the writer commits that part and stops, so nothing after the failure is
//! written (queuing again skips what was).

use std::sync::mpsc::{SyncSender, sync_channel};

use super::DeskError;
use crate::domain::AffectedPerson;
use crate::notify::Notification;

/// How many people's letters make one block, written together.
pub(super) const QUEUE_CHUNK: usize = 500;

/// How many threads build letters besides the one writing them.
const BUILDERS: usize = 2;

/// The people of a run, each with their order (roster position), from the start.
pub(super) type Targets<'a> =
    Box<dyn Iterator<Item = Result<(u64, AffectedPerson), DeskError>> + 'a>;

/// Builds one target's letter; `None` when it is already in the outbox.
pub(super) type Build<'a> =
    dyn Fn(u64, &AffectedPerson) -> Result<Option<Notification>, DeskError> + Sync + 'a;

/// One block's letters, how far into the run it reaches, and the error that ended it.
struct Block {
    letters: Vec<Notification>,
    upto: usize,
    failed: Option<DeskError>,
}

/// Builds a letter for each target (`None`: it is already in the outbox) on [`BUILDERS`]
/// threads and hands each block to `commit` in order with how far into the run it reaches.
/// Returns how many letters were written and how many were already there.
pub(super) fn run<'a>(
    total: usize,
    targets: &(dyn Fn() -> Targets<'a> + Sync),
    build: &Build<'_>,
    mut commit: impl FnMut(Vec<Notification>, usize) -> Result<(), DeskError>,
) -> Result<(usize, usize), DeskError> {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..BUILDERS).map(|_| sync_channel::<Block>(1)).unzip();
    let builder = |me: usize, out: SyncSender<Block>| -> usize {
        let mut already = 0;
        let mut letters = Vec::with_capacity(QUEUE_CHUNK);
        let mut block = 0;
        for (at, target) in targets().enumerate() {
            let index = at / QUEUE_CHUNK;
            if index != block {
                let done = Block {
                    letters: std::mem::take(&mut letters),
                    upto: at,
                    failed: None,
                };
                if block % BUILDERS == me && out.send(done).is_err() {
                    return already;
                }
                block = index;
            }
            if index % BUILDERS != me {
                continue;
            }
            let made = target.and_then(|(order, person)| build(order, &person));
            match made {
                Ok(Some(letter)) => letters.push(letter),
                Ok(None) => already += 1,
                Err(e) => {
                    let _ = out.send(Block {
                        letters,
                        upto: at,
                        failed: Some(e),
                    });
                    return already;
                }
            }
        }
        if block % BUILDERS == me {
            let _ = out.send(Block {
                letters,
                upto: total,
                failed: None,
            });
        }
        already
    };
    std::thread::scope(|scope| {
        let builders: Vec<_> = senders
            .into_iter()
            .enumerate()
            .map(|(me, out)| scope.spawn(move || builder(me, out)))
            .collect();
        let mut written = 0;
        let mut result = Ok(());
        // Block k comes from builder k % BUILDERS; a closed, empty channel ends the run.
        for k in 0.. {
            let Ok(block) = receivers[k % BUILDERS].recv() else {
                break;
            };
            written += block.letters.len();
            let committed = commit(block.letters, block.upto);
            if let Err(e) = committed.and(block.failed.map_or(Ok(()), Err)) {
                result = Err(e);
                break;
            }
        }
        // Dropping the receivers stops builders still running at their next block.
        drop(receivers);
        let mut already = 0;
        for b in builders {
            already += b
                .join()
                .map_err(|_| DeskError::Internal("a letter builder panicked".into()))?;
        }
        result.map(|()| (written, already))
    })
}
