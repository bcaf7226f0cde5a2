//! The help overlay, generated from the key table so it always matches the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::centered;
use crate::tui::app::App;
use crate::tui::keymap::{BINDINGS, KeyScope};
use crate::tui::strings;

const SECTIONS: [(KeyScope, &str); 8] = [
    (KeyScope::Board, "Board"),
    (KeyScope::Detail, "Incident"),
    (KeyScope::People, "People tab"),
    (KeyScope::Programs, "Programmes tab"),
    (KeyScope::Notifications, "Letters tab"),
    (KeyScope::Deadlines, "Deadlines tab"),
    (KeyScope::Access, "Access tab"),
    (KeyScope::Global, "Everywhere"),
];

/// The key lines of `sections`, each under its heading.
fn key_lines<'a>(app: &App, sections: impl Iterator<Item = (KeyScope, &'a str)>) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for (context, title) in sections {
        lines.push(Line::styled(title, app.theme.header()));
        for b in BINDINGS.iter().filter(|b| b.context == context) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<8}", b.shown), app.theme.key()),
                Span::raw(b.label),
            ]));
        }
    }
    lines
}

/// The widest a column of keys is drawn, and the narrowest it may be.
const COLUMN: u16 = 52;
const NARROWEST: u16 = 36;

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let fits = usize::from(area.width.saturating_sub(2) / NARROWEST).max(1);
    let mut lines = key_lines(app, SECTIONS.into_iter());
    // Every key, in as many columns as that takes; on a screen too small for them all, the
    // keys of where one is (the other tabs list theirs when opened).
    if lines.len().div_ceil(rows) > fits {
        let here = app.contexts();
        lines = key_lines(app, SECTIONS.into_iter().filter(|(c, _)| here.contains(c)));
        lines.push(Line::styled(strings::HELP_MORE, app.theme.dim()));
    }
    let columns = lines.len().div_ceil(rows).clamp(1, fits);
    let per_column = lines.len().div_ceil(columns);
    let width = (COLUMN * u16::try_from(columns).unwrap_or(1)).min(area.width);
    let height = u16::try_from(per_column + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(strings::HELP_TITLE)
        .title_bottom(format!(" {} ", strings::HELP_CLOSE));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let areas =
        ratatui::layout::Layout::horizontal(vec![ratatui::layout::Constraint::Fill(1); columns])
            .split(inner);
    for (chunk, area) in lines.chunks(per_column).zip(areas.iter()) {
        frame.render_widget(Paragraph::new(chunk.to_vec()), *area);
    }
}
