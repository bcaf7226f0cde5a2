//! Change notices: after each commit, every watcher gets one [`ChangeNotice`] per change
//! event committed (the TUI, and the daemon for each client that watches). A watcher that
//! has gone (its receiver dropped) is forgotten at the next commit.

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};

use crate::domain::{AuditEvent, ChangeNotice};

/// The watchers of one store.
#[derive(Default)]
pub struct Watchers {
    senders: Mutex<Vec<Sender<ChangeNotice>>>,
}

impl Watchers {
    /// A new watcher: notices of every commit from now on.
    pub fn subscribe(&self) -> Receiver<ChangeNotice> {
        let (tx, rx) = mpsc::channel();
        self.lock().push(tx);
        rx
    }

    /// Tells every watcher what `events` changed; returns the notices.
    pub fn publish(&self, events: &[AuditEvent]) -> Vec<ChangeNotice> {
        let notices: Vec<ChangeNotice> = events.iter().filter_map(ChangeNotice::of).collect();
        self.publish_notices(&notices);
        notices
    }

    /// Tells every watcher of `notices` (another process's commit, on a shared engine).
    pub fn publish_notices(&self, notices: &[ChangeNotice]) {
        if notices.is_empty() {
            return;
        }
        self.lock()
            .retain(|tx| notices.iter().all(|n| tx.send(n.clone()).is_ok()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sender<ChangeNotice>>> {
        self.senders.lock().unwrap_or_else(|p| p.into_inner())
    }
}
