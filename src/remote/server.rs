//! `breachdesk serve`: one process owns the database and the notification worker, and
//! answers requests on a Unix socket. The caller's identity comes from the socket's peer
//! credentials (SO_PEERCRED), never from the request. A connection opens with a hello of
//! this daemon's protocol version or is refused. How much a caller may make it read, and how
//! fast, is `frames.rs`; what each request does is `dispatch.rs`.

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::{Group, Uid, User};
use thiserror::Error;

use super::frames::{FrameError, FrameLimit, FrameRules};
use super::protocol::{
    PROTOCOL_VERSION, Reply, Request, decode_request, refuse_protocol, write_frame,
};
use super::upload::{self, EvidenceUpload};
use crate::desk::{Desk, ErrorKind, LocalDesk};
use crate::domain::UserName;
use crate::domain::text::display_path;

/// At most this many clients at once; more are refused with a message.
const MAX_CLIENTS: usize = 128;
/// At most this many connections per user, so that one user cannot take every slot.
const MAX_PER_USER: usize = 16;
/// How long a stopping daemon waits for requests in progress.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// Why the daemon could not start or stopped badly.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error("a breachdesk daemon is already serving {}", display_path(.0))]
    AlreadyServing(PathBuf),
    #[error(
        "{} exists and is not a socket; choose another --socket path",
        display_path(.0)
    )]
    NotASocket(PathBuf),
    #[error(
        "no group named '{0}' (from [daemon] group in the config); create it with `groupadd {0}`"
    )]
    NoGroup(String),
    #[error(
        "cannot give {} to group '{group}': {source} (the daemon's user must be in that group)",
        display_path(.path)
    )]
    Chown {
        path: PathBuf,
        group: String,
        source: nix::Error,
    },
    #[error("socket {}: {source}", display_path(.path))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A running daemon's shared state.
pub(super) struct Daemon {
    pub(super) desk: Arc<LocalDesk>,
    pub(super) stop: Arc<AtomicBool>,
    clients: AtomicUsize,
    busy: AtomicUsize,
    /// Size limits, the budget and the deadline for reading frames.
    frames: FrameRules,
    /// Open connections per uid.
    per_user: std::sync::Mutex<std::collections::HashMap<u32, usize>>,
}

/// Serves `desk` on `socket` until SIGTERM or SIGINT, then lets requests in progress finish
/// (a send stops starting new letters; the rest stay queued) and removes the socket.
pub fn serve(
    desk: LocalDesk,
    socket: &Path,
    group: Option<&str>,
    log: &mut dyn Write,
) -> Result<(), ServeError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|source| {
            ServeError::Io {
                path: socket.to_owned(),
                source,
            }
        })?;
    }
    serve_until(desk, socket, group, stop, log)
}

/// [`serve`] with the stop flag given.
pub fn serve_until(
    desk: LocalDesk,
    socket: &Path,
    group: Option<&str>,
    stop: Arc<AtomicBool>,
    log: &mut dyn Write,
) -> Result<(), ServeError> {
    let io = |source| ServeError::Io {
        path: socket.to_owned(),
        source,
    };
    let listener = bind(socket, group)?;
    listener.set_nonblocking(true).map_err(io)?;
    let _ = writeln!(
        log,
        "breachdesk daemon serving {} (database {})",
        display_path(socket),
        desk.store().engine().describe()
    );
    let frames = FrameRules::new(&desk.settings().config.daemon, Arc::clone(&stop));
    let daemon = Arc::new(Daemon {
        desk: Arc::new(desk),
        stop,
        frames,
        clients: AtomicUsize::new(0),
        busy: AtomicUsize::new(0),
        per_user: std::sync::Mutex::new(std::collections::HashMap::new()),
    });
    let alerts = daemon.desk.has_alerts().then(|| {
        let daemon = Arc::clone(&daemon);
        std::thread::spawn(move || alert_loop(&daemon))
    });
    let mut next_sweep = Instant::now();
    while !daemon.stop.load(Ordering::Relaxed) {
        if Instant::now() >= next_sweep {
            next_sweep = Instant::now() + RETENTION_SWEEP;
            sweep_retention(&daemon, log);
        }
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(200u16)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io(e.into())),
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => {
                let _ = writeln!(log, "accept failed: {e}");
                continue;
            }
        };
        let daemon = Arc::clone(&daemon);
        if daemon.clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
            daemon.clients.fetch_sub(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = send_error(
                &mut stream,
                ErrorKind::Unavailable,
                format!("the daemon is serving {MAX_CLIENTS} clients already; try again shortly"),
            );
            continue;
        }
        std::thread::spawn(move || {
            connection(&daemon, stream);
            daemon.clients.fetch_sub(1, Ordering::SeqCst);
        });
    }
    // New clients are told at once that nobody is listening, not queued behind the drain.
    drop(listener);
    if let Some(alerts) = alerts {
        let _ = alerts.join();
    }
    let _ = std::fs::remove_file(socket);
    let _ = writeln!(log, "stopping: finishing requests in progress");
    let deadline = Instant::now() + DRAIN_LIMIT;
    while daemon.busy.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = daemon.desk.store().flush();
    let _ = std::fs::remove_file(socket);
    let _ = writeln!(log, "stopped");
    Ok(())
}

/// How often the daemon delivers alerts: an alert leaves within about this of its cause.
const ALERT_ROUND: Duration = Duration::from_secs(1);
/// How often the daemon looks for obligations come due or overdue (and at start).
const DEADLINE_SWEEP: Duration = Duration::from_secs(60);

/// Delivers alerts every [`ALERT_ROUND`] until the daemon stops; a failure is logged by
/// the round (kept as the destination's last error) and retried by the next.
fn alert_loop(daemon: &Daemon) {
    let actor = crate::identity::current_user();
    let mut next_sweep = Instant::now();
    while !daemon.stop.load(Ordering::Relaxed) {
        let sweep = Instant::now() >= next_sweep;
        if sweep {
            next_sweep = Instant::now() + DEADLINE_SWEEP;
        }
        let _ = daemon.desk.alert_round(&actor, sweep);
        let until = Instant::now() + ALERT_ROUND;
        while Instant::now() < until && !daemon.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// How often the daemon purges the incidents whose retention period has passed.
const RETENTION_SWEEP: Duration = Duration::from_secs(3600);

/// Purges what `[retention]` says is due, logging each incident (or why it could not).
fn sweep_retention(daemon: &Daemon, log: &mut dyn Write) {
    let actor = crate::identity::current_user();
    match daemon.desk.sweep_retention(&actor) {
        Ok(purged) => {
            for inc in purged {
                let _ = writeln!(log, "retention: purged the personal data of {}", inc.id);
            }
        }
        Err(e) => {
            let _ = writeln!(log, "retention sweep failed: {e}");
        }
    }
}

/// Creates the socket: 0660 and owned by `group` if one is named, else 0600. A stale socket
/// (nobody listening) is replaced; a live one or another kind of file is refused.
fn bind(socket: &Path, group: Option<&str>) -> Result<UnixListener, ServeError> {
    let io = |source| ServeError::Io {
        path: socket.to_owned(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(socket) {
        if !meta.file_type().is_socket() {
            return Err(ServeError::NotASocket(socket.to_owned()));
        }
        if UnixStream::connect(socket).is_ok() {
            return Err(ServeError::AlreadyServing(socket.to_owned()));
        }
        std::fs::remove_file(socket).map_err(io)?;
    }
    let gid = match group {
        Some(name) => Some(
            Group::from_name(name)
                .ok()
                .flatten()
                .ok_or_else(|| ServeError::NoGroup(name.to_owned()))?
                .gid,
        ),
        None => None,
    };
    // The socket is made in a private directory beside its place (0700: nobody else can
    // reach it whatever the umask), given its group and mode there, and only then renamed
    // into place: at its path it never has any other mode.
    let parent = socket
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let private = parent.join(format!(".breachdesk-socket.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&private);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .map_err(io)?;
    let made = private.join("socket");
    let placed = (|| {
        let listener = UnixListener::bind(&made).map_err(io)?;
        if let Some(gid) = gid {
            nix::unistd::chown(&made, None, Some(gid)).map_err(|source| ServeError::Chown {
                path: socket.to_owned(),
                group: group.unwrap_or_default().to_owned(),
                source,
            })?;
            std::fs::set_permissions(&made, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
        } else {
            std::fs::set_permissions(&made, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        std::fs::rename(&made, socket).map_err(io)?;
        Ok(listener)
    })();
    let _ = std::fs::remove_dir_all(&private);
    placed
}

/// The user at the other end of the socket, from the kernel.
fn peer(stream: &UnixStream) -> Option<(u32, UserName)> {
    let creds = getsockopt(stream, PeerCredentials).ok()?;
    let uid = Uid::from_raw(creds.uid());
    let name = User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| format!("uid-{uid}"), |u| u.name);
    UserName::parse(&name)
        .or_else(|_| UserName::parse(&format!("uid-{uid}")))
        .ok()
        .map(|name| (uid.as_raw(), name))
}

/// Counts a user's connection; `false` when they have [`MAX_PER_USER`] open already.
fn admit(daemon: &Daemon, uid: u32) -> bool {
    let mut open = daemon
        .per_user
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let n = open.entry(uid).or_insert(0);
    if *n >= MAX_PER_USER {
        return false;
    }
    *n += 1;
    true
}

fn release(daemon: &Daemon, uid: u32) {
    let mut open = daemon
        .per_user
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(n) = open.get_mut(&uid) {
        *n = n.saturating_sub(1);
    }
}

/// Sends an error reply.
fn send_error(stream: &mut UnixStream, kind: ErrorKind, message: String) -> std::io::Result<()> {
    send(
        stream,
        &Reply::Error {
            kind,
            message,
            protocol: None,
        },
    )
}

fn send(stream: &mut UnixStream, reply: &Reply) -> std::io::Result<()> {
    let body = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    write_frame(stream, &body)
}

/// Serves one client until it hangs up, sends a frame that cannot be read, or the daemon
/// stops.
fn connection(daemon: &Daemon, mut stream: UnixStream) {
    let Some((uid, actor)) = peer(&stream) else {
        let _ = send_error(
            &mut stream,
            ErrorKind::Internal,
            "the daemon could not tell who you are (no peer credentials)".into(),
        );
        return;
    };
    if !admit(daemon, uid) {
        let _ = send_error(
            &mut stream,
            ErrorKind::Unavailable,
            format!("you have {MAX_PER_USER} connections to the daemon open already; close one"),
        );
        return;
    }
    serve_connection(daemon, &actor, &mut stream);
    // Released before the stream closes, so a client that sees the end can connect again.
    release(daemon, uid);
}

/// Answers one admitted client's requests. Frames are read within the limits of the
/// caller's role (decided once: roles are read when the daemon starts); a new connection
/// must send its first request within the frame deadline, later ones may idle. The first
/// request must be a hello of this protocol version (see [`out_of_protocol`]).
fn serve_connection(daemon: &Daemon, actor: &UserName, stream: &mut UnixStream) {
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    let Ok(mut progress_stream) = stream.try_clone() else {
        return;
    };
    // One session per connection, bound to the user the socket's peer credentials name.
    let session = daemon.desk.session(actor.clone());
    let role = session.identity().ok().and_then(|i| i.role);
    let limit = FrameLimit::for_role(role);
    let mut first_byte_by = Some(Instant::now() + daemon.frames.deadline());
    let mut greeted = false;
    loop {
        // A large request keeps its share of the budget until it is answered; the frame's
        // own memory goes as soon as it is decoded.
        let frame = match daemon.frames.read(stream, limit, first_byte_by) {
            Ok(frame) => frame,
            Err(FrameError::Closed) => return,
            Err(e) => {
                // The stream cannot be resynchronised: say why and hang up.
                let _ = send_error(stream, e.kind(), e.to_string());
                return;
            }
        };
        first_byte_by = None;
        let decoded = decode_request(frame.body());
        let hold = frame.into_hold();
        let request = match decoded {
            Ok(request) => request,
            Err(message) => {
                drop(hold);
                if send_error(stream, ErrorKind::Invalid, message).is_err() {
                    return;
                }
                continue;
            }
        };
        if let Some(refusal) = out_of_protocol(&request, greeted) {
            // Nothing else this client sends can be trusted to mean what it means here.
            drop(hold);
            let _ = send(stream, &refusal);
            return;
        }
        greeted = true;
        if request == Request::Watch {
            drop(hold);
            super::watch::serve(&session, stream, &daemon.stop, send);
            return;
        }
        daemon.busy.fetch_add(1, Ordering::SeqCst);
        let result = if let Request::ImportEvidence {
            id,
            source_name,
            options,
        } = request
        {
            let upload = EvidenceUpload {
                id,
                source_name: &source_name,
                options,
            };
            let (result, in_step) =
                upload::import_evidence(&session, &daemon.frames, role, stream, upload);
            if !in_step {
                // The upload broke off: its remaining bytes cannot be told from requests.
                daemon.busy.fetch_sub(1, Ordering::SeqCst);
                let message = match result {
                    Err(e) => e.to_string(),
                    Ok(_) => "the upload broke off".to_owned(),
                };
                let _ = send_error(stream, ErrorKind::Invalid, message);
                return;
            }
            result.and_then(super::dispatch::json)
        } else {
            let hung_up = AtomicBool::new(false);
            let mut progress = |p: &crate::desk::SendProgress| {
                if send(&mut progress_stream, &Reply::Progress { progress: *p }).is_err() {
                    hung_up.store(true, Ordering::SeqCst);
                }
            };
            super::dispatch::handle(daemon, &session, request, &mut progress, &hung_up)
        };
        daemon.busy.fetch_sub(1, Ordering::SeqCst);
        drop(hold);
        let reply = match result {
            Ok(value) => Reply::Ok { value },
            Err(e) => Reply::Error {
                kind: e.kind(),
                message: e.to_string(),
                protocol: None,
            },
        };
        if send(stream, &reply).is_err() {
            return;
        }
    }
}

/// The refusal of a request that breaks the protocol's opening: a connection starts with a
/// hello naming this daemon's version, and any later hello names it too. A client that sends
/// no version, or opens with another request, is of protocol 1 (before versions) and is
/// told to upgrade; its old message decoding still reads the refusal.
fn out_of_protocol(request: &Request, greeted: bool) -> Option<Reply> {
    match request {
        Request::Hello {
            protocol: Some(PROTOCOL_VERSION),
        } => None,
        Request::Hello { protocol } => Some(refuse_protocol(*protocol)),
        _ if greeted => None,
        _ => Some(refuse_protocol(None)),
    }
}
