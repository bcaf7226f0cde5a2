//! How the daemon reads a client's frames without letting any caller make it large or hold
//! it: a size limit per caller, checked against the length prefix before any of the body is
//! read; a budget for the bytes of all large requests being read or answered at once; and a
//! deadline for each frame once its first byte has arrived. Large bodies live in mappings of
//! their own, so their memory goes back to the kernel when they are done with. The wire
//! format itself is `protocol.rs`; what a frame asks for is `server.rs`.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use memmap2::MmapMut;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use thiserror::Error;

use super::protocol::{CHUNK, MAX_REQUEST};
use crate::access::Role;
use crate::config::DaemonSettings;
use crate::desk::ErrorKind;

/// How often a wait for a client's next frame checks whether the daemon is stopping.
const TICK: Duration = Duration::from_millis(250);
/// Frames up to this size are read onto the heap without a reservation: the daemon holds
/// at most `MAX_CLIENTS` (128) of them at once, 8 MiB in all.
const SMALL_FRAME: usize = 64 << 10;

/// The largest frame a caller may send, by what they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameLimit {
    /// A user in the socket's group with no role: all they can be told is that they have
    /// none, so a few KiB is plenty.
    NoRole,
    /// A viewer: every call they may make is a small request.
    Viewer,
    /// A responder or admin: a roster import travels in one frame.
    Request,
    /// One chunk of a streamed evidence upload.
    UploadChunk,
}

impl FrameLimit {
    /// The limit for a request from a caller holding `role`.
    pub fn for_role(role: Option<Role>) -> Self {
        match role {
            None => FrameLimit::NoRole,
            Some(Role::Viewer) => FrameLimit::Viewer,
            Some(Role::Responder | Role::Admin) => FrameLimit::Request,
        }
    }

    /// The limit in bytes.
    pub fn bytes(self) -> usize {
        match self {
            FrameLimit::NoRole => 4 << 10,
            FrameLimit::Viewer => 64 << 10,
            FrameLimit::Request => MAX_REQUEST,
            FrameLimit::UploadChunk => CHUNK,
        }
    }

    /// Whose limit it is, worded to end an error message.
    fn whose(self) -> &'static str {
        match self {
            FrameLimit::NoRole => {
                "for a user without a role (ask an admin to give you one under [access])"
            }
            FrameLimit::Viewer => "for a viewer (imports and changes need the responder role)",
            FrameLimit::Request => "for a request",
            FrameLimit::UploadChunk => "for one chunk of an upload",
        }
    }
}

/// Why no frame was read. Every kind but `Closed` ends the connection with a reply saying
/// why: after a refused frame the stream is out of step.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The client hung up between frames, or the daemon is stopping.
    #[error("the connection was closed")]
    Closed,
    #[error("no request arrived within {} s of connecting; the connection is closed", .0.as_secs())]
    Idle(Duration),
    #[error("a frame of {size} bytes is larger than the limit of {} bytes {}", .limit.bytes(), .limit.whose())]
    TooLarge { size: usize, limit: FrameLimit },
    #[error(
        "a frame of {size} bytes is larger than the daemon's budget of {budget} bytes for frames \
         read or answered at once (raise [daemon] frame_budget_mib in its config)"
    )]
    OverBudget { size: usize, budget: usize },
    #[error(
        "daemon busy: it holds {in_use} bytes of other large requests and a frame of {size} \
         bytes would pass its budget of {budget}; try again shortly"
    )]
    Busy {
        size: usize,
        in_use: usize,
        budget: usize,
    },
    #[error("the frame was cut off after {got} of {expected} bytes")]
    Truncated { expected: usize, got: usize },
    #[error(
        "the frame did not arrive in full within {} s of its first byte; the connection is closed",
        .0.as_secs()
    )]
    Late(Duration),
    #[error("reading the frame: {0}")]
    Io(io::Error),
}

impl FrameError {
    /// The kind the error reply carries: the client's fault, unless the daemon is busy or
    /// its own reading failed.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FrameError::Busy { .. } => ErrorKind::Unavailable,
            FrameError::Io(_) => ErrorKind::Internal,
            FrameError::Closed
            | FrameError::Idle(_)
            | FrameError::TooLarge { .. }
            | FrameError::OverBudget { .. }
            | FrameError::Truncated { .. }
            | FrameError::Late(_) => ErrorKind::Invalid,
        }
    }
}

/// The bytes of large requests being read or answered at once, over all connections.
struct Budget {
    limit: usize,
    in_use: AtomicUsize,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Budget {
            limit,
            in_use: AtomicUsize::new(0),
        }
    }

    /// Sets `size` bytes aside until the reservation is dropped, or says why it cannot.
    fn reserve(&self, size: usize) -> Result<Reservation<'_>, FrameError> {
        if size > self.limit {
            return Err(FrameError::OverBudget {
                size,
                budget: self.limit,
            });
        }
        self.in_use
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |in_use| {
                (in_use + size <= self.limit).then_some(in_use + size)
            })
            .map(|_| Reservation { budget: self, size })
            .map_err(|in_use| FrameError::Busy {
                size,
                in_use,
                budget: self.limit,
            })
    }
}

/// Budget held for one frame; given back when dropped.
struct Reservation<'a> {
    budget: &'a Budget,
    size: usize,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.in_use.fetch_sub(self.size, Ordering::SeqCst);
    }
}

/// Where a frame's bytes are kept.
enum Body {
    /// A small frame.
    Heap(Vec<u8>),
    /// A large frame, in an anonymous mapping of its own: only the pages bytes have been
    /// read into are ever resident, and dropping it gives them straight back to the kernel.
    /// (On the heap, mimalloc keeps freed large blocks until a later purge, which in an idle
    /// daemon may be a long way off: two 64 MiB frames read one after the other peaked at
    /// 197-204 MB that way, against 130 MB mapped.)
    Mapped(MmapMut),
}

/// A frame's body, holding its share of the budget until it is dropped.
pub struct Frame<'a> {
    body: Body,
    held: Option<Reservation<'a>>,
}

impl<'a> Frame<'a> {
    pub fn body(&self) -> &[u8] {
        match &self.body {
            Body::Heap(bytes) => bytes,
            Body::Mapped(map) => map,
        }
    }

    /// Gives the body's memory back but keeps its share of the budget, for as long as the
    /// request decoded from it is in hand (a roster import holds its CSV twice over).
    pub fn into_hold(self) -> Hold<'a> {
        Hold { _held: self.held }
    }
}

/// A large request's share of the budget, held while it is handled.
pub struct Hold<'a> {
    _held: Option<Reservation<'a>>,
}

/// The daemon's rules for reading frames, shared by every connection.
pub struct FrameRules {
    budget: Budget,
    deadline: Duration,
    stop: Arc<AtomicBool>,
}

impl FrameRules {
    /// The rules `[daemon]` sets; waits between frames end when `stop` is raised.
    pub fn new(settings: &DaemonSettings, stop: Arc<AtomicBool>) -> Self {
        FrameRules {
            budget: Budget::new(settings.frame_budget()),
            deadline: settings.frame_deadline(),
            stop,
        }
    }

    /// How long a frame may take once started, and a new connection to send its first.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Reads one frame of at most `limit` from `stream`, waiting for its first byte until
    /// the daemon stops or, if given, until `first_byte_by`. The length prefix is checked
    /// against the limit and the budget before any of the body is read.
    pub fn read(
        &self,
        stream: &UnixStream,
        limit: FrameLimit,
        first_byte_by: Option<Instant>,
    ) -> Result<Frame<'_>, FrameError> {
        let mut header = [0u8; 4];
        let first = self.first_bytes(stream, &mut header, first_byte_by)?;
        let deadline = Instant::now() + self.deadline;
        let got = first + self.fill(stream, &mut header[first..], deadline)?;
        if got < header.len() {
            return Err(FrameError::Truncated { expected: 4, got });
        }
        let size = u32::from_be_bytes(header) as usize;
        if size > limit.bytes() {
            return Err(FrameError::TooLarge { size, limit });
        }
        if size <= SMALL_FRAME {
            let mut body = vec![0u8; size];
            self.fill_all(stream, &mut body, deadline)?;
            return Ok(Frame {
                body: Body::Heap(body),
                held: None,
            });
        }
        let held = self.budget.reserve(size)?;
        // Address space for the announced size, not memory: pages become resident only as
        // the bytes that arrive are read into them.
        let mut map = MmapMut::map_anon(size).map_err(FrameError::Io)?;
        self.fill_all(stream, &mut map, deadline)?;
        Ok(Frame {
            body: Body::Mapped(map),
            held: Some(held),
        })
    }

    /// Waits for the first bytes of a frame and reads what has come; never 0.
    fn first_bytes(
        &self,
        stream: &UnixStream,
        buf: &mut [u8],
        by: Option<Instant>,
    ) -> Result<usize, FrameError> {
        loop {
            let mut wait = TICK;
            if let Some(by) = by {
                let left = by.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(FrameError::Idle(self.deadline));
                }
                wait = wait.min(left);
            }
            if readable(stream, wait)? {
                return match read_some(stream, buf)? {
                    0 => Err(FrameError::Closed),
                    n => Ok(n),
                };
            }
            if self.stop.load(Ordering::Relaxed) {
                return Err(FrameError::Closed);
            }
        }
    }

    /// Reads into `buf` until it is full, the client hangs up, or `deadline` passes; returns
    /// how much was read.
    fn fill(
        &self,
        stream: &UnixStream,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, FrameError> {
        let mut got = 0;
        while got < buf.len() {
            match self.step(stream, &mut buf[got..], deadline)? {
                0 => break,
                n => got += n,
            }
        }
        Ok(got)
    }

    /// Fills `body` by `deadline`; a client that hangs up first cut the frame off.
    fn fill_all(
        &self,
        stream: &UnixStream,
        body: &mut [u8],
        deadline: Instant,
    ) -> Result<(), FrameError> {
        let got = self.fill(stream, body, deadline)?;
        if got < body.len() {
            return Err(FrameError::Truncated {
                expected: body.len(),
                got,
            });
        }
        Ok(())
    }

    /// One read once the frame has started: waits no later than `deadline`.
    fn step(
        &self,
        stream: &UnixStream,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, FrameError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(FrameError::Late(self.deadline));
            }
            if readable(stream, left)? {
                return read_some(stream, buf);
            }
        }
    }
}

/// Whether `stream` has bytes (or its end) to read within `wait`.
fn readable(stream: &UnixStream, wait: Duration) -> Result<bool, FrameError> {
    // Rounded up, so that a wait of under a millisecond does not spin.
    let millis = wait.as_millis().saturating_add(1);
    let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, timeout) {
        Ok(0) | Err(nix::errno::Errno::EINTR) => Ok(false),
        Ok(_) => Ok(true),
        Err(e) => Err(FrameError::Io(e.into())),
    }
}

/// One read of what is there; 0 at the end of the stream.
fn read_some(mut stream: &UnixStream, buf: &mut [u8]) -> Result<usize, FrameError> {
    loop {
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(0),
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn rules(deadline: Duration, budget: usize) -> FrameRules {
        FrameRules {
            budget: Budget::new(budget),
            deadline,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    fn prefix(size: u32) -> [u8; 4] {
        size.to_be_bytes()
    }

    #[test]
    fn each_caller_gets_the_limit_of_their_role() {
        for (role, bytes) in [
            (None, 4 << 10),
            (Some(Role::Viewer), 64 << 10),
            (Some(Role::Responder), MAX_REQUEST),
            (Some(Role::Admin), MAX_REQUEST),
        ] {
            assert_eq!(FrameLimit::for_role(role).bytes(), bytes, "{role:?}");
        }
    }

    #[test]
    fn a_frame_over_the_callers_limit_is_refused_from_its_prefix() {
        let (mut client, server) = UnixStream::pair().unwrap();
        client.write_all(&prefix(64 << 20)).unwrap();
        let rules = rules(Duration::from_secs(5), 1 << 30);
        let err = rules.read(&server, FrameLimit::NoRole, None).err().unwrap();
        assert!(
            matches!(err, FrameError::TooLarge { size, limit: FrameLimit::NoRole } if size == 64 << 20),
            "{err}"
        );
        assert!(err.to_string().contains("limit of 4096 bytes"), "{err}");
        assert_eq!(
            rules.budget.in_use.load(Ordering::SeqCst),
            0,
            "nothing was reserved"
        );
    }

    #[test]
    fn a_large_frame_holds_budget_until_dropped_and_others_are_told_busy() {
        let (mut client, server) = UnixStream::pair().unwrap();
        let rules = rules(Duration::from_secs(5), 200 << 10);
        let sender = std::thread::spawn(move || {
            client.write_all(&prefix(150 << 10)).unwrap();
            client.write_all(&vec![7u8; 150 << 10]).unwrap();
            client.write_all(&prefix(100 << 10)).unwrap();
            client
        });
        let frame = rules.read(&server, FrameLimit::Request, None).unwrap();
        assert_eq!(frame.body().len(), 150 << 10);
        assert_eq!(rules.budget.in_use.load(Ordering::SeqCst), 150 << 10);
        let busy = rules
            .read(&server, FrameLimit::Request, None)
            .err()
            .unwrap();
        assert!(matches!(busy, FrameError::Busy { .. }), "{busy}");
        assert!(busy.to_string().starts_with("daemon busy"), "{busy}");
        let hold = frame.into_hold();
        assert_eq!(rules.budget.in_use.load(Ordering::SeqCst), 150 << 10);
        drop(hold);
        assert_eq!(rules.budget.in_use.load(Ordering::SeqCst), 0);
        drop(sender.join().unwrap());
    }

    #[test]
    fn a_frame_larger_than_the_whole_budget_says_which_setting_to_raise() {
        let (mut client, server) = UnixStream::pair().unwrap();
        client.write_all(&prefix(1 << 20)).unwrap();
        let err = rules(Duration::from_secs(5), 512 << 10)
            .read(&server, FrameLimit::Request, None)
            .err()
            .unwrap();
        assert!(err.to_string().contains("frame_budget_mib"), "{err}");
    }

    #[test]
    fn a_trickled_frame_is_cut_off_at_the_deadline() {
        let (mut client, server) = UnixStream::pair().unwrap();
        let trickle = std::thread::spawn(move || {
            client.write_all(&prefix(100)).unwrap();
            for _ in 0..100 {
                if client.write_all(b" ").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let started = Instant::now();
        let err = rules(Duration::from_millis(300), 1 << 20)
            .read(&server, FrameLimit::Request, None)
            .err()
            .unwrap();
        assert!(matches!(err, FrameError::Late(_)), "{err}");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2));
        drop(server);
        trickle.join().unwrap();
    }

    #[test]
    fn a_connection_that_never_sends_is_idle_and_one_that_hangs_up_is_closed() {
        let (client, server) = UnixStream::pair().unwrap();
        let rules = rules(Duration::from_millis(200), 1 << 20);
        let by = Instant::now() + Duration::from_millis(200);
        let err = rules.read(&server, FrameLimit::Request, Some(by)).err();
        assert!(matches!(err, Some(FrameError::Idle(_))), "{err:?}");
        drop(client);
        let err = rules.read(&server, FrameLimit::Request, None).err();
        assert!(matches!(err, Some(FrameError::Closed)), "{err:?}");
    }

    #[test]
    fn a_body_cut_off_short_is_truncated() {
        let (mut client, server) = UnixStream::pair().unwrap();
        client.write_all(&prefix(10)).unwrap();
        client.write_all(b"abc").unwrap();
        drop(client);
        let err = rules(Duration::from_secs(5), 1 << 20)
            .read(&server, FrameLimit::Request, None)
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                FrameError::Truncated {
                    expected: 10,
                    got: 3
                }
            ),
            "{err}"
        );
    }
}
