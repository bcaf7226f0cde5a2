//! The desk as seen through the daemon: connections, the hello and replies (each operation's
//! request is `calls.rs`). Every call is one request on the socket; the daemon decides who
//! is calling (one session per connection, from its peer credentials). Each new
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
    self, MAX_REPLY, PROTOCOL_VERSION, ReplyFrame, Request, Welcome, WireError, protocol_mismatch,
};
use crate::desk::{DeskError, ErrorKind, Identity, SendProgress};
use crate::domain::text::display_path;
use crate::domain::{CategoryCatalog, UserName};

/// How long a call may go without a frame from the daemon (hooks run up to their limit).
const REPLY_PATIENCE: Duration = Duration::from_secs(300);

/// The hello every connection opens with.
pub(super) const HELLO: Request = Request::Hello {
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
    pub(super) socket: PathBuf,
    /// Idle connections, reused so a call costs one round trip.
    idle: Mutex<Vec<UnixStream>>,
    pub(super) welcome: Welcome,
    pub(super) catalog: CategoryCatalog,
    pub(super) rules: crate::deadlines::RuleBook,
}

impl RemoteDesk {
    /// Connects and greets the daemon, which says who it takes the caller to be.
    #[allow(clippy::expect_used, reason = "a fixed, valid user name")]
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
                .map_err(|e| desk.gone(format!("its jurisdiction rules: {e}")))?
                .with_catalog(&desk.catalog);
        desk.welcome = welcome;
        Ok(desk)
    }

    /// Who the daemon says we are.
    pub fn identity(&self) -> &Identity {
        &self.welcome.identity
    }

    /// The daemon cannot be reached, or will not talk to us.
    pub(super) fn gone(&self, what: impl std::fmt::Display) -> DeskError {
        DeskError::Remote {
            kind: ErrorKind::Unavailable,
            message: format!(
                "breachdesk daemon at {}: {what}",
                display_path(&self.socket)
            ),
        }
    }

    /// The daemon answered something this client cannot read: a bug on one side.
    pub(super) fn garbled(&self, what: impl std::fmt::Display) -> DeskError {
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
    pub(super) fn open_connection(&self) -> Result<(UnixStream, Box<RawValue>), DeskError> {
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
    pub(super) fn read_reply(&self, stream: &mut UnixStream) -> Result<ReplyFrame, DeskError> {
        let frame =
            protocol::read_frame(stream, MAX_REPLY, &mut |_| false).map_err(|e| match e {
                WireError::Closed | WireError::Truncated { .. } => {
                    self.gone("it closed the connection before answering (it may have stopped)")
                }
                WireError::Stalled => self.gone("no answer in time"),
                other => self.gone(other),
            })?;
        serde_json::from_slice(&frame).map_err(|e| self.garbled(format!("unreadable reply: {e}")))
    }

    pub(super) fn call<T: DeserializeOwned>(&self, request: &Request) -> Result<T, DeskError> {
        self.call_with_progress(request, &mut |_| {}, None)
    }

    /// Sends one request and reads frames until its answer.
    pub(super) fn call_with_progress<T: DeserializeOwned>(
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
    pub(super) fn finish<T: DeserializeOwned>(
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

    pub(super) fn fresh(&self, body: &[u8]) -> Result<UnixStream, DeskError> {
        let (mut stream, _welcome) = self.open_connection()?;
        protocol::write_frame(&mut stream, body).map_err(|e| self.gone(e))?;
        Ok(stream)
    }
}

/// Fills `buf` as far as the input allows; 0 only at its end.
pub(super) fn read_full(input: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
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
