//! Changing a registered programme (its name, owner, categories and hooks) and unlinking it
//! from an incident. Both guard the kill switch: a hook is a shell command, so changing one
//! needs an admin, and no programme changes while its hook runs; unlinking a programme that
//! a critical incident still holds paused would let it resume, so that needs an admin too.

use super::DeskError;
use super::local::Caller;
use super::local::{LocalDesk, reason_text};
use crate::access::Role;
use crate::domain::{
    AuditAction, EventDraft, IncidentId, NewProgram, Program, ProgramSlug, ProgramState, UserName,
};
use crate::store::Changes;

/// Replaces the programme's name, owner, categories and hooks with `new`'s (the slug names
/// it). Only the responder who registered it or an admin changes a programme; changing a
/// hook needs an admin; the commands go into the timeline sealed.
pub(super) fn edit(
    desk: &LocalDesk,
    actor: &UserName,
    new: NewProgram,
) -> Result<Program, DeskError> {
    for category in &new.categories {
        desk.settings.catalog.check(category)?;
    }
    let _guard = desk.lock()?;
    let mut program = desk.load_program(&new.slug)?;
    if let Some(run) = &program.run {
        return Err(DeskError::PauseRunning {
            slug: program.slug.clone(),
            by: run.by.clone(),
            since: run.since,
        });
    }
    let registrant = program.registered_by.as_ref() == Some(actor);
    if !registrant && desk.policy.check_role(actor, Role::Admin).is_err() {
        return Err(desk.refuse(
            actor,
            None,
            "program.edit",
            crate::access::Denial::NotRegistrant,
        ));
    }
    let hooks_change =
        program.pause_hook != new.pause_hook || program.resume_hook != new.resume_hook;
    if hooks_change {
        desk.guard_role(actor, Role::Admin, "program.edit-hook")?;
    }
    let owner = new.owner.clone().unwrap_or_else(|| program.owner.clone());
    let mut changed = Vec::new();
    if program.name != new.name {
        changed.push(format!("name '{}' -> '{}'", program.name, new.name));
    }
    if program.owner != owner {
        changed.push(format!("owner {} -> {owner}", program.owner));
    }
    if program.categories != new.categories {
        let list = |c: &std::collections::BTreeSet<crate::domain::CategoryName>| {
            c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
        };
        changed.push(format!(
            "categories [{}] -> [{}]",
            list(&program.categories),
            list(&new.categories)
        ));
    }
    for (what, old, new) in [
        ("pause hook", &program.pause_hook, &new.pause_hook),
        ("resume hook", &program.resume_hook, &new.resume_hook),
    ] {
        if old != new {
            changed.push(match new {
                Some(_) if old.is_some() => format!("{what} changed"),
                Some(_) => format!("{what} added"),
                None => format!("{what} removed"),
            });
        }
    }
    if changed.is_empty() {
        return Err(DeskError::Unchanged(format!(
            "'{}' already has these settings",
            program.slug
        )));
    }
    let now = desk.now();
    let mut event = EventDraft::new(
        actor,
        now,
        AuditAction::ProgramEdited,
        format!(
            "edited programme '{}': {}",
            program.slug,
            changed.join("; ")
        ),
    )
    .on_program(&program.slug);
    if hooks_change {
        let commands: Vec<String> = [
            ("pause hook", &new.pause_hook),
            ("resume hook", &new.resume_hook),
        ]
        .iter()
        .map(|(what, h)| format!("{what}: {}", h.as_deref().unwrap_or("(none)")))
        .collect();
        event.sealed = Some(desk.store.seal_text(&commands.join("\n"))?);
    }
    program.name = new.name;
    program.owner = owner;
    program.categories = new.categories;
    program.pause_hook = new.pause_hook;
    program.resume_hook = new.resume_hook;
    desk.store.commit(&Changes {
        programs: vec![program.clone()],
        events: vec![event],
        ..Changes::default()
    })?;
    Ok(program)
}

/// Unlinks programme `slug` from incident `id`, with the reason. While the incident is
/// critical (SEV 0-2) and not settled it holds a paused programme from resuming, so lifting
/// that hold needs an admin.
pub(super) fn unlink(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    slug: ProgramSlug,
    id: IncidentId,
    reason: String,
) -> Result<Program, DeskError> {
    let reason = reason_text(&reason)?;
    if reason.trim().is_empty() {
        return Err(DeskError::Invalid(crate::domain::DomainError::Invalid(
            "say why the programme is unlinked".into(),
        )));
    }
    let _guard = desk.lock()?;
    let mut incident = desk.load(id)?;
    desk.recheck(actor, &incident)?;
    let mut program = desk.load_program(&slug)?;
    if !incident.programs.contains(&slug) && !program.incidents.contains(&id) {
        return Err(DeskError::Unchanged(format!(
            "'{slug}' is not linked to {id}"
        )));
    }
    let holds = incident.severity.is_critical()
        && !incident.status.is_settled()
        && program.state != ProgramState::Active;
    if holds {
        desk.guard_role(actor, Role::Admin, "program.unlink-held")?;
    }
    let now = desk.now();
    incident.programs.remove(&slug);
    incident.updated_at = now;
    program.incidents.remove(&id);
    let held = if holds {
        " (it no longer holds the programme from resuming)"
    } else {
        ""
    };
    let event = EventDraft::new(
        actor,
        now,
        AuditAction::ProgramUnlinked,
        format!(
            "unlinked programme '{slug}' ({}){held}: {reason}",
            program.state
        ),
    )
    .on_incident(id)
    .on_program(&slug);
    desk.store.commit(&Changes {
        incidents: vec![incident],
        programs: vec![program.clone()],
        events: vec![event],
        ..Changes::default()
    })?;
    Ok(program)
}
