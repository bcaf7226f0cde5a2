//! The send lease: one sender at a time over the letters it sends, across processes and
//! hosts, with expiry so that a dead sender's lease is taken over.

use super::DeskError;
use super::local::LocalDesk;
use crate::domain::{IncidentId, UserName};
use crate::notify::{self, Holder, SendLease};

/// Takes the send lease over `scope` and registers it as running in this process, or
/// refuses naming the sender that holds it.
pub(super) fn take_lease(
    desk: &LocalDesk,
    actor: &UserName,
    scope: Option<IncidentId>,
) -> Result<SendLease, DeskError> {
    let _guard = desk.lock()?;
    let now = desk.now();
    let mut leases = desk.store.send_leases()?;
    let me = Holder::current();
    let mine = running().clone();
    // A lease of this process that no send of it holds was left by a send that could not
    // release it: it is over.
    leases.retain(|l| l.holds(now) && (l.holder != me || mine.iter().any(|m| is_mine(l, m))));
    if let Some(running) = leases.iter().find(|l| l.overlaps(scope)) {
        return Err(DeskError::SendRunning(running.to_string()));
    }
    let lease = SendLease {
        scope,
        by: actor.clone(),
        since: now,
        expires_at: now + notify::LEASE_HOLD,
        holder: Holder::current(),
    };
    leases.push(lease.clone());
    desk.store.put_send_leases(&leases)?;
    // Registered as running before the writer lock is let go: another desk of this process
    // taking a lease meanwhile would otherwise see this one as left over and take over.
    running().push(lease.clone());
    Ok(lease)
}

/// The sends this process is running (on any desk it has open), so that a lease it could
/// not release (the database went away mid-send) does not hold off its next send until the
/// lease expires.
static RUNNING: std::sync::Mutex<Vec<SendLease>> = std::sync::Mutex::new(Vec::new());

pub(super) fn running() -> std::sync::MutexGuard<'static, Vec<SendLease>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn is_mine(l: &SendLease, mine: &SendLease) -> bool {
    l.holder == mine.holder && l.since == mine.since && l.scope == mine.scope
}

pub(super) fn renew_lease(desk: &LocalDesk, mine: &SendLease) -> Result<(), DeskError> {
    let _guard = desk.lock()?;
    let now = desk.now();
    let mut leases = desk.store.send_leases()?;
    for l in leases.iter_mut().filter(|l| is_mine(l, mine)) {
        l.expires_at = now + notify::LEASE_HOLD;
    }
    desk.store.put_send_leases(&leases)?;
    Ok(())
}

pub(super) fn release_lease(desk: &LocalDesk, mine: &SendLease) -> Result<(), DeskError> {
    let _guard = desk.lock()?;
    let mut leases = desk.store.send_leases()?;
    leases.retain(|l| !is_mine(l, mine));
    desk.store.put_send_leases(&leases)?;
    Ok(())
}
