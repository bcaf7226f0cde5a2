//! The daemon's dispatch: one decoded request, run in the connection's session. The rows of
//! the table of operations (`src/desk/ops.rs`) are dispatched by generated code: their
//! arguments were validated when the request was decoded, and the session checks each
//! row's access. The hello and a send with progress are written out here; uploads are
//! `upload.rs`, watching `watch.rs`, connections, frames and replies `server.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::protocol::{PROTOCOL_VERSION, Request, Welcome};
use super::server::Daemon;
use crate::desk::{Desk, DeskError, SendOptions, Session};

pub(super) fn json<T: Serialize>(value: T) -> Result<Box<serde_json::value::RawValue>, DeskError> {
    serde_json::value::to_raw_value(&value)
        .map_err(|e| DeskError::Internal(format!("cannot encode the reply: {e}")))
}

/// The daemon's side of each row of the table: call the session's method with the
/// request's fields and encode the reply. A request that is not a row is handed back.
macro_rules! dispatch_calls {
    (
        { }
        $(
            $(#[doc = $doc:literal])*
            $variant:ident $name:ident ( $( $(#[$fattr:meta])* $arg:ident : $ty:ty ),* $(,)? )
                -> $reply:ty = $local:path, $access:expr ;
        )*
    ) => {
        /// Runs a row of the table; any other request comes back as `Err`.
        fn call(
            desk: &Session,
            request: Request,
        ) -> Result<Result<Box<serde_json::value::RawValue>, DeskError>, Box<Request>> {
            match request {
                $( Request::$variant { $($arg),* } => Ok(desk.$name($($arg),*).and_then(json)), )*
                other => Err(Box::new(other)),
            }
        }
    };
}

crate::desk::ops::desk_ops!(dispatch_calls {});

/// Runs one request in the connection's session.
pub(super) fn handle(
    daemon: &Daemon,
    desk: &Session,
    request: Request,
    progress: &mut dyn FnMut(&crate::desk::SendProgress),
    hung_up: &AtomicBool,
) -> Result<Box<serde_json::value::RawValue>, DeskError> {
    let request = match call(desk, request) {
        Ok(answer) => return answer,
        Err(request) => request,
    };
    match *request {
        Request::Hello { .. } => json({
            let (rules, targets) = desk.rules().parts();
            Welcome {
                identity: desk.identity()?,
                catalog: desk.catalog().defs().to_vec(),
                rules,
                targets,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                protocol: PROTOCOL_VERSION,
            }
        }),
        Request::SendNotifications { scope, rate } => {
            // This send stops starting letters when the daemon stops or its client hangs
            // up (Ctrl-C in the CLI); what is in flight is still recorded.
            let stop = Arc::new(AtomicBool::new(false));
            let options = SendOptions {
                rate,
                stop: Some(Arc::clone(&stop)),
            };
            let mut watched = |p: &crate::desk::SendProgress| {
                progress(p);
                if daemon.stop.load(Ordering::SeqCst) || hung_up.load(Ordering::SeqCst) {
                    stop.store(true, Ordering::SeqCst);
                }
            };
            json(desk.send_notifications(scope, &options, &mut watched)?)
        }
        other => Err(DeskError::Internal(format!(
            "the request {} is served by the connection, not by dispatch",
            other.name()
        ))),
    }
}
