//! The send lease: at most one sender runs over the same letters at a time, whatever starts
//! it (the CLI, the TUI, the daemon for any client). A lease names who sends, from which
//! process on which boot of which machine, since when, and until when it holds unless
//! renewed; a lease whose process is gone from this machine, or that was not renewed in
//! time, is taken over.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{IncidentId, UserName};

/// How long a lease holds without renewal.
pub const LEASE_HOLD: chrono::Duration = chrono::Duration::seconds(60);

/// How often a running sender renews its lease.
pub const LEASE_RENEW: chrono::Duration = chrono::Duration::seconds(10);

/// One running send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendLease {
    /// The incident whose letters are sent; `None` for the whole outbox.
    pub scope: Option<IncidentId>,
    pub by: UserName,
    pub since: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub holder: Holder,
}

/// The process holding a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// The process's start time in clock ticks since boot (so a reused pid is told apart).
    pub started: u64,
    /// `/proc/sys/kernel/random/boot_id`: this boot of this machine.
    pub boot: String,
}

impl Holder {
    /// This process.
    pub fn current() -> Holder {
        let pid = std::process::id();
        Holder {
            pid,
            started: start_time(pid).unwrap_or(0),
            boot: boot_id(),
        }
    }

    /// Whether the holder is known to be gone: it ran on this boot of this machine and
    /// its process no longer exists. A holder elsewhere is judged by its expiry alone.
    pub fn is_gone(&self) -> bool {
        self.boot == boot_id()
            && !self.boot.is_empty()
            && start_time(self.pid) != Some(self.started)
    }
}

impl SendLease {
    /// Whether the two sends would go over the same letters.
    pub fn overlaps(&self, scope: Option<IncidentId>) -> bool {
        self.scope.is_none() || scope.is_none() || self.scope == scope
    }

    /// Whether the lease still holds at `now`.
    pub fn holds(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at && !self.holder.is_gone()
    }
}

impl fmt::Display for SendLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.scope.map_or("the whole outbox".to_owned(), |id| {
            format!("{id}'s letters")
        });
        write!(
            f,
            "{} is sending {what} since {} (process {})",
            self.by,
            self.since.format("%Y-%m-%d %H:%M:%S UTC"),
            self.holder.pid
        )
    }
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The start time of a live process: field 22 of `/proc/PID/stat`, after the command name
/// (which may hold spaces). `None` when there is no such process, or it has exited and only
/// waits to be reaped (state `Z`, a zombie, or `X`, dead): a killed sender that its parent
/// has not reaped yet holds nothing.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_gone_and_a_dead_one_is() {
        let me = Holder::current();
        assert!(me.started > 0);
        assert!(!me.is_gone());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = Holder {
            pid: child.id(),
            started: start_time(child.id()).unwrap_or(1),
            boot: me.boot.clone(),
        };
        child.wait().unwrap();
        assert!(dead.is_gone());
    }

    /// Issue 27, item 9: a sender killed and not yet reaped (a zombie) is gone.
    #[test]
    fn a_killed_holder_not_yet_reaped_is_gone() {
        let me = Holder::current();
        let mut child = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap();
        let holder = Holder {
            pid: child.id(),
            started: start_time(child.id()).unwrap(),
            boot: me.boot.clone(),
        };
        assert!(!holder.is_gone(), "a running holder holds");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        // Until reaped the process stays a zombie; wait for the kernel to say so (its state
        // changes from 'S' to 'Z' once the kill is delivered), without reaping it.
        let stat = format!("/proc/{}/stat", child.id());
        while !std::fs::read_to_string(&stat)
            .unwrap()
            .rsplit_once(')')
            .unwrap()
            .1
            .trim_start()
            .starts_with('Z')
        {
            std::thread::yield_now();
        }
        assert!(holder.is_gone(), "a zombie holds nothing");
        child.wait().unwrap();
        assert!(holder.is_gone());
    }

    #[test]
    fn a_whole_outbox_send_overlaps_every_incident() {
        let lease = SendLease {
            scope: Some(IncidentId::new(1)),
            by: UserName::parse("rita").unwrap(),
            since: Utc::now(),
            expires_at: Utc::now() + LEASE_HOLD,
            holder: Holder::current(),
        };
        assert!(lease.overlaps(Some(IncidentId::new(1))));
        assert!(lease.overlaps(None));
        assert!(!lease.overlaps(Some(IncidentId::new(2))));
    }
}
