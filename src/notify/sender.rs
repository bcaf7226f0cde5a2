//! A pool of connections sending in parallel. Each worker thread owns one transport (one
//! SMTP connection, reused across messages); when the server accepts a letter, the worker
//! notes it durably (a [`SentNote`], the store's send journal) before it takes the next one,
//! then reports the outcome. So at any moment each connection holds at most one letter that
//! the server may have accepted without a record of it: a crash resends no more letters
//! than there are connections.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use lettre::Address;

use super::letter::{self, Sender};
use super::outbox::Notification;
use super::smtp::{Outgoing, SendError, Transport};

/// One message handed to a worker; `index` is the caller's, returned with the outcome.
pub struct Attempt {
    pub index: usize,
    pub notification: Notification,
    /// The letter's bounce token, for its envelope sender.
    pub token: String,
}

/// How one letter ended.
pub struct Finished {
    pub index: usize,
    pub outcome: Result<(), SendError>,
    /// Accepted, but the note failed (why): the caller records it at once instead.
    pub unnoted: Option<String>,
}

/// Notes a letter the server accepted, somewhere that outlives this process, before its
/// connection goes on; an error makes the letter count as not sent. The returned wait
/// finishes a part of the note that may complete later (a shared engine's table): the
/// worker runs it before the letter after next goes out.
pub type SentNote = dyn Fn(&Notification) -> Result<NoteWait, String> + Send + Sync;

/// The rest of a note, waited for later.
pub type NoteWait = Box<dyn FnOnce() + Send>;

/// How often a feeder waiting for room looks again.
pub const TOP_UP: std::time::Duration = std::time::Duration::from_millis(2);

/// Worker threads with one transport each.
pub struct SmtpPool {
    jobs: Option<SyncSender<Attempt>>,
    threads: Vec<JoinHandle<()>>,
}

impl SmtpPool {
    /// Starts `connections` workers; `connect` makes each one's transport. Outcomes arrive
    /// on `results` as each letter ends.
    pub fn start(
        connections: usize,
        sender: Arc<Sender>,
        stop: Option<Arc<std::sync::atomic::AtomicBool>>,
        results: mpsc::Sender<Finished>,
        note: Arc<SentNote>,
        connect: impl Fn() -> Box<dyn Transport> + Send + Sync + 'static,
    ) -> SmtpPool {
        let connections = connections.max(1);
        // Room for a few letters per connection, so that workers never wait for the feeder.
        let (job_tx, job_rx) = mpsc::sync_channel::<Attempt>(connections * 32);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let connect = Arc::new(connect);
        let threads = (0..connections)
            .map(|_| {
                let job_rx = Arc::clone(&job_rx);
                let results = results.clone();
                let sender = Arc::clone(&sender);
                let connect = Arc::clone(&connect);
                let stop = stop.clone();
                let note = Arc::clone(&note);
                thread::spawn(move || {
                    let mut transport = connect();
                    let worker = ConnectionWorker {
                        jobs: &job_rx,
                        results: &results,
                        sender: &sender,
                        note: note.as_ref(),
                        stop: stop.as_deref(),
                    };
                    worker.work(transport.as_mut());
                })
            })
            .collect();
        SmtpPool {
            jobs: Some(job_tx),
            threads,
        }
    }

    /// Hands one letter to the next free worker, waiting while the queue of letters for the
    /// workers is full; false when the workers are gone. The feeder is not woken for each
    /// letter a worker takes: it looks again every [`TOP_UP`], which a full queue lasts
    /// many times over.
    pub fn submit(&self, attempt: Attempt) -> bool {
        let Some(jobs) = self.jobs.as_ref() else {
            return false;
        };
        let mut attempt = attempt;
        loop {
            match jobs.try_send(attempt) {
                Ok(()) => return true,
                Err(mpsc::TrySendError::Full(back)) => {
                    attempt = back;
                    thread::sleep(TOP_UP);
                }
                Err(mpsc::TrySendError::Disconnected(_)) => return false,
            }
        }
    }

    /// No more letters: the workers end once they have finished theirs.
    pub fn close(&mut self) {
        self.jobs = None;
    }
}

/// What one worker thread works with.
struct ConnectionWorker<'a> {
    jobs: &'a Mutex<Receiver<Attempt>>,
    results: &'a mpsc::Sender<Finished>,
    sender: &'a Sender,
    note: &'a SentNote,
    stop: Option<&'a std::sync::atomic::AtomicBool>,
}

impl ConnectionWorker<'_> {
    fn work(&self, transport: &mut dyn Transport) {
        let mut outstanding: Option<NoteWait> = None;
        self.work_on(transport, &mut outstanding);
        if let Some(wait) = outstanding {
            wait();
        }
    }

    /// Sends letters until there are none; `outstanding` is the unfinished part of the
    /// last letter's note.
    fn work_on(&self, transport: &mut dyn Transport, outstanding: &mut Option<NoteWait>) {
        let mut held: Option<Attempt> = None;
        loop {
            let job = match held.take() {
                Some(job) => job,
                None => match self.jobs.lock() {
                    Ok(rx) => match rx.recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    },
                    Err(_) => return,
                },
            };
            let stopping = self
                .stop
                .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed));
            // The letter after this one, when one is waiting, so that its transaction can
            // open in the same write as this one's body.
            held = match self.jobs.lock() {
                Ok(rx) if !stopping => rx.try_recv().ok(),
                _ => None,
            };
            let outcome = if stopping {
                Err(SendError::Parked)
            } else {
                deliver(transport, self.sender, &job, held.as_ref())
            };
            let unnoted = match &outcome {
                Ok(()) => match (self.note)(&job.notification) {
                    Ok(rest) => {
                        // The previous letter's note is finished before this one's is left
                        // pending, and before the next body goes out.
                        if let Some(wait) = outstanding.replace(rest) {
                            wait();
                        }
                        None
                    }
                    Err(e) => Some(e),
                },
                Err(_) => None,
            };
            let finished = Finished {
                index: job.index,
                outcome,
                unnoted,
            };
            if self.results.send(finished).is_err() {
                return;
            }
        }
    }
}

impl Drop for SmtpPool {
    fn drop(&mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A letter's envelope addresses and wire text.
struct Prepared<'n> {
    from: Address,
    to: Address,
    data: std::borrow::Cow<'n, str>,
}

impl<'n> Prepared<'n> {
    fn new(sender: &Sender, n: &'n Notification, token: &str) -> Result<Self, SendError> {
        let data = match &n.message {
            Some(message) => std::borrow::Cow::Borrowed(message.as_str()),
            None => std::borrow::Cow::Owned(
                letter::wire_text(n, sender).map_err(|e| SendError::Permanent(e.to_string()))?,
            ),
        };
        let to: Address =
            n.to.parse()
                .map_err(|_| SendError::Permanent(format!("'{}' is not an email address", n.to)))?;
        let from = sender
            .envelope_from(token)
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        Ok(Prepared { from, to, data })
    }

    fn outgoing<'a>(&'a self, n: &'a Notification) -> Outgoing<'a> {
        Outgoing {
            id: &n.id,
            from: &self.from,
            to: &self.to,
            data: &self.data,
        }
    }
}

/// Sends `job`'s letter; `next` (the letter this worker sends after it) is passed on to be
/// prepared when it is well formed.
fn deliver(
    transport: &mut dyn Transport,
    sender: &Sender,
    job: &Attempt,
    next: Option<&Attempt>,
) -> Result<(), SendError> {
    let this = Prepared::new(sender, &job.notification, &job.token)?;
    let after = next.and_then(|a| {
        Prepared::new(sender, &a.notification, &a.token)
            .ok()
            .map(|p| (p, &a.notification))
    });
    transport.send(
        &this.outgoing(&job.notification),
        after.as_ref().map(|(p, n)| p.outgoing(n)).as_ref(),
    )
}
