//! Every desk call of the TUI runs here, off the render loop: reads (the board, an incident,
//! a tab's data), changes (a [`Call`]), hooks, roster imports, searches and sends. Each job
//! runs on a thread of its own and reports back over a channel as a [`Done`]; the UI keeps
//! drawing and taking keys meanwhile.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use super::app::BoardRow;
use super::call::{Call, Outcome};
use crate::desk::{
    Desk, DeskError, ImportReport, IncidentFilter, OutboxStatus, PauseOutcome, PeopleFilter,
    QueueReport, ReadPath, ResumeOutcome, SendOptions, SendProgress,
};
use crate::domain::text::display_path;
use crate::domain::{
    AffectedPerson, AuditEvent, Incident, IncidentId, Program, ProgramSlug, ProgramState, UserName,
};
use crate::notify::TemplateName;
use crate::roster::RosterError;

/// Work to run in the background.
#[derive(Debug, Clone)]
pub enum Job {
    /// Every incident, with what the board shows about each. `generation` lets the app
    /// ignore an answer it has since asked again for.
    Board {
        generation: u64,
    },
    /// One incident, its timeline and its programmes.
    Incident {
        id: IncidentId,
        generation: u64,
    },
    /// A window of the unfiltered roster.
    PeopleWindow {
        id: IncidentId,
        start: usize,
        generation: u64,
    },
    Outbox {
        id: IncidentId,
    },
    AccessLog {
        id: IncidentId,
    },
    /// Whether letters could go out as configured, trying the mail server when nothing
    /// else is missing.
    MailReadiness,
    /// Everyone who holds a role (the policy is fixed while the desk runs: read once).
    Users,
    /// A change asked through a form or a key.
    Call(Call),
    Pause {
        incident: IncidentId,
        slug: ProgramSlug,
        reason: String,
    },
    Resume {
        slug: ProgramSlug,
        reason: String,
        force: bool,
    },
    Import {
        incident: IncidentId,
        path: PathBuf,
        dry_run: bool,
    },
    /// The contain flow's ticked steps, in order.
    Contain {
        incident: IncidentId,
        steps: Vec<crate::tui::contain::Step>,
        reason: String,
    },
    /// The exposed store's access log, read with its progress reported.
    Evidence {
        incident: IncidentId,
        path: PathBuf,
        authorized: Option<PathBuf>,
        person_from: Option<String>,
        map: Option<PathBuf>,
    },
    People {
        incident: IncidentId,
        filter: PeopleFilter,
        /// Lets the app ignore the answer to a search it has since replaced.
        generation: u64,
    },
    Send {
        incident: IncidentId,
    },
    Queue {
        incident: IncidentId,
        template: TemplateName,
        filter: PeopleFilter,
        /// Why to queue a letter the law check finds incomplete (`--allow-incomplete`).
        incomplete: Option<String>,
    },
}

impl Job {
    /// What the status line says while the job runs.
    pub fn label(&self) -> String {
        match self {
            Job::Board { .. } => "loading the board".to_owned(),
            Job::Incident { id, .. } => format!("loading {id}"),
            Job::PeopleWindow { .. } => "reading people".to_owned(),
            Job::Outbox { id } => format!("reading the letters of {id}"),
            Job::MailReadiness => "checking the mail settings".to_owned(),
            Job::Users => "reading who holds a role".to_owned(),
            Job::AccessLog { id } => format!("reading the access log of {id}"),
            Job::Call(request) => request.label(),
            Job::Pause { slug, .. } => format!("pausing {slug}: running its pause hook"),
            Job::Resume { slug, .. } => format!("resuming {slug}: running its resume hook"),
            Job::Import { path, .. } => format!("importing {}", display_path(path)),
            Job::Evidence { path, .. } => format!("reading {}", display_path(path)),
            Job::Contain { incident, .. } => format!("containing {incident}"),
            Job::People { .. } => "searching people".to_owned(),
            Job::Send { incident } => format!("sending the letters of {incident}"),
            Job::Queue { template, .. } => format!("queuing '{template}' letters"),
        }
    }
}

/// Why an import did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportFailure {
    /// Bad rows: a heading and one line per row.
    Rows {
        heading: String,
        lines: Vec<String>,
    },
    Other(String),
}

/// An incident as its tabs show it.
#[derive(Debug)]
pub struct IncidentLoad {
    pub incident: Incident,
    /// Oldest first; refused to users without the right to it.
    pub timeline: Result<Vec<AuditEvent>, DeskError>,
    /// Every programme; the incident's own are those it links.
    pub programs: Vec<Program>,
}

/// A finished job.
#[derive(Debug)]
pub enum Done {
    Board {
        generation: u64,
        result: Result<BoardLoad, DeskError>,
    },
    Incident {
        id: IncidentId,
        generation: u64,
        /// Boxed: an incident is large, and most answers are not one.
        result: Result<Box<IncidentLoad>, DeskError>,
    },
    PeopleWindow {
        id: IncidentId,
        start: usize,
        generation: u64,
        result: Result<Vec<AffectedPerson>, DeskError>,
    },
    Outbox {
        id: IncidentId,
        result: Result<OutboxStatus, DeskError>,
    },
    AccessLog {
        id: IncidentId,
        result: Result<Vec<AuditEvent>, DeskError>,
    },
    /// What stops letters going out, each as "what: how to fix it".
    MailReadiness {
        problems: Vec<String>,
    },
    /// Everyone who holds a role (empty when the desk does not say).
    Users(Vec<UserName>),
    Call {
        result: Result<Outcome, DeskError>,
    },
    Paused {
        slug: ProgramSlug,
        result: Result<PauseOutcome, String>,
    },
    Resumed {
        slug: ProgramSlug,
        result: Result<ResumeOutcome, String>,
    },
    Imported {
        path: PathBuf,
        result: Result<ImportReport, ImportFailure>,
    },
    People {
        generation: u64,
        result: Result<Vec<AffectedPerson>, String>,
    },
    /// A send run's progress so far; the job is still running.
    SendProgress(SendProgress),
    /// How far a long read has got (bytes of the file); the job is still running.
    Progress {
        done: u64,
        total: u64,
    },
    Evidence {
        path: PathBuf,
        result: Result<crate::domain::EvidenceSummary, String>,
    },
    /// The step a running job has reached; the job is still running.
    Step(String),
    /// What each step of the contain flow did.
    Contained {
        incident: IncidentId,
        lines: Vec<String>,
    },
    Sent {
        result: Result<SendProgress, String>,
    },
    Queued {
        result: Result<QueueReport, String>,
    },
}

/// Starts jobs and collects what they report.
pub struct Worker {
    desk: Arc<dyn Desk>,
    actor: UserName,
    tx: Sender<(u64, Done)>,
    rx: Receiver<(u64, Done)>,
    next_id: u64,
}

impl Worker {
    pub fn new(desk: Arc<dyn Desk>, actor: UserName) -> Self {
        let (tx, rx) = mpsc::channel();
        Worker {
            desk,
            actor,
            tx,
            rx,
            next_id: 0,
        }
    }

    /// Runs `job` on a new thread; returns the id its result will carry.
    pub fn start(&mut self, job: Job) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let desk = Arc::clone(&self.desk);
        let actor = self.actor.clone();
        let tx = self.tx.clone();
        thread::spawn(move || {
            // The receiver is gone only when the app has quit; nothing is left to tell.
            let progress_tx = tx.clone();
            let mut report = move |p: &SendProgress| {
                let _ = progress_tx.send((id, Done::SendProgress(*p)));
            };
            let bytes_tx = tx.clone();
            let mut bytes = move |done: u64, total: u64| {
                let _ = bytes_tx.send((id, Done::Progress { done, total }));
            };
            let step_tx = tx.clone();
            let mut step = move |label: String| {
                let _ = step_tx.send((id, Done::Step(label)));
            };
            let progress = Progress {
                send: &mut report,
                bytes: &mut bytes,
                step: &mut step,
            };
            let _ = tx.send((id, run(desk.as_ref(), &actor, job, progress)));
        });
        id
    }

    /// A finished job, if one is waiting.
    pub fn try_recv(&self) -> Option<(u64, Done)> {
        self.rx.try_recv().ok()
    }

    /// Waits up to `timeout` for a finished job.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<(u64, Done)> {
        self.rx.recv_timeout(timeout).ok()
    }
}

/// Where a running job reports how far it has got.
struct Progress<'a> {
    send: &'a mut dyn FnMut(&SendProgress),
    bytes: &'a mut dyn FnMut(u64, u64),
    step: &'a mut dyn FnMut(String),
}

fn run(desk: &dyn Desk, actor: &UserName, job: Job, progress: Progress<'_>) -> Done {
    match job {
        Job::Board { generation } => Done::Board {
            generation,
            result: board(desk),
        },
        Job::Incident { id, generation } => Done::Incident {
            id,
            generation,
            result: incident(desk, actor, id),
        },
        Job::PeopleWindow {
            id,
            start,
            generation,
        } => Done::PeopleWindow {
            id,
            start,
            generation,
            result: desk.people_window(id, start, PEOPLE_WINDOW),
        },
        Job::MailReadiness => Done::MailReadiness {
            problems: mail_readiness(desk),
        },
        Job::Users => Done::Users(desk.known_users().unwrap_or_default()),
        Job::Outbox { id } => Done::Outbox {
            id,
            result: desk.outbox_status(id, ReadPath::TuiNotifications),
        },
        Job::AccessLog { id } => Done::AccessLog {
            id,
            result: desk.access_log(Some(id), None),
        },
        Job::Call(request) => Done::Call {
            result: request.perform(desk),
        },
        Job::Queue {
            incident,
            template,
            filter,
            incomplete,
        } => Done::Queued {
            result: desk
                .queue_notifications(incident, template, filter, Vec::new(), incomplete)
                .map_err(|e| e.to_string()),
        },
        Job::Send { incident } => Done::Sent {
            result: desk
                .send_notifications(Some(incident), &SendOptions::default(), progress.send)
                .map_err(|e| e.to_string()),
        },
        Job::Pause {
            incident,
            slug,
            reason,
        } => Done::Paused {
            result: desk
                .pause_program(slug.clone(), incident, reason)
                .map_err(|e| e.to_string()),
            slug,
        },
        Job::Resume {
            slug,
            reason,
            force,
        } => Done::Resumed {
            result: desk
                .resume_program(slug.clone(), reason, force)
                .map_err(|e| e.to_string()),
            slug,
        },
        Job::Contain {
            incident,
            steps,
            reason,
        } => Done::Contained {
            incident,
            lines: crate::tui::contain::run(
                desk,
                incident,
                &steps,
                &reason,
                progress.step,
                progress.send,
            ),
        },
        Job::Evidence {
            incident,
            path,
            authorized,
            person_from,
            map,
        } => Done::Evidence {
            result: evidence(
                desk,
                incident,
                &path,
                EvidenceFiles {
                    authorized: authorized.as_deref(),
                    person_from,
                    map: map.as_deref(),
                },
                progress.bytes,
            ),
            path,
        },
        Job::Import {
            incident,
            path,
            dry_run,
        } => Done::Imported {
            result: import(desk, actor, incident, &path, dry_run),
            path,
        },
        Job::People {
            incident,
            filter,
            generation,
        } => Done::People {
            generation,
            result: desk
                .people(incident, filter, ReadPath::TuiPeople)
                .map_err(|e| e.to_string()),
        },
    }
}

/// How many people a roster window holds.
pub const PEOPLE_WINDOW: usize = 256;

/// The board's rows, and every programme (slug, name) for the forms that pick one.
/// The board's rows, the programmes by slug and name, and the alert destinations failing
/// now (with what went wrong).
pub type BoardLoad = (Vec<BoardRow>, Vec<(ProgramSlug, String)>, Vec<String>);

fn board(desk: &dyn Desk) -> Result<BoardLoad, DeskError> {
    let incidents = desk.incidents(IncidentFilter::default())?;
    let programs = desk.programs()?;
    let states: HashMap<ProgramSlug, ProgramState> =
        programs.iter().map(|p| (p.slug.clone(), p.state)).collect();
    let rules = desk.rules();
    let rows = incidents
        .into_iter()
        .map(|incident| BoardRow::new(incident, &states, &rules))
        .collect();
    // Someone the desk does not let read the alert states sees no alert warning.
    let failing = desk
        .alert_states()
        .unwrap_or_default()
        .into_iter()
        .filter(crate::alerts::AlertState::failing)
        .map(|s| {
            format!(
                "{}: {}",
                s.name,
                s.last_error.as_deref().unwrap_or("failing")
            )
        })
        .collect();
    Ok((
        rows,
        programs.into_iter().map(|p| (p.slug, p.name)).collect(),
        failing,
    ))
}

fn incident(
    desk: &dyn Desk,
    _actor: &UserName,
    id: IncidentId,
) -> Result<Box<IncidentLoad>, DeskError> {
    let incident = desk.incident(id)?;
    let timeline = desk.timeline(id);
    let programs = desk.programs()?;
    Ok(Box::new(IncidentLoad {
        incident,
        timeline,
        programs,
    }))
}

fn import(
    desk: &dyn Desk,
    _actor: &UserName,
    incident: IncidentId,
    path: &std::path::Path,
    dry_run: bool,
) -> Result<ImportReport, ImportFailure> {
    let name = display_path(path);
    let bytes = std::fs::read(path)
        .map_err(|e| ImportFailure::Other(format!("cannot read {name}: {e}")))?;
    desk.import_roster(incident, bytes, name.clone(), dry_run)
        .map_err(|e| match e {
            // The panel is narrow: its heading names the file, the form names the path.
            DeskError::Roster(RosterError::Rows { rows, .. }) => ImportFailure::Rows {
                heading: format!(
                    "{}: {} bad rows; nothing was imported",
                    path.file_name().map_or(name.clone(), display_path),
                    rows.len()
                ),
                lines: rows.iter().map(ToString::to_string).collect(),
            },
            other => ImportFailure::Other(other.to_string()),
        })
}

/// What stops letters going out: the desk's settings, then (when they are complete) the
/// mail server itself. Someone the desk does not let try the server gets the settings only.
fn mail_readiness(desk: &dyn Desk) -> Vec<String> {
    match desk.mail_readiness() {
        Err(e) if e.is_denied() => Vec::new(),
        Err(e) => vec![format!("mail settings unreadable: {e}")],
        Ok(problems) if !problems.is_empty() => problems,
        Ok(_) => match desk.test_smtp() {
            Err(e) if !e.is_denied() => vec![format!("mail server fails: {e}")],
            _ => Vec::new(),
        },
    }
}

/// What the evidence form names besides the log.
struct EvidenceFiles<'a> {
    authorized: Option<&'a std::path::Path>,
    person_from: Option<String>,
    map: Option<&'a std::path::Path>,
}

/// Reads the access log through the desk, reporting the bytes read as it goes (about every
/// 4 MiB, so that 10,000,000 rows give a few hundred updates, not millions).
fn evidence(
    desk: &dyn Desk,
    incident: IncidentId,
    path: &std::path::Path,
    files: EvidenceFiles<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<crate::domain::EvidenceSummary, String> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", display_path(p)))
    };
    let options = crate::evidence::EvidenceOptions {
        format: crate::evidence::LogFormat::Auto,
        authorized: match files.authorized {
            Some(list) => crate::evidence::allow_list(&read(list)?),
            None => Vec::new(),
        },
        person_from: files.person_from,
        map: match files.map {
            Some(p) => crate::evidence::map_file(&read(p)?)
                .map_err(|e| format!("{}: {e}", display_path(p)))?,
            None => Vec::new(),
        },
    };
    let name = display_path(path);
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut counted = Counted {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        read: 0,
        reported: 0,
        total,
        progress,
    };
    desk.import_evidence(incident, &mut counted, &name, &options)
        .map_err(|e| e.to_string())
}

/// A reader that reports how much of the file has been read.
struct Counted<'a, R> {
    inner: R,
    read: u64,
    reported: u64,
    total: u64,
    progress: &'a mut dyn FnMut(u64, u64),
}

impl<R: std::io::Read> std::io::Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= 4 << 20 || (n == 0 && self.read > self.reported) {
            self.reported = self.read;
            (self.progress)(self.read, self.total);
        }
        Ok(n)
    }
}
