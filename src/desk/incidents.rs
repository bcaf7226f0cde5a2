//! The desk's incident actions: open, list, show, the timeline, and the changes to one
//! incident (severity, status, notes, owner, members, the legal clocks). People, programmes,
//! letters and obligations of an incident are in their own files.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DeskError;
use super::local::Caller;
use super::local::{LocalDesk, Recorded, reason_text};
use crate::access::Need;
use crate::domain::text::{Lines, checked, optional};
use crate::domain::{
    AuditAction, AuditEvent, EventDraft, Incident, IncidentId, NewIncident, Severity, Status,
    UserName,
};
use crate::store::{Changes, StoreError};

/// Which incidents to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentFilter {
    pub status: Option<Status>,
    /// Only incidents at this severity or more critical.
    pub max_severity: Option<Severity>,
}

pub(super) fn open(
    desk: &LocalDesk,
    actor: &UserName,
    new: NewIncident,
) -> Result<Incident, DeskError> {
    let now = desk.now();
    if let Some(at) = new.discovered_at {
        LocalDesk::not_future(at, now)?;
    }
    if let Some(at) = new.aware_at {
        LocalDesk::not_future(at, now)?;
    }
    for category in &new.categories {
        desk.settings.catalog.check(category)?;
    }
    let _guard = desk.lock()?;
    let mut programs = Vec::new();
    for slug in &new.programs {
        programs.push(desk.load_program(slug)?);
    }
    let id = IncidentId::new(desk.store.last_incident_number()? + 1);
    let incident = Incident::open(id, new, actor.clone(), now);
    let mut events = vec![
        EventDraft::new(
            actor,
            now,
            AuditAction::IncidentOpened,
            format!("{} {}: {}", id, incident.severity, incident.title),
        )
        .on_incident(id),
    ];
    for program in &mut programs {
        program.incidents.insert(id);
        events.push(
            EventDraft::new(
                actor,
                now,
                AuditAction::ProgramLinked,
                format!("linked programme '{}'", program.slug),
            )
            .on_incident(id)
            .on_program(&program.slug),
        );
    }
    desk.store.commit(&Changes {
        incidents: vec![incident.clone()],
        programs,
        events,
        ..Changes::default()
    })?;
    Ok(incident)
}

/// Incidents, most severe first, then newest.
pub(super) fn list(
    desk: &LocalDesk,
    _actor: &UserName,
    filter: IncidentFilter,
) -> Result<Vec<Incident>, DeskError> {
    let mut list: Vec<Incident> = desk
        .store
        .incidents()?
        .into_iter()
        .filter(|i| filter.status.is_none_or(|s| i.status == s))
        .filter(|i| filter.max_severity.is_none_or(|s| i.severity <= s))
        .collect();
    list.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.opened_at.cmp(&a.opened_at))
            .then(b.id.cmp(&a.id))
    });
    Ok(list)
}

pub(super) fn show(
    desk: &LocalDesk,
    _actor: &UserName,
    id: IncidentId,
) -> Result<Incident, DeskError> {
    desk.load(id)
}

/// The incident's events and notes, without access-log entries; sealed texts are opened
/// only for readers of its personal data.
pub(super) fn timeline(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
) -> Result<Vec<AuditEvent>, DeskError> {
    let incident = desk.load(id)?;
    let mut events = desk.store.incident_events(id)?;
    events.retain(|e| !e.draft.action.is_access());
    let entitled = desk
        .policy
        .check(actor, &incident, Need::PersonalData)
        .is_ok();
    desk.reveal(&mut events, entitled);
    Ok(events)
}

pub(super) fn set_severity(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    severity: Severity,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = reason_text(&reason)?;
    desk.change_incident(actor, id, |inc| {
        if inc.severity == severity {
            return Err(DeskError::Unchanged(format!("{id} is already {severity}")));
        }
        let before = inc.severity;
        inc.severity = severity;
        Ok(Recorded::new(
            AuditAction::SeverityChanged,
            reason,
            before,
            severity,
        ))
    })
}

/// Rewrites the title or the summary, checked as when the incident was opened; the
/// timeline keeps the reason and the title it had.
pub(super) fn describe(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    title: Option<String>,
    summary: Option<String>,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = reason_text(&reason)?;
    let title = title
        .map(|t| checked("title", &t, 200, Lines::Single))
        .transpose()?;
    let summary = summary
        .map(|s| optional("summary", &s, 10_000, Lines::Multi))
        .transpose()?;
    if title.is_none() && summary.is_none() {
        return Err(DeskError::Invalid(crate::domain::DomainError::Invalid(
            "give a new title (--title), a new summary (--summary), or both".into(),
        )));
    }
    desk.change_incident(actor, id, |inc| {
        let mut changed = Vec::new();
        if let Some(title) = title.filter(|t| *t != inc.title) {
            changed.push(format!("the title was '{}'", inc.title));
            inc.title = title;
        }
        if let Some(summary) = summary.filter(|s| *s != inc.summary) {
            changed.push("the summary was rewritten".to_owned());
            inc.summary = summary;
        }
        if changed.is_empty() {
            return Err(DeskError::Unchanged(format!(
                "{id} already has that title and summary"
            )));
        }
        Ok(Recorded::described(
            AuditAction::IncidentDescribed,
            format!("{reason} ({})", changed.join("; ")),
        ))
    })
}

/// Records a harm assessment (ENISA) on the incident, replacing any before; the timeline
/// keeps each one with its inputs and reason.
pub(super) fn assess(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    inputs: crate::domain::HarmInputs,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = reason_text(&reason)?;
    let now = desk.now();
    desk.change_incident(actor, id, |inc| {
        let before = inc.assessment.as_ref().map_or_else(
            || "not assessed".to_owned(),
            |a| a.inputs.band().to_string(),
        );
        let after = inputs.band();
        let detail = format!("{}; {reason}", inputs.describe());
        inc.assessment = Some(crate::domain::Assessment {
            inputs: inputs.clone(),
            reason: reason.clone(),
            by: actor.user.clone(),
            at: now,
        });
        Ok(Recorded::new(
            AuditAction::HarmAssessed,
            detail,
            before,
            after,
        ))
    })
}

/// Records New Zealand's serious-harm test (Privacy Act 2020 s112-113), replacing any
/// before; the timeline keeps each with its factors.
pub(super) fn assess_serious_harm(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    test: crate::domain::SeriousHarm,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = reason_text(&reason)?;
    let now = desk.now();
    desk.change_incident(actor, id, |inc| {
        let state = |likely: bool| {
            if likely {
                "notifiable"
            } else {
                "not notifiable"
            }
        };
        let before = inc
            .serious_harm
            .as_ref()
            .map_or("not assessed", |h| state(h.test.is_notifiable()));
        let after = state(test.is_notifiable());
        let factors: Vec<String> = test.factors().map(|(n, f)| format!("{n}: {f}")).collect();
        let detail = format!("{}; {}; {reason}", test.summary(), factors.join("; "));
        inc.serious_harm = Some(crate::domain::SeriousHarmRecord {
            test: test.clone(),
            reason: reason.clone(),
            by: actor.user.clone(),
            at: now,
        });
        Ok(Recorded::new(
            AuditAction::HarmAssessed,
            detail,
            before,
            after,
        ))
    })
}

/// Records that a data element an exposed category may contain was exposed (`confirmed`)
/// or was not (ruled out, with the reason), replacing any decision before.
pub(super) fn decide_element(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    element: crate::domain::DataElement,
    confirmed: bool,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = if confirmed {
        crate::domain::text::optional("reason", &reason, 1000, Lines::Multi)?
    } else {
        reason_text(&reason).map_err(|_| {
            DeskError::NotConfigured(format!(
                "ruling out {element} needs a reason: why it was not exposed"
            ))
        })?
    };
    let now = desk.now();
    let rules = &desk.settings.rules;
    desk.change_incident(actor, id, |inc| {
        let state = |inc: &Incident| {
            let exposed = rules.exposed_elements(inc);
            if exposed.certain.contains(&element) {
                "exposed"
            } else if exposed.possible.contains(&element) {
                "possible"
            } else if exposed.ruled_out.contains(&element) {
                "ruled out"
            } else {
                "not exposed"
            }
        };
        let before = state(inc);
        inc.elements.insert(
            element,
            crate::domain::ElementDecision {
                confirmed,
                reason: reason.clone(),
                by: actor.user.clone(),
                at: now,
            },
        );
        let after = state(inc);
        let verb = if confirmed { "confirmed" } else { "ruled out" };
        let mut detail = format!("{element} {verb}");
        if !reason.is_empty() {
            detail.push_str(": ");
            detail.push_str(&reason);
        }
        Ok(Recorded::new(
            AuditAction::ElementDecided,
            detail,
            before,
            after,
        ))
    })
}

pub(super) fn set_status(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    status: Status,
    reason: Option<String>,
    with_open_obligations: bool,
) -> Result<Incident, DeskError> {
    let mut reason = reason
        .as_deref()
        .map(reason_text)
        .transpose()?
        .unwrap_or_default();
    if with_open_obligations && reason.is_empty() {
        return Err(DeskError::NotConfigured(
            "closing with open obligations needs --reason: why they may stay open".into(),
        ));
    }
    let now = desk.now();
    desk.change_incident(actor, id, |inc| {
        let before = inc.status;
        if status == Status::Closed && before != Status::Closed {
            let open = open_obligations(desk, inc, now);
            if !open.is_empty() && !with_open_obligations {
                return Err(DeskError::OpenObligations {
                    id,
                    open: open.join("; "),
                });
            }
            if !open.is_empty() {
                reason = format!(
                    "closed with open obligations ({}): {reason}",
                    open.join("; ")
                );
            }
        }
        inc.move_to(status)?;
        inc.closed_at = (status == Status::Closed).then_some(now);
        Ok(Recorded::new(
            AuditAction::StatusChanged,
            reason,
            before,
            status,
        ))
    })
}

/// Each open obligation of `inc`, with its time left: what closing would hide.
fn open_obligations(desk: &LocalDesk, inc: &Incident, now: DateTime<Utc>) -> Vec<String> {
    desk.settings
        .rules
        .obligations(inc)
        .into_iter()
        .filter(|o| o.state == crate::domain::ObligationState::Open)
        .map(|o| match o.due_at {
            Some(due) if due >= now => {
                format!(
                    "{} ({} left)",
                    o.rule,
                    crate::deadlines::TimeLeft(due - now)
                )
            }
            Some(due) => format!("{} ({})", o.rule, crate::deadlines::TimeLeft(due - now)),
            None => format!("{} (without undue delay)", o.rule),
        })
        .collect()
}

/// A note is an event on the incident only: the incident itself does not change.
pub(super) fn add_note(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    text: String,
) -> Result<AuditEvent, DeskError> {
    let text = checked("note", &text, 10_000, Lines::Multi)?;
    let _guard = desk.lock()?;
    let incident = desk.load(id)?;
    desk.recheck(actor, &incident)?;
    let event = EventDraft::new(actor, desk.now(), AuditAction::NoteAdded, text).on_incident(id);
    let mut sealed = desk.store.commit(&Changes::events(vec![event]))?;
    sealed
        .pop()
        .ok_or(DeskError::Store(StoreError::Corrupt("note event")))
}

pub(super) fn known_users(desk: &LocalDesk, _actor: &UserName) -> Result<Vec<UserName>, DeskError> {
    Ok(desk.policy.users())
}

pub(super) fn assign(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    owner: UserName,
) -> Result<Incident, DeskError> {
    // Who owns an incident decides who sees its personal data: owner or admin only.
    desk.change_incident(actor, id, |inc| {
        if inc.owner == owner {
            return Err(DeskError::Unchanged(format!(
                "{id} is already owned by {owner}"
            )));
        }
        let before = std::mem::replace(&mut inc.owner, owner.clone());
        Ok(Recorded::new(
            AuditAction::Assigned,
            format!("assigned to {owner}"),
            before,
            owner,
        ))
    })
}

/// Adds (`add`) or removes a member; members see the incident's personal data.
pub(super) fn set_member(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    user: UserName,
    add: bool,
) -> Result<Incident, DeskError> {
    desk.change_incident(actor, id, |inc| {
        let changed = if add {
            inc.members.insert(user.clone())
        } else {
            inc.members.remove(&user)
        };
        if !changed {
            let state = if add { "already" } else { "not" };
            return Err(DeskError::Unchanged(format!(
                "{user} is {state} a member of {id}"
            )));
        }
        let (action, mut detail) = if add {
            (
                AuditAction::MemberAdded,
                format!("added {user} as a member"),
            )
        } else {
            (AuditAction::MemberRemoved, format!("removed member {user}"))
        };
        if add && desk.policy.role(&user).is_none() {
            detail.push_str(&format!(
                " ({user} has no role yet, so cannot see it until an admin adds them to [access])"
            ));
        }
        Ok(Recorded::described(action, detail))
    })
}

/// Changes when the organisation became aware and when the breach was determined.
pub(super) fn set_clock(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    aware: Option<DateTime<Utc>>,
    determined: Option<DateTime<Utc>>,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = reason_text(&reason)?;
    let now = desk.now();
    for t in [aware, determined].into_iter().flatten() {
        LocalDesk::not_future(t, now)?;
    }
    if aware.is_none() && determined.is_none() {
        return Err(DeskError::Unchanged(
            "give --aware, --determined or both".into(),
        ));
    }
    desk.change_incident(actor, id, |inc| {
        let show = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let before = format!(
            "aware {}, determined {}",
            show(inc.aware_time()),
            show(inc.determined_time())
        );
        if let Some(t) = aware {
            inc.aware_at = Some(t);
        }
        if let Some(t) = determined {
            inc.determined_at = Some(t);
        }
        let after = format!(
            "aware {}, determined {}",
            show(inc.aware_time()),
            show(inc.determined_time())
        );
        Ok(Recorded::new(
            AuditAction::ClockChanged,
            reason,
            before,
            after,
        ))
    })
}
