//! A pool of connections sending in parallel. Each worker thread owns one transport (one
//! SMTP connection, reused across messages) and reports each outcome as it comes; it then
//! waits until the caller has recorded that outcome before it takes the next letter. So at
//! any moment each connection holds at most one letter that the server may have accepted
//! without the outbox knowing: a crash resends no more letters than there are connections.

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
}

/// How one letter ended. The worker that sent it waits until this is dropped (or
/// [`Finished::release`]d), so drop it only once the outcome is on disk.
pub struct Finished {
    pub index: usize,
    pub outcome: Result<(), SendError>,
    release: Option<SyncSender<()>>,
}

impl Finished {
    /// An outcome that no worker waits on (a letter that could not even be loaded).
    pub fn unsent(index: usize, outcome: Result<(), SendError>) -> Self {
        Finished {
            index,
            outcome,
            release: None,
        }
    }

    /// Lets the worker take its next letter.
    pub fn release(mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
    }
}

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
        connect: impl Fn() -> Box<dyn Transport> + Send + Sync + 'static,
    ) -> Pool {
        let connections = connections.max(1);
        let (job_tx, job_rx) = mpsc::sync_channel::<Attempt>(connections);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let connect = Arc::new(connect);
        let threads = (0..connections)
            .map(|_| {
                let job_rx = Arc::clone(&job_rx);
                let results = results.clone();
                let sender = Arc::clone(&sender);
                let connect = Arc::clone(&connect);
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut transport = connect();
                    work(
                        &job_rx,
                        &results,
                        &sender,
                        transport.as_mut(),
                        stop.as_deref(),
                    )
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

fn work(
    jobs: &Mutex<Receiver<Attempt>>,
    results: &mpsc::Sender<Finished>,
    sender: &Sender,
    transport: &mut dyn Transport,
    stop: Option<&std::sync::atomic::AtomicBool>,
) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let stopping = stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed));
        let outcome = if stopping {
            Err(SendError::Parked)
        } else {
            deliver(transport, sender, &job.notification)
        };
        let (release, recorded) = mpsc::sync_channel(1);
        let finished = Finished {
            index: job.index,
            outcome,
            release: Some(release),
        };
        if results.send(finished).is_err() {
            return;
        }
        // Wait until the outcome is recorded (or the recorder has gone).
        let _ = recorded.recv();
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

impl Drop for Finished {
    fn drop(&mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
    }
}

fn deliver(
    transport: &mut dyn Transport,
    sender: &Sender,
    n: &Notification,
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
    transport.send(&Outgoing {
        id: &n.id,
        from: &sender.from.email,
        to: &to,
        data,
    })
}
