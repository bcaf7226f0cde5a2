//! Incident reports (Markdown, JSON, HTML) and the draft notification to a supervisory
//! authority under GDPR Art. 33(3). Everything is gathered through the desk, so a report
//! follows the same access rules as the screens: no names or addresses, only counts. Text
//! from users is rendered inert in both formats (`report/text.rs`).

pub mod drafts;
pub mod register;
pub mod render;
mod text;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::deadlines::Obligation;
use crate::desk::{Desk, DeskError, OutboxStatus, ReadPath};
use crate::domain::{
    AuditAction, AuditEvent, EvidenceSummary, Incident, IncidentId, ObligationState, Program,
    UserName,
};
use crate::notify::Contact;
use text::{Text, html, md_cell, md_heading, md_paragraph};

/// A change of severity.
#[derive(Debug, Clone, Serialize)]
pub struct SeverityChange {
    pub at: DateTime<Utc>,
    pub by: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// A programme linked to the incident, and when it was paused.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramLine {
    pub slug: String,
    pub name: String,
    pub state: String,
    pub paused_at: Option<DateTime<Utc>>,
}

/// Everything a report says, gathered once.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
    pub incident: Incident,
    pub severity_history: Vec<SeverityChange>,
    pub timeline: Vec<AuditEvent>,
    pub people_by_category: BTreeMap<String, u64>,
    pub people_by_location: BTreeMap<String, u64>,
    pub programs: Vec<ProgramLine>,
    /// Letters per state, and per template and state.
    pub notifications: Option<OutboxStatus>,
    pub obligations: Vec<Obligation>,
    /// Affected people no rule covers, by location.
    pub uncovered: Vec<crate::deadlines::Uncovered>,
    pub evidence: Option<EvidenceSummary>,
    /// People per data category among those each obligation's rule covers, by rule id: what
    /// a regulator's draft counts.
    #[serde(skip)]
    pub categories_by_rule: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Gathers a report of `id` as `actor` sees it.
pub fn gather(
    desk: &dyn Desk,
    actor: &UserName,
    id: IncidentId,
    now: DateTime<Utc>,
) -> Result<Report, DeskError> {
    let incident = desk.incident(id)?;
    let timeline = desk.timeline(id)?;
    let severity_history = timeline
        .iter()
        .filter(|e| e.draft.action == AuditAction::SeverityChanged)
        .map(|e| SeverityChange {
            at: e.draft.at,
            by: e.draft.actor.to_string(),
            from: e.draft.before.clone().unwrap_or_default(),
            to: e.draft.after.clone().unwrap_or_default(),
            reason: e.draft.detail.clone(),
        })
        .collect();
    let programs = desk
        .programs()?
        .into_iter()
        .filter(|p: &Program| incident.programs.contains(&p.slug))
        .map(|p| ProgramLine {
            slug: p.slug.to_string(),
            name: p.name,
            state: p.state.to_string(),
            paused_at: p.paused_at,
        })
        .collect();
    let notifications = if incident.people > 0 {
        let mut status = desk.outbox_status(id, ReadPath::Report)?;
        status.failures.clear();
        Some(status)
    } else {
        None
    };
    let obligations = desk.obligations(Some(id))?;
    let rules = desk.rules();
    let uncovered = rules.uncovered(&incident);
    let categories_by_rule = obligations
        .iter()
        .filter_map(|o| rules.rule(&o.rule))
        .map(|rule| (rule.id.clone(), categories_covered(&incident, rule)))
        .collect();
    Ok(Report {
        generated_at: now,
        generated_by: actor.to_string(),
        severity_history,
        people_by_category: incident.people_by_category.clone(),
        people_by_location: incident.people_by_location.clone(),
        programs,
        notifications,
        obligations,
        uncovered,
        evidence: incident.evidence.clone(),
        categories_by_rule,
        timeline,
        incident,
    })
}

/// People per data category in the locations `rule` covers. A roster imported before the
/// per-location counts were kept has only the counts over everyone: those stand in.
fn categories_covered(incident: &Incident, rule: &crate::deadlines::Rule) -> BTreeMap<String, u64> {
    if incident.people_by_location_category.is_empty() {
        return incident.people_by_category.clone();
    }
    let mut counts = BTreeMap::new();
    for (location, within) in &incident.people_by_location_category {
        if rule.covers(location) {
            for (category, n) in within {
                *counts.entry(category.clone()).or_insert(0) += n;
            }
        }
    }
    counts
}

/// `1 person`, `2 people`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

use crate::domain::when::rfc3339 as time;

fn obligation_state(o: &Obligation) -> String {
    match (&o.state, o.met_in_time()) {
        (
            ObligationState::Done {
                at,
                reference,
                phase,
            },
            met,
        ) => format!(
            "{} {}{}{}",
            if *phase == Some(crate::domain::Phase::Initial) {
                "partly met (initial report; follow-up pending):"
            } else {
                "done"
            },
            time(*at),
            reference
                .as_deref()
                .map_or(String::new(), |r| format!(" (ref {r})")),
            if met == Some(false) {
                ", LATE"
            } else {
                ", in time"
            }
        ),
        (ObligationState::Waived { reason }, _) => format!("waived: {reason}"),
        (ObligationState::NotTriggered { reason }, _) => reason.clone(),
        (ObligationState::Open, _) if !o.possible.is_empty() => {
            let elements: Vec<&str> = o.possible.iter().map(|e| e.as_str()).collect();
            format!(
                "possible: applies only if {} was exposed (to confirm or rule out)",
                elements.join(" or ")
            )
        }
        (ObligationState::Open, _) => "open".to_owned(),
    }
}

/// A block of text for a report: headings, paragraphs, tables. Rendered as Markdown or
/// HTML, so both say the same thing.
enum Block {
    Heading(Text),
    Para(Text),
    /// Column names, then rows of cells; every cell is escaped as a user's text.
    Table(Vec<&'static str>, Vec<Vec<String>>),
}

fn blocks(r: &Report) -> Vec<Block> {
    let i = &r.incident;
    let mut out = vec![
        Block::Heading(Text::own(format!("{} {}: ", i.id, i.severity)).and_user(&i.title)),
        Block::Para(
            Text::own(format!("Status {}; owner ", i.status))
                .and_user(i.owner.as_str())
                .and(format!(
                    "; opened {}; aware {}; discovered {}. Report generated {} by ",
                    time(i.opened_at),
                    time(i.aware_time()),
                    time(i.discovered_at),
                    time(r.generated_at),
                ))
                .and_user(&r.generated_by)
                .and("."),
        ),
    ];
    if let Some(p) = &i.purged {
        out.push(Block::Para(
            Text::own(format!(
                "Personal data purged on {} by {}: the roster, the letters and the evidence are destroyed; the counts, obligations, assessment and timeline below remain. Reason: ",
                time(p.at),
                p.by
            ))
            .and_user(&p.reason),
        ));
    }
    if !i.summary.is_empty() {
        out.push(Block::Heading(Text::own("Summary")));
        out.push(Block::Para(Text::user(&i.summary)));
    }
    out.push(Block::Heading(Text::own("Severity history")));
    out.push(if r.severity_history.is_empty() {
        Block::Para(Text::own(format!("{} since opening.", i.severity)))
    } else {
        Block::Table(
            vec!["When", "By", "From", "To", "Why"],
            r.severity_history
                .iter()
                .map(|c| {
                    vec![
                        time(c.at),
                        c.by.clone(),
                        c.from.clone(),
                        c.to.clone(),
                        c.reason.clone(),
                    ]
                })
                .collect(),
        )
    });
    out.push(Block::Heading(Text::own("Affected people")));
    out.push(Block::Para(Text::own(format!(
        "{} people affected; {} notified.",
        i.people, i.notified
    ))));
    let count_rows = |m: &BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| vec![k.clone(), v.to_string()])
            .collect()
    };
    if !r.people_by_category.is_empty() {
        out.push(Block::Table(
            vec!["Category", "People"],
            count_rows(&r.people_by_category),
        ));
    }
    if !r.people_by_location.is_empty() {
        out.push(Block::Table(
            vec!["Location", "People"],
            count_rows(&r.people_by_location),
        ));
    }
    out.push(Block::Heading(Text::own("Programmes")));
    out.push(if r.programs.is_empty() {
        Block::Para(Text::own("No programme linked."))
    } else {
        Block::Table(
            vec!["Programme", "Name", "State", "Paused at"],
            r.programs
                .iter()
                .map(|p| {
                    vec![
                        p.slug.clone(),
                        p.name.clone(),
                        p.state.clone(),
                        p.paused_at.map_or("-".into(), time),
                    ]
                })
                .collect(),
        )
    });
    out.push(Block::Heading(Text::own("Notifications")));
    match &r.notifications {
        Some(n) if n.counts.values().any(|c| *c > 0) => out.push(Block::Table(
            vec!["Letter", "State", "Count"],
            n.by_template
                .iter()
                .flat_map(|(t, states)| {
                    states
                        .iter()
                        .map(move |(s, c)| vec![t.clone(), s.clone(), c.to_string()])
                })
                .collect(),
        )),
        _ => out.push(Block::Para(Text::own("No letters queued."))),
    }
    out.push(Block::Heading(Text::own("Legal obligations")));
    out.push(if r.obligations.is_empty() {
        Block::Para(Text::own("No jurisdiction rule applies yet."))
    } else {
        Block::Table(
            vec!["Rule", "Notify", "Due", "People", "State"],
            r.obligations
                .iter()
                .map(|o| {
                    vec![
                        o.rule.clone(),
                        o.notify.clone(),
                        o.due_at.map_or("without undue delay".into(), time),
                        o.people.to_string(),
                        obligation_state(o),
                    ]
                })
                .collect(),
        )
    });
    for u in &r.uncovered {
        out.push(Block::Para(Text::own(u.to_string())));
    }
    out.push(Block::Para(Text::own(
        "Obligations are decision support, not legal advice.",
    )));
    out.push(Block::Heading(Text::own("Harm assessment")));
    out.push(Block::Para(match &r.incident.assessment {
        None => Text::own("Not assessed: whether the breach is likely to result in a high risk to the people (GDPR Art. 34) has not been recorded (`A` on the incident in the terminal UI, or breachdesk incident assess)."),
        Some(a) => {
            let mut text = Text::own(a.inputs.summary());
            if let Some(why) = a.inputs.dpc_reason() {
                text = text.and("; DPC because ").and_user(why);
            }
            text.and(format!(
                ", by {} on {}: {}. Reason: ",
                a.by,
                a.at.format("%Y-%m-%d %H:%M UTC"),
                if a.inputs.band().is_high_risk() {
                    "a high risk to the people affected"
                } else {
                    "not a high risk to the people affected"
                }
            ))
            .and_user(&a.reason)
        }
    }));
    if let Some(h) = &r.incident.serious_harm {
        out.push(Block::Para(
            Text::own(format!(
                "{}, by {} on {}. Reason: ",
                h.test.summary(),
                h.by,
                h.at.format("%Y-%m-%d %H:%M UTC")
            ))
            .and_user(&h.reason),
        ));
    }
    out.push(Block::Heading(Text::own("Exposure evidence")));
    out.push(Block::Para(match &r.evidence {
        None => Text::own("No access log of the exposed store has been imported: whether anyone read the data is not established."),
        Some(e) => Text::user(&e.source).and(format!(
            " ({} rows): finding {}. {}, {} not on the allow-list; data of {} read and of {} copied by someone off the allow-list.",
            e.rows,
            e.finding.as_str(),
            plural(e.accessors, "accessor", "accessors"),
            e.unauthorized_accessors,
            plural(e.people_read, "person", "people"),
            plural(e.people_acquired, "person", "people")
        )),
    }));
    out.push(Block::Heading(Text::own("Timeline")));
    out.push(Block::Table(
        vec!["When", "Who", "What", "Detail"],
        r.timeline
            .iter()
            .map(|e| {
                vec![
                    time(e.draft.at),
                    e.draft.actor.to_string(),
                    e.draft.action.as_str().to_owned(),
                    e.draft.detail.clone(),
                ]
            })
            .collect(),
    ));
    out
}

fn render_md(blocks: &[Block]) -> String {
    let mut out = String::new();
    let mut first = true;
    for b in blocks {
        match b {
            Block::Heading(h) if first => {
                let _ = writeln!(out, "# {}\n", md_heading(h));
                first = false;
            }
            Block::Heading(h) => {
                let _ = writeln!(out, "## {}\n", md_heading(h));
            }
            Block::Para(p) => {
                for line in md_paragraph(p) {
                    let _ = writeln!(out, "{line}");
                }
                out.push('\n');
            }
            Block::Table(head, rows) => {
                let _ = writeln!(out, "| {} |", head.join(" | "));
                let _ = writeln!(out, "|{}", " --- |".repeat(head.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
        }
    }
    out
}

fn render_html(title: &str, blocks: &[Block]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.2em .5em;text-align:left}}</style>\n</head>\n<body>\n",
        html(title)
    );
    let mut first = true;
    for b in blocks {
        match b {
            Block::Heading(h) if first => {
                let _ = writeln!(out, "<h1>{}</h1>", html(&h.plain()));
                first = false;
            }
            Block::Heading(h) => {
                let _ = writeln!(out, "<h2>{}</h2>", html(&h.plain()));
            }
            Block::Para(p) => {
                let lines: Vec<String> = p.plain().lines().map(html).collect();
                let _ = writeln!(out, "<p>{}</p>", lines.join("<br>"));
            }
            Block::Table(head, rows) => {
                out.push_str("<table>\n<tr>");
                for h in head {
                    let _ = write!(out, "<th>{}</th>", html(h));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for c in row {
                        let _ = write!(out, "<td>{}</td>", html(c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    render_md(&blocks(r))
}

/// The report as a standalone HTML page.
pub fn html_page(r: &Report) -> String {
    render_html(&format!("{} incident report", r.incident.id), &blocks(r))
}

/// The draft notification to the supervisory authority under GDPR Art. 33(3), as blocks
/// under the headings the article lists.
fn gdpr33_blocks(r: &Report, contact: &Contact) -> Vec<Block> {
    let i = &r.incident;
    let gdpr_people: u64 = r
        .obligations
        .iter()
        .find(|o| o.rule == "gdpr-33")
        .map_or(0, |o| o.people);
    let due = r
        .obligations
        .iter()
        .find(|o| o.rule == "gdpr-33")
        .and_then(|o| o.due_at);
    let categories = drafts::categories_with_counts(r, "gdpr-33");
    let records = drafts::records_under(r, "gdpr-33");
    let mut blocks = vec![
        Block::Heading(
            Text::own("Notification of a personal data breach (GDPR Art. 33): ").and_user(&i.title),
        ),
        Block::Para(Text::own(format!(
            "DRAFT generated {} by breachdesk from {}. Review every section before sending; this is decision support, not legal advice. Became aware: {}.{}",
            time(r.generated_at),
            i.id,
            time(i.aware_time()),
            due.map_or(String::new(), |d| format!(
                " The 72-hour deadline is {}.",
                time(d)
            ))
        ))),
        Block::Heading(Text::own("(a) Nature of the breach")),
        Block::Para(Text::user(if i.summary.is_empty() {
            &i.title
        } else {
            &i.summary
        })),
        // Category names are checked tokens (lowercase letters, digits and '-').
        Block::Para(Text::own(format!(
            "Categories of personal data concerned: {}.",
            if categories.is_empty() {
                "[to be determined]".to_owned()
            } else {
                categories.join("; ")
            }
        ))),
        Block::Para(Text::own(format!(
            "Approximate number of data subjects concerned: {} in the EEA ({} in all). Approximate number of personal data records concerned: {} (one per person and data category).",
            gdpr_people, i.people, records
        ))),
        Block::Heading(Text::own("(b) Contact point")),
        // From the config file, and shown as text: no mailto link is made of it.
        Block::Para(Text::user(contact.line())),
        Block::Heading(Text::own("(c) Likely consequences")),
    ];
    blocks.push(Block::Para(match &r.evidence {
        None => Text::own("Whether the data was read is still under investigation: no access log of the exposed store has been analysed yet. [Describe the likely consequences for the people concerned.]"),
        Some(e) => Text::own(format!(
            "The exposed store's access log ({} entries) shows that the data of {} was read and of {} copied by {} without authorisation (finding: {}). [Describe the likely consequences for the people concerned.]",
            e.rows,
            plural(e.people_read, "person", "people"),
            plural(e.people_acquired, "person", "people"),
            plural(e.unauthorized_accessors, "accessor", "accessors"),
            e.finding.as_str()
        )),
    }));
    blocks.push(Block::Heading(Text::own("(d) Measures taken or proposed")));
    let mut measures: Vec<Text> = r
        .programs
        .iter()
        .map(|p| {
            let named = Text::own("The programme '").and_user(&p.name);
            match p.paused_at {
                Some(at) => named.and(format!("' ({}) was paused at {}.", p.slug, time(at))),
                None => named.and(format!("' ({}) is {}.", p.slug, p.state)),
            }
        })
        .collect();
    if let Some(n) = &r.notifications {
        let sent = n.counts.get("sent").copied().unwrap_or(0);
        measures.push(Text::own(format!(
            "{} letters sent to the people concerned; {} of {} people notified so far.",
            sent, i.notified, i.people
        )));
    }
    measures.push(Text::own(
        "[Other measures taken or proposed to address the breach and mitigate its effects.]",
    ));
    blocks.push(Block::Para(Text::lines(measures)));
    blocks
}

/// The Art. 33(3) draft as Markdown.
pub fn gdpr33_markdown(r: &Report, contact: &Contact) -> String {
    render_md(&gdpr33_blocks(r, contact))
}

/// The Art. 33(3) draft as an HTML page.
pub fn gdpr33_html(r: &Report, contact: &Contact) -> String {
    render_html(
        &format!(
            "{} notification to the supervisory authority",
            r.incident.id
        ),
        &gdpr33_blocks(r, contact),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_paragraphs_keep_their_lines() {
        let page = render_html("t", &[Block::Para(Text::user("one <a>\ntwo"))]);
        assert!(page.contains("<p>one &lt;a&gt;<br>two</p>"), "{page}");
    }
}
