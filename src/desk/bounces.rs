//! Recording bounces: matching each report read from the bounce mailbox to its letter (by
//! the bounce token of its VERP address, else by the Message-ID of the original it carries),
//! marking the letter `bounced`, and counting its person as not notified. Reading the
//! mailbox is [`crate::notify::bounce`]'s, on the caller's side.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::DeskError;
use super::local::Caller;
use super::local::LocalDesk;
use crate::access::Need;
use crate::domain::{AuditAction, Bounce, EmployeeId, EventDraft, IncidentId, UserName};
use crate::notify::bounce::BounceReport;
use crate::notify::{Delivery, DeliveryState, NotificationRef, TemplateName, notification_id};
use crate::store::Changes;

/// What recording a batch of bounce reports did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BounceOutcome {
    /// Reports given.
    pub reports: usize,
    /// Letters marked bounced now.
    pub bounced: usize,
    /// Reports about a letter already marked with the same bounce (read before).
    pub already: usize,
    /// People who now count as not notified because of these bounces.
    pub people: usize,
    /// The sources of reports that match no letter (of the incident given, or that the
    /// caller may change); the first [`UNMATCHED_NAMED`] when a mailbox is read whole.
    pub unmatched: Vec<String>,
    /// Reports that matched no letter beyond those named in `unmatched`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unmatched_more: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// How many unmatched reports a whole mailbox's outcome names; the rest are counted.
pub const UNMATCHED_NAMED: usize = 1000;

/// Records a mailbox's reports through a desk as they are read, a thousand at a time (so
/// that a mailbox of any size stays within the daemon's frames and in bounded memory),
/// adding up what each batch did.
pub struct BounceRecorder<'a> {
    desk: &'a dyn super::Desk,
    id: Option<IncidentId>,
    batch: Vec<BounceReport>,
    total: BounceOutcome,
    failed: Option<DeskError>,
}

impl<'a> BounceRecorder<'a> {
    const BATCH: usize = 1000;

    pub fn new(desk: &'a dyn super::Desk, id: Option<IncidentId>) -> Self {
        BounceRecorder {
            desk,
            id,
            batch: Vec::with_capacity(Self::BATCH),
            total: BounceOutcome::default(),
            failed: None,
        }
    }

    /// Takes one report; a full batch is recorded. After a failure the rest are dropped
    /// and [`BounceRecorder::finish`] returns it.
    pub fn add(&mut self, report: BounceReport) {
        if self.failed.is_some() {
            return;
        }
        self.batch.push(report);
        if self.batch.len() >= Self::BATCH {
            self.record();
        }
    }

    fn record(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() {
            return;
        }
        match self.desk.record_bounces(self.id, batch) {
            Ok(got) => {
                let total = &mut self.total;
                total.reports += got.reports;
                total.bounced += got.bounced;
                total.already += got.already;
                total.people += got.people;
                for source in got.unmatched {
                    if total.unmatched.len() < UNMATCHED_NAMED {
                        total.unmatched.push(source);
                    } else {
                        total.unmatched_more += 1;
                    }
                }
                total.unmatched_more += got.unmatched_more;
            }
            Err(e) => self.failed = Some(e),
        }
    }

    /// Records what is left and returns the whole outcome.
    pub fn finish(mut self) -> Result<BounceOutcome, DeskError> {
        self.record();
        match self.failed {
            Some(e) => Err(e),
            None => Ok(self.total),
        }
    }
}

impl BounceOutcome {
    /// How many reports matched no letter, named or not.
    pub fn unmatched_count(&self) -> usize {
        self.unmatched.len() + self.unmatched_more
    }
}

/// One report matched to its letter.
struct Matched {
    report: BounceReport,
    target: NotificationRef,
    delivery: Delivery,
}

/// Matches the reports to letters and records the bounces, one commit per incident.
pub(super) fn record(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    incident: Option<IncidentId>,
    reports: Vec<BounceReport>,
) -> Result<BounceOutcome, DeskError> {
    for report in &reports {
        report.check().map_err(DeskError::NotConfigured)?;
    }
    let mut outcome = BounceOutcome {
        reports: reports.len(),
        ..BounceOutcome::default()
    };
    let _guard = desk.lock()?;
    let (matched, unmatched) = match_letters(desk, incident, reports)?;
    outcome.unmatched = unmatched;
    let mut by_incident: BTreeMap<IncidentId, Vec<Matched>> = BTreeMap::new();
    for m in matched {
        by_incident.entry(m.target.incident).or_default().push(m);
    }
    for (id, matched) in by_incident {
        let mut loaded = desk.load(id)?;
        if incident.is_none() && desk.policy.check(actor, &loaded, Need::Change).is_err() {
            // Not the caller's to change: as if there were no such letter.
            outcome
                .unmatched
                .extend(matched.into_iter().map(|m| m.report.source));
            continue;
        }
        desk.recheck(actor, &loaded)?;
        record_incident(desk, actor, &mut loaded, matched, &mut outcome)?;
    }
    Ok(outcome)
}

/// Each report's letter, by token first, then by Message-ID; the sources of the rest.
fn match_letters(
    desk: &LocalDesk,
    incident: Option<IncidentId>,
    reports: Vec<BounceReport>,
) -> Result<(Vec<Matched>, Vec<String>), DeskError> {
    let tokens: BTreeSet<String> = reports.iter().flat_map(|r| r.tokens.clone()).collect();
    let by_token: BTreeMap<String, (NotificationRef, Delivery)> = desk
        .store
        .by_bounce_token(incident, &tokens)?
        .into_iter()
        .map(|(token, target, delivery)| (token, (target, delivery)))
        .collect();
    let mut matched = Vec::new();
    let mut by_id_wanted = Vec::new();
    for report in reports {
        match report.tokens.iter().find_map(|t| by_token.get(t)) {
            Some((target, delivery)) => matched.push(Matched {
                target: target.clone(),
                delivery: delivery.clone(),
                report,
            }),
            None => by_id_wanted.push(report),
        }
    }
    let mut unmatched = Vec::new();
    if !by_id_wanted.is_empty() {
        // The VERP address was rewritten on the way: the Message-ID names the letter's id.
        let mut by_id: BTreeMap<String, (NotificationRef, Delivery)> = BTreeMap::new();
        for (target, delivery) in desk.store.deliveries(incident)? {
            by_id.insert(notification_id(&target), (target, delivery));
        }
        for report in by_id_wanted {
            let found = report
                .message_id
                .as_deref()
                .and_then(letter_id)
                .and_then(|id| by_id.get(id));
            match found {
                Some((target, delivery)) => matched.push(Matched {
                    target: target.clone(),
                    delivery: delivery.clone(),
                    report,
                }),
                None => unmatched.push(report.source),
            }
        }
    }
    // A bounce is about a letter the server accepted; one still queued or failed was never
    // handed over under this id, so the report is not taken as being about it.
    let (matched, not_sent): (Vec<_>, Vec<_>) = matched.into_iter().partition(|m| {
        matches!(
            m.delivery.state,
            DeliveryState::Sent | DeliveryState::Sending | DeliveryState::Bounced
        )
    });
    unmatched.extend(not_sent.into_iter().map(|m| m.report.source));
    Ok((matched, unmatched))
}

/// The letter id in a Message-ID breachdesk made: `<breachdesk.ID@domain>`.
fn letter_id(message_id: &str) -> Option<&str> {
    let inner = message_id.trim().strip_prefix('<')?.strip_suffix('>')?;
    let (local, _) = inner.split_once('@')?;
    local.strip_prefix("breachdesk.")
}

/// Marks one incident's letters bounced and their people not notified, in one commit.
fn record_incident(
    desk: &LocalDesk,
    actor: &UserName,
    incident: &mut crate::domain::Incident,
    matched: Vec<Matched>,
    outcome: &mut BounceOutcome,
) -> Result<(), DeskError> {
    let now = desk.now();
    let mut roster = desk.store.roster(incident.id)?;
    let mut deliveries: BTreeMap<NotificationRef, Delivery> = BTreeMap::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut people = 0;
    for m in matched {
        let current = deliveries.get(&m.target).unwrap_or(&m.delivery);
        if current
            .bounce
            .as_ref()
            .is_some_and(|b| b.status == m.report.status && b.diagnostic == m.report.diagnostic)
        {
            outcome.already += 1;
            continue;
        }
        let bounce = Bounce {
            status: m.report.status.clone(),
            diagnostic: m.report.diagnostic.clone(),
            recorded_at: now,
        };
        let mut delivery = current.clone();
        delivery.state = DeliveryState::Bounced;
        delivery.last_error = Some(format!("{} {}", bounce.status, bounce.diagnostic));
        delivery.updated_at = now;
        delivery.bounce = Some(bounce.clone());
        if m.delivery.state != DeliveryState::Bounced && !deliveries.contains_key(&m.target) {
            outcome.bounced += 1;
        }
        *statuses.entry(bounce.status.clone()).or_default() += 1;
        deliveries.insert(m.target.clone(), delivery);
        if let Ok(employee) = EmployeeId::parse(&m.target.recipient)
            && let Some(person) = roster.get(&employee)
        {
            let mut person = person.clone();
            person.bounced = Some(bounce);
            if person.is_notified() && !told_otherwise(desk, &m.target, &deliveries)? {
                person.notified_at = None;
                incident.notified = incident.notified.saturating_sub(1);
                people += 1;
            }
            roster.replace(person);
        }
    }
    if deliveries.is_empty() {
        return Ok(());
    }
    outcome.people += people;
    let counts: Vec<String> = statuses
        .iter()
        .map(|(status, n)| format!("{n} x {status}"))
        .collect();
    let detail = format!(
        "{} letters bounced ({}); {people} people no longer count as notified",
        deliveries.len(),
        counts.join(", ")
    );
    incident.updated_at = now;
    let id = incident.id;
    desk.store.commit(&Changes {
        incidents: vec![incident.clone()],
        pages: roster.into_changed_pages(),
        deliveries: deliveries.into_iter().collect(),
        events: vec![
            EventDraft::new(actor, now, AuditAction::NotificationsBounced, detail).on_incident(id),
        ],
        ..Changes::default()
    })?;
    Ok(())
}

/// Whether another of the person's letters in this incident reached them (sent, and not
/// bounced now).
fn told_otherwise(
    desk: &LocalDesk,
    bounced: &NotificationRef,
    now_bounced: &BTreeMap<NotificationRef, Delivery>,
) -> Result<bool, DeskError> {
    for template in TemplateName::ALL
        .iter()
        .copied()
        .filter(|t| *t != bounced.template && t.is_for_people())
    {
        let other = NotificationRef {
            template,
            ..bounced.clone()
        };
        if now_bounced.contains_key(&other) {
            continue;
        }
        if desk
            .store
            .delivery(&other)?
            .is_some_and(|d| d.state == DeliveryState::Sent)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn letter_ids_come_only_from_breachdesk_message_ids() {
        assert_eq!(
            super::letter_id("<breachdesk.0123456789abcdef@corp.example>"),
            Some("0123456789abcdef")
        );
        assert_eq!(super::letter_id("<other.1@corp.example>"), None);
        assert_eq!(super::letter_id("breachdesk.1@corp.example"), None);
    }
}
