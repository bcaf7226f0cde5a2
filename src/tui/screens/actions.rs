//! The forms for what the command line does beyond triage: the legal clocks, reports and
//! regulator drafts to a file, members, obligations (done, waived, exempt), the access-log
//! evidence, the people export and the bounce mailbox. Each chooses from lists where there
//! is one; `submit.rs` reads them back with the command line's checks.

use crate::deadlines::{Art34Ground, Obligation};
use crate::domain::{Incident, ObligationState, Phase, UserName};
use crate::report::render::REGULATORS;
use crate::tui::form::{Choice, Field, FieldName, Form, Purpose};
use crate::tui::strings;

use crate::domain::when::rfc3339;

/// When the organisation became aware and when the breach was determined.
pub(crate) fn clock_form(inc: &Incident) -> Form {
    Form::new(
        Purpose::Clock(inc.id),
        strings::FORM_CLOCK,
        vec![
            Field::text(FieldName::Aware, &rfc3339(inc.aware_time()))
                .with_hint("now, -2h, yesterday 14:30 or RFC 3339; the legal clocks start here"),
            Field::text(FieldName::Determined, &rfc3339(inc.determined_time()))
                .with_hint("when it was determined that a breach occurred"),
            Field::text(
                FieldName::ExposedFrom,
                &inc.exposed_from.map(rfc3339).unwrap_or_default(),
            )
            .with_hint("when the data became exposed: access logs are held against the window"),
            Field::text(
                FieldName::ExposedUntil,
                &inc.exposed_until.map(rfc3339).unwrap_or_default(),
            )
            .with_hint("when the exposure ended; empty: still exposed"),
            Field::text(FieldName::Reason, ""),
        ],
    )
    .with_notes(vec![
        "Moving these moves every deadline that counts from them; the timeline keeps both values."
            .into(),
    ])
}

/// The report or a regulator draft, and where to write it (a new file, 0600).
pub(crate) fn report_form(inc: &Incident) -> Form {
    let mut kinds = vec![
        Choice::new("report:md", "incident report (Markdown)"),
        Choice::new("report:html", "incident report (HTML page)"),
        Choice::new("report:json", "incident report (JSON)"),
        Choice::new("gdpr-33:md", "GDPR Art. 33 notification (Markdown)"),
        Choice::new("gdpr-33:html", "GDPR Art. 33 notification (HTML)"),
        Choice::new(
            "register:md",
            "the breach register, every incident (Markdown)",
        ),
        Choice::new("register:csv", "the breach register (CSV)"),
        Choice::new("register:json", "the breach register (JSON)"),
    ];
    for rule in REGULATORS.iter().filter(|r| **r != "gdpr-33") {
        kinds.push(Choice::new(
            format!("{rule}:md"),
            format!("{rule} draft (Markdown)"),
        ));
        kinds.push(Choice::new(
            format!("{rule}:json"),
            format!("{rule} draft (JSON)"),
        ));
    }
    Form::new(
        Purpose::Report(inc.id),
        strings::FORM_REPORT,
        vec![
            Field::choice(FieldName::Kind, kinds, 0),
            Field::path(FieldName::File, "").with_hint(format!(
                "empty: {}-<what>.<format> here (e.g. {}-gdpr-33.md); a new file, readable by you only",
                inc.id, inc.id
            )),
        ],
    )
    .with_notes(vec![
        "Counts only: no one's name or address is in a report or a draft.".into(),
    ])
}

/// A member to add, chosen from everyone who holds a role.
pub(crate) fn add_member_form(inc: &Incident, users: &[UserName]) -> Result<Form, String> {
    let options: Vec<Choice> = users
        .iter()
        .filter(|u| **u != inc.owner && !inc.members.contains(*u))
        .map(|u| Choice::new(u.as_str(), u.as_str()))
        .collect();
    let field = if options.is_empty() {
        Field::text(FieldName::Member, "").with_hint("an operating-system user name")
    } else {
        Field::choice(FieldName::Member, options, 0).with_hint("←→ to choose")
    };
    Ok(Form::new(
        Purpose::AddMember(inc.id),
        strings::FORM_ADD_MEMBER,
        vec![field],
    )
    .with_notes(vec![format!(
        "Members see {}'s personal data and act on it; the owner or an admin changes them.",
        inc.id
    )]))
}

/// A member to remove, chosen from the incident's members.
pub(crate) fn remove_member_form(inc: &Incident) -> Result<Form, String> {
    if inc.members.is_empty() {
        return Err(format!("{} has no members besides its owner", inc.id));
    }
    let options = inc
        .members
        .iter()
        .map(|u| Choice::new(u.as_str(), u.as_str()))
        .collect();
    Ok(Form::new(
        Purpose::RemoveMember(inc.id),
        strings::FORM_REMOVE_MEMBER,
        vec![Field::choice(FieldName::Member, options, 0)],
    ))
}

/// The obligations still to settle: open, or met only by an initial report.
fn unsettled(obligations: &[Obligation]) -> Vec<Choice> {
    obligations
        .iter()
        .filter(|o| match &o.state {
            ObligationState::Open => true,
            ObligationState::Done { phase, .. } => *phase == Some(Phase::Initial),
            ObligationState::Waived { .. } | ObligationState::NotTriggered { .. } => false,
        })
        .map(|o| Choice::new(o.rule.as_str(), format!("{}: {}", o.rule, o.name)))
        .collect()
}

/// A rule the responder judges applies although what happened does not trigger it.
pub(crate) fn apply_form(
    inc: &Incident,
    obligations: &[Obligation],
    selected: Option<&str>,
) -> Result<Form, String> {
    let options: Vec<Choice> = obligations
        .iter()
        .filter_map(|o| match &o.state {
            ObligationState::NotTriggered { reason } => Some(Choice::new(
                o.rule.as_str(),
                format!("{}: {reason}", o.rule),
            )),
            _ => None,
        })
        .collect();
    if options.is_empty() {
        return Err(format!(
            "{} has no rule that its evidence leaves untriggered",
            inc.id
        ));
    }
    Ok(Form::new(
        Purpose::Op(
            inc.id,
            crate::tui::form::OpReader(crate::tui::submit::read_apply),
        ),
        strings::FORM_APPLY,
        vec![
            Field::choice(
                FieldName::Rule,
                options.clone(),
                selected
                    .and_then(|r| options.iter().position(|c| c.value == r))
                    .unwrap_or(0),
            ),
            Field::text(FieldName::Reason, "")
                .with_hint("why it applies, e.g. viewing the data in the store was acquisition"),
        ],
    )
    .with_notes(vec![
        "The rule then applies as if what it needs had happened; recorded with the reason.".into(),
    ]))
}

/// The obligation to act on: the one under the cursor when it is among `options`.
fn rule_field(
    options: Vec<Choice>,
    inc: &Incident,
    selected: Option<&str>,
) -> Result<Field, String> {
    if options.is_empty() {
        return Err(format!("{} has no obligation left to settle", inc.id));
    }
    let at = selected
        .and_then(|r| options.iter().position(|c| c.value == r))
        .unwrap_or(0);
    Ok(Field::choice(FieldName::Rule, options, at).with_hint("←→ to choose"))
}

/// An obligation met: when, the regulator's or mailing's reference, and the phase.
pub(crate) fn done_form(
    inc: &Incident,
    obligations: &[Obligation],
    selected: Option<&str>,
) -> Result<Form, String> {
    Ok(Form::new(
        Purpose::Op(
            inc.id,
            crate::tui::form::OpReader(crate::tui::submit::read_done),
        ),
        strings::FORM_DONE,
        vec![
            rule_field(unsettled(obligations), inc, selected)?,
            Field::text(FieldName::At, "now").with_hint("now, -2h, yesterday 14:30 or RFC 3339"),
            Field::text(FieldName::Reference, "").with_hint("optional: the case or ticket number"),
            Field::choice(
                FieldName::Phase,
                vec![
                    Choice::new("whole", "the whole report"),
                    Choice::new("initial", "initial report (GDPR Art. 33(4)): partly met"),
                    Choice::new("follow-up", "follow-up report: met"),
                ],
                0,
            ),
        ],
    ))
}

/// An obligation waived, with why (recorded).
pub(crate) fn waive_form(
    inc: &Incident,
    obligations: &[Obligation],
    selected: Option<&str>,
) -> Result<Form, String> {
    Ok(Form::new(
        Purpose::Op(
            inc.id,
            crate::tui::form::OpReader(crate::tui::submit::read_waive),
        ),
        strings::FORM_WAIVE,
        vec![
            rule_field(unsettled(obligations), inc, selected)?,
            Field::text(FieldName::Reason, ""),
        ],
    ))
}

/// An Art. 34(3) exemption of telling the people (GDPR or UK GDPR).
pub(crate) fn exempt_form(
    inc: &Incident,
    obligations: &[Obligation],
    selected: Option<&str>,
) -> Result<Form, String> {
    let options: Vec<Choice> = unsettled(obligations)
        .into_iter()
        .filter(|c| c.value == "gdpr-34" || c.value == "uk-gdpr-34")
        .collect();
    if options.is_empty() {
        return Err(format!(
            "{} has no open gdpr-34 or uk-gdpr-34 obligation to exempt",
            inc.id
        ));
    }
    let grounds = [
        (
            Art34Ground::Unintelligible,
            "unintelligible",
            "(a) unintelligible to readers",
        ),
        (
            Art34Ground::NoLongerLikely,
            "no-longer-likely",
            "(b) high risk no longer likely",
        ),
        (
            Art34Ground::Disproportionate,
            "disproportionate",
            "(c) disproportionate effort: public notice instead",
        ),
    ];
    Ok(Form::new(
        Purpose::Op(
            inc.id,
            crate::tui::form::OpReader(crate::tui::submit::read_exempt),
        ),
        strings::FORM_EXEMPT,
        vec![
            Field::choice(
                FieldName::Rule,
                options.clone(),
                selected
                    .and_then(|r| options.iter().position(|c| c.value == r))
                    .unwrap_or(0),
            ),
            Field::choice(
                FieldName::Ground,
                grounds
                    .iter()
                    .map(|(_, value, label)| Choice::new(*value, *label))
                    .collect(),
                0,
            )
            .with_hint(grounds[0].0.describe()),
            Field::text(FieldName::Reason, ""),
        ],
    ))
}

/// The exposed store's access log, with an optional allow-list.
pub(crate) fn evidence_form(inc: &Incident) -> Form {
    Form::new(
        Purpose::Evidence(inc.id),
        strings::FORM_EVIDENCE,
        vec![
            Field::path(FieldName::File, "").with_hint(
                "CloudTrail, S3, GCP, Drive, Azure, pgaudit, Elasticsearch or CSV; Tab completes",
            ),
            Field::text(FieldName::PersonFrom, "").with_hint(
                "regex with (?P<employee_id>...) or (?P<email>...) finding the person in a resource",
            ),
            Field::path(FieldName::Map, "")
                .with_hint("optional: CSV resource,employee_id naming people one by one"),
            Field::path(FieldName::Authorized, "")
                .with_hint("optional: principals whose reads were authorised (globs allowed)"),
        ],
    )
    .with_notes(vec![
        "All or nothing: a bad record writes nothing. Imports add up; read in the background."
            .into(),
    ])
}

/// The roster (or only the people no letter reached) as CSV, to a new file.
pub(crate) fn export_form(inc: &Incident) -> Form {
    Form::new(
        Purpose::Export(inc.id),
        strings::FORM_EXPORT,
        vec![
            Field::choice(
                FieldName::Kind,
                vec![
                    Choice::new("everyone", "everyone on the roster"),
                    Choice::new(
                        "undeliverable",
                        "only those no letter reached (with location and bounce)",
                    ),
                ],
                0,
            ),
            Field::path(FieldName::File, &format!("{}-people.csv", inc.id))
                .with_hint("a new file (never overwritten), readable by you only; Tab completes"),
        ],
    )
    .with_notes(vec![
        "Personal data: the export is recorded in the access log.".into(),
    ])
}

/// The bounce mailbox to read.
pub(crate) fn bounces_form(inc: &Incident) -> Form {
    Form::new(
        Purpose::Bounces(inc.id),
        strings::FORM_BOUNCES,
        vec![
            Field::choice(
                FieldName::Kind,
                vec![
                    Choice::new("maildir", "a Maildir (new/ and cur/)"),
                    Choice::new("mbox", "an mbox file"),
                ],
                0,
            ),
            Field::path(FieldName::File, "").with_hint("Tab completes"),
        ],
    )
    .with_notes(vec![format!(
        "Delivery status notifications mark {}'s letters bounced; reading the same messages again changes nothing.",
        inc.id
    )])
}

/// A programme to register (`program: None`) or change: hooks are typed here and shown
/// again, exactly, before anything is saved.
pub(crate) fn program_form(
    inc: &Incident,
    program: Option<&crate::domain::Program>,
    categories: &[String],
) -> Result<Form, String> {
    let options: Vec<Choice> = categories.iter().map(|c| Choice::new(c, c)).collect();
    let ticked: Vec<&str> = program
        .map(|p| p.categories.iter().map(|c| c.as_str()).collect())
        .unwrap_or_default();
    let hook = |h: Option<&String>| h.map_or("", String::as_str).to_owned();
    let mut fields = Vec::new();
    if program.is_none() {
        fields.push(
            Field::text(FieldName::Slug, "")
                .with_hint("lower-case letters, digits and '-', e.g. staff-monitoring"),
        );
    }
    fields.extend([
        Field::text(FieldName::Name, program.map_or("", |p| p.name.as_str())),
        Field::text(FieldName::Owner, program.map_or("", |p| p.owner.as_str()))
            .with_hint("who runs it: a user name on this machine (their login); empty: you"),
        Field::multi(FieldName::Categories, options, &ticked),
        Field::text(
            FieldName::PauseHook,
            &hook(program.and_then(|p| p.pause_hook.as_ref())),
        )
        .with_hint("the command that stops collection (sh -c); admins only"),
        Field::text(
            FieldName::ResumeHook,
            &hook(program.and_then(|p| p.resume_hook.as_ref())),
        )
        .with_hint("the command that restarts it; empty: none"),
    ]);
    let (title, note) = match program {
        None => (
            strings::FORM_ADD_PROGRAM,
            "Registered programmes can be linked to incidents and paused through their hook."
                .to_owned(),
        ),
        Some(p) => (
            strings::FORM_EDIT_PROGRAM,
            format!(
                "Changing '{}' ({}); the hooks are shown again before they are saved.",
                p.slug, p.state
            ),
        ),
    };
    Ok(Form::new(
        Purpose::Program(inc.id, program.map(|p| p.slug.clone())),
        title,
        fields,
    )
    .with_notes(vec![note]))
}

/// The confirmation of a programme with its hooks, exactly as they will run.
pub(crate) fn confirm_program(
    new: crate::domain::NewProgram,
    edit: bool,
    incident: crate::domain::IncidentId,
) -> Form {
    let line = |what: &str, h: &Option<String>| match h {
        Some(h) => format!("{what} hook, run with sh -c: {h}"),
        None => format!("no {what} hook: a {what} is only recorded"),
    };
    let notes = vec![
        format!(
            "{} '{}' ({})?",
            if edit {
                "Save the changes to"
            } else {
                "Register"
            },
            new.slug,
            new.name
        ) + &if edit {
            String::new()
        } else {
            format!(" It is linked to {incident} once registered.")
        },
        line("pause", &new.pause_hook),
        line("resume", &new.resume_hook),
        "Enter saves; Esc cancels.".to_owned(),
    ];
    Form::new(
        Purpose::ConfirmProgram(Box::new(new), edit, incident),
        strings::FORM_CONFIRM_PROGRAM,
        Vec::new(),
    )
    .with_notes(notes)
}

/// Unlinking the selected programme from the incident, with the reason.
pub(crate) fn unlink_form(
    inc: &Incident,
    program: &crate::domain::Program,
) -> Result<Form, String> {
    let mut notes = vec![format!(
        "Unlink '{}' ({}) from {}?",
        program.slug, program.state, inc.id
    )];
    if inc.severity.is_critical()
        && !inc.status.is_settled()
        && program.state != crate::domain::ProgramState::Active
    {
        notes.push(format!(
            "{} holds it from resuming while it is SEV 0-2 and not resolved: only an admin may unlink it.",
            inc.id
        ));
    }
    Ok(Form::new(
        Purpose::Unlink(inc.id, program.slug.clone()),
        strings::FORM_UNLINK,
        vec![Field::text(FieldName::Reason, "")],
    )
    .with_notes(notes))
}

/// Destroying a closed incident's personal data, with the reason (admins; final).
pub(crate) fn purge_form(inc: &Incident) -> Result<Form, String> {
    if let Some(why) = inc.purge_refusal() {
        return Err(why);
    }
    Ok(Form::new(
        Purpose::Op(inc.id, crate::tui::form::OpReader(crate::tui::submit::read_purge)),
        strings::FORM_PURGE,
        vec![Field::text(FieldName::Reason, "")],
    )
    .with_notes(vec![
        format!(
            "Destroys {}'s roster of {} people, their letters and the evidence, for good: the data key goes, so no copy made from now on can be read.",
            inc.id, inc.people
        ),
        "Counts, obligations, the assessments and the timeline remain. Admins only.".into(),
    ]))
}

/// The queued letters as .eml files into a directory (nothing is sent or marked).
pub(crate) fn export_letters_form(inc: &Incident) -> Form {
    Form::new(
        Purpose::ExportLetters(inc.id),
        strings::FORM_EXPORT_LETTERS,
        vec![
            Field::path(FieldName::File, &format!("{}-letters", inc.id)).with_hint(
                "a directory (created 0700 if missing; files are never overwritten); Tab completes",
            ),
        ],
    )
    .with_notes(vec![
        "Writes each queued letter exactly as it would be sent; sends nothing, marks nothing."
            .into(),
    ])
}
