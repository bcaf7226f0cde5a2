//! The changes the TUI asks of the desk, as typed values. A submitted form becomes one
//! [`Request`]; the worker carries it out off the UI thread and answers with an [`Outcome`].
//! What a request looks like on screen is not this file's business.

use crate::desk::{Desk, DeskError};
use crate::domain::{
    EmployeeId, HarmInputs, Incident, IncidentId, NewIncident, ProgramSlug, SeriousHarm, Severity,
    Status, UserName,
};
use crate::notify::TemplateName;

/// One change (or preview) asked of the desk.
#[derive(Debug, Clone)]
pub enum Request {
    OpenIncident(NewIncident),
    SetSeverity {
        id: IncidentId,
        severity: Severity,
        reason: String,
    },
    SetStatus {
        id: IncidentId,
        status: Status,
        reason: Option<String>,
    },
    AddNote {
        id: IncidentId,
        text: String,
    },
    Assign {
        id: IncidentId,
        owner: UserName,
    },
    Link {
        id: IncidentId,
        slug: ProgramSlug,
    },
    AssessHarm {
        id: IncidentId,
        inputs: HarmInputs,
        reason: String,
    },
    SeriousHarm {
        id: IncidentId,
        test: SeriousHarm,
        reason: String,
    },
    Preview {
        id: IncidentId,
        template: TemplateName,
        person: Option<EmployeeId>,
    },
    RetryFailed {
        id: IncidentId,
    },
}

/// What a request did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A change was committed; the message says what it was.
    Changed {
        message: String,
        /// The incident to select on the board, for a new one.
        select: Option<IncidentId>,
    },
    /// The rendered letter, one line per entry.
    Preview {
        template: TemplateName,
        lines: Vec<String>,
    },
}

impl Request {
    /// What the status line says while the request runs.
    pub fn label(&self) -> String {
        match self {
            Request::OpenIncident(_) => "opening the incident".to_owned(),
            Request::SetSeverity { id, .. } => format!("changing the severity of {id}"),
            Request::SetStatus { id, .. } => format!("moving the status of {id}"),
            Request::AddNote { id, .. } => format!("adding a note to {id}"),
            Request::Assign { id, .. } => format!("assigning {id}"),
            Request::Link { id, slug } => format!("linking {slug} to {id}"),
            Request::AssessHarm { id, .. } => format!("recording the harm assessment of {id}"),
            Request::SeriousHarm { id, .. } => {
                format!("recording the serious-harm test of {id}")
            }
            Request::Preview { template, .. } => format!("rendering the '{template}' letter"),
            Request::RetryFailed { id } => format!("requeuing the failed letters of {id}"),
        }
    }

    /// Carries the request out; runs on a worker thread.
    pub fn perform(self, desk: &dyn Desk) -> Result<Outcome, DeskError> {
        let changed = |message: String| Outcome::Changed {
            message,
            select: None,
        };
        Ok(match self {
            Request::OpenIncident(new) => {
                let inc: Incident = desk.open_incident(new)?;
                Outcome::Changed {
                    message: format!("opened {} ({})", inc.id, inc.severity),
                    select: Some(inc.id),
                }
            }
            Request::SetSeverity {
                id,
                severity,
                reason,
            } => {
                let inc = desk.set_severity(id, severity, reason)?;
                changed(format!("{id} is now {}", inc.severity))
            }
            Request::SetStatus { id, status, reason } => {
                let inc = desk.set_status(id, status, reason)?;
                changed(format!("{id} is now {}", inc.status))
            }
            Request::AddNote { id, text } => {
                desk.add_note(id, text)?;
                changed(format!("note added to {id}"))
            }
            Request::Assign { id, owner } => {
                let inc = desk.assign(id, owner)?;
                changed(format!("{id} is now owned by {}", inc.owner))
            }
            Request::Link { id, slug } => {
                desk.link_program(slug.clone(), id)?;
                changed(format!("linked {slug} to {id}"))
            }
            Request::AssessHarm { id, inputs, reason } => {
                let inc = desk.assess_harm(id, inputs, reason)?;
                changed(match &inc.assessment {
                    Some(a) => format!("{id}: {}", a.inputs.summary()),
                    None => format!("{id}: assessment recorded"),
                })
            }
            Request::SeriousHarm { id, test, reason } => {
                let inc = desk.assess_serious_harm(id, test, reason)?;
                changed(match &inc.serious_harm {
                    Some(h) => format!("{id}: {}", h.test.summary()),
                    None => format!("{id}: serious-harm test recorded"),
                })
            }
            Request::Preview {
                id,
                template,
                person,
            } => {
                let text = desk.preview_letter(id, template, person)?;
                Outcome::Preview {
                    template,
                    lines: text.split("\r\n").map(str::to_owned).collect(),
                }
            }
            Request::RetryFailed { id } => {
                let n = desk.retry_failed(id)?;
                changed(format!("requeued {n} failed letters; press S to send them"))
            }
        })
    }
}
