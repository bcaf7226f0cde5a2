//! Retention of the tracker's own personal data. Purging an incident destroys its data key
//! together with its roster, letters and evidence (`store/data_keys.rs`), and keeps what
//! the register and the regulator need afterwards: the counts, the obligations, the
//! assessment and the audit trail. Only a closed incident is purged, and not while a send
//! goes over its letters.

use chrono::Duration;

use super::DeskError;
use super::local::{LocalDesk, reason_text};
use crate::domain::{AuditAction, EventDraft, Incident, IncidentId, Purge, UserName};
use crate::store::{Changes, StoreError};

/// Destroys closed incident `id`'s personal data, with the reason (admins only).
pub(super) fn purge(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = reason_text(&reason)?;
    let _guard = desk.lock()?;
    let incident = desk.load(id)?;
    if let Some(refusal) = refusal(desk, &incident)? {
        return Err(DeskError::PurgeRefused(refusal));
    }
    purge_locked(desk, actor, incident, reason)
}

/// Purges every incident closed longer ago than `[retention] days_after_close`; with
/// `dry_run`, only says which it would purge. An incident a send is going over waits for
/// the next sweep.
pub(super) fn purge_due(
    desk: &LocalDesk,
    actor: &UserName,
    dry_run: bool,
) -> Result<Vec<Incident>, DeskError> {
    let days = desk.settings.config.retention.days_after_close;
    let now = desk.now();
    let _guard = desk.lock()?;
    let mut out = Vec::new();
    for incident in desk.store.incidents()? {
        let Some(closed) = incident.closed_time() else {
            continue;
        };
        if closed + Duration::days(i64::from(days)) > now || refusal(desk, &incident)?.is_some() {
            continue;
        }
        if dry_run {
            out.push(incident);
            continue;
        }
        let reason = format!(
            "retention: closed on {}, {days} days ago or more ([retention] days_after_close)",
            closed.format("%Y-%m-%d")
        );
        out.push(purge_locked(desk, actor, incident, reason)?);
    }
    Ok(out)
}

/// Why `incident` cannot be purged now, if it cannot.
fn refusal(desk: &LocalDesk, incident: &Incident) -> Result<Option<String>, DeskError> {
    let id = incident.id;
    if let Some(why) = incident.purge_refusal() {
        return Ok(Some(why));
    }
    let now = desk.now();
    if let Some(lease) = desk
        .store
        .send_leases()?
        .into_iter()
        .find(|l| l.holds(now) && l.overlaps(Some(id)))
    {
        return Ok(Some(format!("{lease}; purge once it has finished")));
    }
    Ok(None)
}

fn purge_locked(
    desk: &LocalDesk,
    actor: &UserName,
    mut incident: Incident,
    reason: String,
) -> Result<Incident, DeskError> {
    let now = desk.now();
    let id = incident.id;
    let evidence = if incident.evidence.is_some() {
        ", its evidence"
    } else {
        ""
    };
    let detail = format!(
        "{reason}; destroyed the data key, the roster of {} people, their letters{evidence}",
        incident.people
    );
    incident.purged = Some(Purge {
        at: now,
        by: actor.clone(),
        reason,
    });
    incident.updated_at = now;
    let event = EventDraft::new(actor, now, AuditAction::IncidentPurged, detail)
        .on_incident(id)
        .changed("kept".to_owned(), "purged".to_owned());
    desk.store.commit(&Changes {
        incidents: vec![incident.clone()],
        events: vec![event],
        purge: Some(id),
        ..Changes::default()
    })?;
    Ok(incident)
}

impl LocalDesk {
    /// The daemon's retention sweep: [`purge_due`] as `actor` (the daemon's own user),
    /// which the policy does not need to make an admin: the sweep applies the retention
    /// period the administrator configured, it is nobody's request.
    pub fn sweep_retention(&self, actor: &UserName) -> Result<Vec<Incident>, DeskError> {
        purge_due(self, actor, false)
    }

    /// Refuses a read of personal data the incident no longer has.
    pub(super) fn not_purged(&self, id: IncidentId) -> Result<(), DeskError> {
        if self.store.is_purged(id)? {
            return Err(StoreError::Purged(id).into());
        }
        Ok(())
    }
}
