//! The resume side of the kill switch: who may resume (the right to every blocking
//! incident; forcing is for admins), the resume hook's run, and handing the run to a pause
//! queued behind it, in the same commit that records the resume's outcome, so that a pause
//! always wins. The pause side, the leases and the hook's environment are in `programs.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DeskError;
use super::local::Caller;
use super::local::{LocalDesk, reason_text};
use super::programs::sealed_run;
use crate::access::{Need, Role};
use crate::domain::{
    AuditAction, EventDraft, HookLease, Incident, IncidentId, Program, ProgramSlug, ProgramState,
    UserName,
};
use crate::hook::{self, HookOutcome};
use crate::store::Changes;

/// What a resume did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResumeOutcome {
    AlreadyActive,
    /// Resumed; `forced_over` lists the incidents that would have blocked it.
    Resumed {
        hook: Option<HookOutcome>,
        forced_over: Vec<IncidentId>,
    },
    /// The resume hook failed: the programme stays paused.
    HookFailed {
        hook: HookOutcome,
    },
    /// Another resume is running.
    InProgress {
        by: UserName,
        since: DateTime<Utc>,
    },
    /// The resume hook ran, but a pause was asked for meanwhile (by `by`), and a pause
    /// wins: the programme is paused again.
    PausedAgain {
        hook: Option<HookOutcome>,
        by: UserName,
    },
}

/// Resumes unless a linked SEV 0-2 incident is unsettled (or `force`, admins only); runs
/// the resume hook without the write lock, then records its outcome.
pub(super) fn resume(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    slug: ProgramSlug,
    reason: String,
    force: bool,
) -> Result<ResumeOutcome, DeskError> {
    let (slug, reason) = (&slug, reason_text(&reason)?);
    let (lease, command, forced_over) = {
        let _guard = desk.lock()?;
        let mut program = desk.load_program(slug)?;
        let blocking = desk.guard_resume(actor, &program, force)?;
        let now = desk.now();
        match (program.state, program.live_run(now)) {
            (ProgramState::Active, _) => return Ok(ResumeOutcome::AlreadyActive),
            (ProgramState::Retired, _) => return Err(DeskError::ProgramRetired(slug.clone())),
            (ProgramState::Resuming, Some(run)) => {
                return Ok(ResumeOutcome::InProgress {
                    by: run.by.clone(),
                    since: run.since,
                });
            }
            (ProgramState::Pausing, Some(run)) => {
                return Err(DeskError::PauseRunning {
                    slug: slug.clone(),
                    by: run.by.clone(),
                    since: run.since,
                });
            }
            _ => {}
        }
        let names: Vec<String> = blocking
            .iter()
            .map(|i| format!("{} ({}, {})", i.id, i.severity, i.status))
            .collect();
        if !blocking.is_empty() && !force {
            let detail = format!(
                "resume of '{slug}' refused: {reason}; blocked by {}",
                names.join(", ")
            );
            desk.store.commit(&Changes::events(desk.program_events(
                actor,
                &program,
                AuditAction::ResumeRefused,
                &detail,
                None,
            )))?;
            return Err(DeskError::ResumeRefused {
                slug: slug.clone(),
                blocking: names.join(", "),
            });
        }
        let forced_over: Vec<IncidentId> = blocking.iter().map(|i| i.id).collect();
        let lease = desk.lease(actor, None, program.state)?;
        let before = program.state;
        program.state = ProgramState::Resuming;
        program.run = Some(lease.clone());
        let hook_note = if program.resume_hook.is_some() {
            "running the resume hook"
        } else {
            "no resume hook"
        };
        let detail = format!("resume of '{slug}' requested: {reason}; {hook_note}");
        let events = desk.program_events(
            actor,
            &program,
            AuditAction::ResumeRequested,
            &detail,
            Some((before, program.state)),
        );
        let command = program.resume_hook.clone();
        desk.store.commit(&Changes {
            programs: vec![program],
            events,
            ..Changes::default()
        })?;
        (lease, command, forced_over)
    };
    let outcome = command
        .as_deref()
        .map(|c| hook::run(&desk.hook_run(c, slug, None, actor)));
    let recorded = record_resume(
        desk,
        actor,
        slug,
        &reason,
        &lease,
        &forced_over,
        command.as_deref(),
        outcome.as_ref(),
    );
    desk.program_changed.notify_all();
    let queued = recorded?;
    let failed = outcome.as_ref().is_some_and(|o| !o.succeeded());
    Ok(match (outcome, queued) {
        (hook, Some(by)) => ResumeOutcome::PausedAgain { hook, by },
        (Some(hook), None) if failed => ResumeOutcome::HookFailed { hook },
        (hook, None) => ResumeOutcome::Resumed { hook, forced_over },
    })
}

/// Records how a resume hook ended. When a pause was queued meanwhile, the run passes to it
/// (the programme goes to `pausing`, never `active`), and its requester is returned.
#[allow(clippy::too_many_arguments)]
fn record_resume(
    desk: &LocalDesk,
    actor: &UserName,
    slug: &ProgramSlug,
    reason: &str,
    lease: &HookLease,
    forced_over: &[IncidentId],
    command: Option<&str>,
    outcome: Option<&HookOutcome>,
) -> Result<Option<UserName>, DeskError> {
    let _guard = desk.lock()?;
    let mut program = desk.load_program(slug)?;
    let now = desk.now();
    let failed = outcome.as_ref().is_some_and(|o| !o.succeeded());
    let forced = if forced_over.is_empty() {
        String::new()
    } else {
        let ids: Vec<String> = forced_over.iter().map(ToString::to_string).collect();
        format!(" FORCED over {}", ids.join(", "))
    };
    let hook_text = outcome.as_ref().map_or("no resume hook".to_owned(), |o| {
        format!("resume hook {}", o.summary())
    });
    let before = program.state;
    let ours = program.run.as_ref().is_some_and(|r| r.token == lease.token);
    let mut handed_to = None;
    let (action, mut detail) = if failed {
        (
            AuditAction::ResumeFailed,
            format!("RESUME FAILED for '{slug}'{forced}: {reason}; {hook_text}"),
        )
    } else {
        (
            AuditAction::ProgramResumed,
            format!("resumed '{slug}'{forced}: {reason}; {hook_text}"),
        )
    };
    if !ours {
        detail.push_str("; a pause took this run over meanwhile, so its state stands");
    } else if let Some(mut queued) = program.pause_queued.take() {
        detail.push_str(&format!(
            "; a pause requested by {} meanwhile runs now",
            queued.by
        ));
        queued.expires_at = now + desk.lease_length();
        handed_to = Some(queued.by.clone());
        program.state = ProgramState::Pausing;
        program.run = Some(queued);
    } else {
        program.run = None;
        if failed {
            program.state = lease.from;
        } else {
            program.state = ProgramState::Active;
            program.paused_at = None;
        }
    }
    let mut events = desk.program_events(
        actor,
        &program,
        action,
        &detail,
        Some((before, program.state)),
    );
    let sealed = sealed_run(desk, command, outcome)?;
    for event in &mut events {
        event.sealed = sealed.clone();
    }
    desk.store.commit(&Changes {
        programs: vec![program],
        events,
        ..Changes::default()
    })?;
    Ok(handed_to)
}

impl LocalDesk {
    /// Who may resume: an admin, or a responder with the right to change every unresolved
    /// SEV 0-2 incident linked to the programme (so linking it to an incident of one's own
    /// changes nothing); forcing is for admins only. Returns the blocking incidents.
    fn guard_resume(
        &self,
        actor: &Caller<'_>,
        program: &Program,
        force: bool,
    ) -> Result<Vec<Incident>, DeskError> {
        let role = self.recheck_role(actor)?;
        let blocking = self.blocking_incidents(program)?;
        if role == Role::Admin {
            return Ok(blocking);
        }
        let lacking: Vec<String> = blocking
            .iter()
            .filter(|i| self.policy.check(actor, i, Need::Change).is_err())
            .map(|i| format!("{} ({}, {})", i.id, i.severity, i.status))
            .collect();
        let why = if !lacking.is_empty() {
            Some(format!(
                "resuming '{}' needs the right to every unresolved SEV 0-2 incident it is linked to, and you are not a member of {}",
                program.slug,
                lacking.join(", ")
            ))
        } else if force {
            Some(format!(
                "only an admin can force a resume; '{}' is blocked by {}",
                program.slug,
                blocking
                    .iter()
                    .map(|i| i.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if blocking.is_empty() && !self.involved_in_any(actor, program)? {
            Some(format!(
                "only admins and members of an incident linked to '{}' can resume it",
                program.slug
            ))
        } else {
            None
        };
        match why {
            Some(why) => Err(self.refuse_resume(actor, program, why)),
            None => Ok(blocking),
        }
    }

    /// Whether `actor` may change one of the programme's incidents (or it has none).
    fn involved_in_any(&self, actor: &UserName, program: &Program) -> Result<bool, DeskError> {
        if program.incidents.is_empty() {
            return Ok(true);
        }
        for id in &program.incidents {
            if let Some(incident) = self.store.incident(*id)?
                && self.policy.check(actor, &incident, Need::Change).is_ok()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Records a refused resume on every linked incident and returns the error.
    fn refuse_resume(&self, actor: &UserName, program: &Program, why: String) -> DeskError {
        let detail = format!("refused program.resume: {why}");
        let events: Vec<EventDraft> = self
            .program_events(actor, program, AuditAction::AccessDenied, &detail, None)
            .into_iter()
            .map(|e| e.accessed("program.resume", 0))
            .collect();
        match self.store.commit(&Changes::events(events)) {
            Ok(_) => DeskError::ResumeDenied {
                slug: program.slug.clone(),
                why,
            },
            Err(e) => e.into(),
        }
    }

    /// Incidents linked to `program` that keep it paused: SEV 0-2 and not settled.
    fn blocking_incidents(&self, program: &Program) -> Result<Vec<Incident>, DeskError> {
        let mut blocking = Vec::new();
        for id in &program.incidents {
            if let Some(inc) = self.store.incident(*id)?
                && inc.severity.is_critical()
                && !inc.status.is_settled()
            {
                blocking.push(inc);
            }
        }
        Ok(blocking)
    }
}
