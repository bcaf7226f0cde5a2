//! A pool of connections sending in parallel. Each worker thread owns one transport (one
//! SMTP connection, reused across messages), builds each message itself and reports the
//! outcome; the caller hands over a batch and gets one result per message back.

use std::sync::mpsc::{self, Receiver, Sender as Tx};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use lettre::Address;

use super::letter::{self, Sender};
use super::outbox::Notification;
use super::smtp::{Outgoing, SendError, Transport};

/// One message handed to a worker.
pub struct Attempt {
    pub index: usize,
    pub notification: Notification,
}

type Outcome = (usize, Result<(), SendError>);

/// A submitted batch: its first sequence number and size.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    start: usize,
    len: usize,
}

/// Worker threads with one transport each.
pub struct Pool {
    jobs: Option<Tx<Attempt>>,
    results: Receiver<Outcome>,
    /// Outcomes of later batches that arrived while waiting for an earlier one.
    early: std::collections::HashMap<usize, Result<(), SendError>>,
    next_seq: usize,
    threads: Vec<JoinHandle<()>>,
    /// Time between two messages when a rate is set.
    interval: Option<Duration>,
    next_slot: Instant,
}

impl Pool {
    /// Starts `connections` workers; `connect` makes each one's transport.
    pub fn start(
        connections: usize,
        sender: Arc<Sender>,
        rate: u32,
        stop: Option<Arc<std::sync::atomic::AtomicBool>>,
        connect: impl Fn() -> Box<dyn Transport> + Send + Sync + 'static,
    ) -> Pool {
        let (job_tx, job_rx) = mpsc::channel::<Attempt>();
        let (result_tx, results) = mpsc::channel();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let connect = Arc::new(connect);
        let threads = (0..connections.max(1))
            .map(|_| {
                let job_rx = Arc::clone(&job_rx);
                let result_tx = result_tx.clone();
                let sender = Arc::clone(&sender);
                let connect = Arc::clone(&connect);
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut transport = connect();
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let stopping = stop
                            .as_ref()
                            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed));
                        let outcome = if stopping {
                            Err(SendError::Parked)
                        } else {
                            deliver(transport.as_mut(), &sender, &job.notification)
                        };
                        if result_tx.send((job.index, outcome)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        Pool {
            jobs: Some(job_tx),
            results,
            early: std::collections::HashMap::new(),
            next_seq: 0,
            threads,
            interval: (rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(rate))),
            next_slot: Instant::now(),
        }
    }

    /// Sends a batch and waits for every outcome, in batch order.
    pub fn run(&mut self, batch: Vec<Notification>) -> Vec<Result<(), SendError>> {
        let ticket = self.submit(batch);
        self.wait(ticket)
    }

    /// Hands a batch to the workers without waiting, so the next one can be prepared while
    /// this one is sent.
    pub fn submit(&mut self, batch: Vec<Notification>) -> Ticket {
        let ticket = Ticket {
            start: self.next_seq,
            len: batch.len(),
        };
        self.next_seq += batch.len();
        for (i, notification) in batch.into_iter().enumerate() {
            if let Some(interval) = self.interval {
                let now = Instant::now();
                if self.next_slot > now {
                    thread::sleep(self.next_slot - now);
                }
                self.next_slot = self.next_slot.max(now) + interval;
            }
            let index = ticket.start + i;
            let sent = self.jobs.as_ref().is_some_and(|jobs| {
                jobs.send(Attempt {
                    index,
                    notification,
                })
                .is_ok()
            });
            if !sent {
                self.early.insert(
                    index,
                    Err(SendError::Transient("the sending pool has stopped".into())),
                );
            }
        }
        ticket
    }

    /// Waits for every outcome of a submitted batch, in batch order.
    pub fn wait(&mut self, ticket: Ticket) -> Vec<Result<(), SendError>> {
        let range = ticket.start..ticket.start + ticket.len;
        let mut outcomes: Vec<Option<Result<(), SendError>>> = vec![None; ticket.len];
        let mut missing = ticket.len;
        for i in range.clone() {
            if let Some(o) = self.early.remove(&i) {
                outcomes[i - ticket.start] = Some(o);
                missing -= 1;
            }
        }
        while missing > 0 {
            match self.results.recv() {
                Ok((index, outcome)) if range.contains(&index) => {
                    outcomes[index - ticket.start] = Some(outcome);
                    missing -= 1;
                }
                Ok((index, outcome)) => {
                    self.early.insert(index, outcome);
                }
                Err(_) => break,
            }
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| Err(SendError::Transient("a sending thread stopped".into())))
            })
            .collect()
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
