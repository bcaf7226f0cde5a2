//! The People tab of an incident: a window of the roster around the selection, or the
//! matches of a search. Owns the tab's state, the search input and filters, which read each
//! change needs, and its drawing; the reads run on the worker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crossterm::event::KeyCode;

use crate::desk::PeopleFilter;
use crate::domain::{AffectedPerson, CategoryCatalog, CategoryName, IncidentId};
use crate::tui::app::App;
use crate::tui::strings;
use crate::tui::view::{count, safe, scroll_offset};
use crate::tui::worker::{Job, PEOPLE_WINDOW};

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

    pub fn move_by(&mut self, delta: isize) {
        self.selected = super::step(self.selected, self.len(), delta);
    }

    /// The read that makes the unfiltered window cover the selection, if it needs one
    /// (`force`: read again even if it does). Clears the window while a search shows.
    pub fn window_job(&mut self, id: IncidentId, force: bool) -> Option<Job> {
        if self.matches.is_some() || self.total == 0 {
            self.window.clear();
            return None;
        }
        if !force && self.window_loading {
            // The answer under way checks the selection again when it lands.
            return None;
        }
        let margin = PEOPLE_WINDOW / 4;
        let covered = self.selected >= self.window_start + margin.min(self.window_start)
            && self.selected + margin < self.window_start + self.window.len()
            || self.window_start + self.window.len() >= self.total
                && self.selected >= self.window_start;
        if covered && !force && !self.window.is_empty() {
            return None;
        }
        self.window_generation += 1;
        self.window_loading = true;
        Some(Job::PeopleWindow {
            id,
            start: self.selected.saturating_sub(PEOPLE_WINDOW / 2),
            generation: self.window_generation,
        })
    }

    /// Whether the answer to window read `generation` is still wanted.
    pub fn wants_window(&self, generation: u64) -> bool {
        self.window_generation == generation
    }

    /// Takes in a window read at `start`.
    pub fn window_loaded(&mut self, start: usize, window: Vec<AffectedPerson>) {
        self.window = window;
        self.window_start = start;
    }

    /// The search for the current filter; `None` when the filter is empty and the plain
    /// roster shows again (its window is then read through [`PeopleTab::window_job`]).
    pub fn search_job(&mut self, id: IncidentId) -> Option<Job> {
        self.generation += 1;
        self.selected = 0;
        if self.filter.is_empty() {
            self.matches = None;
            self.loading = false;
            return None;
        }
        self.loading = true;
        Some(Job::People {
            incident: id,
            filter: self.filter.clone(),
            generation: self.generation,
        })
    }

    /// Takes in the matches of search `generation`; an answer to a replaced search is
    /// dropped. Returns the error to show, if the search failed.
    pub fn found(
        &mut self,
        generation: u64,
        result: Result<Vec<AffectedPerson>, String>,
    ) -> Option<String> {
        if self.generation != generation {
            return None;
        }
        self.loading = false;
        match result {
            Ok(found) => {
                self.matches = Some(found);
                self.selected = 0;
                None
            }
            Err(e) => Some(e),
        }
    }

    /// One key typed into the search. Returns whether the search is to run again.
    pub fn search_key(&mut self, code: KeyCode) -> bool {
        match code {
            KeyCode::Esc => {
                self.searching = false;
                self.search.clear();
                self.filter.text = None;
                true
            }
            KeyCode::Enter => {
                self.searching = false;
                self.filter.text = Some(self.search.clone()).filter(|s| !s.is_empty());
                true
            }
            KeyCode::Backspace => {
                self.search.pop();
                false
            }
            KeyCode::Char(c) if !c.is_control() && self.search.len() < 200 => {
                self.search.push(c);
                false
            }
            _ => false,
        }
    }

    /// Shows only people not yet notified, or everyone again.
    pub fn toggle_pending(&mut self) {
        self.filter.pending = !self.filter.pending;
    }

    /// Moves the category filter on to the next category, then back to all.
    pub fn cycle_category(&mut self, catalog: &CategoryCatalog) {
        self.filter.category = next_category(catalog, self.filter.category.as_ref());
    }

    pub fn clear_filters(&mut self) {
        self.filter = PeopleFilter::default();
        self.search.clear();
    }
}

fn next_category(
    catalog: &CategoryCatalog,
    current: Option<&CategoryName>,
) -> Option<CategoryName> {
    let names: Vec<&str> = catalog.names().collect();
    let next = match current {
        None => names.first(),
        Some(c) => names
            .iter()
            .position(|n| *n == c.as_str())
            .and_then(|i| names.get(i + 1)),
    };
    next.and_then(|n| catalog.parse(n).ok())
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
    app.hits
        .table(list, true, offset, tab.len().saturating_sub(offset));
}
