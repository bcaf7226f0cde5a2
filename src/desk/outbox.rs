//! How an incident's letters stand (counts per state, failures, bounces, letters sent to
//! a previous address) and requeuing the failed ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::local::Caller;
use super::local::LocalDesk;
use super::{DeskError, ReadPath};

use crate::domain::{AuditAction, EventDraft, IncidentId, UserName};
use crate::notify::{Delivery, DeliveryState, NotificationRef};
use crate::store::Changes;

/// A notification that failed, with the server's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureView {
    pub template: String,
    pub recipient: String,
    pub attempts: u32,
    pub error: String,
}

/// Counts per state and the failures of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxStatus {
    pub incident: String,
    pub counts: BTreeMap<String, usize>,
    pub by_template: BTreeMap<String, BTreeMap<String, usize>>,
    pub failures: Vec<FailureView>,
    /// Letters sent to an address the roster has since changed.
    #[serde(default)]
    pub sent_to_previous: Vec<PreviousView>,
    /// Letters the server accepted and a bounce later reported undeliverable.
    #[serde(default)]
    pub bounced: Vec<BouncedView>,
}

/// A letter that bounced: its person was not told by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BouncedView {
    pub template: String,
    pub recipient: String,
    pub status: String,
    pub diagnostic: String,
}

/// A letter sent to a previous address: the responder decides whether to send again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousView {
    pub template: String,
    pub recipient: String,
    pub sent_to: String,
}

/// Counts per state and the failures of one incident (their addresses are personal data,
/// so the read is checked and logged).
pub(super) fn status(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    path: ReadPath,
) -> Result<OutboxStatus, DeskError> {
    let status = count_outbox(desk, id)?;
    desk.record_read(
        actor,
        id,
        path,
        status.failures.len() + status.bounced.len() + status.sent_to_previous.len(),
    )?;
    Ok(status)
}

fn count_outbox(desk: &LocalDesk, id: IncidentId) -> Result<OutboxStatus, DeskError> {
    let mut counts: BTreeMap<String, usize> = DeliveryState::ALL
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    // Counts come from the tallies kept with every state change; only the letters that
    // need attention are opened.
    let mut by_template: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (template, states) in desk.store.outbox_tally(id)? {
        let entry = by_template.entry(template.to_string()).or_default();
        for (state, n) in states {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            *counts.entry(state.clone()).or_default() += n;
            *entry.entry(state).or_default() += n;
        }
    }
    by_template.retain(|_, states| !states.is_empty());
    let mut failures = Vec::new();
    let mut previous = Vec::new();
    let mut bounced = Vec::new();
    for (r, d) in desk.store.outbox_attention(id)? {
        if let Some(sent_to) = &d.sent_to_previous {
            previous.push(PreviousView {
                template: r.template.to_string(),
                recipient: r.recipient.clone(),
                sent_to: sent_to.clone(),
            });
        }
        if let (DeliveryState::Bounced, Some(b)) = (d.state, &d.bounce) {
            bounced.push(BouncedView {
                template: r.template.to_string(),
                recipient: r.recipient.clone(),
                status: b.status.clone(),
                diagnostic: b.diagnostic.clone(),
            });
        }
        if d.state == DeliveryState::Failed {
            failures.push(FailureView {
                template: r.template.to_string(),
                recipient: r.recipient,
                attempts: d.attempts,
                error: d.last_error.unwrap_or_default(),
            });
        }
    }
    Ok(OutboxStatus {
        incident: id.to_string(),
        counts,
        by_template,
        failures,
        sent_to_previous: previous,
        bounced,
    })
}

/// Requeues every failed letter of an incident; returns how many.
pub(super) fn retry(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
) -> Result<usize, DeskError> {
    let _guard = desk.lock()?;
    desk.recheck(actor, &desk.load(id)?)?;
    let now = desk.now();
    let failed: Vec<(NotificationRef, Delivery)> = desk
        .store
        .outbox_attention(id)?
        .into_iter()
        .filter(|(_, d)| d.state == DeliveryState::Failed)
        .map(|(r, d)| {
            let requeued = Delivery {
                state: DeliveryState::Queued,
                attempts: 0,
                updated_at: now,
                ..d
            };
            (r, requeued)
        })
        .collect();
    let count = failed.len();
    if count > 0 {
        let detail = format!("requeued {count} failed letters");
        desk.store.commit(&Changes {
            deliveries: failed,
            events: vec![
                EventDraft::new(actor, now, AuditAction::NotificationsRetried, detail)
                    .on_incident(id),
            ],
            ..Changes::default()
        })?;
    }
    Ok(count)
}
