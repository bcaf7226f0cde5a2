//! Drawing that belongs to no one screen. Every function here takes `&App`: drawing reads
//! state and never changes it. The header and footer are here, dialogs and help have a file
//! each, and the helpers the screens share (safe text, counts, ages, scrolling, a labelled
//! line). The board and each incident tab draw themselves (`screens/`).

mod dialog;
mod help;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Dialog};
use super::keymap;
use super::strings;
use crate::domain::text::for_terminal;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    app.hits.clear();
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    render_header(app, frame, header);
    match &app.detail {
        None => crate::tui::screens::board::render(app, frame, body),
        Some(detail) => crate::tui::screens::incident::render(app, detail, frame, body),
    }
    render_footer(app, frame, footer);
    match &app.dialog {
        Some(Dialog::Form(form)) => dialog::render_form(app, form, frame, body),
        Some(Dialog::Panel(panel)) => dialog::render_panel(app, panel, frame, body),
        None => {}
    }
    if app.help {
        help::render(app, frame, body);
    }
}

fn render_header(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let open = app
        .board
        .rows
        .iter()
        .filter(|r| r.incident.severity.is_critical() && !r.incident.status.is_settled())
        .count();
    let live = app
        .board
        .rows
        .iter()
        .filter(|r| !r.collecting.is_empty())
        .count();
    let mut spans = vec![
        Span::styled(format!(" {} ", strings::APP), app.theme.title()),
        Span::raw(format!(
            "· {} · {open} open at SEV0-2",
            plural(app.board.rows.len(), "incident", "incidents")
        )),
    ];
    if live > 0 {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(
            format!("{live} still collecting"),
            app.theme.warning(),
        ));
    }
    if !app.mail_problems.is_empty() {
        // What is wrong is on the status line while nothing else is.
        spans.push(Span::raw(" · "));
        spans.push(Span::styled("! mail", app.theme.error()));
    }
    if !app.failing_alerts.is_empty() {
        // The on-call team is not hearing about this incident's changes.
        let names: Vec<&str> = app
            .failing_alerts
            .iter()
            .map(|f| f.split(':').next().unwrap_or(f))
            .collect();
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(
            format!("! alerts failing: {}", safe(&names.join(", "))),
            app.theme.error(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `1 incident`, `2 incidents`.
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn render_footer(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let [status, keys] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let status_line = if let Some(busy) = app.busy.first() {
        let secs = busy.started.elapsed().as_secs_f64();
        let more = if app.busy.len() > 1 {
            format!(" (+{} more)", app.busy.len() - 1)
        } else {
            String::new()
        };
        let gauge = match busy.progress {
            Some((done, total)) if total > 0 => {
                let share = (done.min(total) * 100) / total;
                let filled = usize::try_from(share / 5).unwrap_or(20);
                format!(
                    " [{}{}] {share}% of {:.1} MB",
                    "█".repeat(filled),
                    "·".repeat(20 - filled.min(20)),
                    total as f64 / 1e6
                )
            }
            _ => String::new(),
        };
        Line::from(Span::styled(
            format!(
                " {} {}… {secs:.1} s{gauge}{more}",
                spinner(app),
                safe(&busy.label)
            ),
            app.theme.warning(),
        ))
    } else if let Some(flash) = &app.flash {
        let style = if flash.error {
            app.theme.error()
        } else {
            app.theme.good()
        };
        Line::from(Span::styled(format!(" {}", safe(&flash.text)), style))
    } else if !app.mail_problems.is_empty() {
        // Each problem is "what: how to fix it"; the line has room for the what.
        let what: Vec<&str> = app
            .mail_problems
            .iter()
            .map(|p| p.split(':').next().unwrap_or(p))
            .collect();
        Line::from(Span::styled(
            format!(
                " ! {}: letters cannot go out as configured (`breachdesk init`, or [smtp] and [contact] in the config)",
                safe(&what.join(", "))
            ),
            app.theme.error(),
        ))
    } else {
        Line::default()
    };
    frame.render_widget(Paragraph::new(status_line), status);

    let entries = if app.dialog.is_some() {
        vec![]
    } else {
        keymap::footer_actions(&app.contexts())
    };
    let mut spans = Vec::new();
    let at = |x: u16, text: &str| Rect {
        x,
        y: keys.y,
        width: u16::try_from(text.chars().count()).unwrap_or(u16::MAX),
        height: 1,
    };
    if matches!(app.dialog, Some(crate::tui::app::Dialog::Panel(_))) {
        // A panel is read, not submitted: its keys, and Esc to close it.
        let text = format!(" {}", strings::PANEL_KEYS);
        let cancel = strings::PANEL_KEYS.rsplit(" · ").next().unwrap_or_default();
        let cancel_x = text.chars().count() - cancel.chars().count();
        app.hits.add(
            at(keys.x + u16::try_from(cancel_x).unwrap_or(0), cancel),
            crate::tui::mouse::Hit::Cancel,
        );
        spans.push(Span::styled(text, app.theme.dim()));
    } else if app.dialog.is_some() {
        let text = format!(" {}", strings::FORM_KEYS);
        // The first and last hints are the dialog's buttons.
        let submit = strings::FORM_KEYS.split(" · ").next().unwrap_or_default();
        let cancel = strings::FORM_KEYS.rsplit(" · ").next().unwrap_or_default();
        app.hits
            .add(at(keys.x + 1, submit), crate::tui::mouse::Hit::Submit);
        let cancel_x = text.chars().count() - cancel.chars().count();
        app.hits.add(
            at(keys.x + u16::try_from(cancel_x).unwrap_or(0), cancel),
            crate::tui::mouse::Hit::Cancel,
        );
        spans.push(Span::styled(text, app.theme.dim()));
    }
    let mut x = keys.x;
    for (key, label, action) in entries {
        let text = format!(" {key} {label} ");
        app.hits
            .add(at(x, &text), crate::tui::mouse::Hit::Key(action));
        x = x.saturating_add(u16::try_from(text.chars().count()).unwrap_or(u16::MAX));
        spans.push(Span::styled(format!(" {key}"), app.theme.key()));
        spans.push(Span::raw(format!(" {label} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), keys);
}

/// The spinner's frame now.
pub(crate) fn spinner(app: &App) -> &'static str {
    SPINNER[app.spinner % SPINNER.len()]
}

/// Untrusted text, stripped of terminal control sequences.
pub(crate) fn safe(text: &str) -> Cow<'_, str> {
    for_terminal(text)
}

/// The first row to show so that `selected` is visible in `height` rows.
pub(crate) fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 || selected < height {
        0
    } else {
        selected + 1 - height
    }
}

/// How long ago, in the largest whole unit: `45m`, `5h`, `3d`.
pub(crate) fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let minutes = (now - then).num_minutes().max(0);
    match minutes {
        m if m < 60 => format!("{m}m"),
        m if m < 48 * 60 => format!("{}h", m / 60),
        m => format!("{}d", m / (24 * 60)),
    }
}

/// A count with thousands separators.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A labelled line: the label in a column of its own, then the value.
pub(crate) fn field<'a>(app: &App, name: &'a str, value: Vec<Span<'a>>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!(" {name:<12}"), app.theme.header())];
    spans.extend(value);
    Line::from(spans)
}

/// A centred rectangle of at most `width` x `height` inside `area`.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2)).max(1);
    let h = height.min(area.height).max(1);
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(count(0), "0");
        assert_eq!(count(100_000), "100,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(scroll_offset(5, 10), 0);
        assert_eq!(scroll_offset(15, 10), 6);
        let t = DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(age(t + chrono::Duration::minutes(59), t), "59m");
        assert_eq!(age(t + chrono::Duration::hours(30), t), "30h");
        assert_eq!(age(t + chrono::Duration::days(9), t), "9d");
    }
}
