//! What a submitted form asks for, in one place: each form is read back by field name into a
//! typed [`Call`] for the desk or a longer [`Job`] (a hook, an import, a queue, a send),
//! or into the message for each field that is wrong. Building the forms is the screens'
//! business; starting what they ask is the app's.

use chrono::{DateTime, Utc};

use std::sync::Arc;

use super::call::Call;
use super::form::{FieldName, Form, Purpose};
use super::paths::{existing_path, new_file, roster_file};
use super::worker::Job;
use crate::config::Settings;
use crate::desk::PeopleFilter;
use crate::domain::IncidentId;
use crate::domain::{
    CategoryCatalog, DomainError, EmployeeId, NewIncident, ProgramSlug, Severity, Status, UserName,
};
use crate::domain::{DataElement, ObligationState};
use crate::notify::TemplateName;
use crate::remote::protocol::Request;
use crate::report::render::ReportFormat;

/// What a filled form asks for.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// A change (or preview) the desk answers at once; the form waits for the answer.
    Call(Call),
    /// Longer work that reports on its own; the form closes.
    Job(Job),
    /// A second form to confirm what the first asks (a programme's hooks, shown exactly).
    Confirm(Form),
}

/// Why a form was not carried out: a message for each field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(FieldName, String)>);

/// Reads `form` by field name; `catalog` names the categories a field may hold, and `now`
/// is what relative times (`now`, `-2h`, `yesterday 14:30`) count from.
pub fn read(
    form: &Form,
    catalog: &CategoryCatalog,
    now: DateTime<Utc>,
    settings: &Arc<Settings>,
) -> Result<Submitted, FieldErrors> {
    let mut r = FormReader {
        form,
        now,
        errors: Vec::new(),
    };
    let submission = match form.purpose.clone() {
        Purpose::NewIncident => {
            new_incident(&mut r, catalog).map(|new| Call::Op(Request::OpenIncident { new }))
        }
        Purpose::Op(id, read) => (read.0)(&mut r, id),
        Purpose::Clock(id) => {
            let now = r.now;
            let aware = r.parse(FieldName::Aware, |v| when(v, now));
            let determined = r.parse(FieldName::Determined, |v| when(v, now));
            let optional = |v: &str| {
                if v.trim().is_empty() {
                    Ok(None)
                } else {
                    when(v, now).map(Some)
                }
            };
            let from = r.parse(FieldName::ExposedFrom, optional);
            let until = r.parse(FieldName::ExposedUntil, optional);
            if matches!((from, until), (Some(None), Some(Some(_)))) {
                r.fail(
                    FieldName::ExposedFrom,
                    "give when the exposure started too".to_owned(),
                );
            }
            let reason = r.reason();
            aware.zip(determined).zip(from.zip(until)).zip(reason).map(
                |(((aware, determined), exposure), reason)| Call::SetClock {
                    id,
                    aware,
                    determined,
                    exposure,
                    reason,
                },
            )
        }
        Purpose::AddMember(id) | Purpose::RemoveMember(id) => {
            r.parse(FieldName::Member, UserName::parse).map(|user| {
                Call::Op(Request::SetMember {
                    id,
                    user,
                    add: matches!(form.purpose, Purpose::AddMember(_)),
                })
            })
        }
        Purpose::Report(id) => {
            let kind = r.text(FieldName::Kind).to_owned();
            let (what, format) = kind.split_once(':').unwrap_or(("report", "md"));
            // An empty name follows the choice: INC-1-report.html, INC-1-gdpr-33.md,
            // breach-register.csv.
            let proposed = if what == "register" {
                format!("breach-register.{format}")
            } else {
                format!("{id}-{what}.{format}")
            };
            let file = |v: &str| {
                if v.trim().is_empty() {
                    new_file(&proposed)
                } else {
                    new_file(v)
                }
            };
            if what == "register" {
                let format =
                    <crate::report::register::RegisterFormat as clap::ValueEnum>::from_str(
                        format, false,
                    )
                    .unwrap_or(crate::report::register::RegisterFormat::Md);
                let write = r
                    .parse(FieldName::File, file)
                    .map(|path| Submitted::Call(Call::WriteRegister { format, path }));
                return r.finish(write);
            }
            let format = <ReportFormat as clap::ValueEnum>::from_str(format, false)
                .unwrap_or(ReportFormat::Md);
            r.parse(FieldName::File, file)
                .map(|path| Call::WriteReport {
                    id,
                    regulator: (what != "report").then(|| what.to_owned()),
                    format,
                    path,
                    settings: Arc::clone(settings),
                })
        }
        Purpose::Export(id) => r
            .parse(FieldName::File, new_file)
            .map(|path| Call::ExportPeople {
                id,
                undeliverable: r.text(FieldName::Kind) == "undeliverable",
                path,
            }),
        Purpose::Bounces(id) => {
            r.parse(FieldName::File, existing_path)
                .map(|path| Call::ReadBounces {
                    id,
                    maildir: r.text(FieldName::Kind) == "maildir",
                    path,
                })
        }
        Purpose::Evidence(id) => {
            let log = r.parse(FieldName::File, roster_file);
            let allowed = r.parse(FieldName::Authorized, |v| {
                if v.trim().is_empty() {
                    Ok(None)
                } else {
                    roster_file(v).map(Some)
                }
            });
            let map = r.parse(FieldName::Map, |v| {
                if v.trim().is_empty() {
                    Ok(None)
                } else {
                    roster_file(v).map(Some)
                }
            });
            let person_from = r.parse(FieldName::PersonFrom, |v| {
                let v = v.trim();
                if v.is_empty() {
                    return Ok(None);
                }
                crate::evidence::EvidenceOptions {
                    person_from: Some(v.to_owned()),
                    ..Default::default()
                }
                .check()
                .map(|()| Some(v.to_owned()))
            });
            let job = log.zip(allowed).zip(map.zip(person_from)).map(
                |((path, authorized), (map, person_from))| Job::Evidence {
                    incident: id,
                    path,
                    authorized,
                    person_from,
                    map,
                },
            );
            return r.finish(job.map(Submitted::Job));
        }
        Purpose::Program(id, editing) => {
            let slug = match &editing {
                Some(slug) => Some(slug.clone()),
                None => r.parse(FieldName::Slug, str::parse::<ProgramSlug>),
            };
            let owner = r.parse(FieldName::Owner, |v| {
                if v.trim().is_empty() {
                    Ok(None)
                } else {
                    UserName::parse(v.trim()).map(Some)
                }
            });
            let categories = r.parse(FieldName::Categories, |v| {
                split_list(v)
                    .map(|c| catalog.parse(c))
                    .collect::<Result<Vec<_>, _>>()
            });
            let new = slug.and_then(|slug| {
                fn hook(v: &str) -> Option<&str> {
                    Some(v.trim()).filter(|h| !h.is_empty())
                }
                crate::domain::NewProgram::new(
                    slug,
                    r.text(FieldName::Name),
                    hook(r.text(FieldName::PauseHook)),
                    hook(r.text(FieldName::ResumeHook)),
                )
                .map_err(|e| {
                    let at = match &e {
                        DomainError::TooLong { field, .. }
                        | DomainError::ControlCharacter { field } => match *field {
                            "pause hook" => FieldName::PauseHook,
                            "resume hook" => FieldName::ResumeHook,
                            _ => FieldName::Name,
                        },
                        _ => FieldName::Name,
                    };
                    r.fail(at, e.to_string());
                })
                .ok()
            });
            let confirm = new
                .zip(owner)
                .zip(categories)
                .map(|((mut new, owner), categories)| {
                    new.owner = owner;
                    new.categories = categories.into_iter().collect();
                    crate::tui::screens::actions::confirm_program(new, editing.is_some(), id)
                });
            return r.finish(confirm.map(Submitted::Confirm));
        }
        Purpose::ConfirmProgram(new, edit, incident) => Some(if edit {
            Call::Op(Request::EditProgram { new: *new })
        } else {
            Call::AddProgram(*new, incident)
        }),
        Purpose::Unlink(id, slug) => r
            .reason()
            .map(|reason| Call::Op(Request::UnlinkProgram { slug, id, reason })),
        Purpose::ExportLetters(id) => {
            let dir = r.text(FieldName::File).trim().to_owned();
            if dir.is_empty() {
                r.fail(FieldName::File, "give the directory to write into".into());
                None
            } else {
                Some(Call::ExportLetters {
                    id,
                    dir: super::paths::expand_home(&dir),
                })
            }
        }
        Purpose::Contain(id) => {
            let steps: Vec<crate::tui::contain::Step> = split_list(r.text(FieldName::Steps))
                .filter_map(crate::tui::contain::Step::parse)
                .collect();
            if steps.is_empty() {
                r.fail(FieldName::Steps, "tick at least one step".into());
            }
            let job = r.reason().map(|reason| Job::Contain {
                incident: id,
                steps,
                reason,
            });
            return r.finish(job.map(Submitted::Job));
        }
        Purpose::Import(id) => {
            let job = r
                .parse(FieldName::File, roster_file)
                .map(|path| Job::Import {
                    incident: id,
                    path,
                    dry_run: r.text(FieldName::Mode) == "dry-run",
                });
            return r.finish(job.map(Submitted::Job));
        }
        Purpose::Pause(incident, slug) => {
            let job = r.reason().map(|reason| Job::Pause {
                incident,
                slug,
                reason,
            });
            return r.finish(job.map(Submitted::Job));
        }
        Purpose::Resume(slug) => {
            let job = r.reason().map(|reason| Job::Resume {
                slug,
                reason,
                force: r.text(FieldName::Force) == "yes",
            });
            return r.finish(job.map(Submitted::Job));
        }
        Purpose::Queue(id) => {
            let job = r
                .parse(FieldName::Template, str::parse::<TemplateName>)
                .map(|template| Job::Queue {
                    incident: id,
                    template,
                    filter: audience(r.text(FieldName::Audience), catalog),
                    incomplete: Some(r.text(FieldName::Incomplete).trim().to_owned())
                        .filter(|why| !why.is_empty()),
                });
            return r.finish(job.map(Submitted::Job));
        }
        Purpose::Send(id) => return Ok(Submitted::Job(Job::Send { incident: id })),
    };
    r.finish(submission.map(Submitted::Call))
}

/// Reads fields by name and keeps the message for each one that is wrong.
pub struct FormReader<'a> {
    form: &'a Form,
    now: DateTime<Utc>,
    errors: Vec<(FieldName, String)>,
}

impl<'a> FormReader<'a> {
    /// The field's value as typed.
    pub fn text(&self, name: FieldName) -> &'a str {
        self.form.value(name)
    }

    /// What was read, if every field was right.
    fn finish(self, read: Option<Submitted>) -> Result<Submitted, FieldErrors> {
        match read {
            Some(submission) if self.errors.is_empty() => Ok(submission),
            _ => Err(FieldErrors(self.errors)),
        }
    }

    /// Keeps `message` under the field.
    pub fn fail(&mut self, name: FieldName, message: String) {
        self.errors.push((name, message));
    }

    /// Parses the field; on failure keeps the message for it.
    pub fn parse<T, E: ToString>(
        &mut self,
        name: FieldName,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(self.form.value(name)) {
            Ok(value) => Some(value),
            Err(e) => {
                self.fail(name, e.to_string());
                None
            }
        }
    }

    /// The reason given for a change; it may not be empty.
    pub fn reason(&mut self) -> Option<String> {
        self.parse(FieldName::Reason, |v| {
            if v.trim().is_empty() {
                Err("a reason is required")
            } else {
                Ok(v.trim().to_owned())
            }
        })
    }
}

/// The ENISA inputs, each checked as `incident assess` checks its option.
fn harm_inputs(r: &mut FormReader<'_>) -> Option<crate::domain::HarmInputs> {
    use crate::domain::parse_quarters;
    let dpc = r.parse(FieldName::Dpc, str::parse::<u8>);
    let ei = r.parse(FieldName::Ei, |v| parse_quarters(v, "EI", &[1, 2, 3, 4]));
    let mut cb = [0u8; 4];
    let mut ok = true;
    for (slot, (name, what, allowed)) in cb.iter_mut().zip([
        (
            FieldName::Confidentiality,
            "confidentiality",
            &[0u8, 1, 2][..],
        ),
        (FieldName::Integrity, "integrity", &[0, 1, 2]),
        (FieldName::Availability, "availability", &[0, 1, 2]),
        (FieldName::Malicious, "malicious intent", &[0, 2]),
    ]) {
        match r.parse(name, |v| parse_quarters(v, what, allowed)) {
            Some(q) => *slot = q,
            None => ok = false,
        }
    }
    let reason = Some(r.text(FieldName::DpcReason).trim().to_owned()).filter(|v| !v.is_empty());
    let (dpc, ei) = (dpc?, ei?);
    if !ok {
        return None;
    }
    crate::domain::HarmInputs::from_quarters(dpc, reason, ei, cb)
        .map_err(|e| r.fail(FieldName::DpcReason, e.to_string()))
        .ok()
}

/// The serious-harm test: likely or not, and each s113 factor.
fn serious_harm(r: &mut FormReader<'_>) -> Option<crate::domain::SeriousHarm> {
    let likely = r.text(FieldName::Likely) == "likely";
    let names = crate::tui::screens::assess::SERIOUS_HARM_FIELDS;
    let factors = names.map(|n| r.text(n).to_owned());
    match crate::domain::SeriousHarm::new(likely, factors) {
        Ok(test) => Some(test),
        Err(e) => {
            // The message names the factor (s113(a) to (f)); put it on that field.
            let message = e.to_string();
            let at = crate::domain::SeriousHarm::FACTORS
                .iter()
                .position(|f| message.contains(f))
                .map_or(FieldName::Mitigation, |i| names[i]);
            r.fail(at, message);
            None
        }
    }
}

/// The new-incident form: every field is checked, and each wrong one gets its message.
fn new_incident(r: &mut FormReader<'_>, catalog: &CategoryCatalog) -> Option<NewIncident> {
    let severity = r.parse(FieldName::Severity, str::parse::<Severity>);
    let categories = r.parse(FieldName::Categories, |v| {
        split_list(v)
            .map(|c| catalog.parse(c))
            .collect::<Result<Vec<_>, _>>()
    });
    let programs = r.parse(FieldName::Programmes, |v| {
        split_list(v)
            .map(str::parse::<ProgramSlug>)
            .collect::<Result<Vec<_>, _>>()
    });
    let now = r.now;
    let discovered = r.parse(FieldName::Discovered, |v| discovered_at(v, now));
    let base = severity.and_then(|severity| {
        let title = r.text(FieldName::Title);
        let summary = r.text(FieldName::Summary);
        NewIncident::new(title, severity, summary)
            .map_err(|e| {
                let at = match e {
                    DomainError::TooLong {
                        field: "summary", ..
                    }
                    | DomainError::ControlCharacter { field: "summary" } => FieldName::Summary,
                    _ => FieldName::Title,
                };
                r.fail(at, e.to_string());
            })
            .ok()
    });
    let (mut new, categories, programs, discovered) = (base?, categories?, programs?, discovered?);
    new.categories = categories.into_iter().collect();
    new.programs = programs.into_iter().collect();
    new.discovered_at = discovered;
    Some(new)
}

/// A time as the command line reads it (now, -2h, yesterday 14:30, RFC 3339, ...); empty
/// means now.
fn discovered_at(v: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    crate::domain::when::parse_when(v, now, &chrono::Local).map(Some)
}

/// A time as the command line reads it, counted from `now`.
fn when(v: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    crate::domain::when::parse_when(v, now, &chrono::Local)
}

/// Who letters go to: `everyone`, `pending` or `category:<name>`.
fn audience(v: &str, catalog: &CategoryCatalog) -> PeopleFilter {
    PeopleFilter {
        pending: v == "pending",
        undeliverable: false,
        category: v
            .strip_prefix("category:")
            .and_then(|c| catalog.parse(c).ok()),
        text: None,
    }
}

fn split_list(v: &str) -> impl Iterator<Item = &str> {
    v.split([',', ';']).map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;

/// Reads the severity form into its operation.
pub(crate) fn read_severity(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    r.parse(FieldName::Severity, str::parse::<Severity>)
        .map(|severity| {
            Call::Op(Request::SetSeverity {
                id,
                severity,
                reason: r.text(FieldName::Reason).to_owned(),
            })
        })
}

/// Reads the status form into its operation.
pub(crate) fn read_status(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    r.parse(FieldName::Status, str::parse::<Status>)
        .map(|status| {
            Call::Op(Request::SetStatus {
                id,
                status,
                reason: Some(r.text(FieldName::Reason).to_owned()).filter(|v| !v.trim().is_empty()),
                with_open_obligations: r.text(FieldName::Force) == "yes",
            })
        })
}

/// Reads the note form into its operation.
pub(crate) fn read_note(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    Some(Call::Op(Request::AddNote {
        id,
        text: r.text(FieldName::Note).to_owned(),
    }))
}

/// Reads the assign form into its operation.
pub(crate) fn read_assign(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    r.parse(FieldName::Owner, UserName::parse)
        .map(|owner| Call::Op(Request::Assign { id, owner }))
}

/// Reads the assess form into its operation.
pub(crate) fn read_assess(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let inputs = harm_inputs(r);
    let reason = r.reason();
    inputs
        .zip(reason)
        .map(|(inputs, reason)| Call::Op(Request::AssessHarm { id, inputs, reason }))
}

/// Reads the serious harm form into its operation.
pub(crate) fn read_serious_harm(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let test = serious_harm(r);
    let reason = r.reason();
    test.zip(reason)
        .map(|(test, reason)| Call::Op(Request::AssessSeriousHarm { id, test, reason }))
}

/// Reads the apply form into its operation.
pub(crate) fn read_apply(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let rule = r.text(FieldName::Rule).to_owned();
    r.reason()
        .map(|reason| Call::Op(Request::ApplyObligation { id, rule, reason }))
}

/// Reads the elements form into its operation.
pub(crate) fn read_elements(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let element = r.parse(FieldName::Element, DataElement::parse);
    let confirmed = r.text(FieldName::Decision) == "confirm";
    let reason = if confirmed {
        Some(r.text(FieldName::Reason).trim().to_owned())
    } else {
        r.reason()
    };
    element.zip(reason).map(|(element, reason)| {
        Call::Op(Request::DecideElement {
            id,
            element,
            confirmed,
            reason,
        })
    })
}

/// Reads the done form into its operation.
pub(crate) fn read_done(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let now = r.now;
    let at = r.parse(FieldName::At, |v| when(v, now));
    let reference = Some(r.text(FieldName::Reference).trim().to_owned()).filter(|v| !v.is_empty());
    let phase = match r.text(FieldName::Phase) {
        "initial" => Some(crate::domain::Phase::Initial),
        "follow-up" => Some(crate::domain::Phase::FollowUp),
        _ => None,
    };
    at.map(|at| {
        Call::Op(Request::SettleObligation {
            id,
            rule: r.text(FieldName::Rule).to_owned(),
            state: ObligationState::Done {
                at,
                reference,
                phase,
            },
        })
    })
}

/// Reads the waive form into its operation.
pub(crate) fn read_waive(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    r.reason().map(|reason| {
        Call::Op(Request::SettleObligation {
            id,
            rule: r.text(FieldName::Rule).to_owned(),
            state: ObligationState::Waived { reason },
        })
    })
}

/// Reads the exempt form into its operation.
pub(crate) fn read_exempt(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let ground = <crate::deadlines::Art34Ground as clap::ValueEnum>::from_str(
        r.text(FieldName::Ground),
        false,
    );
    let reason = r.reason();
    match (ground, reason) {
        (Ok(ground), Some(reason)) => Some(Call::Op(Request::SettleObligation {
            id,
            rule: r.text(FieldName::Rule).to_owned(),
            state: ObligationState::Waived {
                reason: format!("{}: {reason}", ground.describe()),
            },
        })),
        (Err(e), _) => {
            r.fail(FieldName::Ground, e);
            None
        }
        _ => None,
    }
}

/// Reads the purge form into its operation.
pub(crate) fn read_purge(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    r.reason()
        .map(|reason| Call::Op(Request::PurgeIncident { id, reason }))
}

/// Reads the link form into its operation.
pub(crate) fn read_link(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    r.parse(FieldName::Programme, str::parse::<ProgramSlug>)
        .map(|slug| Call::Op(Request::LinkProgram { slug, id }))
}

/// Reads the preview form into its operation.
pub(crate) fn read_preview(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let template = r.parse(FieldName::Template, str::parse::<TemplateName>);
    let person = r.parse(FieldName::Person, |v| {
        if v.trim().is_empty() {
            Ok(None)
        } else {
            EmployeeId::parse(v).map(Some)
        }
    });
    template.zip(person).map(|(template, person)| {
        Call::Op(Request::PreviewLetter {
            id,
            template,
            person,
        })
    })
}

/// Reads the title and summary form into its operation.
pub(crate) fn read_describe(r: &mut FormReader<'_>, id: IncidentId) -> Option<Call> {
    let reason = r.reason()?;
    Some(Call::Op(Request::Describe {
        id,
        title: Some(r.text(FieldName::Title).to_owned()),
        summary: Some(r.text(FieldName::Summary).to_owned()),
        reason,
    }))
}
