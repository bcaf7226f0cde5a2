//! The Overview tab of an incident: severity and its guidance, status and the allowed next
//! moves, owner, times, evidence, categories, people told, linked programmes and the summary.
//! Read-only; it draws the incident as last read.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::incident::Detail;
use crate::tui::app::App;
use crate::tui::view::{age, count, field, safe};

pub fn render(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    let inc = &detail.incident;
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let next: Vec<&str> = inc
        .status
        .allowed_next()
        .iter()
        .map(|s| s.as_str())
        .collect();
    let categories: Vec<&str> = inc.categories.iter().map(|c| c.as_str()).collect();
    let share = inc.notified_percent().unwrap_or(0);
    let mut lines = vec![
        // The header line cuts a long title at the edge; here it wraps, whole.
        field(app, "Title", vec![Span::raw(safe(&inc.title).into_owned())]),
        field(
            app,
            "Severity",
            vec![
                Span::styled(inc.severity.to_string(), app.theme.severity(inc.severity)),
                Span::raw(format!("  {}", inc.severity.guidance())),
            ],
        ),
        field(
            app,
            "Status",
            vec![Span::raw(format!(
                "{}  (next: {})",
                inc.status,
                next.join(", ")
            ))],
        ),
        field(
            app,
            "Owner",
            vec![Span::raw(safe(inc.owner.as_str()).into_owned())],
        ),
        field(
            app,
            "Opened",
            vec![Span::raw(format!(
                "{} ({} ago)",
                time(inc.opened_at),
                age(app.now, inc.opened_at)
            ))],
        ),
        field(app, "Discovered", vec![Span::raw(time(inc.discovered_at))]),
        field(app, "Aware", vec![Span::raw(time(inc.aware_time()))]),
        field(
            app,
            "Evidence",
            vec![match &inc.evidence {
                None => Span::styled(
                    "no access log imported: whether anyone read the data is not known",
                    app.theme.warning(),
                ),
                Some(e) if !e.statement.is_empty() => {
                    Span::raw(format!("{}: {}", e.finding.as_str(), safe(&e.statement)))
                }
                Some(e) => Span::raw(format!(
                    "{}: data of {} read, {} copied, by {} off the allow-list",
                    e.finding.as_str(),
                    count(e.people_read),
                    count(e.people_acquired),
                    count(e.unauthorized_accessors)
                )),
            }],
        ),
        field(
            app,
            "Exposed",
            vec![match (inc.exposed_from, inc.exposed_until) {
                (Some(f), Some(u)) => Span::raw(format!("{} to {}", time(f), time(u))),
                (Some(f), None) => Span::raw(format!("since {}, still exposed", time(f))),
                _ => Span::styled(
                    "window not set: C sets it; logs are held against it",
                    app.theme.dim(),
                ),
            }],
        ),
        field(
            app,
            "Categories",
            vec![Span::raw(if categories.is_empty() {
                "-".to_owned()
            } else {
                categories.join(", ")
            })],
        ),
        field(
            app,
            "People",
            vec![Span::raw(format!(
                "{} affected · {} notified ({share}%)",
                count(inc.people),
                count(inc.notified)
            ))],
        ),
    ];
    if detail.programs.linked.is_empty() {
        lines.push(field(
            app,
            "Programmes",
            vec![Span::styled("none linked", app.theme.dim())],
        ));
    }
    for (i, p) in detail.programs.linked.iter().enumerate() {
        let label = if i == 0 { "Programmes" } else { "" };
        let since = p
            .paused_at
            .map(|t| format!(" since {}", time(t)))
            .unwrap_or_default();
        let warn = if p.state.may_be_collecting() {
            "  ! may still be collecting"
        } else {
            ""
        };
        lines.push(field(
            app,
            label,
            vec![
                Span::raw(format!("{} ", p.slug)),
                Span::styled(
                    format!("{}{since}{warn}", p.state),
                    app.theme.program_state(p.state),
                ),
            ],
        ));
    }
    if !inc.summary.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled(" Summary", app.theme.header()));
        lines.extend(
            inc.summary
                .lines()
                .map(|l| Line::raw(format!(" {}", safe(l)))),
        );
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered())
            .wrap(Wrap { trim: false }),
        area,
    );
}
