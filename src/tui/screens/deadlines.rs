//! The Deadlines tab of an incident: each legal obligation, its due time (UTC) and the time
//! left, amber under 12 hours, red when overdue. Read-only; the obligations follow from the
//! incident and the rule book each time the incident is read.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::deadlines::{Obligation, RuleBook, TimeLeft};
use crate::domain::{Incident, ObligationState};
use crate::tui::app::App;
use crate::tui::strings;
use crate::tui::view::{count, safe};

/// The legal obligations of one incident.
#[derive(Debug, Default)]
pub struct DeadlinesTab {
    /// Soonest due first.
    pub obligations: Vec<Obligation>,
}

impl DeadlinesTab {
    /// Works the obligations out again for `incident` as just read.
    pub fn show(&mut self, incident: &Incident, rules: &RuleBook) {
        self.obligations = rules.obligations(incident);
    }
}

pub fn render(app: &App, tab: &DeadlinesTab, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::bordered().title_bottom(strings::NOT_ADVICE);
    if tab.obligations.is_empty() {
        frame.render_widget(
            Paragraph::new(strings::NO_DEADLINES)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let rows = tab.obligations.iter().map(|o| {
        let (left_text, style) = time_left(app, o);
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

/// The LEFT column: how the obligation stands, in the colour it calls for.
fn time_left(app: &App, o: &Obligation) -> (String, Style) {
    let left = o.due_at.map(|d| d - app.now);
    match (&o.state, left) {
        (
            ObligationState::Done {
                phase: Some(crate::domain::Phase::Initial),
                ..
            },
            _,
        ) => ("partly met".to_owned(), app.theme.warning()),
        (ObligationState::Done { .. }, _) => match o.met_in_time() {
            Some(false) => ("done late".to_owned(), app.theme.warning()),
            _ => ("done".to_owned(), app.theme.good()),
        },
        (ObligationState::Waived { .. }, _) => ("waived".to_owned(), app.theme.dim()),
        (ObligationState::Open, None) => ("undue delay".to_owned(), app.theme.warning()),
        (ObligationState::Open, Some(l)) if l < chrono::Duration::zero() => {
            (TimeLeft(l).to_string(), app.theme.alarm())
        }
        (ObligationState::Open, Some(l)) if l < chrono::Duration::hours(12) => {
            (TimeLeft(l).to_string(), app.theme.warning())
        }
        (ObligationState::Open, Some(l)) => (TimeLeft(l).to_string(), Style::default()),
    }
}
