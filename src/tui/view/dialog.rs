//! Dialogs drawn over the screen: forms with inline errors, and scrollable panels.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::{centered, safe};
use crate::tui::app::{App, Panel};
use crate::tui::form::{FieldKind, Form};
use crate::tui::strings;

/// How many rows `line` takes when words wrap at `width` columns (as the paragraph wraps
/// them: at spaces, a word longer than the width broken across rows).
fn wrapped_rows(line: &Line<'_>, width: usize) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let mut rows = 1;
    let mut used = 0usize;
    for word in text.split(' ') {
        let w = Span::raw(word).width();
        let need = if used == 0 { w } else { used + 1 + w };
        if need <= width {
            used = need;
        } else if w <= width {
            rows += 1;
            used = w;
        } else {
            // A word wider than a row fills rows of its own.
            let rest = if used == 0 {
                w
            } else {
                rows += 1;
                w
            };
            rows += (rest - 1) / width;
            used = rest % width;
            if used == 0 {
                used = width;
            }
        }
    }
    rows
}

pub fn render_form(app: &App, form: &Form, frame: &mut Frame<'_>, area: Rect) {
    let mut lines: Vec<Line> = form
        .notes
        .iter()
        .map(|n| Line::raw(safe(n).into_owned()))
        .collect();
    if !lines.is_empty() {
        lines.push(Line::default());
    }
    let mut focus_line = 0;
    let mut field_lines = Vec::with_capacity(form.fields.len());
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        if focused {
            focus_line = lines.len();
        }
        field_lines.push(lines.len());
        let marker = if focused { "›" } else { " " };
        lines.push(Line::styled(
            format!("{marker} {}", field.label),
            app.theme.header(),
        ));
        let value = match &field.kind {
            FieldKind::Text { value, cursor, .. } => {
                let shown: String = safe(value).into_owned();
                if focused {
                    let (before, after): (String, String) = {
                        let chars: Vec<char> = shown.chars().collect();
                        let at = (*cursor).min(chars.len());
                        (chars[..at].iter().collect(), chars[at..].iter().collect())
                    };
                    Line::from(vec![
                        Span::raw("  "),
                        Span::styled(before, app.theme.input()),
                        Span::raw("█"),
                        Span::styled(after, app.theme.input()),
                    ])
                } else {
                    Line::from(vec![
                        Span::raw("  "),
                        Span::styled(shown, app.theme.input()),
                    ])
                }
            }
            FieldKind::Choice { options, index } => {
                let label = options.get(*index).map_or("", |c| c.label.as_str());
                Line::from(vec![
                    Span::raw("  ‹ "),
                    Span::styled(safe(label).into_owned(), app.theme.title()),
                    Span::raw(" ›"),
                ])
            }
            FieldKind::Multi {
                options,
                ticked,
                index,
                ..
            } => {
                let mut spans = vec![Span::raw("  ")];
                if options.is_empty() {
                    spans.push(Span::styled("(none to choose from)", app.theme.dim()));
                }
                for (i, (option, on)) in options.iter().zip(ticked).enumerate() {
                    let mark = if *on { "[x] " } else { "[ ] " };
                    let text = format!("{mark}{}", safe(&option.label));
                    let style = if focused && i == *index {
                        app.theme.title()
                    } else if *on {
                        app.theme.input()
                    } else {
                        app.theme.dim()
                    };
                    spans.push(Span::styled(text, style));
                    spans.push(Span::raw("  "));
                }
                Line::from(spans)
            }
        };
        lines.push(value);
        if let Some(hint) = field.hint.as_ref().filter(|_| focused) {
            lines.push(Line::styled(format!("  {hint}"), app.theme.dim()));
        }
        if let Some(error) = &field.error {
            lines.push(Line::styled(
                format!("  ✗ {}", safe(error)),
                app.theme.error(),
            ));
        }
    }
    if form.pending {
        lines.push(Line::default());
        lines.push(Line::styled(
            format!("{} {}", super::spinner(app), strings::SAVING),
            app.theme.warning(),
        ));
    }
    if let Some(error) = &form.error {
        lines.push(Line::default());
        lines.push(Line::styled(
            format!("✗ {}", safe(error)),
            app.theme.error(),
        ));
    }
    // Lines wrap at the dialog's width: count the rows each takes, so that the dialog is as
    // tall as what it shows (up to the screen) and scrolling keeps the focused field, its
    // hint and its error in view.
    let width = 76u16.min(area.width.saturating_sub(2)).max(1);
    let inner_width = usize::from(width.saturating_sub(2)).max(1);
    let mut starts = Vec::with_capacity(lines.len() + 1);
    let mut rows = 0usize;
    for line in &lines {
        starts.push(rows);
        rows += wrapped_rows(line, inner_width);
    }
    starts.push(rows);
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    let rect = centered(area, 76, height);
    let inner = usize::from(rect.height.saturating_sub(2));
    // The focused field's block: its label, value, hint and error.
    let focus_end = field_lines
        .iter()
        .position(|at| *at == focus_line)
        .and_then(|i| field_lines.get(i + 1))
        .map_or(starts[lines.len()], |next| starts[*next]);
    let focus_start = starts[focus_line];
    let scroll = if rows > inner {
        // As little as shows the whole of the focused field, never past the end.
        let wanted = focus_end
            .saturating_sub(inner)
            .max(focus_start.saturating_sub(inner / 3));
        wanted.min(focus_start).min(rows - inner)
    } else {
        0
    };
    // A field's label line and the line after it (its value) focus it when clicked.
    for (i, at) in field_lines.iter().map(|at| starts[*at]).enumerate() {
        if let Some(row) = at.checked_sub(scroll) {
            let y = rect.y + 1 + u16::try_from(row).unwrap_or(u16::MAX);
            if y + 1 < rect.bottom() {
                app.hits.add(
                    Rect {
                        x: rect.x + 1,
                        y,
                        width: rect.width.saturating_sub(2),
                        height: 2.min(rect.bottom() - 1 - y),
                    },
                    crate::tui::mouse::Hit::Field(i),
                );
            }
        }
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(form.title))
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(0), 0)),
        rect,
    );
}

pub fn render_panel(app: &App, panel: &Panel, frame: &mut Frame<'_>, area: Rect) {
    let rect = centered(area, 90, area.height.saturating_sub(2));
    let lines: Vec<Line> = panel
        .lines
        .iter()
        .skip(panel.scroll)
        .map(|l| Line::raw(safe(l).into_owned()))
        .collect();
    let position = format!(
        " {}/{} · {} ",
        (panel.scroll + 1).min(panel.lines.len()),
        panel.lines.len(),
        strings::PANEL_KEYS
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .title(Span::styled(
                        safe(&panel.title).into_owned(),
                        app.theme.alarm(),
                    ))
                    .title_bottom(position),
            )
            .wrap(Wrap { trim: false }),
        rect,
    );
}
