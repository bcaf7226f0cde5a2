//! `breachdesk program ...`: register, link, pause and resume programmes.

use std::process::ExitCode;

use super::args::ProgramCommand;
use super::output::{self, ProgramView, safe, short_time};
use super::{CliError, Context};
use crate::desk::{LinkOutcome, PauseOutcome, ResumeOutcome};
use crate::domain::{NewProgram, UserName};
use crate::hook::HookOutcome;

pub fn run(ctx: &mut Context<'_>, cmd: ProgramCommand) -> Result<ExitCode, CliError> {
    match cmd {
        ProgramCommand::Add {
            slug,
            name,
            owner,
            categories,
            pause_hook,
            resume_hook,
        } => {
            let catalog = ctx.desk.catalog();
            let mut new =
                NewProgram::new(slug, &name, pause_hook.as_deref(), resume_hook.as_deref())?;
            new.owner = owner.as_deref().map(UserName::parse).transpose()?;
            for c in &categories {
                new.categories.insert(catalog.parse(c)?);
            }
            let program = ctx.desk.add_program(new)?;
            writeln!(
                ctx.out,
                "added programme '{}' ({})",
                program.slug, program.state
            )?;
            if program.pause_hook.is_none() {
                writeln!(
                    ctx.err,
                    "note: '{}' has no pause hook; pausing it will only be recorded",
                    program.slug
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ProgramCommand::Unlink { slug, id, reason } => {
            ctx.desk.unlink_program(slug.clone(), id, reason)?;
            writeln!(ctx.out, "'{slug}' unlinked from {id}")?;
            Ok(ExitCode::SUCCESS)
        }
        ProgramCommand::Edit {
            slug,
            name,
            owner,
            categories,
            pause_hook,
            no_pause_hook,
            resume_hook,
            no_resume_hook,
        } => {
            let current = ctx
                .desk
                .programs()?
                .into_iter()
                .find(|p| p.slug == slug)
                .ok_or_else(|| crate::desk::DeskError::NoProgram(slug.clone()))?;
            let keep = |given: Option<String>, remove: bool, now: &Option<String>| {
                if remove {
                    None
                } else {
                    given.or_else(|| now.clone())
                }
            };
            let pause = keep(pause_hook, no_pause_hook, &current.pause_hook);
            let resume = keep(resume_hook, no_resume_hook, &current.resume_hook);
            let mut new = NewProgram::new(
                slug,
                name.as_deref().unwrap_or(&current.name),
                pause.as_deref(),
                resume.as_deref(),
            )?;
            new.owner = Some(match owner {
                Some(o) => UserName::parse(&o)?,
                None => current.owner.clone(),
            });
            new.categories = if categories.is_empty() {
                current.categories.clone()
            } else {
                let catalog = ctx.desk.catalog();
                categories
                    .iter()
                    .map(|c| catalog.parse(c))
                    .collect::<Result<_, _>>()?
            };
            let program = ctx.desk.edit_program(new)?;
            writeln!(ctx.out, "edited programme '{}'", program.slug)?;
            Ok(ExitCode::SUCCESS)
        }
        ProgramCommand::List { json } => {
            let programs = ctx.desk.programs()?;
            if json {
                let views: Vec<_> = programs.iter().map(ProgramView::new).collect();
                output::json(ctx.out, &views)?;
                return Ok(ExitCode::SUCCESS);
            }
            if programs.is_empty() {
                writeln!(ctx.out, "no programmes")?;
            }
            for p in &programs {
                let incidents: Vec<String> = p.incidents.iter().map(ToString::to_string).collect();
                let since = p
                    .paused_at
                    .map(|t| format!(" since {}", short_time(t)))
                    .unwrap_or_default();
                writeln!(
                    ctx.out,
                    "{:<24} {:<13} {}{}  incidents: {}",
                    p.slug.as_str(),
                    p.state.as_str(),
                    safe(&p.name),
                    since,
                    if incidents.is_empty() {
                        "-".into()
                    } else {
                        incidents.join(", ")
                    }
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ProgramCommand::Link { slug, id } => {
            let msg = match ctx.desk.link_program(slug.clone(), id)? {
                LinkOutcome::Linked => "linked",
                LinkOutcome::AlreadyLinked => "already linked",
            };
            writeln!(ctx.out, "'{slug}' {msg} to {id}")?;
            Ok(ExitCode::SUCCESS)
        }
        ProgramCommand::Pause {
            slug,
            incident,
            reason,
        } => match ctx.desk.pause_program(slug.clone(), incident, reason)? {
            PauseOutcome::AlreadyPaused { since } => {
                let since = since
                    .map(|t| format!(" since {} UTC", short_time(t)))
                    .unwrap_or_default();
                writeln!(ctx.out, "'{slug}' is already paused{since}; nothing ran")?;
                Ok(ExitCode::SUCCESS)
            }
            PauseOutcome::Paused { hook } => {
                writeln!(ctx.out, "'{slug}' paused for {incident}")?;
                match hook {
                    Some(h) => print_hook(ctx, "pause hook", &h)?,
                    None => writeln!(
                        ctx.err,
                        "warning: '{slug}' has no pause hook; the pause is recorded but nothing was stopped. Make sure it is actually stopped."
                    )?,
                }
                Ok(ExitCode::SUCCESS)
            }
            PauseOutcome::InProgress { by, since } => {
                writeln!(
                    ctx.out,
                    "a pause of '{slug}' by {by} is in progress since {} UTC; its hook runs once, nothing more ran",
                    short_time(since)
                )?;
                Ok(ExitCode::SUCCESS)
            }
            PauseOutcome::Failed { hook } => {
                writeln!(
                    ctx.err,
                    "PAUSE FAILED: '{slug}' may still be collecting data. It is marked pause-failed; fix the hook or stop it by hand, then pause again."
                )?;
                print_hook(ctx, "pause hook", &hook)?;
                Ok(ExitCode::FAILURE)
            }
        },
        ProgramCommand::Resume {
            slug,
            reason,
            force,
        } => match ctx.desk.resume_program(slug.clone(), reason, force)? {
            ResumeOutcome::AlreadyActive => {
                writeln!(ctx.out, "'{slug}' is already active; nothing ran")?;
                Ok(ExitCode::SUCCESS)
            }
            ResumeOutcome::Resumed { hook, forced_over } => {
                writeln!(ctx.out, "'{slug}' resumed")?;
                if !forced_over.is_empty() {
                    let ids: Vec<String> = forced_over.iter().map(ToString::to_string).collect();
                    writeln!(
                        ctx.err,
                        "warning: forced over unresolved {} (recorded)",
                        ids.join(", ")
                    )?;
                }
                if let Some(h) = hook {
                    print_hook(ctx, "resume hook", &h)?;
                }
                Ok(ExitCode::SUCCESS)
            }
            ResumeOutcome::InProgress { by, since } => {
                writeln!(
                    ctx.out,
                    "a resume of '{slug}' by {by} is in progress since {} UTC; nothing more ran",
                    short_time(since)
                )?;
                Ok(ExitCode::SUCCESS)
            }
            ResumeOutcome::PausedAgain { hook, by } => {
                writeln!(
                    ctx.err,
                    "NOT RESUMED: {by} paused '{slug}' while its resume hook ran, and a pause wins; it is paused again."
                )?;
                if let Some(h) = hook {
                    print_hook(ctx, "resume hook", &h)?;
                }
                Ok(ExitCode::FAILURE)
            }
            ResumeOutcome::HookFailed { hook } => {
                writeln!(ctx.err, "RESUME FAILED: '{slug}' stays paused.")?;
                print_hook(ctx, "resume hook", &hook)?;
                Ok(ExitCode::FAILURE)
            }
        },
    }
}

fn print_hook(ctx: &mut Context<'_>, what: &str, hook: &HookOutcome) -> Result<(), CliError> {
    writeln!(ctx.err, "{what} {}", safe(&hook.to_string()))?;
    Ok(())
}
