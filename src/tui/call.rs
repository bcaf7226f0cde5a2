//! The changes the TUI asks of the desk, as typed values. A submitted form becomes one
//! [`Call`]; the worker carries it out off the UI thread and answers with an [`Outcome`].
//! What a request looks like on screen is not this file's business.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::desk::{Desk, DeskError, PeopleFilter, ReadPath};
use crate::domain::IncidentId;
use crate::domain::text::display_path;
use crate::notify::TemplateName;
use crate::remote::protocol::{Answer, Request};
use crate::report::render::ReportFormat;

/// One change (or preview) asked of the desk: a row of the table of operations with its
/// arguments as a form filled them in ([`Call::Op`]), or one of the few actions that are not
/// one operation (two operations in a row, or a file written on this machine).
#[derive(Debug, Clone)]
pub enum Call {
    /// One operation of the table (`src/desk/ops.rs`).
    Op(Request),
    /// `template check` on this machine's templates and contact.
    CheckTemplates(Arc<Settings>),
    /// A programme to register, and the incident it was added from (linked to it).
    AddProgram(crate::domain::NewProgram, IncidentId),
    /// The legal clocks and the exposure window: each operation only when it changes.
    SetClock {
        id: IncidentId,
        aware: DateTime<Utc>,
        determined: DateTime<Utc>,
        /// The exposure window, from and until: set too when it differs.
        exposure: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        reason: String,
    },
    ExportLetters {
        id: IncidentId,
        dir: PathBuf,
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
            Call::Op(request) => op_label(request),
            Call::SetClock { id, .. } => format!("moving the legal clocks of {id}"),
            Call::AddProgram(new, _) => format!("registering {}", new.slug),
            Call::ExportLetters { id, .. } => format!("exporting the letters of {id}"),
            Call::CheckTemplates(_) => "checking the templates".to_owned(),
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
            Call::Op(request) => {
                let asked = request.clone();
                match request.perform(desk) {
                    Ok(answer) => outcome(&asked, answer?),
                    Err(other) => {
                        return Err(DeskError::Internal(format!(
                            "{} is not an operation the terminal UI runs",
                            other.name()
                        )));
                    }
                }
            }
            Call::ExportLetters { id, dir } => {
                let n = desk.export_letters(id, &dir)?;
                changed(format!(
                    "wrote {n} queued letters of {id} to {} (nothing was sent or marked)",
                    display_path(&dir)
                ))
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

/// What the status line says while an operation runs: said per operation where it helps,
/// else the operation's name.
fn op_label(request: &Request) -> String {
    match request {
        Request::OpenIncident { .. } => "opening the incident".to_owned(),
        Request::SetSeverity { id, .. } => format!("changing the severity of {id}"),
        Request::Describe { id, .. } => format!("rewriting the title or summary of {id}"),
        Request::SetStatus { id, .. } => format!("moving the status of {id}"),
        Request::AddNote { id, .. } => format!("adding a note to {id}"),
        Request::Assign { id, .. } => format!("assigning {id}"),
        Request::LinkProgram { id, slug } => format!("linking {slug} to {id}"),
        Request::AssessHarm { id, .. } => format!("recording the harm assessment of {id}"),
        Request::AssessSeriousHarm { id, .. } => {
            format!("recording the serious-harm test of {id}")
        }
        Request::ApplyObligation { id, rule, .. } => {
            format!("recording that {rule} applies to {id}")
        }
        Request::DecideElement { id, element, .. } => {
            format!("recording a decision on {element} for {id}")
        }
        Request::PreviewLetter { template, .. } => format!("rendering the '{template}' letter"),
        Request::RetryFailed { id } => format!("requeuing the failed letters of {id}"),
        Request::PurgeIncident { id, .. } => format!("purging the personal data of {id}"),
        Request::VerifyAudit {} => "verifying the audit log".to_owned(),
        Request::EditProgram { new } => format!("changing {}", new.slug),
        Request::UnlinkProgram { id, slug, .. } => format!("unlinking {slug} from {id}"),
        Request::SetMember { id, user, add } => format!(
            "{} {user} {} {id}",
            if *add { "adding" } else { "removing" },
            if *add { "to" } else { "from" }
        ),
        Request::SettleObligation { id, rule, .. } => format!("recording {rule} of {id}"),
        other => other.name().replace('_', " "),
    }
}

/// What an operation's answer means on screen: said per operation where there is more to
/// say than that it was done.
fn outcome(asked: &Request, answer: Answer) -> Outcome {
    let changed = |message: String| Outcome::Changed {
        message,
        select: None,
    };
    match (asked, answer) {
        (_, Answer::OpenIncident(inc)) => Outcome::Changed {
            message: format!("opened {} ({})", inc.id, inc.severity),
            select: Some(inc.id),
        },
        (_, Answer::Describe(inc)) => changed(format!("{} is now titled '{}'", inc.id, inc.title)),
        (_, Answer::SetSeverity(inc)) => changed(format!("{} is now {}", inc.id, inc.severity)),
        (_, Answer::SetStatus(inc)) => changed(format!("{} is now {}", inc.id, inc.status)),
        (Request::AddNote { id, .. }, Answer::AddNote(_)) => changed(format!("note added to {id}")),
        (_, Answer::Assign(inc)) => changed(format!("{} is now owned by {}", inc.id, inc.owner)),
        (Request::LinkProgram { slug, id }, Answer::LinkProgram(_)) => {
            changed(format!("linked {slug} to {id}"))
        }
        (_, Answer::AssessHarm(inc)) => changed(match &inc.assessment {
            Some(a) => format!("{}: {}", inc.id, a.inputs.summary()),
            None => format!("{}: assessment recorded", inc.id),
        }),
        (Request::ApplyObligation { id, .. }, Answer::ApplyObligation(o)) => {
            changed(format!("{id} {}: applies; it is open", o.rule))
        }
        (
            Request::DecideElement {
                id,
                element,
                confirmed,
                ..
            },
            Answer::DecideElement(_),
        ) => {
            let verb = if *confirmed { "confirmed" } else { "ruled out" };
            changed(format!("{id}: {element} {verb}"))
        }
        (_, Answer::AssessSeriousHarm(inc)) => changed(match &inc.serious_harm {
            Some(h) => format!("{}: {}", inc.id, h.test.summary()),
            None => format!("{}: serious-harm test recorded", inc.id),
        }),
        (Request::PreviewLetter { template, .. }, Answer::PreviewLetter(message)) => {
            // As the person reads it; a letter that does not parse is shown as it is.
            let text = crate::notify::readable(&message).unwrap_or(message);
            Outcome::Preview {
                template: *template,
                lines: text.lines().map(str::to_owned).collect(),
            }
        }
        (_, Answer::RetryFailed(n)) => {
            changed(format!("requeued {n} failed letters; press S to send them"))
        }
        (_, Answer::PurgeIncident(inc)) => changed(format!(
            "{}: personal data purged (roster of {} people, letters, evidence)",
            inc.id, inc.people
        )),
        (_, Answer::VerifyAudit(verified)) => {
            let lines = match verified {
                Ok(v) => {
                    let mut lines = vec![format!("audit log intact: {} events checked", v.events)];
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
        (_, Answer::EditProgram(p)) => changed(format!("changed '{}'", p.slug)),
        (Request::UnlinkProgram { id, slug, .. }, Answer::UnlinkProgram(_)) => {
            changed(format!("unlinked '{slug}' from {id}"))
        }
        (Request::SetMember { id, user, add }, Answer::SetMember(_)) => changed(if *add {
            format!("{user} is a member of {id}")
        } else {
            format!("{user} is no longer a member of {id}")
        }),
        (Request::SettleObligation { id, .. }, Answer::SettleObligation(o)) => {
            changed(format!("{id} {}: {}", o.rule, o.state.as_str()))
        }
        (other, _) => changed(format!("{}: done", other.name().replace('_', " "))),
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
