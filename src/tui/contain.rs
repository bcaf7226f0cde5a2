//! The contain flow (`K` on an incident): one checklist of what containing it means now,
//! each step ticked by default and untickable, run in the background in order after one
//! confirmation, with each step's progress on the status line and what each did at the end.
//!
//! The steps, as far as they apply: pause every linked programme that may still be
//! collecting (active, or its pause hook failed); queue the first notice to everyone not yet
//! told (the law's letter check applies, as on the command line); move the status on to
//! `contained`; note the time in the timeline; and start sending the queued letters.

use crate::desk::{Desk, PauseOutcome, PeopleFilter, SendOptions, SendProgress};
use crate::domain::{Incident, IncidentId, Program, ProgramSlug, ProgramState, Status};
use crate::notify::TemplateName;
use crate::tui::form::{Choice, Field, FieldName, Form, Purpose};
use crate::tui::strings;

/// One step of the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Pause(ProgramSlug),
    Queue,
    Status,
    Note,
    Send,
}

impl Step {
    /// The value its tick box submits.
    fn value(&self) -> String {
        match self {
            Step::Pause(slug) => format!("pause:{slug}"),
            Step::Queue => "queue".into(),
            Step::Status => "status".into(),
            Step::Note => "note".into(),
            Step::Send => "send".into(),
        }
    }

    /// Reads a ticked value back.
    pub fn parse(value: &str) -> Option<Step> {
        Some(match value {
            "queue" => Step::Queue,
            "status" => Step::Status,
            "note" => Step::Note,
            "send" => Step::Send,
            other => Step::Pause(other.strip_prefix("pause:")?.parse().ok()?),
        })
    }
}

/// The checklist for `inc`, given every programme.
pub fn form(inc: &Incident, programs: &[Program]) -> Result<Form, String> {
    let mut options = Vec::new();
    for p in programs.iter().filter(|p| inc.programs.contains(&p.slug)) {
        if matches!(p.state, ProgramState::Active | ProgramState::PauseFailed) {
            let hook = p.pause_hook.as_deref().unwrap_or("no hook: only recorded");
            options.push(Choice::new(
                Step::Pause(p.slug.clone()).value(),
                format!("pause {} ({hook})", p.slug),
            ));
        }
    }
    let pending = inc.people.saturating_sub(inc.notified);
    if pending > 0 {
        options.push(Choice::new(
            Step::Queue.value(),
            format!("queue the first notice to the {pending} people not yet told"),
        ));
    }
    if inc.status.can_move_to(Status::Contained) {
        options.push(Choice::new(
            Step::Status.value(),
            format!("move {} from {} to contained", inc.id, inc.status),
        ));
    }
    options.push(Choice::new(
        Step::Note.value(),
        "note the time of containment",
    ));
    if pending > 0 {
        options.push(Choice::new(Step::Send.value(), "send the queued letters"));
    }
    let all: Vec<String> = options.iter().map(|o| o.value.clone()).collect();
    let ticked: Vec<&str> = all.iter().map(String::as_str).collect();
    Ok(Form::new(
        Purpose::Contain(inc.id),
        strings::FORM_CONTAIN,
        vec![
            Field::multi(FieldName::Steps, options, &ticked),
            Field::text(FieldName::Reason, "contain the exposure"),
        ],
    )
    .with_notes(vec![format!(
        "Containing {} now: untick what should not happen (←→ move, Space). Enter runs the rest in the background, in this order.",
        inc.id
    )]))
}

/// Runs `steps` in order; `say` reports each as it starts, `progress` the send. Returns a
/// line per step saying what it did. A failed step does not stop the others: a pause hook
/// that failed must not keep people from being told, nor a refused letter the status.
pub fn run(
    desk: &dyn Desk,
    id: IncidentId,
    steps: &[Step],
    reason: &str,
    say: &mut dyn FnMut(String),
    progress: &mut dyn FnMut(&SendProgress),
) -> Vec<String> {
    let mut done = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let of = format!("({}/{})", n + 1, steps.len());
        let outcome = match step {
            Step::Pause(slug) => {
                say(format!("contain {of}: pausing {slug}"));
                match desk.pause_program(slug.clone(), id, reason.to_owned()) {
                    Ok(PauseOutcome::Failed { hook }) => Err(format!(
                        "the pause hook of {slug} failed ({}); it may still be collecting",
                        hook.summary()
                    )),
                    Ok(PauseOutcome::AlreadyPaused { .. }) => {
                        Ok(format!("{slug} was paused already"))
                    }
                    Ok(PauseOutcome::InProgress { by, .. }) => {
                        Ok(format!("{by} is pausing {slug}; its hook runs once"))
                    }
                    Ok(_) => Ok(format!("paused {slug}")),
                    Err(e) => Err(e.to_string()),
                }
            }
            Step::Queue => {
                say(format!("contain {of}: queuing the first notice"));
                let filter = PeopleFilter {
                    pending: true,
                    ..PeopleFilter::default()
                };
                desk.queue_notifications(id, TemplateName::Initial, filter, Vec::new(), None)
                    .map(|r| format!("queued {} first notices", r.queued))
                    .map_err(|e| e.to_string())
            }
            Step::Status => {
                say(format!("contain {of}: moving the status"));
                desk.set_status(id, Status::Contained, Some(reason.to_owned()), false)
                    .map(|i| format!("{} is {}", i.id, i.status))
                    .map_err(|e| e.to_string())
            }
            Step::Note => {
                say(format!("contain {of}: noting the time"));
                desk.add_note(id, format!("Contained (contain flow): {reason}"))
                    .map(|e| {
                        format!(
                            "noted in the timeline: contained at {}",
                            e.draft.at.format("%Y-%m-%d %H:%M UTC")
                        )
                    })
                    .map_err(|e| e.to_string())
            }
            Step::Send => {
                say(format!("contain {of}: sending the letters"));
                desk.send_notifications(Some(id), &SendOptions::default(), progress)
                    .map(|p| format!("sent {} letters, {} failed", p.sent, p.failed))
                    .map_err(|e| e.to_string())
            }
        };
        done.push(match outcome {
            Ok(line) => format!("✓ {line}"),
            Err(e) => format!("✗ {}: {e}", step.value()),
        });
    }
    done
}
