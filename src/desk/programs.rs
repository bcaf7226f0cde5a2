//! The desk's programme actions: register, list, link, and the pause side of the kill
//! switch; the resume side is in `resume.rs`. The kill switch is a state machine whose
//! in-flight states (`pausing`, `resuming`) carry a lease naming the runner, so that:
//! - concurrent pauses run the pause hook once (the others are told a pause is running);
//! - a pause asked for while a resume hook runs is queued: it waits for that hook to end and
//!   then runs the pause hook, so the programme ends paused (pause always wins);
//! - a lease left by a process that died expires, and the next pause takes it over.
//!
//! Hooks run without the write lock; their command and output are sealed in the timeline.
//! The leases, the hook's environment and the per-incident events, which both sides use,
//! are here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DeskError;
use super::local::Caller;
use super::local::{LocalDesk, reason_text};
use crate::access::Role;
use crate::domain::{
    AuditAction, EventDraft, HookLease, Incident, IncidentId, NewProgram, Program, ProgramSlug,
    ProgramState, UserName,
};
use crate::hook::{self, HookOutcome, HookRun};
use crate::store::Changes;

/// What viewers see instead of a hook's command.
pub const HIDDEN_HOOK: &str = "(hidden)";

/// How far a lease outlives the hook's own time limit.
const LEASE_MARGIN: chrono::Duration = chrono::Duration::seconds(60);

/// What linking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkOutcome {
    Linked,
    AlreadyLinked,
}

/// What a pause did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PauseOutcome {
    /// It was paused already; nothing ran.
    AlreadyPaused { since: Option<DateTime<Utc>> },
    /// Paused; the hook, if the programme has one, succeeded.
    Paused { hook: Option<HookOutcome> },
    /// The hook failed or timed out: the programme may still be collecting.
    Failed { hook: HookOutcome },
    /// Another pause is running (or queued behind a resume); its hook runs once.
    InProgress { by: UserName, since: DateTime<Utc> },
}

pub(super) fn add(
    desk: &LocalDesk,
    actor: &UserName,
    new: NewProgram,
) -> Result<Program, DeskError> {
    for category in &new.categories {
        desk.settings.catalog.check(category)?;
    }
    if new.pause_hook.is_some() || new.resume_hook.is_some() {
        // A hook is a shell command the desk (or the daemon) runs: admins only.
        desk.guard_role(actor, Role::Admin, "program.add-hook")?;
    }
    let _guard = desk.lock()?;
    if desk.store.program(&new.slug)?.is_some() {
        return Err(DeskError::ProgramExists(new.slug));
    }
    let now = desk.now();
    let program = Program::create(new, actor, now);
    let hooks = [
        ("pause", &program.pause_hook),
        ("resume", &program.resume_hook),
    ];
    let named: Vec<String> = hooks
        .iter()
        .filter(|(_, h)| h.is_some())
        .map(|(what, _)| format!("{what} hook"))
        .collect();
    let mut detail = format!("added programme '{}' ({})", program.slug, program.name);
    if !named.is_empty() {
        detail.push_str(&format!("; with a {}", named.join(" and a ")));
    }
    let commands: Vec<String> = hooks
        .iter()
        .filter_map(|(what, h)| h.as_ref().map(|h| format!("{what} hook: {h}")))
        .collect();
    let mut event =
        EventDraft::new(actor, now, AuditAction::ProgramAdded, detail).on_program(&program.slug);
    if !commands.is_empty() {
        event.sealed = Some(desk.store.seal_text(&commands.join("\n"))?);
    }
    desk.store.commit(&Changes {
        programs: vec![program.clone()],
        events: vec![event],
        ..Changes::default()
    })?;
    Ok(program)
}

/// Every programme; hook commands are shown to responders and admins only.
pub(super) fn list(desk: &LocalDesk, actor: &UserName) -> Result<Vec<Program>, DeskError> {
    let mut programs = desk.store.programs()?;
    if desk.policy.role(actor) == Some(Role::Viewer) {
        for p in &mut programs {
            for hook in [&mut p.pause_hook, &mut p.resume_hook] {
                if hook.is_some() {
                    *hook = Some(HIDDEN_HOOK.to_owned());
                }
            }
        }
    }
    Ok(programs)
}

/// Links a programme to an incident (both records change, in one commit).
pub(super) fn link(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    slug: ProgramSlug,
    id: IncidentId,
) -> Result<LinkOutcome, DeskError> {
    let slug = &slug;
    let _guard = desk.lock()?;
    let mut incident = desk.load(id)?;
    desk.recheck(actor, &incident)?;
    let mut program = desk.load_program(slug)?;
    if incident.programs.contains(slug) && program.incidents.contains(&id) {
        return Ok(LinkOutcome::AlreadyLinked);
    }
    let now = desk.now();
    incident.programs.insert(slug.clone());
    incident.updated_at = now;
    program.incidents.insert(id);
    let event = EventDraft::new(
        actor,
        now,
        AuditAction::ProgramLinked,
        format!("linked programme '{slug}' ({})", program.state),
    )
    .on_incident(id)
    .on_program(slug);
    desk.store.commit(&Changes {
        incidents: vec![incident],
        programs: vec![program],
        events: vec![event],
        ..Changes::default()
    })?;
    Ok(LinkOutcome::Linked)
}

/// How a pause request stands against the programme's state.
enum PauseClaim {
    AlreadyPaused,
    /// Another pause runs (or is queued); nothing to do.
    InProgress(HookLease),
    /// A resume hook runs: queue behind it.
    Queue,
    /// The pause is this caller's to run.
    Run,
}

fn claim_pause(program: &Program, now: DateTime<Utc>, mine: Option<u64>) -> PauseClaim {
    let live = program.live_run(now);
    match (program.state, live) {
        (ProgramState::Paused, _) => PauseClaim::AlreadyPaused,
        (ProgramState::Pausing, Some(run)) if Some(run.token) == mine => PauseClaim::Run,
        (ProgramState::Pausing, Some(run)) => PauseClaim::InProgress(run.clone()),
        (ProgramState::Resuming, Some(_)) => match &program.pause_queued {
            Some(q) if Some(q.token) == mine => PauseClaim::Queue,
            Some(q) => PauseClaim::InProgress(q.clone()),
            None => PauseClaim::Queue,
        },
        // Active, pause-failed, or a hook whose runner died: this caller pauses it.
        _ => PauseClaim::Run,
    }
}

pub(super) fn pause(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    slug: ProgramSlug,
    id: IncidentId,
    reason: String,
) -> Result<PauseOutcome, DeskError> {
    let (slug, reason) = (&slug, reason_text(&reason)?);
    let mut guard = desk.lock()?;
    let mut queued: Option<u64> = None;
    let lease = loop {
        let mut incident = desk.load(id)?;
        desk.recheck(actor, &incident)?;
        let mut program = desk.load_program(slug)?;
        if program.state == ProgramState::Retired {
            return Err(DeskError::ProgramRetired(slug.clone()));
        }
        let now = desk.now();
        match claim_pause(&program, now, queued) {
            PauseClaim::AlreadyPaused => {
                return Ok(PauseOutcome::AlreadyPaused {
                    since: program.paused_at,
                });
            }
            PauseClaim::InProgress(lease) => {
                return Ok(PauseOutcome::InProgress {
                    by: lease.by,
                    since: lease.since,
                });
            }
            PauseClaim::Queue => {
                if queued.is_none() {
                    let lease = desk.lease(actor, Some(id), ProgramState::Resuming)?;
                    queued = Some(lease.token);
                    let resumer = program
                        .run
                        .as_ref()
                        .map_or("someone".to_owned(), |r| r.by.to_string());
                    program.pause_queued = Some(lease);
                    let detail = format!(
                        "pause of '{slug}' requested: {reason}; queued behind the resume hook {resumer} is running; it runs when that hook ends"
                    );
                    commit_program(desk, actor, &mut incident, program, id, detail)?;
                }
                let wait = desk
                    .load_program(slug)?
                    .run
                    .map(|r| (r.expires_at - now).to_std().unwrap_or_default())
                    .unwrap_or_default();
                guard = desk.wait_for_change(guard, wait + std::time::Duration::from_secs(1))?;
            }
            PauseClaim::Run => {
                if let Some(lease) = program.run.clone().filter(|r| Some(r.token) == queued) {
                    // The resume that this pause queued behind handed the run over.
                    break lease;
                }
                let taken_over = program
                    .run
                    .as_ref()
                    .filter(|_| program.state.is_in_flight());
                let lease = desk.lease(actor, Some(id), program.state)?;
                let hook_note = match &program.pause_hook {
                    Some(_) => "running the pause hook",
                    None => "no pause hook configured; recording the pause only",
                };
                let took_over = taken_over.map_or(String::new(), |old| {
                    format!(
                        "; took over from {} ({} since {}, whose run did not finish)",
                        old.by,
                        program.state,
                        old.since.format("%Y-%m-%d %H:%M:%S UTC")
                    )
                });
                let detail =
                    format!("pause of '{slug}' requested: {reason}; {hook_note}{took_over}");
                program.state = ProgramState::Pausing;
                program.run = Some(lease.clone());
                program.pause_queued = None;
                commit_program(desk, actor, &mut incident, program, id, detail)?;
                break lease;
            }
        }
    };
    let command = desk.load_program(slug)?.pause_hook;
    drop(guard);
    // The hook runs without the write lock: it may take up to its time limit.
    let outcome = command
        .as_deref()
        .map(|c| hook::run(&desk.hook_run(c, slug, Some(id), actor)));
    let recorded = record_pause(
        desk,
        actor,
        slug,
        id,
        &lease,
        command.as_deref(),
        outcome.as_ref(),
    );
    desk.program_changed.notify_all();
    recorded?;
    let failed = outcome.as_ref().is_some_and(|o| !o.succeeded());
    Ok(match outcome {
        Some(hook) if failed => PauseOutcome::Failed { hook },
        hook => PauseOutcome::Paused { hook },
    })
}

/// Links the programme to the incident if needed and records a kill-switch step.
fn commit_program(
    desk: &LocalDesk,
    actor: &UserName,
    incident: &mut Incident,
    mut program: Program,
    id: IncidentId,
    detail: String,
) -> Result<(), DeskError> {
    let now = desk.now();
    let slug = program.slug.clone();
    let mut events = Vec::new();
    let mut incidents = Vec::new();
    if !program.incidents.contains(&id) {
        program.incidents.insert(id);
        incident.programs.insert(slug.clone());
        incidents.push(incident.clone());
        events.push(
            EventDraft::new(
                actor,
                now,
                AuditAction::ProgramLinked,
                format!("linked programme '{slug}'"),
            )
            .on_incident(id)
            .on_program(&slug),
        );
    }
    events.push(
        EventDraft::new(actor, now, AuditAction::PauseRequested, detail)
            .on_incident(id)
            .on_program(&slug),
    );
    desk.store.commit(&Changes {
        incidents,
        programs: vec![program],
        events,
        ..Changes::default()
    })?;
    Ok(())
}

/// Records how a pause hook ended; the state changes only while the lease is still ours.
fn record_pause(
    desk: &LocalDesk,
    actor: &UserName,
    slug: &ProgramSlug,
    id: IncidentId,
    lease: &HookLease,
    command: Option<&str>,
    outcome: Option<&HookOutcome>,
) -> Result<(), DeskError> {
    let _guard = desk.lock()?;
    let mut program = desk.load_program(slug)?;
    let now = desk.now();
    let failed = outcome.as_ref().is_some_and(|o| !o.succeeded());
    let (action, mut detail) = match outcome {
        Some(o) if failed => (
            AuditAction::PauseFailed,
            format!("PAUSE FAILED for '{slug}': pause hook {}", o.summary()),
        ),
        Some(o) => (
            AuditAction::ProgramPaused,
            format!("paused '{slug}': pause hook {}", o.summary()),
        ),
        None => (
            AuditAction::ProgramPaused,
            format!("paused '{slug}' (no hook; recorded only)"),
        ),
    };
    let before = program.state;
    let ours = program.run.as_ref().is_some_and(|r| r.token == lease.token);
    if ours {
        program.state = if failed {
            ProgramState::PauseFailed
        } else {
            ProgramState::Paused
        };
        program.run = None;
        if !failed {
            program.paused_at = Some(now);
        }
    } else {
        detail.push_str("; another run took this pause over meanwhile, so its state stands");
    }
    let mut event = EventDraft::new(actor, now, action, detail)
        .on_incident(id)
        .on_program(slug)
        .changed(before, program.state);
    event.sealed = sealed_run(desk, command, outcome)?;
    desk.store.commit(&Changes {
        programs: vec![program],
        events: vec![event],
        ..Changes::default()
    })?;
    Ok(())
}

/// The sealed record of a hook run: its command and output.
pub(super) fn sealed_run(
    desk: &LocalDesk,
    command: Option<&str>,
    outcome: Option<&HookOutcome>,
) -> Result<Option<String>, DeskError> {
    let (Some(command), Some(outcome)) = (command, outcome) else {
        return Ok(None);
    };
    let output = if outcome.output.trim().is_empty() {
        "(no output)".to_owned()
    } else {
        outcome.output.trim_end().to_owned()
    };
    let text = format!("command: {command}\noutput:\n{output}");
    Ok(Some(desk.store.seal_text(&text)?))
}

impl LocalDesk {
    /// How long a hook run's lease holds: the hook's time limit and a margin.
    pub(super) fn lease_length(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.config.hooks.timeout())
            .unwrap_or(chrono::Duration::hours(1))
            + LEASE_MARGIN
    }

    /// A new lease for a hook run by `by`, from state `from`.
    pub(super) fn lease(
        &self,
        by: &UserName,
        incident: Option<IncidentId>,
        from: ProgramState,
    ) -> Result<HookLease, DeskError> {
        let mut token = [0u8; 8];
        getrandom::fill(&mut token)
            .map_err(|e| DeskError::Internal(format!("no randomness for a lease token: {e}")))?;
        let now = self.now();
        Ok(HookLease {
            token: u64::from_le_bytes(token),
            by: by.clone(),
            incident,
            since: now,
            expires_at: now + self.lease_length(),
            from,
        })
    }

    /// What a hook runs with: the minimal environment of [`hook::environment`].
    pub(super) fn hook_run(
        &self,
        command: &str,
        slug: &ProgramSlug,
        id: Option<IncidentId>,
        actor: &UserName,
    ) -> HookRun {
        let config = &self.settings.config;
        let own = vec![
            ("BREACHDESK_PROGRAM".into(), slug.to_string()),
            (
                "BREACHDESK_INCIDENT".into(),
                id.map(|i| i.to_string()).unwrap_or_default(),
            ),
            ("BREACHDESK_ACTOR".into(), actor.to_string()),
        ];
        let secrets: Vec<&str> = config
            .smtp
            .password_env
            .iter()
            .map(String::as_str)
            .collect();
        HookRun {
            command: command.to_owned(),
            env: hook::environment(own, &config.hooks.pass_env, &secrets),
            timeout: config.hooks.timeout(),
        }
    }

    /// One event per linked incident, so each incident's timeline shows what happened to
    /// its programme; one unlinked event when the programme has no incidents.
    pub(super) fn program_events(
        &self,
        actor: &UserName,
        program: &Program,
        action: AuditAction,
        detail: &str,
        change: Option<(ProgramState, ProgramState)>,
    ) -> Vec<EventDraft> {
        let now = self.now();
        let base = EventDraft::new(actor, now, action, detail).on_program(&program.slug);
        let base = match change {
            Some((before, after)) => base.changed(before, after),
            None => base,
        };
        if program.incidents.is_empty() {
            return vec![base];
        }
        program
            .incidents
            .iter()
            .map(|id| base.clone().on_incident(*id))
            .collect()
    }
}
