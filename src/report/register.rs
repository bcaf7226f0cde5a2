//! The breach register (GDPR Art. 33(5): document every personal data breach, "comprising
//! the facts relating to the personal data breach, its effects and the remedial action
//! taken"): every incident, notified or not, with its facts, categories, counts, effects,
//! remedial action, each obligation's decision and when it was met, and why a notification
//! was not made. Counts only: no name, address or employee id is in it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::plural;
use crate::deadlines::RuleBook;
use crate::desk::{Desk, DeskError, IncidentFilter};
use crate::domain::{Incident, ObligationState, inert};

/// The register's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RegisterFormat {
    Md,
    Csv,
    Json,
}

/// The register as a file holds it: Markdown, CSV, or indented JSON.
pub fn file_text(
    entries: &[Entry],
    format: RegisterFormat,
    now: DateTime<Utc>,
) -> Result<String, super::render::RenderError> {
    Ok(match format {
        RegisterFormat::Md => markdown(entries, now),
        RegisterFormat::Csv => csv(entries),
        RegisterFormat::Json => super::render::pretty_json(&entries, "register")?,
    })
}

/// One incident's line in the register.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub incident: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub discovered_at: DateTime<Utc>,
    pub aware_at: DateTime<Utc>,
    pub summary: String,
    pub categories: Vec<String>,
    pub people: u64,
    pub notified: u64,
    pub people_by_location: BTreeMap<String, u64>,
    /// What the breach did: the evidence's finding and counts, and the harm assessment.
    pub effects: String,
    /// What was done: programmes paused, people told.
    pub remedial_action: String,
    pub obligations: Vec<Decision>,
    /// Why a notification was not made, from each obligation waived or not required.
    pub not_notified_because: Vec<String>,
    /// When the incident's personal data was purged (retention), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<DateTime<Utc>>,
}

/// One obligation's decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub rule: String,
    pub notify: String,
    /// open, done or waived.
    pub decision: String,
    pub due_at: Option<DateTime<Utc>>,
    pub met_at: Option<DateTime<Utc>>,
    pub met_in_time: Option<bool>,
    pub reference: Option<String>,
    pub reason: Option<String>,
}

/// The register: every incident opened since `since` (all when `None`), oldest first.
pub fn gather(desk: &dyn Desk, since: Option<DateTime<Utc>>) -> Result<Vec<Entry>, DeskError> {
    let rules = desk.rules();
    let programs = desk.programs()?;
    let mut incidents = desk.incidents(IncidentFilter::default())?;
    incidents.retain(|i| since.is_none_or(|s| i.opened_at >= s));
    incidents.sort_by_key(|i| i.id);
    Ok(incidents
        .iter()
        .map(|i| entry(i, &rules, &programs))
        .collect())
}

fn entry(inc: &Incident, rules: &RuleBook, programs: &[crate::domain::Program]) -> Entry {
    let obligations: Vec<Decision> = rules
        .obligations(inc)
        .into_iter()
        .map(|o| {
            let met_in_time = o.met_in_time();
            let (decision, met_at, reference, reason) = match o.state {
                ObligationState::Open => ("open", None, None, None),
                ObligationState::Done {
                    at,
                    reference,
                    phase,
                } => (
                    if phase == Some(crate::domain::Phase::Initial) {
                        "partly met"
                    } else {
                        "done"
                    },
                    Some(at),
                    reference,
                    None,
                ),
                ObligationState::Waived { reason } => ("waived", None, None, Some(reason)),
                ObligationState::NotTriggered { reason } => {
                    ("not triggered", None, None, Some(reason))
                }
            };
            Decision {
                rule: o.rule,
                notify: o.notify,
                decision: decision.into(),
                due_at: o.due_at,
                met_at,
                met_in_time,
                reference,
                reason,
            }
        })
        .collect();
    let not_notified_because = obligations
        .iter()
        .filter_map(|d| d.reason.as_ref().map(|r| format!("{}: {r}", d.rule)))
        .collect();
    let mut effects = match &inc.evidence {
        None => {
            "whether anyone read the data is not established (no access log imported)".to_owned()
        }
        Some(e) => format!(
            "access log: {}; data of {} read and of {} copied by {} not on the allow-list",
            e.finding.as_str(),
            plural(e.people_read, "person", "people"),
            plural(e.people_acquired, "person", "people"),
            plural(e.unauthorized_accessors, "accessor", "accessors")
        ),
    };
    match &inc.assessment {
        Some(a) => {
            let _ = write!(effects, "; {}", a.inputs.summary());
        }
        None => effects.push_str("; harm not assessed"),
    }
    let paused: Vec<String> = programs
        .iter()
        .filter(|p| inc.programs.contains(&p.slug))
        .map(|p| match p.paused_at {
            Some(at) => format!("{} paused {}", p.slug, at.format("%Y-%m-%d %H:%M UTC")),
            None => format!("{} {}", p.slug, p.state),
        })
        .collect();
    let mut remedial_action = format!(
        "{}{} of {} people notified",
        if paused.is_empty() {
            String::new()
        } else {
            format!("{}; ", paused.join(", "))
        },
        inc.notified,
        inc.people
    );
    if let Some(p) = &inc.purged {
        let _ = write!(
            remedial_action,
            "; personal data purged {}",
            p.at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    Entry {
        incident: inc.id.to_string(),
        title: inc.title.clone(),
        severity: inc.severity.to_string(),
        status: inc.status.to_string(),
        opened_at: inc.opened_at,
        discovered_at: inc.discovered_at,
        aware_at: inc.aware_time(),
        summary: inc.summary.clone(),
        categories: inc.categories.iter().map(ToString::to_string).collect(),
        people: inc.people,
        notified: inc.notified,
        people_by_location: inc.people_by_location.clone(),
        effects,
        remedial_action,
        obligations,
        not_notified_because,
        purged_at: inc.purged.as_ref().map(|p| p.at),
    }
}

fn decisions(e: &Entry) -> String {
    e.obligations
        .iter()
        .map(|d| {
            let mut s = format!("{}: {}", d.rule, d.decision);
            if let Some(at) = d.met_at {
                let _ = write!(s, " {}", at.format("%Y-%m-%d %H:%M UTC"));
                match d.met_in_time {
                    Some(true) => s.push_str(" (in time)"),
                    Some(false) => s.push_str(" (late)"),
                    None => {}
                }
            }
            if let Some(r) = &d.reference {
                let _ = write!(s, " ref {r}");
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn locations(e: &Entry) -> String {
    e.people_by_location
        .iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The register as CSV, one row per incident; every cell is inert in a spreadsheet.
pub fn csv(entries: &[Entry]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "incident",
        "title",
        "severity",
        "status",
        "opened_at",
        "aware_at",
        "discovered_at",
        "summary",
        "categories",
        "people",
        "notified",
        "people_by_location",
        "effects",
        "remedial_action",
        "obligations",
        "not_notified_because",
    ];
    let _ = w.write_record(header);
    for e in entries {
        let row = [
            e.incident.clone(),
            e.title.clone(),
            e.severity.clone(),
            e.status.clone(),
            e.opened_at.to_rfc3339(),
            e.aware_at.to_rfc3339(),
            e.discovered_at.to_rfc3339(),
            e.summary.clone(),
            e.categories.join(";"),
            e.people.to_string(),
            e.notified.to_string(),
            locations(e),
            e.effects.clone(),
            e.remedial_action.clone(),
            decisions(e),
            e.not_notified_because.join("; "),
        ];
        let _ = w.write_record(row.iter().map(|c| inert::csv_cell(c).into_owned()));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Text from users on one line of the Markdown register: control characters stripped,
/// escaped (no HTML, links or blocks of its own), its line breaks folded.
fn user_line(text: &str) -> String {
    let one = crate::domain::text::for_terminal(&text.replace('\n', " ")).into_owned();
    inert::markdown_line(&inert::markdown(&one)).into_owned()
}

/// The register as Markdown; text from users is escaped.
pub fn markdown(entries: &[Entry], generated_at: DateTime<Utc>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Breach register\n\nEvery incident recorded, notified or not (GDPR Art. 33(5)). Counts only, no personal data. Generated {}.\n",
        generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    if entries.is_empty() {
        out.push_str("No incidents.\n");
    }
    for e in entries {
        let _ = writeln!(
            out,
            "## {} {}: {}\n",
            e.incident,
            e.severity,
            user_line(&e.title)
        );
        let _ = writeln!(
            out,
            "- Status {}; opened {}; aware {}; discovered {}",
            e.status,
            e.opened_at.format("%Y-%m-%d %H:%M UTC"),
            e.aware_at.format("%Y-%m-%d %H:%M UTC"),
            e.discovered_at.format("%Y-%m-%d %H:%M UTC")
        );
        if !e.summary.is_empty() {
            let _ = writeln!(out, "- Facts: {}", user_line(&e.summary));
        }
        let _ = writeln!(
            out,
            "- Data categories: {}",
            if e.categories.is_empty() {
                "none recorded".to_owned()
            } else {
                e.categories.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "- People affected: {} ({}); notified: {}",
            e.people,
            if e.people_by_location.is_empty() {
                "no locations".to_owned()
            } else {
                locations(e)
            },
            e.notified
        );
        let _ = writeln!(out, "- Effects: {}", user_line(&e.effects));
        let _ = writeln!(out, "- Remedial action: {}", e.remedial_action);
        let _ = writeln!(
            out,
            "- Obligations: {}",
            if e.obligations.is_empty() {
                "none apply".to_owned()
            } else {
                user_line(&decisions(e))
            }
        );
        for why in &e.not_notified_because {
            let _ = writeln!(out, "- Not notified: {}", user_line(why));
        }
        out.push('\n');
    }
    out.push_str("Obligations are decision support, not legal advice.\n");
    out
}
