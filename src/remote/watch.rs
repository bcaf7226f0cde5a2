//! Live change notices across the socket. A client asks to `watch` on a connection of its
//! own; the daemon answers once, then writes one `notice` frame per committed change (by any
//! client) until the client hangs up or the daemon stops. Notices say what changed and
//! where (action, incident, programme), never any personal data, and only users with a role
//! may watch.

use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::desk::{Desk, DeskError, ErrorKind, Session};
use crate::domain::ChangeNotice;

use super::protocol::{self, MAX_REPLY, Reply, ReplyFrame, WireError};

/// How often a watching connection looks at whether the daemon is stopping.
const STOP_CHECK: Duration = Duration::from_millis(200);

/// Serves a watching client until it hangs up or `stop` is set.
pub(super) fn serve(
    desk: &Session,
    stream: &mut UnixStream,
    stop: &AtomicBool,
    send: impl Fn(&mut UnixStream, &Reply) -> std::io::Result<()>,
) {
    let notices = match desk.watch() {
        Ok(notices) => notices,
        Err(e) => {
            let _ = send(
                stream,
                &Reply::Error {
                    kind: e.kind(),
                    message: e.to_string(),
                    protocol: None,
                },
            );
            return;
        }
    };
    let ok = serde_json::value::RawValue::from_string("null".into());
    let Ok(value) = ok else { return };
    if send(stream, &Reply::Ok { value }).is_err() {
        return;
    }
    loop {
        match notices.recv_timeout(STOP_CHECK) {
            Ok(notice) => {
                if send(stream, &Reply::Notice { notice }).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::SeqCst) => {}
            Err(_) => return,
        }
    }
}

/// Reads a watching connection's notices into a channel, on a thread of its own, until the
/// daemon goes or the receiver is dropped.
pub(super) fn forward(mut stream: UnixStream) -> Receiver<ChangeNotice> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        loop {
            let frame = match protocol::read_frame(&mut stream, MAX_REPLY, &mut |_| true) {
                Ok(frame) => frame,
                Err(WireError::Closed | _) => return,
            };
            let Ok(reply) = serde_json::from_slice::<ReplyFrame>(&frame) else {
                return;
            };
            let Some(notice) = reply.notice else { continue };
            if tx.send(notice).is_err() {
                return;
            }
        }
    });
    rx
}

/// The error for a watch the daemon refused.
pub(super) fn refused(reply: &ReplyFrame) -> DeskError {
    DeskError::Remote {
        kind: reply.kind.unwrap_or(ErrorKind::Internal),
        message: reply
            .message
            .clone()
            .unwrap_or_else(|| "the daemon refused to send change notices".into()),
    }
}
