//! Reading an entry whole: `Enter` on a tab opens what is under the cursor (or, on tabs
//! without one, every entry) in a scrollable panel, wrapped, with the values before and
//! after a change. Lists cut long text at the screen's edge; these panels never do.

use crate::domain::AuditEvent;
use crate::tui::app::Panel;
use crate::tui::screens::incident::{Detail, Tab};

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Every line of one audit event.
fn event_lines(e: &AuditEvent, lines: &mut Vec<String>) {
    let d = &e.draft;
    lines.push(format!("event {} · {} · {}", e.seq, time(d.at), d.action));
    lines.push(format!("by: {}", d.actor));
    if let Some(before) = &d.before {
        lines.push(format!("before: {before}"));
    }
    if let Some(after) = &d.after {
        lines.push(format!("after: {after}"));
    }
    lines.extend(d.detail.lines().map(str::to_owned));
    if let Some(private) = &e.revealed {
        lines.push(String::new());
        lines.extend(private.lines().map(str::to_owned));
    }
}

/// The panel `Enter` opens on the open tab, if there is anything to read.
pub(crate) fn panel(d: &Detail) -> Option<Panel> {
    let mut lines = Vec::new();
    let title = match d.tab {
        Tab::Overview => {
            let i = &d.incident;
            lines.push(i.title.clone());
            lines.push(String::new());
            lines.extend(i.summary.lines().map(str::to_owned));
            format!(" {} ", i.id)
        }
        Tab::Timeline => {
            event_lines(d.timeline.events.get(d.timeline.selected)?, &mut lines);
            " Timeline entry ".to_owned()
        }
        Tab::People => {
            let p = d.people.row(d.people.selected)?;
            lines.push(format!("{} {}", p.employee_id, p.name));
            lines.push(format!("email: {}", p.email));
            let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
            lines.push(format!("categories: {}", cats.join(", ")));
            lines.push(format!(
                "location: {}",
                p.location.as_ref().map_or("-", |l| l.as_str())
            ));
            lines.push(format!(
                "language: {}",
                p.language
                    .as_ref()
                    .map_or("English (default)", |l| l.as_str())
            ));
            lines.push(format!(
                "notified: {}",
                p.notified_at.map_or_else(|| "not yet".to_owned(), time)
            ));
            if let Some(b) = &p.bounced {
                lines.push(format!(
                    "bounced: {} {} ({})",
                    b.status,
                    b.diagnostic,
                    time(b.recorded_at)
                ));
            }
            " Person ".to_owned()
        }
        Tab::Programs => {
            let p = d.programs.selected()?;
            lines.push(format!("{} ({}): {}", p.slug, p.state, p.name));
            lines.push(format!("owner: {}", p.owner));
            let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
            lines.push(format!("categories: {}", cats.join(", ")));
            lines.push(format!(
                "pause hook: {}",
                p.pause_hook
                    .as_deref()
                    .unwrap_or("(none: a pause is only recorded)")
            ));
            lines.push(format!(
                "resume hook: {}",
                p.resume_hook.as_deref().unwrap_or("(none)")
            ));
            if let Some(at) = p.paused_at {
                lines.push(format!("paused since: {}", time(at)));
            }
            let incidents: Vec<String> = p.incidents.iter().map(ToString::to_string).collect();
            lines.push(format!("linked to: {}", incidents.join(", ")));
            " Programme ".to_owned()
        }
        Tab::Deadlines => {
            for o in &d.deadlines.obligations {
                lines.push(format!("{}: {}", o.rule, o.name));
                lines.push(format!("  notify: {}; {} people", o.notify, o.people));
                lines.push(format!(
                    "  due: {}",
                    o.due_at
                        .map_or_else(|| "without undue delay".to_owned(), time)
                ));
                lines.push(format!("  state: {}", o.state_word()));
                if !o.possible.is_empty() {
                    let elements: Vec<&str> = o.possible.iter().map(|e| e.as_str()).collect();
                    lines.push(format!(
                        "  applies only if {} was exposed: confirm or rule out (x)",
                        elements.join(" or ")
                    ));
                }
                if let crate::domain::ObligationState::Waived { reason } = &o.state {
                    lines.push(format!("  why: {reason}"));
                }
                lines.push(format!("  source: {}", o.citation));
                if let Some(t) = &o.threshold {
                    lines.push(format!("  applies when: {t}"));
                }
                if let Some(c) = &o.contents {
                    lines.push(format!("  the notice contains: {c}"));
                }
                if let Some(m) = &o.credit_monitoring {
                    let names: Vec<&str> = m.elements.iter().map(|e| e.as_str()).collect();
                    lines.push(format!(
                        "  credit monitoring: {} months, free, when {} exposed ({})",
                        m.months,
                        names.join(" or "),
                        m.citation
                    ));
                }
                if let Some(s) = &o.substitute_notice {
                    lines.push(format!("  substitute notice: {s}"));
                }
                if let Some(n) = &o.note {
                    lines.push(format!("  note: {n}"));
                }
            }
            " Obligations ".to_owned()
        }
        Tab::Notifications => {
            let outbox = d.letters.outbox.as_ref()?;
            for f in &outbox.failures {
                lines.push(format!(
                    "failed ({} attempts) {} to {}: {}",
                    f.attempts, f.template, f.recipient, f.error
                ));
            }
            for b in &outbox.bounced {
                lines.push(format!(
                    "bounced {} to {}: {} {}",
                    b.template, b.recipient, b.status, b.diagnostic
                ));
            }
            for p in &outbox.sent_to_previous {
                lines.push(format!(
                    "sent {} to a previous address of {}: {}",
                    p.template, p.recipient, p.sent_to
                ));
            }
            " Letters needing attention ".to_owned()
        }
        Tab::Access => {
            for e in d.access.log.as_ref()? {
                event_lines(e, &mut lines);
                lines.push(String::new());
            }
            " Access log ".to_owned()
        }
    };
    (!lines.is_empty()).then_some(Panel {
        title,
        lines,
        scroll: 0,
    })
}
