//! The UI's state and how actions change it. Input becomes an [`Action`] through the key
//! table; [`App::update`] applies it and starts background work for anything that needs the
//! desk; what the worker finds comes back through [`App::tick`] (starting reads and taking in
//! the answers is `jobs.rs`). Each screen's own state, changes and drawing are in
//! `screens/`; this file keeps the top-level state, the key dispatch, dialogs and submitting
//! forms. The views only read this state, and nothing here waits for the desk.
//!
//! ```text
//! ┌ breachdesk ─ 3 incidents ─ ⠋ pausing staff-monitoring ────────────────┐  header
//! │ Board: ID SEV TITLE STATUS AGE PEOPLE TOLD PROGRAMME                    │
//! │   or                                                                    │  body
//! │ Detail: INC-3 SEV2 title / [Overview|Timeline|People|…|Access] / tab    │
//! ├─────────────────────────────────────────────────────────────────────────┤
//! │ message or error                                                        │  footer
//! │ keys for this screen (from the key table)                               │
//! └─────────────────────────────────────────────────────────────────────────┘
//!   dialogs (forms, error panels) and help are drawn over the body
//! ```

mod jobs;
mod pointer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::action::Action;
use super::call::Call;
use super::form::{Form, FormInput};
use super::keymap::{self, KeyScope};
pub use super::screens::board::{Board, BoardRow};
pub use super::screens::incident::{Detail, Tab};
pub use super::screens::people::PeopleTab;
use super::screens::{self, board};
use super::submit::{self, FieldErrors, Submitted};
use super::theme::Theme;
use super::worker::{Job, Worker};
use crate::deadlines::RuleBook;
use crate::desk::{Desk, DeskError, SendProgress};
use crate::domain::{CategoryCatalog, UserName};

/// How many rows PageUp and PageDown move.
const PAGE: usize = 20;

pub use crate::desk::Clock;

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
    /// How far it has got (done of total bytes), for work that says.
    pub progress: Option<(u64, u64)>,
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
    /// What stops letters going out as configured ("what: how to fix it"); shown in the
    /// header while there is anything.
    pub mail_problems: Vec<String>,
    /// Alert destinations failing now, "name: what went wrong" (shown in the header).
    pub failing_alerts: Vec<String>,
    /// This machine's settings: the contact point and templates regulator drafts use.
    settings: Arc<crate::config::Settings>,
    /// Where the last frame drew what a click can hit.
    pub hits: crate::tui::mouse::Hits,
    /// Everyone who holds a role, to choose members from (read once at start).
    users: Vec<UserName>,
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
            mail_problems: Vec::new(),
            failing_alerts: Vec::new(),
            settings: Arc::new(crate::config::Settings::defaults()),
            hits: crate::tui::mouse::Hits::default(),
            users: Vec::new(),
        };
        app.refresh_board();
        app.start(Job::MailReadiness);
        app.start(Job::Users);
        Ok(app)
    }

    /// The same app, with this machine's settings for the drafts it writes.
    pub fn with_settings(mut self, settings: Arc<crate::config::Settings>) -> Self {
        self.settings = settings;
        self
    }

    /// The same app, reloading what each change notice touches (the live team view).
    pub fn with_live(mut self, live: super::live::Live) -> Self {
        self.live = Some(live);
        self
    }

    /// The key contexts active now, most specific first.
    pub fn contexts(&self) -> Vec<KeyScope> {
        match &self.detail {
            None => vec![KeyScope::Board, KeyScope::Global],
            Some(d) => match d.tab {
                Tab::People => vec![KeyScope::People, KeyScope::Detail, KeyScope::Global],
                Tab::Programs => vec![KeyScope::Programs, KeyScope::Detail, KeyScope::Global],
                Tab::Notifications => {
                    vec![KeyScope::Notifications, KeyScope::Detail, KeyScope::Global]
                }
                Tab::Deadlines => vec![KeyScope::Deadlines, KeyScope::Detail, KeyScope::Global],
                Tab::Access => vec![KeyScope::Access, KeyScope::Detail, KeyScope::Global],
                _ => vec![KeyScope::Detail, KeyScope::Global],
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
                self.dialog = Some(Dialog::Form(board::new_incident_form(
                    &self.catalog,
                    &self.board.programs,
                )));
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
            Action::VerifyAudit => {
                self.start(Job::Call(crate::tui::call::Call::Op(
                    crate::remote::protocol::Request::VerifyAudit {},
                )));
                Ok(())
            }
            Action::CheckTemplates => {
                let settings = Arc::clone(&self.settings);
                self.start(Job::Call(crate::tui::call::Call::CheckTemplates(settings)));
                Ok(())
            }
            // Every other action opens a form on the incident, built (and read back) by
            // the incident's screen: a new one needs no arm here.
            other => {
                self.open_incident_form(other);
                Ok(())
            }
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
                    screens::step(self.board.selected, self.board.visible.len(), delta);
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
        if let Some(d) = self.detail.as_ref() {
            // On an incident, Enter reads what is under the cursor whole.
            if let Some(panel) = crate::tui::screens::entries::panel(d) {
                self.dialog = Some(Dialog::Panel(panel));
            }
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
        self.start(Job::Call(Call::Op(
            crate::remote::protocol::Request::RetryFailed { id },
        )));
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
                    self.board.filter.push(c);
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

    // ----- forms ---------------------------------------------------------------------

    fn open_incident_form(&mut self, action: Action) {
        let Some(d) = self.detail.as_ref() else {
            return;
        };
        match d.form(action, &self.catalog, &self.users) {
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
                    panel.scroll = (panel.scroll + 1).min(panel.lines.len().saturating_sub(1));
                }
                KeyCode::PageUp => panel.scroll = panel.scroll.saturating_sub(PAGE),
                KeyCode::PageDown => {
                    panel.scroll = (panel.scroll + PAGE).min(panel.lines.len().saturating_sub(1));
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
        match submit::read(&form, &self.catalog, (self.clock)(), &self.settings) {
            Ok(Submitted::Call(request)) => {
                form.pending = true;
                self.dialog = Some(Dialog::Form(form));
                self.start(Job::Call(request));
            }
            Ok(Submitted::Confirm(next)) => self.dialog = Some(Dialog::Form(next)),
            Ok(Submitted::Job(job)) => {
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
}
