//! The help overlay, generated from the key table so it always matches the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::centered;
use crate::tui::app::App;
use crate::tui::keymap::{BINDINGS, Context};
use crate::tui::strings;

const SECTIONS: [(Context, &str); 8] = [
    (Context::Board, "Board"),
    (Context::Detail, "Incident"),
    (Context::People, "People tab"),
    (Context::Programs, "Programmes tab"),
    (Context::Notifications, "Notifications tab"),
    (Context::Deadlines, "Deadlines tab"),
    (Context::Access, "Access tab"),
    (Context::Global, "Everywhere"),
];

/// The key lines of `sections`, each under its heading.
fn key_lines<'a>(app: &App, sections: impl Iterator<Item = (Context, &'a str)>) -> Vec<Line<'a>> {
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

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let mut lines = key_lines(app, SECTIONS.into_iter());
    // Every key when two columns hold them; on a small screen, the keys of where one is
    // (the other tabs list theirs when opened).
    if lines.len().div_ceil(2) + 2 > usize::from(area.height) {
        let here = app.contexts();
        lines = key_lines(app, SECTIONS.into_iter().filter(|(c, _)| here.contains(c)));
        lines.push(Line::styled(strings::HELP_MORE, app.theme.dim()));
    }
    let rect = centered(area, 44, area.height);
    let half = lines.len().div_ceil(2);
    let (left, right) = lines.split_at(half);
    let wide = rect.width >= 44 && usize::from(rect.height) < lines.len() + 2;
    let rect = if wide {
        centered(area, 88, u16::try_from(half + 2).unwrap_or(u16::MAX))
    } else {
        rect
    };
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(strings::HELP_TITLE)
        .title_bottom(format!(" {} ", strings::HELP_CLOSE));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if wide {
        let [l, r] = ratatui::layout::Layout::horizontal([ratatui::layout::Constraint::Fill(1); 2])
            .areas(inner);
        frame.render_widget(Paragraph::new(left.to_vec()), l);
        frame.render_widget(Paragraph::new(right.to_vec()), r);
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
