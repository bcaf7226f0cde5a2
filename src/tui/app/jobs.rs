//! The app's side of the worker: each read the screens need starts a [`Job`], and each
//! [`Done`] the worker sends back is taken in here, by the screen it belongs to. A generation
//! number on the board, the incident and the roster window drops answers that were asked
//! for again. Nothing here waits for the desk.

use std::time::Instant;

use super::{App, Busy, Dialog, Feedback, Panel};
use crate::desk::DeskError;
use crate::domain::{AffectedPerson, Incident, IncidentId};
use crate::tui::call::Outcome;
use crate::tui::screens::incident::{self, Detail, Tab};
use crate::tui::screens::{letters, programmes};
use crate::tui::worker::{Done, IncidentLoad, Job};

impl App {
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

    fn board_loaded(
        &mut self,
        generation: u64,
        result: Result<crate::tui::worker::BoardLoad, DeskError>,
    ) {
        if generation != self.board.generation {
            return;
        }
        self.board.loading = false;
        match result {
            Ok((rows, programs, failing_alerts)) => {
                self.failing_alerts = failing_alerts;
                self.board.rows = rows;
                self.board.programs = programs;
                self.board.apply_filter();
                if let Some(id) = self.board.select.take() {
                    self.board.selected = self
                        .board
                        .visible
                        .iter()
                        .position(|&i| self.board.rows[i].incident.id == id)
                        .unwrap_or(0);
                    // A new incident opens at once: the next thing is to work on it.
                    if let Some(row) = self.board.current().filter(|r| r.incident.id == id)
                        && self.detail.is_none()
                    {
                        let incident = row.incident.clone();
                        self.open_detail(incident);
                    }
                }
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    /// Shows `incident` at once, as the board knows it, and starts reading its tabs.
    pub(super) fn open_detail(&mut self, incident: Incident) {
        self.detail = Some(Detail::opening(incident));
        self.reload_detail();
    }

    /// Starts reading the open incident again.
    pub(super) fn reload_detail(&mut self) {
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
    pub(super) fn load_tab(&mut self) {
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
    pub(super) fn refresh_people_window(&mut self, force: bool) {
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
            d.people.window_loaded(start, window);
        });
        if let Some(d) = self.detail.as_mut() {
            d.people.window_loading = false;
        }
        if read {
            // The selection may have moved on while the window was read.
            self.refresh_people_window(false);
        }
    }

    /// Starts a search for the current filter, or goes back to the plain roster.
    pub(super) fn rerun_people_search(&mut self) {
        let Some(d) = self.detail.as_mut() else {
            return;
        };
        match d.people.search_job(d.incident.id) {
            Some(job) => self.start(job),
            None => self.refresh_people_window(true),
        }
    }

    pub(super) fn start(&mut self, job: Job) {
        let label = job.label();
        let id = self.worker.start(job);
        self.busy.push(Busy {
            progress: None,
            id,
            label,
            started: Instant::now(),
        });
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
            (Ok(Outcome::Panel { title, lines }), _) => {
                self.dialog = Some(Dialog::Panel(Panel {
                    title,
                    lines,
                    scroll: 0,
                }));
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

    pub(super) fn finish(&mut self, id: u64, done: Done) {
        if let Done::SendProgress(p) = done {
            self.sending = Some(p);
            return;
        }
        if let Done::Step(label) = done {
            if let Some(b) = self.busy.iter_mut().find(|b| b.id == id) {
                b.label = label;
                b.progress = None;
            }
            return;
        }
        if let Done::Progress { done, total } = done {
            if let Some(b) = self.busy.iter_mut().find(|b| b.id == id) {
                b.progress = Some((done, total));
            }
            return;
        }
        self.busy.retain(|b| b.id != id);
        let changed = match done {
            Done::SendProgress(_) | Done::Progress { .. } | Done::Step(_) => false,
            Done::Contained { incident, lines } => {
                self.sending = None;
                self.dialog = Some(Dialog::Panel(Panel {
                    title: format!(" {incident} contained: what each step did "),
                    lines,
                    scroll: 0,
                }));
                true
            }
            Done::Evidence { path, result } => {
                let ok = result.is_ok();
                self.show(match result {
                    Ok(s) => Feedback::Info(format!(
                        "{}: {}",
                        crate::domain::text::display_path(&path),
                        s.counts()
                    )),
                    // A refused log names every bad record: a list to read whole, with
                    // what is allowed, never one line cut at the screen's edge.
                    Err(e) if e.contains('\n') || e.chars().count() > 100 => {
                        let mut lines = e.lines().map(|l| l.trim_start().to_owned());
                        let heading = lines.next().unwrap_or_default();
                        let mut lines: Vec<String> = lines.collect();
                        lines.push(String::new());
                        lines.push(
                            "Allowed: the formats breachdesk reads (CloudTrail, S3 access logs, Google Cloud audit logs, Workspace Drive activity, Azure Storage logs, pgaudit csvlog, Elasticsearch audit, or CSV accessed_at,accessor,employee_id,action with actions read, view, open, query, search, list, download, export, copy, print, share and RFC 3339 times); nothing was imported."
                                .to_owned(),
                        );
                        if lines.len() == 2 {
                            lines.insert(0, heading.clone());
                        }
                        Feedback::Panel(crate::tui::app::Panel {
                            title: format!(" {} ", crate::tui::view::safe(&heading).chars().take(70).collect::<String>()),
                            lines,
                            scroll: 0,
                        })
                    }
                    Err(e) => Feedback::Error(e),
                });
                ok
            }
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
                    d.letters.outbox = Some(outbox);
                });
                if let Some(d) = self.detail.as_mut() {
                    d.letters.loading = false;
                }
                false
            }
            Done::MailReadiness { problems } => {
                self.mail_problems = problems;
                false
            }
            Done::Users(users) => {
                self.users = users;
                false
            }
            Done::AccessLog { id, result } => {
                self.tab_loaded(id, Tab::Access, result, |d, log| d.access.show(log));
                if let Some(d) = self.detail.as_mut() {
                    d.access.loading = false;
                }
                false
            }
            Done::Call { result } => {
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
                if let Some(d) = self.detail.as_mut() {
                    d.last_roster = Some(path.clone());
                }
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
