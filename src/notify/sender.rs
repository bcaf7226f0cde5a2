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

/// Worker threads with one transport each.
pub struct Pool {
    jobs: Option<Tx<Attempt>>,
    results: Receiver<Outcome>,
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
                thread::spawn(move || {
                    let mut transport = connect();
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let outcome = deliver(transport.as_mut(), &sender, &job.notification);
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
            threads,
            interval: (rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(rate))),
            next_slot: Instant::now(),
        }
    }

    /// Sends a batch and waits for every outcome, in batch order.
    pub fn run(&mut self, batch: Vec<Notification>) -> Vec<Result<(), SendError>> {
        let n = batch.len();
        let mut outcomes: Vec<Option<Result<(), SendError>>> = vec![None; n];
        let Some(jobs) = self.jobs.as_ref() else {
            return vec![Err(SendError::Transient("the sending pool has stopped".into())); n];
        };
        let mut submitted = 0;
        for (index, notification) in batch.into_iter().enumerate() {
            if let Some(interval) = self.interval {
                let now = Instant::now();
                if self.next_slot > now {
                    thread::sleep(self.next_slot - now);
                }
                self.next_slot = self.next_slot.max(now) + interval;
            }
            if jobs
                .send(Attempt {
                    index,
                    notification,
                })
                .is_ok()
            {
                submitted += 1;
            }
        }
        for _ in 0..submitted {
            match self.results.recv() {
                Ok((index, outcome)) => outcomes[index] = Some(outcome),
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
    let message = letter::build(n, sender).map_err(|e| SendError::Permanent(e.to_string()))?;
    let data = String::from_utf8(message.formatted())
        .map_err(|_| SendError::Permanent("the built message is not valid UTF-8".into()))?;
    let to: Address =
        n.to.parse()
            .map_err(|_| SendError::Permanent(format!("'{}' is not an email address", n.to)))?;
    transport.send(&Outgoing {
        id: &n.id,
        from: &sender.from.email,
        to: &to,
        data: &data,
    })
}
