//! On-call alerts: the deadline sweep that records when an obligation comes due or goes
//! overdue, and the delivery of alerts from the audit log to each `[[alert]]` destination
//! (`src/alerts/` builds and sends them).
//!
//! Exactly once, as near as a network allows:
//! - the sweep checks for its own earlier event and records the new one under the desk's
//!   write lock (shared by every daemon on one PostgreSQL), so each threshold is recorded
//!   once;
//! - a destination is delivered to by one holder at a time: a lease taken, renewed and given
//!   back under the write lock, with a unique holder per round (two rounds in one process are
//!   two holders);
//! - the cursor moves past an alert only once the destination has taken it. A crash after
//!   the destination took it and before the cursor moved sends it again on the next round,
//!   with the same delivery id (`X-Breachdesk-Delivery`, PagerDuty's `dedup_key`) for the
//!   receiver to drop: that window cannot be closed over HTTP, and is kept to one alert.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Duration;

use super::DeskError;
use super::local::LocalDesk;
use crate::alerts::{AlertState, Round, alert_for};
use crate::domain::{AuditAction, EventDraft, Incident, IncidentId, ObligationState, UserName};
use crate::store::Changes;

/// How long a holder may deliver to one destination before another may take over.
const LEASE: i64 = 60;
/// Events read from the log in one round.
const BATCH: usize = 500;
/// The longest wait before retrying a failing destination.
const MAX_BACKOFF: i64 = 300;

/// A holder name unique to this round: host, process and a counter.
fn holder() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "host".to_owned());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Records an `obligation.due-soon` event for each open obligation that came due within a
/// threshold of `[alerts] due_soon_hours`, and `obligation.overdue` for each past its due
/// time, once each; returns how many it recorded.
pub(super) fn sweep(desk: &LocalDesk, actor: &UserName) -> Result<u64, DeskError> {
    if desk.settings.config.alert.is_empty() {
        return Ok(0);
    }
    let now = desk.now();
    let mut thresholds = desk.settings.config.alerts.due_soon_hours.clone();
    thresholds.sort_unstable();
    thresholds.dedup();
    let widest = Duration::hours(i64::from(thresholds.last().copied().unwrap_or(0)));
    let _guard = desk.lock()?;
    let mut events = Vec::new();
    for incident in desk.store.incidents()? {
        let due: Vec<_> = desk
            .settings
            .rules
            .obligations(&incident)
            .into_iter()
            .filter(|o| o.state == ObligationState::Open)
            .filter_map(|o| o.due_at.map(|d| (o.rule, d)))
            .filter(|(_, d)| *d - widest <= now)
            .collect();
        if due.is_empty() {
            continue;
        }
        let recorded: Vec<(AuditAction, String)> = desk
            .store
            .incident_events(incident.id)?
            .into_iter()
            .filter(|e| {
                matches!(
                    e.draft.action,
                    AuditAction::ObligationDueSoon | AuditAction::ObligationOverdue
                )
            })
            .map(|e| (e.draft.action, e.draft.detail))
            .collect();
        let has = |action: AuditAction, detail: &str| {
            recorded.iter().any(|(a, d)| *a == action && d == detail)
        };
        for (rule, at) in due {
            let stamp = crate::domain::when::rfc3339(at);
            let event = |action, detail: String| {
                EventDraft::new(actor, now, action, detail)
                    .on_incident(incident.id)
                    .changed("", &stamp)
            };
            if at <= now {
                let detail = format!("{rule} overdue (due {stamp})");
                if !has(AuditAction::ObligationOverdue, &detail) {
                    events.push(event(AuditAction::ObligationOverdue, detail));
                }
                continue;
            }
            // Only the tightest threshold reached: an obligation found with 3 hours left is
            // alerted once as due within 4 hours, not also as within 24.
            if let Some(h) = thresholds
                .iter()
                .find(|h| at - Duration::hours(i64::from(**h)) <= now)
            {
                let detail = format!("{rule} due within {h}h (due {stamp})");
                if !has(AuditAction::ObligationDueSoon, &detail) {
                    events.push(event(AuditAction::ObligationDueSoon, detail));
                }
            }
        }
    }
    let n = events.len() as u64;
    if n > 0 {
        desk.store.commit(&Changes::events(events))?;
    }
    Ok(n)
}

/// Where delivery to `name` stands; a destination seen for the first time starts at the
/// end of the log (alerts are about what happens from now on, not the history).
fn state_of(desk: &LocalDesk, name: &str) -> Result<AlertState, DeskError> {
    Ok(match desk.store.alert_state(name)? {
        Some(s) => s,
        None => AlertState {
            name: name.to_owned(),
            cursor: desk.store.last_seq()?,
            ..AlertState::default()
        },
    })
}

/// Takes the lease on `name` for `me`, unless someone else holds it or the destination
/// waits for its next try; the state as taken.
fn claim(desk: &LocalDesk, name: &str, me: &str) -> Result<Option<AlertState>, DeskError> {
    let now = desk.now();
    let _guard = desk.lock()?;
    let mut state = state_of(desk, name)?;
    if let Some((holder, until)) = &state.lease
        && holder != me
        && *until > now
    {
        return Ok(None);
    }
    if state.next_try.is_some_and(|t| t > now) {
        return Ok(None);
    }
    state.lease = Some((me.to_owned(), now + Duration::seconds(LEASE)));
    desk.store.put_alert_state(&state)?;
    Ok(Some(state))
}

/// Writes `state` if `me` still holds its lease (renewing it, or giving it back when
/// `release`); `false` when the lease was lost.
fn keep(
    desk: &LocalDesk,
    state: &mut AlertState,
    me: &str,
    release: bool,
) -> Result<bool, DeskError> {
    let now = desk.now();
    let _guard = desk.lock()?;
    let stored = state_of(desk, &state.name)?;
    if stored.lease.as_ref().is_none_or(|(holder, _)| holder != me) {
        return Ok(false);
    }
    state.lease = (!release).then(|| (me.to_owned(), now + Duration::seconds(LEASE)));
    desk.store.put_alert_state(state)?;
    Ok(true)
}

/// One round: records what the deadlines call for, then delivers what each destination
/// has pending, in order, stopping at a destination's first failure (retried later, after
/// a wait that doubles up to five minutes).
pub(super) fn round(desk: &LocalDesk, actor: &UserName) -> Result<Round, DeskError> {
    round_with(desk, actor, true)
}

/// A round, with the deadline sweep or without it.
fn round_with(desk: &LocalDesk, actor: &UserName, with_sweep: bool) -> Result<Round, DeskError> {
    let mut out = Round {
        recorded: if with_sweep { sweep(desk, actor)? } else { 0 },
        ..Round::default()
    };
    let mut incidents: HashMap<IncidentId, Option<Incident>> = HashMap::new();
    for dest in &desk.settings.config.alert {
        let me = holder();
        let Some(mut state) = claim(desk, &dest.name, &me)? else {
            continue;
        };
        let mut sent = 0u64;
        let events = desk.store.events_after(state.cursor, BATCH)?;
        for event in events {
            let incident = match event.draft.incident {
                Some(id) => incidents
                    .entry(id)
                    .or_insert_with(|| desk.load(id).ok())
                    .as_ref(),
                None => None,
            };
            let alert =
                alert_for(&event, incident, &desk.settings.config.alerts).filter(|a| dest.wants(a));
            let Some(alert) = alert else {
                state.cursor = event.seq;
                continue;
            };
            match crate::alerts::send(dest, &alert, &desk.settings.config.smtp) {
                Ok(_) => {
                    state.cursor = event.seq;
                    state.sent += 1;
                    state.failures = 0;
                    state.next_try = None;
                    state.last_error = None;
                    state.last_sent_at = Some(desk.now());
                    sent += 1;
                    if !keep(desk, &mut state, &me, false)? {
                        break;
                    }
                }
                Err(e) => {
                    state.failures += 1;
                    let wait =
                        backoff(state.failures, desk.settings.config.alerts.retry_after_secs);
                    state.next_try = Some(desk.now() + Duration::seconds(wait));
                    state.last_error = Some(e.clone());
                    out.failed.push((dest.name.clone(), e));
                    break;
                }
            }
        }
        keep(desk, &mut state, &me, true)?;
        if sent > 0 {
            out.sent.push((dest.name.clone(), sent));
        }
    }
    Ok(out)
}

impl LocalDesk {
    /// One alert round as the daemon runs it, every second, as `actor`; with the deadline
    /// sweep when `sweep` (the daemon sweeps every minute).
    pub fn alert_round(&self, actor: &UserName, sweep: bool) -> Result<Round, DeskError> {
        round_with(self, actor, sweep)
    }

    /// Whether any `[[alert]]` destination is configured.
    pub fn has_alerts(&self) -> bool {
        !self.settings.config.alert.is_empty()
    }
}

/// Where delivery to each destination stands, with how many alerts wait for it.
pub(super) fn states(desk: &LocalDesk, _actor: &UserName) -> Result<Vec<AlertState>, DeskError> {
    let mut out = Vec::new();
    let mut incidents: HashMap<IncidentId, Option<Incident>> = HashMap::new();
    for dest in &desk.settings.config.alert {
        let mut state = state_of(desk, &dest.name)?;
        state.pending = desk
            .store
            .events_after(state.cursor, 10_000)?
            .iter()
            .filter(|e| {
                let incident = e.draft.incident.and_then(|id| {
                    incidents
                        .entry(id)
                        .or_insert_with(|| desk.load(id).ok())
                        .clone()
                });
                alert_for(e, incident.as_ref(), &desk.settings.config.alerts)
                    .is_some_and(|a| dest.wants(&a))
            })
            .count() as u64;
        out.push(state);
    }
    Ok(out)
}

/// Sends a test alert to the destination `name`; what it answered.
pub(super) fn test(desk: &LocalDesk, actor: &UserName, name: String) -> Result<String, DeskError> {
    let dest = desk
        .settings
        .config
        .alert
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| {
            let known: Vec<&str> = desk
                .settings
                .config
                .alert
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            DeskError::NotConfigured(format!(
                "no [[alert]] named '{}'; configured: {}",
                crate::domain::text::for_terminal(&name),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })?;
    let answer = crate::alerts::send_test(dest, &desk.settings.config.smtp, actor.as_str())
        .map_err(|e| DeskError::Delivery(format!("alert '{name}': {e}")))?;
    Ok(format!(
        "{name} answered {}: {}",
        answer.status, answer.body
    ))
}

/// Seconds a destination waits after `failures` failures in a row: `base`, doubling after
/// each, at most five minutes.
fn backoff(failures: u32, base: u32) -> i64 {
    let doubled = i64::from(base).saturating_mul(1i64 << failures.saturating_sub(1).min(20));
    doubled.min(MAX_BACKOFF)
}
