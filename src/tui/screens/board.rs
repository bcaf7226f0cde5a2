//! The board: the incident list, most severe first, with what is still exposed at a glance.
//! Owns the list's state (rows, filter, selection), its drawing and the form that opens a
//! new incident; the app starts the read that fills it.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::incident::severity_field;
use crate::deadlines::{Obligation, RuleBook};
use crate::domain::{
    CategoryCatalog, CategoryName, Incident, IncidentId, ProgramSlug, ProgramState,
};
use crate::tui::app::App;
use crate::tui::form::{Choice, Field, FieldName, Form, Purpose};
use crate::tui::strings;
use crate::tui::view::{age, count, safe, scroll_offset};

/// One incident on the board, with what the board shows about it.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub incident: Incident,
    /// Linked programmes that may still be collecting: active or pause-failed.
    pub collecting: Vec<(ProgramSlug, ProgramState)>,
    /// The open legal obligation due soonest.
    pub next_due: Option<Obligation>,
    haystack: String,
}

impl BoardRow {
    /// The row of `incident`, given the state of every programme.
    pub fn new(
        incident: Incident,
        states: &HashMap<ProgramSlug, ProgramState>,
        rules: &RuleBook,
    ) -> Self {
        let collecting = incident
            .programs
            .iter()
            .filter_map(|slug| states.get(slug).map(|s| (slug.clone(), *s)))
            .filter(|(_, s)| s.may_be_collecting())
            .collect();
        let categories: Vec<&str> = incident
            .categories
            .iter()
            .map(CategoryName::as_str)
            .collect();
        let haystack = format!(
            "{} {} {} {}",
            incident.id,
            incident.title,
            incident.status,
            categories.join(" ")
        )
        .to_lowercase();
        // A closed incident's open obligations keep running: their clock stays on the board.
        let next_due = rules.next_due(&incident);
        BoardRow {
            incident,
            collecting,
            next_due,
            haystack,
        }
    }
}

/// The incident list.
#[derive(Debug, Default)]
pub struct Board {
    pub rows: Vec<BoardRow>,
    /// Indexes into `rows` that pass the filter, in board order.
    pub visible: Vec<usize>,
    /// Position in `visible`.
    pub selected: usize,
    pub filter: String,
    pub filtering: bool,
    /// Whether a read of the board is under way.
    pub loading: bool,
    pub(crate) generation: u64,
    /// The incident to select once the board is read (a new one).
    pub(crate) select: Option<IncidentId>,
    /// Every registered programme (slug, name), for the forms that pick one.
    pub programs: Vec<(ProgramSlug, String)>,
}

impl Board {
    /// The selected row, if any.
    pub fn current(&self) -> Option<&BoardRow> {
        self.visible.get(self.selected).map(|&i| &self.rows[i])
    }

    pub(crate) fn apply_filter(&mut self) {
        let keep = self.current().map(|r| r.incident.id);
        let needle = self.filter.to_lowercase();
        self.visible = (0..self.rows.len())
            .filter(|&i| needle.is_empty() || self.rows[i].haystack.contains(&needle))
            .collect();
        self.selected = keep
            .and_then(|id| {
                self.visible
                    .iter()
                    .position(|&i| self.rows[i].incident.id == id)
            })
            .unwrap_or(0);
    }
}

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let board = &app.board;
    let show_filter = board.filtering || !board.filter.is_empty();
    let [filter_area, table_area] = Layout::vertical([
        Constraint::Length(u16::from(show_filter)),
        Constraint::Min(1),
    ])
    .areas(area);
    if show_filter {
        let cursor = if board.filtering { "█" } else { "" };
        let line = Line::from(vec![
            Span::styled(" filter: ", app.theme.key()),
            Span::raw(format!("{}{cursor}", safe(&board.filter))),
            Span::styled(
                format!("   {} of {}", board.visible.len(), board.rows.len()),
                app.theme.dim(),
            ),
        ]);
        frame.render_widget(Paragraph::new(line), filter_area);
    }

    let block = if board.loading {
        Block::bordered().title(format!("{}· {} ", strings::BOARD_TITLE, strings::LOADING))
    } else {
        Block::bordered().title(strings::BOARD_TITLE)
    };
    if board.visible.is_empty() {
        let text = if board.loading {
            strings::LOADING
        } else if board.rows.is_empty() {
            strings::BOARD_EMPTY
        } else {
            strings::BOARD_NO_MATCH
        };
        frame.render_widget(Paragraph::new(format!(" {text}")).block(block), table_area);
        return;
    }
    let height = usize::from(table_area.height.saturating_sub(3));
    let offset = scroll_offset(board.selected, height);
    let rows = board
        .visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(pos, &i)| {
            let row = board_row(app, &board.rows[i]);
            if pos == board.selected {
                row.style(app.theme.selected())
            } else {
                row
            }
        });
    let header = Row::new(strings::BOARD_HEADERS).style(app.theme.header());
    let widths = [
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Fill(1),
        Constraint::Length(13),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(9),
        Constraint::Length(9),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).block(block),
        table_area,
    );
    app.hits.table(
        table_area,
        true,
        offset,
        board.visible.len().saturating_sub(offset),
    );
}

fn board_row<'a>(app: &App, row: &'a BoardRow) -> Row<'a> {
    let inc = &row.incident;
    let told = inc
        .notified_percent()
        .map_or("-".to_owned(), |p| format!("{p}%"));
    let programme = if row
        .collecting
        .iter()
        .any(|(_, s)| *s == ProgramState::PauseFailed)
    {
        Span::styled(format!("! {}", strings::PAUSE_FAILED), app.theme.alarm())
    } else if let Some((_, s)) = row.collecting.iter().find(|(_, s)| s.is_in_flight()) {
        Span::styled(s.as_str(), app.theme.warning())
    } else if !row.collecting.is_empty() {
        Span::styled(format!("! {}", strings::LIVE), app.theme.warning())
    } else if inc.programs.is_empty() {
        Span::styled("-", app.theme.dim())
    } else {
        Span::styled("paused", app.theme.good())
    };
    Row::new(vec![
        Cell::from(inc.id.to_string()),
        Cell::from(Span::styled(
            inc.severity.to_string(),
            app.theme.severity(inc.severity),
        )),
        Cell::from(title_cell(app, inc)),
        Cell::from(inc.status.as_str()),
        Cell::from(age(app.now, inc.opened_at)),
        Cell::from(Line::from(count(inc.people)).right_aligned()),
        Cell::from(Line::from(told).right_aligned()),
        Cell::from(programme),
        Cell::from(deadline(app, row)),
    ])
}

/// The title, after the ENISA band once the harm is assessed (a high risk stands out),
/// so that a narrow screen cuts the title rather than the band.
fn title_cell<'a>(app: &App, inc: &crate::domain::Incident) -> Line<'a> {
    let mut spans = Vec::new();
    if let Some(a) = &inc.assessment {
        let band = a.inputs.band();
        let style = if band.is_high_risk() {
            app.theme.warning()
        } else {
            app.theme.dim()
        };
        spans.push(Span::styled(format!("[{band} risk] "), style));
    }
    spans.push(Span::raw(safe(&inc.title).into_owned()));
    Line::from(spans)
}

/// The soonest open deadline's time left, red when overdue, amber under 12 hours.
fn deadline<'a>(app: &App, row: &BoardRow) -> Span<'a> {
    let Some(due) = row.next_due.as_ref().and_then(|o| o.due_at) else {
        return Span::styled("-", app.theme.dim());
    };
    let left = due - app.now;
    if left < chrono::Duration::zero() {
        Span::styled("OVERDUE", app.theme.alarm())
    } else if left < chrono::Duration::hours(12) {
        Span::styled(
            crate::deadlines::TimeLeft(left).to_string(),
            app.theme.warning(),
        )
    } else {
        Span::raw(crate::deadlines::TimeLeft(left).to_string())
    }
}

/// The form that opens a new incident from the board.
/// The new-incident form: categories and programmes ticked from lists (`programs`: the
/// registered ones, slug and name, as the board last read them).
pub fn new_incident_form(catalog: &CategoryCatalog, programs: &[(ProgramSlug, String)]) -> Form {
    let categories = catalog.names().map(|c| Choice::new(c, c)).collect();
    let programmes = programs
        .iter()
        .map(|(slug, name)| Choice::new(slug.as_str(), format!("{slug} ({name})")))
        .collect();
    Form::new(
        Purpose::NewIncident,
        strings::FORM_NEW_INCIDENT,
        vec![
            Field::text(FieldName::Title, ""),
            severity_field(2),
            Field::text(FieldName::Summary, ""),
            Field::multi(FieldName::Categories, categories, &[]),
            Field::multi(FieldName::Programmes, programmes, &[]),
            Field::text(FieldName::Discovered, "").with_hint(
                "now, -2h, yesterday 14:30, 2026-11-20 14:30 (local) or RFC 3339; empty = now",
            ),
        ],
    )
}
