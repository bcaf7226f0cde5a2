//! The People tab of an incident: a window of the roster around the selection, or the
//! matches of a search. Owns the tab's state and its drawing; the reads run on the worker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crate::desk::PeopleFilter;
use crate::domain::AffectedPerson;
use crate::tui::app::App;
use crate::tui::strings;
use crate::tui::view::{count, safe, scroll_offset};

/// The People tab: a window of the roster, or the matches of a search.
#[derive(Debug, Default)]
pub struct PeopleTab {
    pub total: usize,
    pub filter: PeopleFilter,
    pub search: String,
    pub searching: bool,
    /// Matches of the current filter; `None` while the filter is empty.
    pub matches: Option<Vec<AffectedPerson>>,
    pub loading: bool,
    pub(crate) generation: u64,
    /// People `window_start..` of the unfiltered roster.
    pub window: Vec<AffectedPerson>,
    pub window_start: usize,
    /// Whether a read of a window is under way.
    pub window_loading: bool,
    pub(crate) window_generation: u64,
    pub selected: usize,
}

impl PeopleTab {
    /// How many rows the list has.
    pub fn len(&self) -> usize {
        self.matches.as_ref().map_or(self.total, Vec::len)
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`, if it is loaded.
    pub fn row(&self, i: usize) -> Option<&AffectedPerson> {
        match &self.matches {
            Some(m) => m.get(i),
            None => i
                .checked_sub(self.window_start)
                .and_then(|j| self.window.get(j)),
        }
    }
}

/// Draws the tab: the filter bar, then the rows around the selection.
pub fn render(app: &App, tab: &PeopleTab, frame: &mut Frame<'_>, area: Rect) {
    let [bar, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let cursor = if tab.searching { "█" } else { "" };
    let search = if tab.search.is_empty() && !tab.searching {
        "-".to_owned()
    } else {
        format!("{}{cursor}", safe(&tab.search))
    };
    let category = tab.filter.category.as_ref().map_or("all", |c| c.as_str());
    let pending = if tab.filter.pending {
        "pending only"
    } else {
        "everyone"
    };
    let shown = if tab.loading {
        strings::SEARCHING.to_owned()
    } else if tab.window_loading && tab.matches.is_none() {
        format!("{} · {}", count(tab.total as u64), strings::LOADING)
    } else {
        format!("{} of {}", count(tab.len() as u64), count(tab.total as u64))
    };
    let line = Line::from(vec![
        Span::styled(" search: ", app.theme.key()),
        Span::raw(search),
        Span::styled("  category: ", app.theme.key()),
        Span::raw(category),
        Span::styled("  show: ", app.theme.key()),
        Span::raw(pending),
        Span::styled(format!("  {shown}"), app.theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line), bar);
    if tab.is_empty() && !tab.loading {
        let text = if tab.total == 0 {
            strings::NO_PEOPLE
        } else {
            strings::NO_MATCHING_PEOPLE
        };
        frame.render_widget(
            Paragraph::new(format!(" {text}")).block(Block::bordered()),
            list,
        );
        return;
    }
    let height = usize::from(list.height.saturating_sub(3));
    let offset = scroll_offset(tab.selected, height);
    let rows = (offset..tab.len().min(offset + height)).map(|i| {
        let row = match tab.row(i) {
            Some(p) => {
                let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
                Row::new(vec![
                    Cell::from(safe(p.employee_id.as_str()).into_owned()),
                    Cell::from(safe(&p.name).into_owned()),
                    Cell::from(safe(p.email.as_str()).into_owned()),
                    Cell::from(p.location.as_ref().map_or("-", |l| l.as_str()).to_owned()),
                    Cell::from(if p.is_notified() { "yes" } else { "no" }),
                    Cell::from(cats.join(", ")),
                ])
            }
            None => Row::new(vec![Cell::from("…")]),
        };
        if i == tab.selected {
            row.style(app.theme.selected())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(10),
        Constraint::Length(20),
        Constraint::Length(28),
        Constraint::Length(5),
        Constraint::Length(4),
        Constraint::Fill(1),
    ];
    let header = Row::new(strings::PEOPLE_HEADERS).style(app.theme.header());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered()),
        list,
    );
}
