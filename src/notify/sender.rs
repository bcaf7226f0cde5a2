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
/// connection goes on; an error makes the letter count as not sent.
pub type SentNote = dyn Fn(&Notification) -> Result<(), String> + Send + Sync;

/// Worker threads with one transport each.
pub struct Pool {
    jobs: Option<SyncSender<Attempt>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `connections` workers; `connect` makes each one's transport. Outcomes arrive
    /// on `results` as each letter ends.
    pub fn start(
        connections: usize,
        sender: Arc<Sender>,
        stop: Option<Arc<std::sync::atomic::AtomicBool>>,
        results: mpsc::Sender<Finished>,
        note: Arc<SentNote>,
        connect: impl Fn() -> Box<dyn Transport> + Send + Sync + 'static,
    ) -> Pool {
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
                    let worker = Worker {
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
        Pool {
            jobs: Some(job_tx),
            threads,
        }
    }

    /// Hands one letter to the next free worker, waiting while all are busy; false when the
    /// workers are gone.
    pub fn submit(&self, attempt: Attempt) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(attempt).is_ok())
    }

    /// No more letters: the workers end once they have finished theirs.
    pub fn close(&mut self) {
        self.jobs = None;
    }
}

/// What one worker thread works with.
struct Worker<'a> {
    jobs: &'a Mutex<Receiver<Attempt>>,
    results: &'a mpsc::Sender<Finished>,
    sender: &'a Sender,
    note: &'a SentNote,
    stop: Option<&'a std::sync::atomic::AtomicBool>,
}

impl Worker<'_> {
    fn work(&self, transport: &mut dyn Transport) {
        loop {
            let job = match self.jobs.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else { return };
            let stopping = self
                .stop
                .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed));
            let outcome = if stopping {
                Err(SendError::Parked)
            } else {
                deliver(transport, self.sender, &job.notification, &job.token)
            };
            let unnoted = match &outcome {
                Ok(()) => (self.note)(&job.notification).err(),
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

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn deliver(
    transport: &mut dyn Transport,
    sender: &Sender,
    n: &Notification,
    token: &str,
) -> Result<(), SendError> {
    let built;
    let data = match &n.message {
        Some(message) => message.as_str(),
        None => {
            built =
                letter::wire_text(n, sender).map_err(|e| SendError::Permanent(e.to_string()))?;
            built.as_str()
        }
    };
    let to: Address =
        n.to.parse()
            .map_err(|_| SendError::Permanent(format!("'{}' is not an email address", n.to)))?;
    let from = sender
        .envelope_from(token)
        .map_err(|e| SendError::Permanent(e.to_string()))?;
    transport.send(&Outgoing {
        id: &n.id,
        from: &from,
        to: &to,
        data,
    })
}
