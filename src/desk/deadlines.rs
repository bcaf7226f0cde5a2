//! The desk's deadline and evidence actions: the legal obligations of incidents (computed
//! by [`crate::deadlines`] from the jurisdiction rules), settling one, and importing and
//! reading the exposed store's access log (analysed by [`crate::evidence`]).

use super::local::{LocalDesk, Recorded, reason_text};
use super::{DeskError, ReadPath};
use crate::access::Need;
use crate::deadlines::Obligation;
use crate::domain::text::{Lines, checked};
use crate::domain::{
    AuditAction, EventDraft, EvidenceSummary, Incident, IncidentId, ObligationRecord,
    ObligationState, UserName,
};
use crate::evidence::Evidence;
use crate::store::Changes;

/// The obligations of one incident, or of every unsettled incident, soonest due first.
pub(super) fn obligations(
    desk: &LocalDesk,
    _actor: &UserName,
    id: Option<IncidentId>,
) -> Result<Vec<Obligation>, DeskError> {
    let rules = &desk.settings.rules;
    match id {
        Some(id) => Ok(rules.obligations(&desk.load(id)?)),
        None => {
            let mut all: Vec<Obligation> = desk
                .store
                .incidents()?
                .iter()
                // A settled incident's obligations that are still open keep running: they
                // stay listed until met, waived or exempt.
                .flat_map(|i| {
                    let settled = i.status.is_settled();
                    rules
                        .obligations(i)
                        .into_iter()
                        .filter(move |o| !settled || o.state == ObligationState::Open)
                })
                .collect();
            all.sort_by(|a, b| {
                (a.due_at.is_none(), a.due_at, a.incident, &a.rule).cmp(&(
                    b.due_at.is_none(),
                    b.due_at,
                    b.incident,
                    &b.rule,
                ))
            });
            Ok(all)
        }
    }
}

/// Records an obligation as done (with when and a reference) or waived (with why).
pub(super) fn settle(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    rule: String,
    state: ObligationState,
) -> Result<Obligation, DeskError> {
    let (action, detail) = match &state {
        ObligationState::Open => {
            return Err(DeskError::Unchanged(
                "an obligation is settled as done or waived".into(),
            ));
        }
        ObligationState::Done {
            at,
            reference,
            phase,
        } => {
            LocalDesk::not_future(*at, desk.now())?;
            if let Some(r) = reference {
                checked("reference", r, 500, Lines::Single)?;
            }
            let mut d = match phase {
                Some(p) => format!("{rule}: {} report sent at ", p.as_str()),
                None => format!("{rule} done at "),
            };
            d.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            if let Some(r) = reference {
                d.push_str(&format!(" (reference {r})"));
            }
            (AuditAction::ObligationDone, d)
        }
        ObligationState::Waived { reason } => {
            let reason = reason_text(reason)?;
            (
                AuditAction::ObligationWaived,
                format!("{rule} waived: {reason}"),
            )
        }
    };
    let applies = |inc: &Incident| {
        desk.settings
            .rules
            .obligations(inc)
            .into_iter()
            .find(|o| o.rule == rule)
    };
    let no_rule = || DeskError::NoObligation {
        id,
        rule: crate::domain::text::for_terminal(&rule).into_owned(),
    };
    let incident = desk.change_incident(actor, id, "obligation.settle", Need::Change, |inc| {
        applies(inc).ok_or_else(no_rule)?;
        let before = inc
            .obligations
            .get(rule.as_str())
            .map_or("open", |r| r.state.as_str())
            .to_owned();
        let old = inc.obligations.get(rule.as_str());
        let mut submissions = old.map(|r| r.submissions.clone()).unwrap_or_default();
        // A report in phases: each is kept; the obligation was met when the initial one
        // went, and is partly met until a follow-up has.
        let state = match state {
            ObligationState::Done {
                at,
                reference,
                phase: Some(phase),
            } => {
                submissions.push(crate::domain::Submission {
                    phase,
                    at,
                    reference: reference.clone(),
                    by: actor.clone(),
                });
                let initial = submissions
                    .iter()
                    .find(|s| s.phase == crate::domain::Phase::Initial)
                    .cloned()
                    .ok_or_else(|| {
                        DeskError::Unchanged(format!(
                            "{rule} has no initial report yet: record it first with --phase initial"
                        ))
                    })?;
                ObligationState::Done {
                    at: initial.at,
                    reference: initial.reference,
                    phase: Some(phase),
                }
            }
            other => other,
        };
        let after = state.as_str();
        inc.obligations.insert(
            rule.to_owned(),
            ObligationRecord {
                state,
                by: actor.clone(),
                submissions,
            },
        );
        Ok(Recorded::new(action, detail, before, after))
    })?;
    applies(&incident).ok_or_else(no_rule)
}

/// Reads the exposed store's access log (all or nothing) and keeps what it shows.
pub(super) fn import_evidence(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    log: &mut dyn std::io::Read,
    source_name: &str,
    allowed: &std::collections::HashSet<String>,
) -> Result<EvidenceSummary, DeskError> {
    let incident = desk.load(id)?;
    desk.guard(actor, &incident, Need::Change, "evidence.import")?;
    // The name reaches messages, the timeline and reports; a client may have sent any.
    let source_name = &crate::domain::text::display_path(source_name);
    let roster: std::collections::HashSet<String> = desk
        .store
        .people(id)
        .map(|p| p.map(|p| p.employee_id.to_string()))
        .collect::<Result<_, _>>()?;
    if roster.is_empty() {
        return Err(DeskError::EmptyRoster(id));
    }
    let evidence = crate::evidence::analyse(log, source_name, &roster, allowed, desk.now())?;
    let now = desk.now();
    let summary = EvidenceSummary {
        finding: evidence.finding,
        rows: evidence.rows,
        source: source_name.to_owned(),
        imported_at: now,
        accessors: evidence.accessors.len() as u64,
        unauthorized_accessors: evidence.unauthorized_accessors(),
        people_read: evidence.people_read(),
        people_acquired: evidence.people_acquired(),
        allow_list: !allowed.is_empty(),
    };
    let _guard = desk.lock()?;
    let mut incident = desk.load(id)?;
    // Membership may have changed while the log was read.
    desk.guard(actor, &incident, Need::Change, "evidence.import")?;
    let before = incident
        .evidence
        .as_ref()
        .map_or("unknown", |e| e.finding.as_str());
    incident.evidence = Some(summary.clone());
    incident.updated_at = now;
    let detail = format!(
        "{source_name}: {} rows; {} accessors ({} not on the allow-list); data of {} people read, of {} copied; finding: {}",
        summary.rows,
        summary.accessors,
        summary.unauthorized_accessors,
        summary.people_read,
        summary.people_acquired,
        summary.finding.as_str()
    );
    let event = EventDraft::new(actor, now, AuditAction::EvidenceImported, detail)
        .on_incident(id)
        .changed(before, summary.finding.as_str());
    desk.store.commit(&Changes {
        incidents: vec![incident],
        evidence: Some((id, evidence)),
        events: vec![event],
        ..Changes::default()
    })?;
    Ok(summary)
}

/// The imported evidence in full: who read whose data (personal data: checked, logged).
pub(super) fn evidence(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
) -> Result<Evidence, DeskError> {
    desk.not_purged(id)?;
    let path = ReadPath::EvidenceSummary;
    let evidence = desk.store.evidence(id)?.unwrap_or_default();
    desk.record_read(actor, id, path, evidence.people.len())?;
    Ok(evidence)
}
