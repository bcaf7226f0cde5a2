//! The desk as seen through the daemon: every call is one request on the socket. The
//! `actor` the front ends pass is ignored; the daemon decides who is calling. Each new
//! connection opens with a hello of [`PROTOCOL_VERSION`], once: connections are kept and
//! reused. The daemon's errors come back as [`DeskError::Remote`] with their kind.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::protocol::{
    self, FrameError, MAX_REPLY, PROTOCOL_VERSION, ReplyFrame, Request, Welcome, protocol_mismatch,
    to_hex,
};
use crate::audit::{HeadReport, Tamper, Verified};
use crate::deadlines::Obligation;
use crate::desk::{
    Desk, DeskError, ErrorKind, Identity, ImportReport, IncidentFilter, LinkOutcome, OutboxStatus,
    PauseOutcome, PeopleFilter, QueueReport, ReadPath, ResumeOutcome, SendOptions, SendProgress,
};
use crate::domain::text::display_path;
use crate::domain::{
    AffectedPerson, AuditEvent, CategoryCatalog, Email, EmployeeId, Incident, IncidentId,
    NewIncident, NewProgram, Program, ProgramSlug, Severity, Status, UserName,
};
use crate::domain::{EvidenceSummary, ObligationState};
use crate::evidence::Evidence;
use crate::notify::TemplateName;

/// How long a call may go without a frame from the daemon (hooks run up to their limit).
const REPLY_PATIENCE: Duration = Duration::from_secs(300);

/// The hello every connection opens with.
const HELLO: Request = Request::Hello {
    protocol: Some(PROTOCOL_VERSION),
};

/// The one field of the daemon's welcome that every new connection checks.
#[derive(Deserialize)]
struct Greeting {
    /// Absent from a daemon of protocol 1, which ignored the version in the hello.
    #[serde(default)]
    protocol: Option<u32>,
}

/// A desk on the other end of a daemon's socket.
pub struct RemoteDesk {
    socket: PathBuf,
    /// Idle connections, reused so a call costs one round trip.
    idle: Mutex<Vec<UnixStream>>,
    welcome: Welcome,
    catalog: CategoryCatalog,
    rules: crate::deadlines::RuleBook,
}

impl RemoteDesk {
    /// Connects and greets the daemon, which says who it takes the caller to be.
    pub fn connect(socket: &Path) -> Result<RemoteDesk, DeskError> {
        let mut desk = RemoteDesk {
            socket: socket.to_owned(),
            idle: Mutex::new(Vec::new()),
            welcome: Welcome {
                identity: Identity {
                    user: UserName::parse("unknown").expect("valid name"),
                    role: None,
                },
                catalog: Vec::new(),
                rules: Vec::new(),
                targets: Default::default(),
                version: String::new(),
                protocol: PROTOCOL_VERSION,
            },
            catalog: CategoryCatalog::default(),
            rules: crate::deadlines::RuleBook::default(),
        };
        let (stream, welcome) = desk.open_connection()?;
        let welcome: Welcome = serde_json::from_str(welcome.get())
            .map_err(|e| desk.garbled(format!("unexpected welcome: {e}")))?;
        desk.keep(stream);
        desk.catalog = CategoryCatalog::with_extra(&welcome.catalog)?;
        desk.rules =
            crate::deadlines::RuleBook::from_parts(welcome.rules.clone(), welcome.targets.clone())
                .map_err(|e| desk.gone(format!("its jurisdiction rules: {e}")))?;
        desk.welcome = welcome;
        Ok(desk)
    }

    /// Who the daemon says we are.
    pub fn identity(&self) -> &Identity {
        &self.welcome.identity
    }

    /// The daemon cannot be reached, or will not talk to us.
    fn gone(&self, what: impl std::fmt::Display) -> DeskError {
        DeskError::Remote {
            kind: ErrorKind::Unavailable,
            message: format!(
                "breachdesk daemon at {}: {what}",
                display_path(&self.socket)
            ),
        }
    }

    /// The daemon answered something this client cannot read: a bug on one side.
    fn garbled(&self, what: impl std::fmt::Display) -> DeskError {
        DeskError::Remote {
            kind: ErrorKind::Internal,
            message: format!(
                "breachdesk daemon at {}: {what}",
                display_path(&self.socket)
            ),
        }
    }

    /// A daemon of another protocol version, as the user of this client is told of it.
    fn mismatch(&self, daemon: u32) -> DeskError {
        DeskError::Remote {
            kind: ErrorKind::Unavailable,
            message: protocol_mismatch(&display_path(&self.socket), daemon),
        }
    }

    /// Puts a connection back for the next call.
    fn keep(&self, stream: UnixStream) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(stream);
    }

    /// Connects and says hello: the one exchange a connection costs before its first call.
    /// Returns the daemon's welcome, undecoded.
    fn open_connection(&self) -> Result<(UnixStream, Box<RawValue>), DeskError> {
        let mut stream = self.connect_socket()?;
        let welcome = self.greet(&mut stream)?;
        Ok((stream, welcome))
    }

    fn connect_socket(&self) -> Result<UnixStream, DeskError> {
        let stream = UnixStream::connect(&self.socket).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => self.gone(
                "nobody is listening (is `breachdesk serve` running? it removes the socket when it stops)",
            ),
            std::io::ErrorKind::PermissionDenied => self.gone(
                "permission denied (the socket is for the daemon's group; ask an admin to add you)",
            ),
            _ => self.gone(e),
        })?;
        stream
            .set_read_timeout(Some(REPLY_PATIENCE))
            .map_err(|e| self.gone(e))?;
        Ok(stream)
    }

    /// Sends the hello and checks that the daemon speaks this protocol; its welcome if so.
    fn greet(&self, stream: &mut UnixStream) -> Result<Box<RawValue>, DeskError> {
        let hello = serde_json::to_vec(&HELLO).map_err(|e| self.garbled(e))?;
        protocol::write_frame(stream, &hello).map_err(|e| self.gone(e))?;
        let reply = self.read_reply(stream)?;
        match (reply.reply.as_str(), reply.value) {
            ("ok", Some(welcome)) => {
                let greeting: Greeting = serde_json::from_str(welcome.get())
                    .map_err(|e| self.garbled(format!("unexpected welcome: {e}")))?;
                match greeting.protocol.unwrap_or(1) {
                    PROTOCOL_VERSION => Ok(welcome),
                    other => Err(self.mismatch(other)),
                }
            }
            ("error", _) => Err(match (reply.kind, reply.protocol) {
                // A daemon of protocol 1 refused the version field, without a kind.
                (None, _) => self.mismatch(1),
                (Some(_), Some(daemon)) if daemon != PROTOCOL_VERSION => self.mismatch(daemon),
                (Some(kind), _) => DeskError::Remote {
                    kind,
                    message: reply.message.unwrap_or_default(),
                },
            }),
            (other, _) => Err(self.garbled(format!("unexpected reply kind '{other}'"))),
        }
    }

    /// Reads one reply frame.
    fn read_reply(&self, stream: &mut UnixStream) -> Result<ReplyFrame, DeskError> {
        let frame =
            protocol::read_frame(stream, MAX_REPLY, &mut |_| false).map_err(|e| match e {
                FrameError::Closed | FrameError::Truncated { .. } => {
                    self.gone("it closed the connection before answering (it may have stopped)")
                }
                FrameError::Stalled => self.gone("no answer in time"),
                other => self.gone(other),
            })?;
        serde_json::from_slice(&frame).map_err(|e| self.garbled(format!("unreadable reply: {e}")))
    }

    fn call<T: DeserializeOwned>(&self, request: &Request) -> Result<T, DeskError> {
        self.call_with_progress(request, &mut |_| {}, None)
    }

    /// Sends one request and reads frames until its answer.
    fn call_with_progress<T: DeserializeOwned>(
        &self,
        request: &Request,
        progress: &mut dyn FnMut(&SendProgress),
        stop: Option<&std::sync::atomic::AtomicBool>,
    ) -> Result<T, DeskError> {
        let body = serde_json::to_vec(request).map_err(|e| self.garbled(e))?;
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let stream = match reused {
            // A kept connection may have been closed by a restarted daemon: retry once on
            // a fresh one if writing fails.
            Some(mut stream) => match protocol::write_frame(&mut stream, &body) {
                Ok(()) => stream,
                Err(_) => self.fresh(&body)?,
            },
            None => self.fresh(&body)?,
        };
        self.finish(stream, progress, stop)
    }

    /// Reads frames until the answer to the request already sent on `stream`.
    fn finish<T: DeserializeOwned>(
        &self,
        mut stream: UnixStream,
        progress: &mut dyn FnMut(&SendProgress),
        stop: Option<&std::sync::atomic::AtomicBool>,
    ) -> Result<T, DeskError> {
        loop {
            let reply = self.read_reply(&mut stream)?;
            let answer = match (reply.reply.as_str(), reply.value, reply.progress) {
                ("progress", _, Some(p)) => {
                    progress(&p);
                    if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst)) {
                        // Hanging up tells the daemon to stop starting letters.
                        drop(stream);
                        return Err(DeskError::Interrupted(format!(
                            "{} sent, {} failed of {} when interrupted; the daemon records the letters in flight and leaves the rest queued (`notify status` shows the counts)",
                            p.sent, p.failed, p.total
                        )));
                    }
                    continue;
                }
                ("ok", Some(value), _) => serde_json::from_str(value.get())
                    .map_err(|e| self.garbled(format!("unexpected reply: {e}"))),
                // The handshake agreed the protocol, so every error here has a kind.
                ("error", _, _) => Err(DeskError::Remote {
                    kind: reply.kind.unwrap_or(ErrorKind::Internal),
                    message: reply.message.unwrap_or_default(),
                }),
                (other, _, _) => Err(self.garbled(format!("unexpected reply kind '{other}'"))),
            };
            self.keep(stream);
            return answer;
        }
    }

    fn fresh(&self, body: &[u8]) -> Result<UnixStream, DeskError> {
        let (mut stream, _welcome) = self.open_connection()?;
        protocol::write_frame(&mut stream, body).map_err(|e| self.gone(e))?;
        Ok(stream)
    }
}

/// Fills `buf` as far as the input allows; 0 only at its end.
fn read_full(input: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn names<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    items.into_iter().map(str::to_owned).collect()
}

impl Desk for RemoteDesk {
    fn catalog(&self) -> CategoryCatalog {
        self.catalog.clone()
    }

    fn rules(&self) -> crate::deadlines::RuleBook {
        self.rules.clone()
    }

    fn identity(&self, _actor: &UserName) -> Result<Identity, DeskError> {
        let welcome: Welcome = self.call(&HELLO)?;
        Ok(welcome.identity)
    }

    fn set_member(
        &self,
        _actor: &UserName,
        id: IncidentId,
        user: UserName,
        add: bool,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::SetMember {
            id,
            user: user.to_string(),
            add,
        })
    }

    fn access_log(
        &self,
        _actor: &UserName,
        incident: Option<IncidentId>,
        user: Option<&UserName>,
    ) -> Result<Vec<AuditEvent>, DeskError> {
        self.call(&Request::AccessLog {
            incident,
            user: user.map(ToString::to_string),
        })
    }

    fn open_incident(&self, _actor: &UserName, new: NewIncident) -> Result<Incident, DeskError> {
        self.call(&Request::OpenIncident {
            title: new.title,
            severity: new.severity.level(),
            summary: new.summary,
            categories: names(new.categories.iter().map(|c| c.as_str())),
            programs: names(new.programs.iter().map(|p| p.as_str())),
            discovered_at: new.discovered_at,
            aware_at: new.aware_at,
        })
    }

    fn incidents(
        &self,
        _actor: &UserName,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, DeskError> {
        self.call(&Request::Incidents {
            status: filter.status.map(|s| s.as_str().to_owned()),
            max_severity: filter.max_severity.map(Severity::level),
        })
    }

    fn incident(&self, _actor: &UserName, id: IncidentId) -> Result<Incident, DeskError> {
        self.call(&Request::Incident { id })
    }

    fn timeline(&self, _actor: &UserName, id: IncidentId) -> Result<Vec<AuditEvent>, DeskError> {
        self.call(&Request::Timeline { id })
    }

    fn set_severity(
        &self,
        _actor: &UserName,
        id: IncidentId,
        severity: Severity,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::SetSeverity {
            id,
            severity: severity.level(),
            reason: reason.to_owned(),
        })
    }

    fn set_status(
        &self,
        _actor: &UserName,
        id: IncidentId,
        status: Status,
        reason: Option<&str>,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::SetStatus {
            id,
            status: status.as_str().to_owned(),
            reason: reason.map(str::to_owned),
        })
    }

    fn add_note(
        &self,
        _actor: &UserName,
        id: IncidentId,
        text: &str,
    ) -> Result<AuditEvent, DeskError> {
        self.call(&Request::AddNote {
            id,
            text: text.to_owned(),
        })
    }

    fn assign(
        &self,
        _actor: &UserName,
        id: IncidentId,
        owner: UserName,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::Assign {
            id,
            owner: owner.to_string(),
        })
    }

    fn import_roster(
        &self,
        _actor: &UserName,
        id: IncidentId,
        csv: &[u8],
        source_name: &str,
        dry_run: bool,
    ) -> Result<ImportReport, DeskError> {
        self.call(&Request::ImportRoster {
            id,
            csv_hex: to_hex(csv),
            source_name: source_name.to_owned(),
            dry_run,
        })
    }

    fn people(
        &self,
        _actor: &UserName,
        id: IncidentId,
        filter: &PeopleFilter,
        path: ReadPath,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        self.call(&Request::People {
            id,
            category: filter.category.as_ref().map(|c| c.as_str().to_owned()),
            pending: filter.pending,
            text: filter.text.clone(),
            path,
        })
    }

    fn people_window(
        &self,
        _actor: &UserName,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        self.call(&Request::PeopleWindow {
            id,
            offset: offset as u64,
            limit: limit as u64,
        })
    }

    fn add_program(&self, _actor: &UserName, new: NewProgram) -> Result<Program, DeskError> {
        self.call(&Request::AddProgram {
            slug: new.slug.to_string(),
            name: new.name,
            owner: new.owner.map(|o| o.to_string()),
            categories: names(new.categories.iter().map(|c| c.as_str())),
            pause_hook: new.pause_hook,
            resume_hook: new.resume_hook,
        })
    }

    fn programs(&self, _actor: &UserName) -> Result<Vec<Program>, DeskError> {
        self.call(&Request::Programs)
    }

    fn link_program(
        &self,
        _actor: &UserName,
        slug: &ProgramSlug,
        id: IncidentId,
    ) -> Result<LinkOutcome, DeskError> {
        self.call(&Request::LinkProgram {
            slug: slug.to_string(),
            id,
        })
    }

    fn pause_program(
        &self,
        _actor: &UserName,
        slug: &ProgramSlug,
        id: IncidentId,
        reason: &str,
    ) -> Result<PauseOutcome, DeskError> {
        self.call(&Request::PauseProgram {
            slug: slug.to_string(),
            id,
            reason: reason.to_owned(),
        })
    }

    fn resume_program(
        &self,
        _actor: &UserName,
        slug: &ProgramSlug,
        reason: &str,
        force: bool,
    ) -> Result<ResumeOutcome, DeskError> {
        self.call(&Request::ResumeProgram {
            slug: slug.to_string(),
            reason: reason.to_owned(),
            force,
        })
    }

    fn audit_log(
        &self,
        _actor: &UserName,
        incident: Option<IncidentId>,
    ) -> Result<Vec<AuditEvent>, DeskError> {
        self.call(&Request::AuditLog { incident })
    }

    fn verify_audit(&self, _actor: &UserName) -> Result<Result<Verified, Tamper>, DeskError> {
        self.call(&Request::VerifyAudit)
    }

    fn audit_head(&self, _actor: &UserName) -> Result<Option<HeadReport>, DeskError> {
        self.call(&Request::AuditHead)
    }

    fn preview_letter(
        &self,
        _actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        person: Option<&EmployeeId>,
    ) -> Result<String, DeskError> {
        self.call(&Request::PreviewLetter {
            id,
            template,
            person: person.map(|p| p.as_str().to_owned()),
        })
    }

    fn queue_notifications(
        &self,
        _actor: &UserName,
        id: IncidentId,
        template: TemplateName,
        filter: &PeopleFilter,
        recipients: &[Email],
    ) -> Result<QueueReport, DeskError> {
        self.call(&Request::QueueNotifications {
            id,
            template,
            category: filter.category.as_ref().map(|c| c.as_str().to_owned()),
            pending: filter.pending,
            text: filter.text.clone(),
            recipients: names(recipients.iter().map(|r| r.as_str())),
        })
    }

    fn send_notifications(
        &self,
        _actor: &UserName,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError> {
        // Ctrl-C hangs up: the daemon then stops starting letters (see the server).
        self.call_with_progress(
            &Request::SendNotifications {
                scope,
                rate: options.rate,
            },
            progress,
            options.stop.as_deref(),
        )
    }

    fn outbox_status(
        &self,
        _actor: &UserName,
        id: IncidentId,
        path: ReadPath,
    ) -> Result<OutboxStatus, DeskError> {
        self.call(&Request::OutboxStatus { id, path })
    }

    fn export_letters(
        &self,
        _actor: &UserName,
        _id: IncidentId,
        _dir: &std::path::Path,
    ) -> Result<usize, DeskError> {
        Err(DeskError::NotConfigured(
            "notify export writes the letters on the machine that holds the database, so it works only without --remote, on the daemon's host".into(),
        ))
    }

    fn watch(
        &self,
        _actor: &UserName,
    ) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError> {
        let (mut stream, _welcome) = self.open_connection()?;
        let body = serde_json::to_vec(&Request::Watch).map_err(|e| self.garbled(e))?;
        protocol::write_frame(&mut stream, &body).map_err(|e| self.gone(e))?;
        let reply = self.read_reply(&mut stream)?;
        if reply.reply != "ok" {
            return Err(super::watch::refused(&reply));
        }
        Ok(super::watch::forward(stream))
    }

    fn retry_failed(&self, _actor: &UserName, id: IncidentId) -> Result<usize, DeskError> {
        self.call(&Request::RetryFailed { id })
    }

    fn test_smtp(&self, _actor: &UserName) -> Result<String, DeskError> {
        self.call(&Request::TestSmtp)
    }

    fn set_clock(
        &self,
        _actor: &UserName,
        id: IncidentId,
        aware: Option<chrono::DateTime<chrono::Utc>>,
        determined: Option<chrono::DateTime<chrono::Utc>>,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::SetClock {
            id,
            aware,
            determined,
            reason: reason.to_owned(),
        })
    }

    fn obligations(
        &self,
        _actor: &UserName,
        id: Option<IncidentId>,
    ) -> Result<Vec<Obligation>, DeskError> {
        self.call(&Request::Obligations { id })
    }

    fn settle_obligation(
        &self,
        _actor: &UserName,
        id: IncidentId,
        rule: &str,
        state: ObligationState,
    ) -> Result<Obligation, DeskError> {
        self.call(&Request::SettleObligation {
            id,
            rule: rule.to_owned(),
            state,
        })
    }

    fn import_evidence(
        &self,
        _actor: &UserName,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        allowed: &std::collections::HashSet<String>,
    ) -> Result<EvidenceSummary, DeskError> {
        let request = Request::ImportEvidence {
            id,
            source_name: source_name.to_owned(),
            allowed: allowed.iter().cloned().collect(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| self.garbled(e))?;
        let mut stream = self.fresh(&body)?;
        let mut chunk = vec![0u8; protocol::CHUNK];
        loop {
            let n = read_full(log, &mut chunk).map_err(|e| DeskError::Remote {
                kind: ErrorKind::Invalid,
                message: format!("cannot read {}: {e}", display_path(source_name)),
            })?;
            protocol::write_frame(&mut stream, &chunk[..n]).map_err(|e| self.gone(e))?;
            if n == 0 {
                break;
            }
        }
        self.finish(stream, &mut |_| {}, None)
    }

    fn evidence(&self, _actor: &UserName, id: IncidentId) -> Result<Evidence, DeskError> {
        self.call(&Request::Evidence { id })
    }
}
