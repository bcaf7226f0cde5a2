//! Drafts of what more regulators receive, beside the GDPR Art. 33 notification: New
//! Zealand's Privacy Commissioner (NotifyUs, Privacy Act 2020 ss114 and 117), the UK ICO's
//! breach report (UK GDPR Art. 33), the HHS breach portal's notice (45 CFR 164.408) and the
//! California Attorney General's sample copy (Cal. Civ. Code 1798.82(f)). Each is a list of fields with breachdesk's value or a
//! bracketed placeholder for what it cannot know, as Markdown or JSON; counts only, never a
//! person's data (the AG's sample letter is rendered for a placeholder person).

use serde::Serialize;

use super::{Block, Report, Text, plural, render_md, time};
use crate::notify::{Contact, Letter};

/// One field of a draft.
#[derive(Debug, Clone, Serialize)]
pub struct DraftField {
    /// The field as the form names it.
    pub label: String,
    pub value: String,
    /// Whether a person must complete it (breachdesk does not know it).
    pub to_complete: bool,
}

/// A draft for one regulator.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub rule: String,
    pub title: String,
    pub incident: String,
    pub generated_at: chrono::DateTime<chrono::Utc>,
    pub note: String,
    pub fields: Vec<DraftField>,
}

fn known(label: &str, value: impl Into<String>) -> DraftField {
    DraftField {
        label: label.to_owned(),
        value: value.into(),
        to_complete: false,
    }
}

fn blank(label: &str, hint: &str) -> DraftField {
    DraftField {
        label: label.to_owned(),
        value: format!("[{hint}]"),
        to_complete: true,
    }
}

fn people_under(r: &Report, rule: &str) -> u64 {
    r.obligations
        .iter()
        .find(|o| o.rule == rule)
        .map_or(0, |o| o.people)
}

fn remedial(r: &Report) -> String {
    let paused: Vec<String> = r
        .programs
        .iter()
        .map(|p| match p.paused_at {
            Some(at) => format!("paused the programme '{}' on {}", p.slug, time(at)),
            None => format!("the programme '{}' is {}", p.slug, p.state),
        })
        .collect();
    let mut parts = paused;
    parts.push(format!(
        "{} of {} affected people notified so far",
        r.incident.notified, r.incident.people
    ));
    parts.join("; ")
}

/// The categories of the people `rule` covers, each with how many of them it concerns;
/// a category none of them has is left out. Before any roster, the categories the incident
/// was opened with.
pub(super) fn categories_with_counts(r: &Report, rule: &str) -> Vec<String> {
    if r.incident.people == 0 {
        return r
            .incident
            .categories
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
    }
    let counts = r.categories_by_rule.get(rule);
    r.incident
        .categories
        .iter()
        .filter_map(|c| {
            let n = *counts?.get(c.as_str())?;
            (n > 0).then(|| format!("{} ({})", c.as_str(), plural(n, "person", "people")))
        })
        .collect()
}

/// The records a regulator's draft counts: one per person `rule` covers and data category.
pub(super) fn records_under(r: &Report, rule: &str) -> u64 {
    r.categories_by_rule
        .get(rule)
        .map_or(0, |counts| counts.values().sum())
}

fn categories_field(r: &Report, rule: &str) -> String {
    let categories = categories_with_counts(r, rule);
    if categories.is_empty() {
        "[to be determined]".to_owned()
    } else {
        categories.join("; ")
    }
}

/// Who may hold the data as the access log shows it, in counts (the accessors' names stay
/// in the evidence).
fn who_may_hold(r: &Report) -> String {
    match &r.evidence {
        None => "[no access log analysed yet: who may hold the information is not established]"
            .to_owned(),
        Some(e) => format!(
            "[name them] The access log shows {} not on the allow-list; the data of {} read and of {} copied",
            plural(e.unauthorized_accessors, "accessor", "accessors"),
            plural(e.people_read, "person", "people"),
            plural(e.people_acquired, "person", "people")
        ),
    }
}

/// What New Zealand's Privacy Commissioner receives through NotifyUs: the content s117 asks
/// of a notification to the Commissioner (a description with the number affected and who
/// may hold the information, the steps taken including whether people are told, any public
/// notice or delay, other agencies contacted, a contact person), with the s113 assessment.
pub fn nz_notifyus(r: &Report, contact: &Contact) -> Draft {
    let i = &r.incident;
    let people = people_under(r, "nz-privacy-2020");
    let applies = r.obligations.iter().any(|o| o.rule == "nz-privacy-2020");
    let harm = match &i.serious_harm {
        Some(h) => {
            let factors: Vec<String> = h.test.factors().map(|(n, f)| format!("{n}: {f}")).collect();
            known(
                "Serious-harm assessment (s113)",
                format!(
                    "{}; {}; reason: {}",
                    h.test.summary(),
                    factors.join("; "),
                    h.reason
                ),
            )
        }
        None => blank(
            "Serious-harm assessment (s113)",
            "not recorded: breachdesk incident serious-harm",
        ),
    };
    Draft {
        rule: "nz-notifyus".into(),
        title: "Notification of a privacy breach to the Privacy Commissioner (NotifyUs)".into(),
        incident: i.id.to_string(),
        generated_at: r.generated_at,
        note: format!(
            "DRAFT for the Office of the Privacy Commissioner's NotifyUs form, with what the Privacy Act 2020 s117 requires of a notification to the Commissioner; the live form's wording may differ. Notify as soon as practicable after becoming aware of a notifiable privacy breach (s114); aware {}. Review every field; this is decision support, not legal advice.{}",
            time(i.aware_time()),
            if applies {
                ""
            } else {
                " As recorded, nobody on the roster lives in New Zealand."
            }
        ),
        fields: vec![
            blank("Agency", "the agency's name and sector"),
            known("Contact person for inquiries (s117)", contact.line()),
            blank("When the breach happened", "date, or the period"),
            known("When the agency became aware", time(i.aware_time())),
            blank("How the breach was discovered", "who found it, how"),
            known(
                "Description of the breach (s117)",
                if i.summary.is_empty() {
                    i.title.clone()
                } else {
                    i.summary.clone()
                },
            ),
            known(
                "Personal information involved",
                categories_field(r, "nz-privacy-2020"),
            ),
            known(
                "Number of affected individuals (s117)",
                format!("{people} in New Zealand ({} in all)", i.people),
            ),
            DraftField {
                label: "Who may hold the information (s117)".into(),
                value: who_may_hold(r),
                to_complete: true,
            },
            harm,
            known(
                "Steps taken or intended, and whether the affected individuals have been or will be told (s117)",
                remedial(r),
            ),
            blank(
                "Public notice instead of notifying individuals (s116)",
                "if relying on s116, the reasons",
            ),
            blank(
                "Delay in notifying individuals (s116)",
                "if notice is delayed, the reason and the expected date",
            ),
            blank(
                "Other agencies contacted (s117)",
                "their names or a general description, and why",
            ),
        ],
    }
}

/// What the UK Information Commissioner's Office receives in a personal data breach report:
/// UK GDPR Art. 33(3)'s content under the report's sections, initial or follow-up (33(4)).
pub fn ico(r: &Report, contact: &Contact) -> Draft {
    let i = &r.incident;
    let obligation = r.obligations.iter().find(|o| o.rule == "uk-gdpr-33");
    let uk_people = obligation.map_or(0, |o| o.people);
    let report_type = match obligation.and_then(|o| o.submissions.first()) {
        None => "Initial report".to_owned(),
        Some(s) => format!(
            "Follow-up report (the initial report went on {}{})",
            time(s.at),
            s.reference
                .as_ref()
                .map_or(String::new(), |r| format!(", reference {r}"))
        ),
    };
    let timing = match obligation.and_then(|o| o.due_at) {
        Some(due) if r.generated_at <= due => known(
            "Reported within 72 hours (Art. 33(1))",
            format!("yes, if submitted by {}", time(due)),
        ),
        Some(due) => blank(
            "Reported within 72 hours (Art. 33(1))",
            &format!(
                "no: the 72 hours ended {}; give the reasons for the delay",
                time(due)
            ),
        ),
        None => blank(
            "Reported within 72 hours (Art. 33(1))",
            "when you became aware",
        ),
    };
    let records = records_under(r, "uk-gdpr-33");
    let consequences = match (&r.evidence, &i.assessment) {
        (None, None) => blank(
            "Likely consequences (Art. 33(3)(c))",
            "whether the data was read is still under investigation; describe the likely consequences",
        ),
        (evidence, assessment) => {
            let mut parts = Vec::new();
            if let Some(e) = evidence {
                parts.push(format!(
                    "the access log shows the data of {} read and of {} copied by {} off the allow-list (finding: {})",
                    plural(e.people_read, "person", "people"),
                    plural(e.people_acquired, "person", "people"),
                    plural(e.unauthorized_accessors, "accessor", "accessors"),
                    e.finding.as_str()
                ));
            }
            if let Some(a) = assessment {
                parts.push(a.inputs.summary());
            }
            known(
                "Likely consequences (Art. 33(3)(c))",
                format!(
                    "{} [describe the consequences for the people]",
                    parts.join("; ")
                ),
            )
        }
    };
    let told = match r.obligations.iter().find(|o| o.rule == "uk-gdpr-34") {
        Some(o) => match &o.state {
            crate::domain::ObligationState::Waived { reason } => {
                format!("not required: {reason}")
            }
            _ => format!("{} of {} notified so far", i.notified, i.people),
        },
        None => format!("{} of {} notified so far", i.notified, i.people),
    };
    let eea = people_under(r, "gdpr-33");
    Draft {
        rule: "ico".into(),
        title: "Personal data breach report to the Information Commissioner's Office".into(),
        incident: i.id.to_string(),
        generated_at: r.generated_at,
        note: format!(
            "DRAFT for the ICO's personal data breach report, with what UK GDPR Art. 33(3) requires; the live form's wording may differ. Review every field; this is decision support, not legal advice.{}",
            if obligation.is_some() {
                ""
            } else {
                " As recorded, nobody on the roster lives in the United Kingdom."
            }
        ),
        fields: vec![
            known("Report type (Art. 33(4))", report_type),
            blank("Organisation", "name, ICO registration number, sector"),
            known(
                "Data protection officer or other contact point (Art. 33(3)(b))",
                if contact.dpo.is_empty() {
                    contact.line()
                } else {
                    contact.dpo.clone()
                },
            ),
            known(
                "What happened (Art. 33(3)(a))",
                if i.summary.is_empty() {
                    i.title.clone()
                } else {
                    i.summary.clone()
                },
            ),
            blank("How you found out", "who found it, how"),
            blank("When the breach happened", "date, or the period"),
            known("When you discovered it", time(i.discovered_at)),
            known("When you became aware", time(i.aware_time())),
            timing,
            known(
                "Categories of personal data (Art. 33(3)(a))",
                categories_field(r, "uk-gdpr-33"),
            ),
            known(
                "Approximate number of data subjects (Art. 33(3)(a))",
                format!("{uk_people} in the United Kingdom ({} in all)", i.people),
            ),
            known(
                "Approximate number of personal data records (Art. 33(3)(a))",
                format!("{records} (one per person and data category)"),
            ),
            blank("Categories of data subjects", "e.g. employees, customers"),
            consequences,
            known("Measures taken or proposed (Art. 33(3)(d))", remedial(r)),
            known("Have the data subjects been told (Art. 34)", told),
            known(
                "Other supervisory authorities",
                if eea > 0 {
                    format!(
                        "{eea} people in the EEA are affected too: notify the lead supervisory authority under GDPR Art. 33 (breachdesk report --regulator gdpr-33)"
                    )
                } else {
                    "no one in the EEA on the roster".to_owned()
                },
            ),
        ],
    }
}

/// The HHS breach portal's notice of a breach of unsecured protected health information.
/// 500 or more people: within 60 days of discovery (and the media in each state with more
/// than 500); fewer: within 60 days of the end of the calendar year of discovery.
pub fn hhs(r: &Report) -> Draft {
    let i = &r.incident;
    let people = people_under(r, "hipaa");
    let discovered = i.discovered_at;
    let deadline = if people >= 500 {
        format!(
            "500 or more individuals: notify the Secretary within 60 days of discovery, by {} (45 CFR 164.408(b)), and prominent media outlets in each State or jurisdiction with more than 500 residents affected (164.406)",
            time(discovered + chrono::Duration::days(60))
        )
    } else {
        format!(
            "fewer than 500 individuals: may be logged and reported within 60 days after the end of calendar year {}, by {}-03-01 (45 CFR 164.408(c))",
            discovered.format("%Y"),
            discovered
                .format("%Y")
                .to_string()
                .parse::<i32>()
                .unwrap_or(0)
                + 1
        )
    };
    let breach_type = match r.evidence.as_ref().map(|e| e.finding) {
        Some(crate::domain::Finding::NoAccess) => {
            "Unauthorized Access/Disclosure (exposure; the access log shows no reader off the allow-list)"
        }
        Some(_) => "Unauthorized Access/Disclosure",
        None => "Unauthorized Access/Disclosure (to confirm: no access log analysed yet)",
    };
    Draft {
        rule: "hhs".into(),
        title:
            "Notice to the Secretary of HHS of a breach of unsecured protected health information"
                .into(),
        incident: i.id.to_string(),
        generated_at: r.generated_at,
        note: format!(
            "DRAFT for the HHS breach portal, generated by breachdesk. Review every field; this is decision support, not legal advice.{} Deadline: {deadline}.",
            if r.obligations.iter().any(|o| o.rule == "hipaa") {
                ""
            } else {
                " As recorded, HIPAA does not apply to this incident (no health data of people in the US exposed)."
            }
        ),
        fields: vec![
            blank(
                "Covered entity name, address and contact",
                "the covered entity or business associate",
            ),
            blank("Breach start date", "when the exposure began"),
            blank("Breach end date", "when it was closed"),
            known("Discovery date", time(discovered)),
            known(
                "Approximate number of individuals affected",
                people.to_string(),
            ),
            known("Type of breach", breach_type),
            blank(
                "Location of breached information",
                "e.g. network server, email, electronic medical record",
            ),
            known(
                "Type of protected health information involved",
                "health data, as recorded on the roster (category health-data) [specify: clinical, demographic, financial, other]",
            ),
            known(
                "Brief description of the breach",
                if i.summary.is_empty() {
                    i.title.clone()
                } else {
                    i.summary.clone()
                },
            ),
            blank(
                "Safeguards in place prior to the breach",
                "e.g. access controls, encryption",
            ),
            known(
                "Individual notice",
                format!(
                    "{} of {} affected people notified so far",
                    i.notified, i.people
                ),
            ),
            known("Actions taken in response", remedial(r)),
        ],
    }
}

/// What the California Attorney General receives when more than 500 residents are
/// notified: a sample copy of the notice, without personal information, within 15 days.
pub fn california_ag(r: &Report, sample: &Letter) -> Draft {
    let i = &r.incident;
    let residents = i.people_by_location.get("US-CA").copied().unwrap_or(0);
    Draft {
        rule: "us-ca-ag".into(),
        title: "Sample copy of a security breach notification for the California Attorney General"
            .into(),
        incident: i.id.to_string(),
        generated_at: r.generated_at,
        note: format!(
            "DRAFT generated by breachdesk. Required when more than 500 California residents are notified (Cal. Civ. Code 1798.82(f)); this incident has {residents}. Submit within 15 days of notifying them. Review every field; this is decision support, not legal advice."
        ),
        fields: vec![
            blank("Organization name and type", "the business"),
            blank("Date(s) of breach", "date, estimated date or range"),
            known("Date breach discovered", time(i.discovered_at)),
            blank(
                "Date(s) notice provided to consumers",
                "when the letters were sent",
            ),
            known("California residents affected", residents.to_string()),
            known(
                "Notified so far (all places)",
                format!("{} of {}", i.notified, i.people),
            ),
            known(
                "Sample copy of the notice (subject)",
                sample.subject.clone(),
            ),
            known("Sample copy of the notice (text)", sample.text.clone()),
        ],
    }
}

/// A draft as Markdown: each field a heading and its value, text from users escaped.
pub fn markdown(d: &Draft) -> String {
    let mut blocks = vec![
        Block::Heading(Text::own(format!("{}: {}", d.incident, d.title))),
        Block::Para(Text::own(format!(
            "{} Generated {}.",
            d.note,
            time(d.generated_at)
        ))),
    ];
    for f in &d.fields {
        blocks.push(Block::Heading(Text::own(f.label.clone())));
        // Values hold summaries, titles and rendered letters: users' text.
        blocks.push(Block::Para(Text::user(f.value.clone())));
    }
    render_md(&blocks)
}
