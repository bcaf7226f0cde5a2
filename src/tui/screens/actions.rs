//! The forms for what the command line does beyond triage: the legal clocks, reports and
//! regulator drafts to a file, members, obligations (done, waived, exempt), the access-log
//! evidence, the people export and the bounce mailbox. Each chooses from lists where there
//! is one; `submit.rs` reads them back with the command line's checks.

use crate::deadlines::{Art34Ground, Obligation};
use crate::domain::{Incident, ObligationState, Phase, UserName};
use crate::report::render::REGULATORS;
use crate::tui::form::{Choice, Field, FieldName, Form, Purpose};
use crate::tui::strings;

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

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
            Field::path(FieldName::File, &format!("{}-report.md", inc.id))
                .with_hint("a new file (never overwritten), readable by you only; Tab completes"),
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
            ObligationState::Waived { .. } => false,
        })
        .map(|o| Choice::new(o.rule.as_str(), format!("{}: {}", o.rule, o.name)))
        .collect()
}

fn rule_field(options: Vec<Choice>, inc: &Incident) -> Result<Field, String> {
    if options.is_empty() {
        return Err(format!("{} has no obligation left to settle", inc.id));
    }
    Ok(Field::choice(FieldName::Rule, options, 0).with_hint("←→ to choose"))
}

/// An obligation met: when, the regulator's or mailing's reference, and the phase.
pub(crate) fn done_form(inc: &Incident, obligations: &[Obligation]) -> Result<Form, String> {
    Ok(Form::new(
        Purpose::Done(inc.id),
        strings::FORM_DONE,
        vec![
            rule_field(unsettled(obligations), inc)?,
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
pub(crate) fn waive_form(inc: &Incident, obligations: &[Obligation]) -> Result<Form, String> {
    Ok(Form::new(
        Purpose::Waive(inc.id),
        strings::FORM_WAIVE,
        vec![
            rule_field(unsettled(obligations), inc)?,
            Field::text(FieldName::Reason, ""),
        ],
    ))
}

/// An Art. 34(3) exemption of telling the people (GDPR or UK GDPR).
pub(crate) fn exempt_form(inc: &Incident, obligations: &[Obligation]) -> Result<Form, String> {
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
        Purpose::Exempt(inc.id),
        strings::FORM_EXEMPT,
        vec![
            Field::choice(FieldName::Rule, options, 0),
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
            Field::path(FieldName::File, "")
                .with_hint("CSV accessed_at,accessor,employee_id,action; Tab completes"),
            Field::path(FieldName::Authorized, "")
                .with_hint("optional: accessors whose reads were authorised, one per line"),
        ],
    )
    .with_notes(vec![
        "All or nothing: a bad row writes nothing. Read in the background, with its progress."
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
