//! The Access tab of an incident: who read its personal data, through which path, how many
//! records, and who was refused. Read-only; owns the log read on demand and its drawing.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crate::domain::AuditEvent;
use crate::tui::app::App;
use crate::tui::strings;
use crate::tui::view::{count, safe};

/// The access log of one incident, read each time the tab is shown.
#[derive(Debug, Default)]
pub struct AccessTab {
    /// Newest first; `None` until first read.
    pub log: Option<Vec<AuditEvent>>,
    /// Whether a read is under way.
    pub loading: bool,
}

impl AccessTab {
    /// Takes in the log as the desk gives it (oldest first).
    pub fn show(&mut self, mut log: Vec<AuditEvent>) {
        log.reverse();
        self.log = Some(log);
    }
}

pub fn render(app: &App, tab: &AccessTab, frame: &mut Frame<'_>, area: Rect) {
    let log = tab.log.as_deref().unwrap_or_default();
    if log.is_empty() {
        let text = if tab.loading {
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
