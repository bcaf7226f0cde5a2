//! One incident: a title line, the tabs, and the open tab. The Notifications tab (the
//! outbox and the letters' progress) is `letters.rs`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Tabs, Wrap};

use super::{age, count, letters, safe, scroll_offset};
use crate::tui::app::{App, Detail, Tab};
use crate::tui::strings;

pub fn render(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    let [title, tabs, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let inc = &detail.incident;
    let mut spans = vec![
        Span::styled(format!(" {} ", inc.id), app.theme.title()),
        Span::styled(inc.severity.to_string(), app.theme.severity(inc.severity)),
        Span::raw(format!(" {} ", inc.status)),
        Span::styled(safe(&inc.title).into_owned(), app.theme.title()),
    ];
    if detail.loading {
        spans.push(Span::styled(
            format!("  {}", strings::LOADING),
            app.theme.dim(),
        ));
    }
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line), title);
    let tab_titles = strings::TABS.iter().enumerate().map(|(i, t)| {
        let n = match Tab::ALL[i] {
            Tab::People => format!(" ({})", count(inc.people)),
            Tab::Programs => format!(" ({})", detail.programs.len()),
            _ => String::new(),
        };
        format!("{t}{n}")
    });
    frame.render_widget(
        Tabs::new(tab_titles)
            .padding(" ", "")
            .select(detail.tab.index())
            .highlight_style(app.theme.selected()),
        tabs,
    );
    if let Some(why) = detail.refusal(detail.tab) {
        frame.render_widget(
            Paragraph::new(safe(why).into_owned())
                .block(Block::bordered().title(" need-to-know "))
                .wrap(Wrap { trim: false }),
            body,
        );
        return;
    }
    match detail.tab {
        Tab::Overview => overview(app, detail, frame, body),
        Tab::Timeline => timeline(app, detail, frame, body),
        Tab::People => crate::tui::screens::people::render(app, &detail.people, frame, body),
        Tab::Programs => programs(app, detail, frame, body),
        Tab::Notifications => letters::render(app, detail, frame, body),
        Tab::Access => access(app, detail, frame, body),
        Tab::Deadlines => deadlines(app, detail, frame, body),
    }
}

fn deadlines(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    use crate::domain::ObligationState;
    let block = Block::bordered().title_bottom(strings::NOT_ADVICE);
    if detail.obligations.is_empty() {
        frame.render_widget(
            Paragraph::new(strings::NO_DEADLINES)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let rows = detail.obligations.iter().map(|o| {
        let left = o.due_at.map(|d| d - app.now);
        let (left_text, style) = match (&o.state, left) {
            (ObligationState::Done { .. }, _) => match o.met_in_time() {
                Some(false) => ("done late".to_owned(), app.theme.warning()),
                _ => ("done".to_owned(), app.theme.good()),
            },
            (ObligationState::Waived { .. }, _) => ("waived".to_owned(), app.theme.dim()),
            (ObligationState::Open, None) => ("undue delay".to_owned(), app.theme.warning()),
            (ObligationState::Open, Some(l)) if l < chrono::Duration::zero() => {
                (crate::deadlines::TimeLeft(l).to_string(), app.theme.alarm())
            }
            (ObligationState::Open, Some(l)) if l < chrono::Duration::hours(12) => (
                crate::deadlines::TimeLeft(l).to_string(),
                app.theme.warning(),
            ),
            (ObligationState::Open, Some(l)) => (
                crate::deadlines::TimeLeft(l).to_string(),
                ratatui::style::Style::default(),
            ),
        };
        Row::new(vec![
            Cell::from(safe(&o.rule).into_owned()),
            Cell::from(safe(&o.notify).into_owned()),
            Cell::from(
                o.due_at
                    .map_or("-".to_owned(), |d| d.format("%Y-%m-%d %H:%M").to_string()),
            ),
            Cell::from(Span::styled(left_text, style)),
            Cell::from(o.state.as_str()),
            Cell::from(Line::from(count(o.people)).right_aligned()),
        ])
    });
    let widths = [
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Length(16),
        Constraint::Length(16),
        Constraint::Length(7),
        Constraint::Length(7),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(strings::DEADLINE_HEADERS).style(app.theme.header()))
            .block(block),
        area,
    );
}

fn access(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    let log = detail.access.as_deref().unwrap_or_default();
    if log.is_empty() {
        let text = if detail.access_loading {
            strings::LOADING
        } else {
            strings::NO_ACCESS_READS
        };
        frame.render_widget(Paragraph::new(text).block(Block::bordered()), area);
        return;
    }
    let height = usize::from(area.height.saturating_sub(3));
    let rows = log.iter().take(height).map(|e| {
        let d = &e.draft;
        let (path, records) = d
            .access
            .as_ref()
            .map_or(("-", 0), |a| (a.path.as_str(), a.records));
        let refused = d.action == crate::domain::AuditAction::AccessDenied;
        let row = Row::new(vec![
            Cell::from(d.at.format("%m-%d %H:%M").to_string()),
            Cell::from(safe(d.actor.as_str()).into_owned()),
            Cell::from(path.to_owned()),
            Cell::from(if refused {
                "-".to_owned()
            } else {
                count(records)
            }),
            Cell::from(if refused { "REFUSED" } else { "read" }),
        ]);
        if refused {
            row.style(app.theme.alarm())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(11),
        Constraint::Length(12),
        Constraint::Length(18),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(strings::ACCESS_HEADERS).style(app.theme.header()))
            .block(Block::bordered().title(format!(" {} access-log entries ", log.len()))),
        area,
    );
}

pub(super) fn field<'a>(app: &App, name: &'a str, value: Vec<Span<'a>>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!(" {name:<12}"), app.theme.header())];
    spans.extend(value);
    Line::from(spans)
}

fn overview(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
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
    if detail.programs.is_empty() {
        lines.push(field(
            app,
            "Programmes",
            vec![Span::styled("none linked", app.theme.dim())],
        ));
    }
    for (i, p) in detail.programs.iter().enumerate() {
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

fn timeline(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    let [list, full] = Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    if detail.timeline.is_empty() {
        let text = if detail.loading {
            strings::LOADING
        } else {
            strings::NO_EVENTS
        };
        frame.render_widget(Paragraph::new(text).block(Block::bordered()), list);
        return;
    }
    let height = usize::from(list.height.saturating_sub(2));
    let offset = scroll_offset(detail.timeline_selected, height);
    let rows = detail
        .timeline
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, e)| {
            let d = &e.draft;
            let row = Row::new(vec![
                Cell::from(d.at.format("%m-%d %H:%M").to_string()),
                Cell::from(safe(d.actor.as_str()).into_owned()),
                Cell::from(d.action.as_str()),
                Cell::from(safe(&d.detail).into_owned()),
            ]);
            if i == detail.timeline_selected {
                row.style(app.theme.selected())
            } else {
                row
            }
        });
    let widths = [
        Constraint::Length(11),
        Constraint::Length(10),
        Constraint::Length(23),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).block(Block::bordered()), list);
    if let Some(e) = detail.timeline.get(detail.timeline_selected) {
        let d = &e.draft;
        let mut text = format!(
            "{} by {}: {}",
            d.at.format("%Y-%m-%d %H:%M:%S UTC"),
            d.actor,
            d.detail
        );
        if let (Some(b), Some(a)) = (&d.before, &d.after) {
            text.push_str(&format!(" [{b} -> {a}]"));
        }
        if let Some(private) = &e.revealed {
            text.push('\n');
            text.push_str(private);
        }
        let lines: Vec<Line> = text
            .lines()
            .map(|l| Line::raw(safe(l).into_owned()))
            .collect();
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(format!(" event {} ", e.seq)))
                .wrap(Wrap { trim: false }),
            full,
        );
    }
}

fn programs(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    if detail.programs.is_empty() {
        let text = if detail.loading {
            strings::LOADING
        } else {
            strings::NO_PROGRAMS
        };
        frame.render_widget(
            Paragraph::new(format!(" {text}")).block(Block::bordered()),
            area,
        );
        return;
    }
    let [list, info] = Layout::vertical([Constraint::Min(3), Constraint::Length(6)]).areas(area);
    let rows = detail.programs.iter().enumerate().map(|(i, p)| {
        let since = p
            .paused_at
            .map(|t| t.format("%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into());
        let row = Row::new(vec![
            Cell::from(p.slug.to_string()),
            Cell::from(Span::styled(
                p.state.as_str(),
                app.theme.program_state(p.state),
            )),
            Cell::from(since),
            Cell::from(safe(&p.name).into_owned()),
        ]);
        if i == detail.program_selected {
            row.style(app.theme.selected())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(20),
        Constraint::Length(13),
        Constraint::Length(12),
        Constraint::Fill(1),
    ];
    let header = Row::new(strings::PROGRAM_HEADERS).style(app.theme.header());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered()),
        list,
    );
    if let Some(p) = detail.programs.get(detail.program_selected) {
        let hook = |h: &Option<String>| {
            h.as_deref()
                .map_or("(none: only recorded)".to_owned(), |h| safe(h).into_owned())
        };
        let incidents: Vec<String> = p.incidents.iter().map(ToString::to_string).collect();
        let lines = vec![
            field(app, "Pause hook", vec![Span::raw(hook(&p.pause_hook))]),
            field(app, "Resume hook", vec![Span::raw(hook(&p.resume_hook))]),
            field(
                app,
                "Owner",
                vec![Span::raw(safe(p.owner.as_str()).into_owned())],
            ),
            field(app, "Incidents", vec![Span::raw(incidents.join(", "))]),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(format!(" {} ", p.slug)))
                .wrap(Wrap { trim: false }),
            info,
        );
    }
}
