//! The Timeline tab of an incident: its audit events, newest first, with the selected one
//! shown whole below the list (hook output included). Owns the events read and the
//! selection; the incident's read fills it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::domain::AuditEvent;
use crate::tui::app::App;
use crate::tui::strings;
use crate::tui::view::{safe, scroll_offset};

/// The events of one incident and the selected one.
#[derive(Debug, Default)]
pub struct TimelineTab {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    pub selected: usize,
}

impl TimelineTab {
    /// Takes in the events as read (newest first), keeping the selection in range.
    pub fn show(&mut self, events: Vec<AuditEvent>) {
        self.events = events;
        self.selected = self.selected.min(self.events.len().saturating_sub(1));
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = super::step(self.selected, self.events.len(), delta);
    }
}

/// Draws the list and the selected event; `loading` while the incident is being read.
pub fn render(app: &App, tab: &TimelineTab, loading: bool, frame: &mut Frame<'_>, area: Rect) {
    let [list, full] = Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    if tab.events.is_empty() {
        let text = if loading {
            strings::LOADING
        } else {
            strings::NO_EVENTS
        };
        frame.render_widget(Paragraph::new(text).block(Block::bordered()), list);
        return;
    }
    let height = usize::from(list.height.saturating_sub(2));
    let offset = scroll_offset(tab.selected, height);
    let rows = tab
        .events
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
            if i == tab.selected {
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
    app.hits
        .table(list, false, offset, tab.events.len().saturating_sub(offset));
    if let Some(e) = tab.events.get(tab.selected) {
        render_event(e, frame, full);
    }
}

/// The selected event whole: when, who, what, the change and any private detail.
fn render_event(e: &AuditEvent, frame: &mut Frame<'_>, area: Rect) {
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
        area,
    );
}
