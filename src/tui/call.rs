//! The changes the TUI asks of the desk, as typed values. A submitted form becomes one
//! [`Call`]; the worker carries it out off the UI thread and answers with an [`Outcome`].
//! What a request looks like on screen is not this file's business.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::desk::{Desk, DeskError, PeopleFilter, ReadPath};
use crate::domain::ObligationState;
use crate::domain::text::display_path;
use crate::domain::{
    DataElement, EmployeeId, HarmInputs, Incident, IncidentId, NewIncident, ProgramSlug,
    SeriousHarm, Severity, Status, UserName,
};
use crate::notify::TemplateName;
use crate::report::render::ReportFormat;

/// One change (or preview) asked of the desk.
#[derive(Debug, Clone)]
pub enum Call {
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
        /// Close although legal obligations are still open (with a reason).
        with_open_obligations: bool,
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
    ApplyObligation {
        id: IncidentId,
        rule: String,
        reason: String,
    },
    DecideElement {
        id: IncidentId,
        element: DataElement,
        confirmed: bool,
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
    Purge {
        id: IncidentId,
        reason: String,
    },
    ExportLetters {
        id: IncidentId,
        dir: PathBuf,
    },
    VerifyAudit,
    /// `template check` on this machine's templates and contact.
    CheckTemplates(Arc<Settings>),
    /// A programme to register, and the incident it was added from (linked to it).
    AddProgram(crate::domain::NewProgram, IncidentId),
    EditProgram(crate::domain::NewProgram),
    Unlink {
        id: IncidentId,
        slug: ProgramSlug,
        reason: String,
    },
    SetClock {
        id: IncidentId,
        aware: DateTime<Utc>,
        determined: DateTime<Utc>,
        /// The exposure window, from and until: set too when it differs.
        exposure: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        reason: String,
    },
    SetMember {
        id: IncidentId,
        user: UserName,
        add: bool,
    },
    Settle {
        id: IncidentId,
        rule: String,
        state: ObligationState,
    },
    /// A report (`regulator: None`) or a regulator's draft, written to a new file.
    WriteReport {
        id: IncidentId,
        regulator: Option<String>,
        format: ReportFormat,
        path: PathBuf,
        settings: Arc<Settings>,
    },
    /// The breach register, written to a new file.
    WriteRegister {
        format: crate::report::register::RegisterFormat,
        path: PathBuf,
    },
    ExportPeople {
        id: IncidentId,
        undeliverable: bool,
        path: PathBuf,
    },
    ReadBounces {
        id: IncidentId,
        maildir: bool,
        path: PathBuf,
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
    /// Something to read in a panel.
    Panel { title: String, lines: Vec<String> },
}

impl Call {
    /// What the status line says while the request runs.
    pub fn label(&self) -> String {
        match self {
            Call::OpenIncident(_) => "opening the incident".to_owned(),
            Call::SetSeverity { id, .. } => format!("changing the severity of {id}"),
            Call::SetStatus { id, .. } => format!("moving the status of {id}"),
            Call::AddNote { id, .. } => format!("adding a note to {id}"),
            Call::Assign { id, .. } => format!("assigning {id}"),
            Call::Link { id, slug } => format!("linking {slug} to {id}"),
            Call::AssessHarm { id, .. } => format!("recording the harm assessment of {id}"),
            Call::SeriousHarm { id, .. } => {
                format!("recording the serious-harm test of {id}")
            }
            Call::ApplyObligation { id, rule, .. } => {
                format!("recording that {rule} applies to {id}")
            }
            Call::DecideElement { id, element, .. } => {
                format!("recording a decision on {element} for {id}")
            }
            Call::Preview { template, .. } => format!("rendering the '{template}' letter"),
            Call::RetryFailed { id } => format!("requeuing the failed letters of {id}"),
            Call::SetClock { id, .. } => format!("moving the legal clocks of {id}"),
            Call::AddProgram(new, _) => format!("registering {}", new.slug),
            Call::Purge { id, .. } => format!("purging the personal data of {id}"),
            Call::ExportLetters { id, .. } => format!("exporting the letters of {id}"),
            Call::VerifyAudit => "verifying the audit log".to_owned(),
            Call::CheckTemplates(_) => "checking the templates".to_owned(),
            Call::EditProgram(new) => format!("changing {}", new.slug),
            Call::Unlink { id, slug, .. } => format!("unlinking {slug} from {id}"),
            Call::SetMember { id, user, add } => {
                format!(
                    "{} {user} {} {id}",
                    if *add { "adding" } else { "removing" },
                    if *add { "to" } else { "from" }
                )
            }
            Call::Settle { id, rule, .. } => format!("recording {rule} of {id}"),
            Call::WriteReport { path, .. } => format!("writing {}", display_path(path)),
            Call::ExportPeople { path, .. } => format!("exporting to {}", display_path(path)),
            Call::WriteRegister { path, .. } => format!("writing {}", display_path(path)),
            Call::ReadBounces { path, .. } => {
                format!("reading bounces from {}", display_path(path))
            }
        }
    }

    /// Carries the request out; runs on a worker thread.
    pub fn perform(self, desk: &dyn Desk) -> Result<Outcome, DeskError> {
        let changed = |message: String| Outcome::Changed {
            message,
            select: None,
        };
        Ok(match self {
            Call::OpenIncident(new) => {
                let inc: Incident = desk.open_incident(new)?;
                Outcome::Changed {
                    message: format!("opened {} ({})", inc.id, inc.severity),
                    select: Some(inc.id),
                }
            }
            Call::SetSeverity {
                id,
                severity,
                reason,
            } => {
                let inc = desk.set_severity(id, severity, reason)?;
                changed(format!("{id} is now {}", inc.severity))
            }
            Call::SetStatus {
                id,
                status,
                reason,
                with_open_obligations,
            } => {
                let inc = desk.set_status(id, status, reason, with_open_obligations)?;
                changed(format!("{id} is now {}", inc.status))
            }
            Call::AddNote { id, text } => {
                desk.add_note(id, text)?;
                changed(format!("note added to {id}"))
            }
            Call::Assign { id, owner } => {
                let inc = desk.assign(id, owner)?;
                changed(format!("{id} is now owned by {}", inc.owner))
            }
            Call::Link { id, slug } => {
                desk.link_program(slug.clone(), id)?;
                changed(format!("linked {slug} to {id}"))
            }
            Call::AssessHarm { id, inputs, reason } => {
                let inc = desk.assess_harm(id, inputs, reason)?;
                changed(match &inc.assessment {
                    Some(a) => format!("{id}: {}", a.inputs.summary()),
                    None => format!("{id}: assessment recorded"),
                })
            }
            Call::ApplyObligation { id, rule, reason } => {
                let o = desk.apply_obligation(id, rule, reason)?;
                changed(format!("{id} {}: applies; it is open", o.rule))
            }
            Call::DecideElement {
                id,
                element,
                confirmed,
                reason,
            } => {
                desk.decide_element(id, element, confirmed, reason)?;
                let verb = if confirmed { "confirmed" } else { "ruled out" };
                changed(format!("{id}: {element} {verb}"))
            }
            Call::SeriousHarm { id, test, reason } => {
                let inc = desk.assess_serious_harm(id, test, reason)?;
                changed(match &inc.serious_harm {
                    Some(h) => format!("{id}: {}", h.test.summary()),
                    None => format!("{id}: serious-harm test recorded"),
                })
            }
            Call::Preview {
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
            Call::RetryFailed { id } => {
                let n = desk.retry_failed(id)?;
                changed(format!("requeued {n} failed letters; press S to send them"))
            }
            Call::Purge { id, reason } => {
                let inc = desk.purge_incident(id, reason)?;
                changed(format!(
                    "{id}: personal data purged (roster of {} people, letters, evidence)",
                    inc.people
                ))
            }
            Call::ExportLetters { id, dir } => {
                let n = desk.export_letters(id, &dir)?;
                changed(format!(
                    "wrote {n} queued letters of {id} to {} (nothing was sent or marked)",
                    display_path(&dir)
                ))
            }
            Call::VerifyAudit => {
                let lines = match desk.verify_audit()? {
                    Ok(v) => {
                        let mut lines =
                            vec![format!("audit log intact: {} events checked", v.events)];
                        if let Some(head) = &v.head {
                            lines.push(format!("head: event {} (hash {})", head.seq, head.hash));
                        }
                        lines.extend(v.warnings().into_iter().map(|w| format!("warning: {w}")));
                        lines
                    }
                    Err(tamper) => vec![format!("AUDIT LOG TAMPERED: {tamper}")],
                };
                Outcome::Panel {
                    title: " Audit log ".into(),
                    lines,
                }
            }
            Call::CheckTemplates(settings) => {
                let check = crate::notify::check::check_templates(&settings);
                let mut lines = check.lines.clone();
                lines.push(String::new());
                lines.push(check.problems().unwrap_or_else(|| {
                    "every template renders and carries what the law asks".into()
                }));
                Outcome::Panel {
                    title: " Templates ".into(),
                    lines,
                }
            }
            Call::AddProgram(new, incident) => {
                let p = desk.add_program(new)?;
                desk.link_program(p.slug.clone(), incident)?;
                changed(format!(
                    "registered '{}' and linked it to {incident}",
                    p.slug
                ))
            }
            Call::EditProgram(new) => {
                let p = desk.edit_program(new)?;
                changed(format!("changed '{}'", p.slug))
            }
            Call::Unlink { id, slug, reason } => {
                desk.unlink_program(slug.clone(), id, reason)?;
                changed(format!("unlinked '{slug}' from {id}"))
            }
            Call::SetClock {
                id,
                aware,
                determined,
                exposure,
                reason,
            } => {
                let before = desk.incident(id)?;
                if before.aware_time() != aware || before.determined_time() != determined {
                    desk.set_clock(id, Some(aware), Some(determined), reason.clone())?;
                }
                if (before.exposed_from, before.exposed_until) != exposure {
                    desk.set_exposure(id, exposure.0, exposure.1, reason)?;
                }
                changed(format!(
                    "{id}: the legal clocks moved; the Deadlines tab shows the new due times"
                ))
            }
            Call::SetMember { id, user, add } => {
                desk.set_member(id, user.clone(), add)?;
                changed(if add {
                    format!("{user} is a member of {id}")
                } else {
                    format!("{user} is no longer a member of {id}")
                })
            }
            Call::Settle { id, rule, state } => {
                let o = desk.settle_obligation(id, rule, state)?;
                changed(format!("{id} {}: {}", o.rule, o.state.as_str()))
            }
            Call::WriteRegister { format, path } => {
                let entries = crate::report::register::gather(desk, None)?;
                let text = crate::report::register::file_text(&entries, format, Utc::now())
                    .map_err(|e| DeskError::NotConfigured(e.to_string()))?;
                write(&path, text.as_bytes())?;
                changed(format!(
                    "wrote the register to {}",
                    display_path(full_path(&path))
                ))
            }
            Call::WriteReport {
                id,
                regulator,
                format,
                path,
                settings,
            } => {
                let text = crate::report::render::render(
                    desk,
                    &desk.identity()?.user,
                    id,
                    regulator.as_deref(),
                    format,
                    &settings,
                    Utc::now(),
                )
                .map_err(|e| match e {
                    crate::report::render::RenderError::Desk(e) => e,
                    other => DeskError::NotConfigured(other.to_string()),
                })?;
                write(&path, text.as_bytes())?;
                changed(format!("wrote {}", display_path(full_path(&path))))
            }
            Call::ExportPeople {
                id,
                undeliverable,
                path,
            } => {
                let filter = PeopleFilter {
                    undeliverable,
                    ..PeopleFilter::default()
                };
                let people = desk.people(id, filter, ReadPath::PeopleExport)?;
                let bytes = crate::roster::export_csv(&people, undeliverable)
                    .map_err(|e| DeskError::NotConfigured(format!("cannot write CSV: {e}")))?;
                write(&path, &bytes)?;
                changed(format!(
                    "{} people written to {}",
                    people.len(),
                    display_path(full_path(&path))
                ))
            }
            Call::ReadBounces { id, maildir, path } => {
                let mut recorder = crate::desk::BounceRecorder::new(desk, Some(id));
                let mut sink = |report| recorder.add(report);
                let mailbox = if maildir {
                    crate::notify::bounce::read_maildir(&path, &mut sink)
                } else {
                    crate::notify::bounce::read_mbox(&path, &mut sink)
                }
                .map_err(DeskError::NotConfigured)?;
                let unreadable = mailbox.unreadable.len();
                let got = recorder.finish()?;
                changed(format!(
                    "read {} messages: marked {} letters bounced ({} already), {} people no longer count as notified; {} matched no letter, {unreadable} unreadable",
                    mailbox.messages,
                    got.bounced,
                    got.already,
                    got.people,
                    got.unmatched_count()
                ))
            }
        })
    }
}

/// A new private file (as `report --out` and `people export --out` write them).
fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), DeskError> {
    crate::files::write_private(path, bytes).map_err(|e| DeskError::NotConfigured(e.to_string()))
}

/// Where a file written from the terminal UI is, in full: a relative name is read against
/// the directory the UI was started in, which the user may not remember.
fn full_path(path: &std::path::Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
