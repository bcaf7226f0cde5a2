//! Each desk operation as a request on the daemon's socket: the `Desk` implementation of
//! [`RemoteDesk`], generated from the table of operations (`src/desk/ops.rs`) apart from the
//! streaming calls written out below it. Connections, the hello and replies are `client.rs`.

use super::protocol::{self, Request};
use crate::desk::ops::vocabulary::*;
use crate::desk::{Desk, DeskError, ErrorKind, SendOptions, SendProgress};
use crate::domain::text::display_path;
use crate::domain::{CategoryCatalog, EvidenceSummary};

use super::client::{RemoteDesk, read_full};

/// The client's side of each row of the table: send the request, decode the reply.
macro_rules! remote_calls {
    (
        { $($extra:tt)* }
        $(
            $(#[doc = $doc:literal])*
            $variant:ident $name:ident ( $( $(#[$fattr:meta])* $arg:ident : $ty:ty ),* $(,)? )
                -> $reply:ty = $local:path, $access:expr ;
        )*
    ) => {
        impl Desk for RemoteDesk {
            $(
                fn $name(&self, $($arg: $ty),*) -> Result<$reply, DeskError> {
                    self.call(&Request::$variant { $($arg),* })
                }
            )*
            $($extra)*
        }
    };
}

crate::desk::ops::desk_ops!(remote_calls {
    fn catalog(&self) -> CategoryCatalog {
        self.catalog.clone()
    }

    fn rules(&self) -> crate::deadlines::RuleBook {
        self.rules.clone()
    }

    fn send_notifications(
        &self,
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

    fn export_letters(&self, _id: IncidentId, _dir: &std::path::Path) -> Result<usize, DeskError> {
        Err(DeskError::NotConfigured(
            "notify export writes the letters on the machine that holds the database, so it works only without --remote, on the daemon's host".into(),
        ))
    }

    fn watch(&self) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError> {
        let (mut stream, _welcome) = self.open_connection()?;
        let body = serde_json::to_vec(&Request::Watch).map_err(|e| self.garbled(e))?;
        protocol::write_frame(&mut stream, &body).map_err(|e| self.gone(e))?;
        let reply = self.read_reply(&mut stream)?;
        if reply.reply != "ok" {
            return Err(super::watch::refused(&reply));
        }
        Ok(super::watch::forward(stream))
    }

    fn import_evidence(
        &self,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        options: &crate::evidence::EvidenceOptions,
    ) -> Result<EvidenceSummary, DeskError> {
        let request = Request::ImportEvidence {
            id,
            source_name: source_name.to_owned(),
            options: options.clone(),
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
});
