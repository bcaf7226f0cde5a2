//! The UI's state and how actions change it. Input becomes an [`Action`] through the key
//! table; [`App::update`] applies it and starts background work for anything that needs the
//! desk; what the worker finds comes back through [`App::tick`]. The views only read this
//! state, and nothing here waits for the desk.
//!
//! ```text
//! ┌ breachdesk ─ 3 incidents ─ ⠋ pausing staff-monitoring ────────────────┐  header
//! │ Board: ID SEV TITLE STATUS AGE PEOPLE TOLD PROGRAMME                    │
//! │   or                                                                    │  body
//! │ Detail: INC-3 SEV2 title / [Overview|Timeline|People|Programmes] / tab  │
//! ├─────────────────────────────────────────────────────────────────────────┤
//! │ message or error                                                        │  footer
//! │ keys for this screen (from the key table)                               │
//! └─────────────────────────────────────────────────────────────────────────┘
//!   dialogs (forms, error panels) and help are drawn over the body
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::action::Action;
use super::form::{Form, FormInput};
use super::keymap::{self, Context};
use super::request::{Outcome, Request};
pub use super::screens::board::{Board, BoardRow};
pub use super::screens::incident::{Detail, Tab};
pub use super::screens::people::PeopleTab;
use super::screens::{self, board, incident, letters, programmes};
use super::submit::{self, FieldErrors, Submission};
use super::theme::Theme;
use super::worker::{Done, IncidentLoad, Job, Worker};
use crate::deadlines::RuleBook;
use crate::desk::{Desk, DeskError, SendProgress};
use crate::domain::{AffectedPerson, CategoryCatalog, Incident, IncidentId, UserName};

/// How many rows PageUp and PageDown move.
const PAGE: usize = 20;

/// Where the time comes from; tests fix it.
pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send>;

/// A scrollable panel of lines, e.g. every bad row of a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: usize,
}

/// What a finished job tells the user: a line in the footer, or a panel.
#[derive(Debug)]
pub enum Feedback {
    Info(String),
    Error(String),
    Panel(Panel),
}

/// What is drawn over the screen and takes keys first.
#[derive(Debug)]
pub enum Dialog {
    Form(Form),
    Panel(Panel),
}

/// A message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

/// A background job being waited for.
#[derive(Debug, Clone)]
pub struct Busy {
    id: u64,
    pub label: String,
    pub started: Instant,
}

/// Everything the UI knows.
pub struct App {
    clock: Clock,
    worker: Worker,
    pub theme: Theme,
    pub catalog: CategoryCatalog,
    pub rules: RuleBook,
    pub board: Board,
    pub detail: Option<Detail>,
    pub dialog: Option<Dialog>,
    pub help: bool,
    pub busy: Vec<Busy>,
    pub flash: Option<Flash>,
    pub now: DateTime<Utc>,
    pub spinner: usize,
    /// Progress of a send running in the background.
    pub sending: Option<SendProgress>,
    pub quit: bool,
    /// Change notices from the desk, once [`App::with_live`] is called.
    live: Option<super::live::Live>,
}

impl App {
    /// Starts reading the board; [`App::wait_idle`] waits for it.
    pub fn new(
        desk: Arc<dyn Desk>,
        actor: UserName,
        theme: Theme,
        clock: Clock,
    ) -> Result<Self, DeskError> {
        let now = clock();
        // Both are held by the desk (a remote desk has them from its handshake): no I/O.
        let (catalog, rules) = (desk.catalog(), desk.rules());
        let mut app = App {
            worker: Worker::new(desk, actor),
            catalog,
            rules,
            clock,
            theme,
            board: Board::default(),
            detail: None,
            dialog: None,
            help: false,
            busy: Vec::new(),
            flash: None,
            now,
            spinner: 0,
            sending: None,
            quit: false,
            live: None,
        };
        app.refresh_board();
        Ok(app)
    }

    /// The same app, reloading what each change notice touches (the live team view).
    pub fn with_live(mut self, live: super::live::Live) -> Self {
        self.live = Some(live);
        self
    }

    /// The key contexts active now, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        match &self.detail {
            None => vec![Context::Board, Context::Global],
            Some(d) => match d.tab {
                Tab::People => vec![Context::People, Context::Detail, Context::Global],
                Tab::Programs => vec![Context::Programs, Context::Detail, Context::Global],
                Tab::Notifications => {
                    vec![Context::Notifications, Context::Detail, Context::Global]
                }
                _ => vec![Context::Detail, Context::Global],
            },
        }
    }

    /// Takes one key: dialogs and text inputs first, then the key table.
    pub fn handle_key(&mut self, event: KeyEvent) {
        if keymap::is_force_quit(&event) {
            self.quit = true;
            return;
        }
        if self.help {
            self.help = false;
            return;
        }
        if self.dialog.is_some() {
            self.dialog_key(&event);
            return;
        }
        if self.text_input_key(&event) {
            return;
        }
        if let Some(action) = keymap::lookup(&self.contexts(), &event) {
            self.flash = None;
            self.update(action);
        }
    }

    /// Advances the clock and spinner, and applies finished background work.
    pub fn tick(&mut self) {
        self.now = (self.clock)();
        self.spinner = self.spinner.wrapping_add(1);
        while let Some((id, done)) = self.worker.try_recv() {
            self.finish(id, done);
        }
        self.apply_notices();
    }

    /// Reads again what others changed (see `live.rs`).
    fn apply_notices(&mut self) {
        let Some(live) = &self.live else { return };
        let notices = live.drain();
        let open = self
            .detail
            .as_ref()
            .map(|d| (d.incident.id, &d.incident.programs));
        let affected = super::live::affected(&notices, open);
        if affected.board {
            self.refresh_board();
        }
        if affected.incident {
            self.reload_detail();
        }
    }

    /// Whether background work is running.
    pub fn is_busy(&self) -> bool {
        !self.busy.is_empty()
    }

    /// Blocks until no background work is left, or `timeout` passes; for tests and scripts.
    pub fn wait_idle(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.is_busy() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if let Some((id, done)) = self.worker.recv_timeout(left) {
                self.finish(id, done);
            }
        }
        true
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        let result = match action {
            Action::Quit => {
                self.quit = true;
                Ok(())
            }
            Action::Help => {
                self.help = true;
                Ok(())
            }
            Action::Back => self.back(),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(PAGE as isize)),
            Action::PageDown => self.move_by(PAGE as isize),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::Open => self.open_selected(),
            Action::Filter => {
                self.start_filter();
                Ok(())
            }
            Action::NextTab => self.switch_tab(1),
            Action::PrevTab => self.switch_tab(Tab::ALL.len() - 1),
            Action::NewIncident => {
                self.dialog = Some(Dialog::Form(board::new_incident_form(&self.catalog)));
                Ok(())
            }
            Action::Severity
            | Action::Status
            | Action::Note
            | Action::Assign
            | Action::Import
            | Action::Link => {
                self.open_incident_form(action);
                Ok(())
            }
            Action::Pause | Action::Resume => {
                self.open_program_form(action);
                Ok(())
            }
            Action::TogglePending => self.change_people_filter(PeopleTab::toggle_pending),
            Action::CycleCategory => {
                let catalog = self.catalog.clone();
                self.change_people_filter(|t| t.cycle_category(&catalog))
            }
            Action::ClearFilters => self.change_people_filter(PeopleTab::clear_filters),
            Action::QueueLetters | Action::PreviewLetter | Action::SendLetters => {
                self.open_letters_form(action);
                Ok(())
            }
            Action::RetryLetters => self.retry_letters(),
        };
        if let Err(e) = result {
            self.error(e.to_string());
        }
    }

    fn error(&mut self, text: String) {
        self.flash = Some(Flash { text, error: true });
    }

    fn info(&mut self, text: String) {
        self.flash = Some(Flash { text, error: false });
    }

    // ----- loading ------------------------------------------------------------------
    //
    // Each read starts a job; what it finds is taken in by `finish`. A generation number on
    // the board, the incident and the roster window drops answers that were asked again.

    /// Starts a read of the board; the selection stays on the same incident.
    pub fn refresh_board(&mut self) {
        self.board.generation += 1;
        self.board.loading = true;
        self.start(Job::Board {
            generation: self.board.generation,
        });
    }

    fn board_loaded(&mut self, generation: u64, result: Result<Vec<BoardRow>, DeskError>) {
        if generation != self.board.generation {
            return;
        }
        self.board.loading = false;
        match result {
            Ok(rows) => {
                self.board.rows = rows;
                self.board.apply_filter();
                if let Some(id) = self.board.select.take() {
                    self.board.selected = self
                        .board
                        .visible
                        .iter()
                        .position(|&i| self.board.rows[i].incident.id == id)
                        .unwrap_or(0);
                }
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    /// Shows `incident` at once, as the board knows it, and starts reading its tabs.
    fn open_detail(&mut self, incident: Incident) {
        self.detail = Some(Detail::opening(incident));
        self.reload_detail();
    }

    /// Starts reading the open incident again.
    fn reload_detail(&mut self) {
        let Some(d) = self.detail.as_mut() else {
            return;
        };
        d.generation += 1;
        d.loading = true;
        let job = Job::Incident {
            id: d.incident.id,
            generation: d.generation,
        };
        self.start(job);
    }

    fn detail_loaded(
        &mut self,
        id: IncidentId,
        generation: u64,
        result: Result<Box<IncidentLoad>, DeskError>,
    ) {
        let Some(d) = self
            .detail
            .as_mut()
            .filter(|d| d.incident.id == id && d.generation == generation)
        else {
            return;
        };
        match result.and_then(|load| d.loaded(*load, &self.rules)) {
            Ok(()) => self.load_tab(),
            Err(e) => {
                d.loading = false;
                self.error(e.to_string());
            }
        }
    }

    /// Starts reading what the open tab shows that is read only on demand: the roster
    /// window, the outbox or the access log. The desk is asked again each time (the user
    /// may have been made a member since); a refusal is shown in the tab, not as an error.
    fn load_tab(&mut self) {
        let Some(d) = self.detail.as_mut() else {
            return;
        };
        let id = d.incident.id;
        match d.tab {
            Tab::People => self.refresh_people_window(true),
            Tab::Notifications => {
                d.letters.loading = true;
                self.start(Job::Outbox { id });
            }
            Tab::Access => {
                d.access.loading = true;
                self.start(Job::AccessLog { id });
            }
            _ => {}
        }
    }

    /// Applies what a tab's read found: `show` puts a success in place.
    fn tab_loaded<T>(
        &mut self,
        id: IncidentId,
        tab: Tab,
        result: Result<T, DeskError>,
        show: impl FnOnce(&mut Detail, T),
    ) {
        let Some(d) = self.detail.as_mut().filter(|d| d.incident.id == id) else {
            return;
        };
        match result {
            Ok(value) => {
                d.refused.retain(|(t, _)| *t != tab);
                show(d, value);
            }
            Err(e) if e.is_denied() => d.refuse(tab, &e),
            Err(e) => self.error(e.to_string()),
        }
    }

    /// Rereads the board and the open incident after a change.
    fn refresh_after_change(&mut self) {
        self.refresh_board();
        if self.detail.is_some() {
            self.reload_detail();
            self.rerun_people_search();
        }
    }

    /// Makes sure the unfiltered window covers the selection; starts a read of one or two
    /// pages when it does not (`force`: read again even if it does).
    fn refresh_people_window(&mut self, force: bool) {
        let Some(d) = self.detail.as_mut() else {
            return;
        };
        if d.tab != Tab::People || !force && d.refusal(Tab::People).is_some() {
            return;
        }
        if let Some(job) = d.people.window_job(d.incident.id, force) {
            self.start(job);
        }
    }

    fn people_window_loaded(
        &mut self,
        id: IncidentId,
        start: usize,
        generation: u64,
        result: Result<Vec<AffectedPerson>, DeskError>,
    ) {
        let current = self
            .detail
            .as_ref()
            .is_some_and(|d| d.incident.id == id && d.people.wants_window(generation));
        if !current {
            return;
        }
        let read = result.is_ok();
        self.tab_loaded(id, Tab::People, result, |d, window| {
            d.people.window_loaded(start, window)
        });
        if let Some(d) = self.detail.as_mut() {
            d.people.window_loading = false;
        }
        if read {
            // The selection may have moved on while the window was read.
            self.refresh_people_window(false);
        }
    }

    // ----- navigation ----------------------------------------------------------------

    fn back(&mut self) -> Result<(), DeskError> {
        if self.detail.take().is_some() {
            self.refresh_board();
        }
        Ok(())
    }

    fn move_by(&mut self, delta: isize) -> Result<(), DeskError> {
        match self.detail.as_mut() {
            None => {
                self.board.selected =
                    screens::step(self.board.selected, self.board.visible.len(), delta)
            }
            Some(d) => {
                d.move_by(delta);
                if d.tab == Tab::People {
                    self.refresh_people_window(false);
                }
            }
        }
        Ok(())
    }

    fn open_selected(&mut self) -> Result<(), DeskError> {
        if self.detail.is_some() {
            return Ok(());
        }
        if let Some(incident) = self.board.current().map(|r| r.incident.clone()) {
            self.open_detail(incident);
        }
        Ok(())
    }

    fn switch_tab(&mut self, step: usize) -> Result<(), DeskError> {
        if let Some(d) = self.detail.as_mut() {
            d.tab = Tab::ALL[(d.tab.index() + step) % Tab::ALL.len()];
        }
        self.load_tab();
        Ok(())
    }

    fn open_letters_form(&mut self, action: Action) {
        let Some(d) = self.detail.as_ref() else {
            return;
        };
        match d.letters.form(action, d.incident.id, &self.catalog) {
            Ok(form) => self.dialog = Some(Dialog::Form(form)),
            Err(why) => self.error(why),
        }
    }

    fn retry_letters(&mut self) -> Result<(), DeskError> {
        let Some(id) = self.detail.as_ref().map(|d| d.incident.id) else {
            return Ok(());
        };
        self.start(Job::Request(Request::RetryFailed { id }));
        Ok(())
    }

    fn start_filter(&mut self) {
        match self.detail.as_mut() {
            None => self.board.filtering = true,
            Some(d) if d.tab == Tab::People => d.people.searching = true,
            Some(_) => {}
        }
    }

    /// Typing into the board filter or the people search. Returns whether it took the key.
    fn text_input_key(&mut self, event: &KeyEvent) -> bool {
        use crossterm::event::KeyCode;
        if self.detail.is_none() && self.board.filtering {
            match event.code {
                KeyCode::Esc => {
                    self.board.filter.clear();
                    self.board.filtering = false;
                }
                KeyCode::Enter => self.board.filtering = false,
                KeyCode::Backspace => {
                    self.board.filter.pop();
                }
                KeyCode::Char(c) if !c.is_control() && self.board.filter.len() < 200 => {
                    self.board.filter.push(c)
                }
                KeyCode::Up | KeyCode::Down => return false,
                _ => return true,
            }
            self.board.apply_filter();
            return true;
        }
        let Some(d) = self
            .detail
            .as_mut()
            .filter(|d| d.tab == Tab::People && d.people.searching)
        else {
            return false;
        };
        if d.people.search_key(event.code) {
            self.rerun_people_search();
        }
        true
    }

    fn change_people_filter(
        &mut self,
        change: impl FnOnce(&mut PeopleTab),
    ) -> Result<(), DeskError> {
        if let Some(d) = self.detail.as_mut().filter(|d| d.tab == Tab::People) {
            change(&mut d.people);
            self.rerun_people_search();
        }
        Ok(())
    }

    /// Starts a search for the current filter, or goes back to the plain roster.
    fn rerun_people_search(&mut self) {
        let Some(d) = self.detail.as_mut() else {
            return;
        };
        match d.people.search_job(d.incident.id) {
            Some(job) => self.start(job),
            None => self.refresh_people_window(true),
        }
    }

    fn start(&mut self, job: Job) {
        let label = job.label();
        let id = self.worker.start(job);
        self.busy.push(Busy {
            id,
            label,
            started: Instant::now(),
        });
    }

    // ----- forms ---------------------------------------------------------------------

    fn open_incident_form(&mut self, action: Action) {
        let Some(d) = self.detail.as_ref() else {
            return;
        };
        match d.form(action) {
            Ok(Some(form)) => self.dialog = Some(Dialog::Form(form)),
            Ok(None) => {}
            Err(why) => self.error(why),
        }
    }

    fn open_program_form(&mut self, action: Action) {
        let Some(d) = self.detail.as_ref() else {
            return;
        };
        match d.programs.hook_form(action, &d.incident) {
            Ok(form) => self.dialog = Some(Dialog::Form(form)),
            Err(why) => self.error(why),
        }
    }

    fn dialog_key(&mut self, event: &KeyEvent) {
        use crossterm::event::KeyCode;
        match self.dialog.as_mut() {
            Some(Dialog::Panel(panel)) => match event.code {
                KeyCode::Up | KeyCode::Char('k') => panel.scroll = panel.scroll.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => {
                    panel.scroll = (panel.scroll + 1).min(panel.lines.len().saturating_sub(1))
                }
                KeyCode::PageUp => panel.scroll = panel.scroll.saturating_sub(PAGE),
                KeyCode::PageDown => {
                    panel.scroll = (panel.scroll + PAGE).min(panel.lines.len().saturating_sub(1))
                }
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => self.dialog = None,
                _ => {}
            },
            // A submitted form waits for the desk's answer; keys wait with it.
            Some(Dialog::Form(form)) if form.pending => {}
            Some(Dialog::Form(form)) => match form.handle_key(event) {
                FormInput::Cancel => self.dialog = None,
                FormInput::Edited => {}
                FormInput::Submit => {
                    if let Some(Dialog::Form(form)) = self.dialog.take() {
                        self.submit(form);
                    }
                }
            },
            None => {}
        }
    }

    /// Validates a submitted form and starts what it asks; on any problem the form stays
    /// open with the error shown where it belongs. A form whose request goes to the desk
    /// stays open, marked pending, until the desk answers; longer work (a hook, an import,
    /// a queue, a send) closes it and reports on its own.
    fn submit(&mut self, mut form: Form) {
        form.clear_errors();
        match submit::read(&form, &self.catalog) {
            Ok(Submission::Request(request)) => {
                form.pending = true;
                self.dialog = Some(Dialog::Form(form));
                self.start(Job::Request(request));
            }
            Ok(Submission::Job(job)) => {
                if matches!(job, Job::Send { .. }) {
                    self.sending = Some(SendProgress::default());
                }
                self.start(job);
            }
            Err(FieldErrors(errors)) => {
                for (name, error) in errors {
                    form.set_error(name, error);
                }
                self.dialog = Some(Dialog::Form(form));
            }
        }
    }

    /// The desk's answer to a request: a pending form closes on success and shows the
    /// refusal on failure.
    fn request_done(&mut self, result: Result<Outcome, DeskError>) {
        let form = match self.dialog.take() {
            Some(Dialog::Form(form)) if form.pending => Some(form),
            other => {
                self.dialog = other;
                None
            }
        };
        match (result, form) {
            (Ok(Outcome::Changed { message, select }), _) => {
                self.info(message);
                if select.is_some() {
                    self.board.filter.clear();
                    self.board.select = select;
                }
                self.refresh_after_change();
            }
            (Ok(Outcome::Preview { template, lines }), _) => {
                self.dialog = Some(Dialog::Panel(Panel {
                    title: format!(" {template} letter (preview; nothing is sent) "),
                    lines,
                    scroll: 0,
                }));
            }
            (Err(e), Some(mut form)) => {
                form.pending = false;
                form.error = Some(e.to_string());
                self.dialog = Some(Dialog::Form(form));
            }
            (Err(e), None) => self.error(e.to_string()),
        }
    }

    // ----- background results ----------------------------------------------------------

    fn finish(&mut self, id: u64, done: Done) {
        if let Done::SendProgress(p) = done {
            self.sending = Some(p);
            return;
        }
        self.busy.retain(|b| b.id != id);
        let changed = match done {
            Done::SendProgress(_) => false,
            Done::Board { generation, result } => {
                self.board_loaded(generation, result);
                false
            }
            Done::Incident {
                id,
                generation,
                result,
            } => {
                self.detail_loaded(id, generation, result);
                false
            }
            Done::PeopleWindow {
                id,
                start,
                generation,
                result,
            } => {
                self.people_window_loaded(id, start, generation, result);
                false
            }
            Done::Outbox { id, result } => {
                self.tab_loaded(id, Tab::Notifications, result, |d, outbox| {
                    d.letters.outbox = Some(outbox)
                });
                if let Some(d) = self.detail.as_mut() {
                    d.letters.loading = false;
                }
                false
            }
            Done::AccessLog { id, result } => {
                self.tab_loaded(id, Tab::Access, result, |d, log| d.access.show(log));
                if let Some(d) = self.detail.as_mut() {
                    d.access.loading = false;
                }
                false
            }
            Done::Request { result } => {
                self.request_done(result);
                false
            }
            Done::Sent { result } => {
                self.sending = None;
                self.show(letters::sent(result));
                true
            }
            Done::Queued { result } => {
                self.show(letters::queued(result));
                true
            }
            Done::People { generation, result } => {
                let error = self
                    .detail
                    .as_mut()
                    .and_then(|d| d.people.found(generation, result));
                if let Some(e) = error {
                    self.error(e);
                }
                false
            }
            Done::Paused { slug, result } => {
                self.show(programmes::paused(&slug, result));
                true
            }
            Done::Resumed { slug, result } => {
                self.show(programmes::resumed(&slug, result));
                true
            }
            Done::Imported { path, result } => {
                let changed = result.as_ref().is_ok_and(|r| !r.dry_run);
                self.show(incident::imported(&path, result));
                changed
            }
        };
        if changed {
            self.refresh_after_change();
        }
    }

    /// Puts what a finished job says where it belongs.
    fn show(&mut self, feedback: Feedback) {
        match feedback {
            Feedback::Info(text) => self.info(text),
            Feedback::Error(text) => self.error(text),
            Feedback::Panel(panel) => self.dialog = Some(Dialog::Panel(panel)),
        }
    }
}
