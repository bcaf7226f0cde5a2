//! A streamed evidence upload in the daemon: the request frame is followed by the log's
//! bytes in raw chunk frames and an empty frame, read within the same limits as requests
//! (`frames.rs`). Whatever the import leaves unread is drained, so the connection stays in
//! step with the client.

use std::os::unix::net::UnixStream;

use super::frames::{Frame, FrameLimit, FrameRules};
use crate::access::Role;
use crate::desk::{Desk, DeskError, Session};
use crate::domain::{EvidenceSummary, IncidentId};

/// The bytes of a streamed upload: raw frames until an empty one.
struct Upload<'a> {
    stream: &'a UnixStream,
    rules: &'a FrameRules,
    limit: FrameLimit,
    chunk: Option<Frame<'a>>,
    at: usize,
    done: bool,
}

impl std::io::Read for Upload<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let body = self.chunk.as_ref().map_or(&[][..], Frame::body);
            if self.at < body.len() {
                let n = buf.len().min(body.len() - self.at);
                buf[..n].copy_from_slice(&body[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            // The last chunk is given back before the next is read. Between chunks the
            // client may take its time (its source may be slow), and a stopping daemon
            // gives up; each chunk must arrive within the frame deadline.
            self.chunk = None;
            let chunk = self
                .rules
                .read(self.stream, self.limit, None)
                .map_err(|e| std::io::Error::other(format!("upload: {e}")))?;
            self.at = 0;
            self.done = chunk.body().is_empty();
            self.chunk = Some(chunk);
        }
    }
}

/// The largest chunk a caller may send: an upload chunk, or less if their role allows less.
fn chunk_limit(role: Option<Role>) -> FrameLimit {
    match FrameLimit::for_role(role) {
        FrameLimit::Request => FrameLimit::UploadChunk,
        smaller => smaller,
    }
}

/// What an evidence import through the daemon needs.
pub struct EvidenceUpload<'a> {
    pub id: IncidentId,
    pub source_name: &'a str,
    pub options: crate::evidence::EvidenceOptions,
}

/// Imports an evidence log streamed after the request, then reads what is left of it so
/// the connection stays in step even when the import stopped early. The flag is `false`
/// when the upload itself broke off, and the connection must be closed.
pub fn import_evidence(
    desk: &Session,
    rules: &FrameRules,
    role: Option<Role>,
    stream: &UnixStream,
    request: EvidenceUpload<'_>,
) -> (Result<EvidenceSummary, DeskError>, bool) {
    let mut upload = Upload {
        stream,
        rules,
        limit: chunk_limit(role),
        chunk: None,
        at: 0,
        done: false,
    };
    let source_name = crate::domain::text::for_terminal(request.source_name).into_owned();
    let result = desk.import_evidence(request.id, &mut upload, &source_name, &request.options);
    if let Err(e) = std::io::copy(&mut upload, &mut std::io::sink()) {
        return (Err(DeskError::Delivery(e.to_string())), false);
    }
    (result, true)
}
