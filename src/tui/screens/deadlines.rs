//! The Deadlines tab of an incident: each legal obligation, its due time (UTC) and the time
//! left, amber under 12 hours, red when overdue. Read-only; the obligations follow from the
//! incident and the rule book each time the incident is read.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::deadlines::{Obligation, RuleBook, TimeLeft, Uncovered};
use crate::domain::{ExposedElements, Incident, ObligationState};
use crate::tui::app::App;
use crate::tui::strings;
use crate::tui::view::{count, safe};

/// The legal obligations of one incident.
#[derive(Debug, Default)]
pub struct DeadlinesTab {
    /// Soonest due first.
    pub obligations: Vec<Obligation>,
    /// Affected people no rule covers, by location: shown under the obligations, never
    /// left out.
    pub uncovered: Vec<Uncovered>,
    /// What the exposed categories and decisions say of each data element.
    pub exposed: ExposedElements,
    /// The obligation under the cursor: `d`, `w`, `e` and `a` act on it.
    pub selected: usize,
}

impl DeadlinesTab {
    /// Works the obligations out again for `incident` as just read.
    pub fn show(&mut self, incident: &Incident, rules: &RuleBook) {
        let before = self.selected_rule().map(str::to_owned);
        self.obligations = rules.obligations(incident);
        // The cursor stays on the same rule when it is still there.
        self.selected = before
            .and_then(|r| self.obligations.iter().position(|o| o.rule == r))
            .unwrap_or(0)
            .min(self.obligations.len().saturating_sub(1));
        self.uncovered = rules.uncovered(incident);
        self.exposed = rules.exposed_elements(incident);
    }
}

impl DeadlinesTab {
    pub(crate) fn move_by(&mut self, delta: isize) {
        self.selected = super::step(self.selected, self.obligations.len(), delta);
    }

    /// The rule of the obligation under the cursor.
    pub fn selected_rule(&self) -> Option<&str> {
        self.obligations.get(self.selected).map(|o| o.rule.as_str())
    }
}

pub fn render(app: &App, tab: &DeadlinesTab, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::bordered().title_bottom(strings::NOT_ADVICE);
    let uncovered: Vec<Line<'_>> = tab
        .uncovered
        .iter()
        .map(|u| Line::styled(safe(&u.to_string()).into_owned(), app.theme.warning()))
        .collect();
    if tab.obligations.is_empty() {
        let mut lines = vec![Line::from(if uncovered.is_empty() {
            strings::NO_DEADLINES
        } else {
            strings::NO_DEADLINES_KNOWN
        })];
        lines.extend(uncovered);
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, uncovered_area] = ratatui::layout::Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(u16::try_from(uncovered.len()).unwrap_or(u16::MAX)),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(uncovered), uncovered_area);
    let area = table_area;
    let rows = tab.obligations.iter().enumerate().map(|(i, o)| {
        let (left_text, style) = time_left(app, o);
        // The cursor shows without colour too: a marker, and the row reversed.
        let marker = if i == tab.selected { "›" } else { " " };
        let row = Row::new(vec![
            Cell::from(format!("{marker}{}", safe(&o.rule))),
            Cell::from(safe(&o.notify).into_owned()),
            Cell::from(
                o.due_at
                    .map_or("-".to_owned(), |d| d.format("%Y-%m-%d %H:%M").to_string()),
            ),
            Cell::from(Span::styled(left_text, style)),
            Cell::from(o.state_word()),
            Cell::from(Line::from(count(o.people)).right_aligned()),
        ]);
        if i == tab.selected {
            row.style(app.theme.selected())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Length(16),
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(7),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(strings::DEADLINE_HEADERS).style(app.theme.header())),
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
        (ObligationState::NotTriggered { .. }, _) => ("not triggered".to_owned(), app.theme.dim()),
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
