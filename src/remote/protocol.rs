//! The daemon's wire protocol: frames of a 4-byte big-endian length and a JSON body.
//! Requests carry raw text, which the daemon validates with the same rules as the command
//! line; nothing in a request says who is asking (the daemon takes that from the socket).

use std::io::{self, Read, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::desk::{Identity, ReadPath, SendProgress};
use crate::domain::{CategoryDef, IncidentId};
use crate::notify::TemplateName;

/// The largest request the daemon reads (a roster import is the big one).
pub const MAX_REQUEST: usize = 64 << 20;
/// The largest reply a client reads (a 100,000-person roster is about 20 MB).
pub const MAX_REPLY: usize = 1 << 30;

/// What went wrong reading a frame.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The peer closed the connection between frames.
    #[error("the connection was closed")]
    Closed,
    #[error("the frame was cut off after {got} of {expected} bytes")]
    Truncated { expected: usize, got: usize },
    #[error("a frame of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the peer stopped sending in the middle of a frame")]
    Stalled,
    #[error("{0}")]
    Io(io::Error),
}

/// Writes one frame.
pub fn write_frame(out: &mut dyn Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(body);
    out.write_all(&frame)?;
    out.flush()
}

/// Reads one frame of at most `limit` bytes. When a read times out, `keep_waiting` is asked
/// (with whether a frame has started) whether to go on.
pub fn read_frame(
    input: &mut dyn Read,
    limit: usize,
    keep_waiting: &mut dyn FnMut(bool) -> bool,
) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; 4];
    let got = fill(input, &mut header, false, keep_waiting)?;
    if got == 0 {
        return Err(FrameError::Closed);
    }
    if got < 4 {
        return Err(FrameError::Truncated { expected: 4, got });
    }
    let size = u32::from_be_bytes(header) as usize;
    if size > limit {
        return Err(FrameError::TooLarge { size, limit });
    }
    let mut body = vec![0u8; size];
    let got = fill(input, &mut body, true, keep_waiting)?;
    if got < size {
        return Err(FrameError::Truncated {
            expected: size,
            got,
        });
    }
    Ok(body)
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn fill(
    input: &mut dyn Read,
    buf: &mut [u8],
    started: bool,
    keep_waiting: &mut dyn FnMut(bool) -> bool,
) -> Result<usize, FrameError> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let mid_frame = started || got > 0;
                if !keep_waiting(mid_frame) {
                    return Err(if mid_frame {
                        FrameError::Stalled
                    } else {
                        FrameError::Closed
                    });
                }
            }
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(got)
}

/// One call to the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Hello,
    OpenIncident {
        title: String,
        severity: u8,
        summary: String,
        categories: Vec<String>,
        programs: Vec<String>,
        discovered_at: Option<DateTime<Utc>>,
        #[serde(default)]
        aware_at: Option<DateTime<Utc>>,
    },
    Incidents {
        status: Option<String>,
        max_severity: Option<u8>,
    },
    Incident {
        id: IncidentId,
    },
    Timeline {
        id: IncidentId,
    },
    SetSeverity {
        id: IncidentId,
        severity: u8,
        reason: String,
    },
    SetStatus {
        id: IncidentId,
        status: String,
        reason: Option<String>,
    },
    AddNote {
        id: IncidentId,
        text: String,
    },
    Assign {
        id: IncidentId,
        owner: String,
    },
    SetMember {
        id: IncidentId,
        user: String,
        add: bool,
    },
    AccessLog {
        incident: Option<IncidentId>,
        user: Option<String>,
    },
    ImportRoster {
        id: IncidentId,
        /// The CSV file's bytes in hex, so that a file that is not UTF-8 gets the same
        /// error as locally.
        csv_hex: String,
        source_name: String,
        dry_run: bool,
    },
    People {
        id: IncidentId,
        category: Option<String>,
        pending: bool,
        text: Option<String>,
        path: ReadPath,
    },
    PeopleWindow {
        id: IncidentId,
        offset: u64,
        limit: u64,
    },
    AddProgram {
        slug: String,
        name: String,
        owner: Option<String>,
        categories: Vec<String>,
        pause_hook: Option<String>,
        resume_hook: Option<String>,
    },
    Programs,
    LinkProgram {
        slug: String,
        id: IncidentId,
    },
    PauseProgram {
        slug: String,
        id: IncidentId,
        reason: String,
    },
    ResumeProgram {
        slug: String,
        reason: String,
        force: bool,
    },
    AuditLog {
        incident: Option<IncidentId>,
    },
    VerifyAudit,
    AuditHead,
    PreviewLetter {
        id: IncidentId,
        template: TemplateName,
        person: Option<String>,
    },
    QueueNotifications {
        id: IncidentId,
        template: TemplateName,
        category: Option<String>,
        pending: bool,
        text: Option<String>,
        recipients: Vec<String>,
    },
    SendNotifications {
        scope: Option<IncidentId>,
        rate: Option<u32>,
    },
    OutboxStatus {
        id: IncidentId,
        path: ReadPath,
    },
    RetryFailed {
        id: IncidentId,
    },
    TestSmtp,
    SetClock {
        id: IncidentId,
        aware: Option<DateTime<Utc>>,
        determined: Option<DateTime<Utc>>,
        reason: String,
    },
    Obligations {
        id: Option<IncidentId>,
    },
    SettleObligation {
        id: IncidentId,
        rule: String,
        state: crate::domain::ObligationState,
    },
    Evidence {
        id: IncidentId,
    },
    /// Followed by the log's bytes in raw frames of at most [`CHUNK`] bytes and an empty
    /// frame; the reply comes after the empty frame.
    ImportEvidence {
        id: IncidentId,
        source_name: String,
        allowed: Vec<String>,
    },
}

/// The largest raw frame of a streamed upload.
pub const CHUNK: usize = 1 << 20;

/// One frame from the daemon. A call gets any number of `Progress` frames, then one `Ok`
/// or `Error`.
#[derive(Debug, Serialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Ok {
        value: Box<serde_json::value::RawValue>,
    },
    Progress {
        progress: SendProgress,
    },
    Error {
        message: String,
        user: bool,
    },
}

/// A reply frame as read by a client: flat, so that the answer's JSON is kept raw and decoded
/// once, straight into the type the call expects.
#[derive(Debug, Deserialize)]
pub struct ReplyFrame {
    pub reply: String,
    #[serde(default)]
    pub value: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    pub progress: Option<SendProgress>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub user: bool,
}

/// What `Hello` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub identity: Identity,
    pub catalog: Vec<CategoryDef>,
    pub rules: Vec<crate::deadlines::Rule>,
    pub targets: std::collections::BTreeMap<String, u32>,
    pub version: String,
}

/// Parses a request body; the error is worded for the reply.
pub fn decode_request(body: &[u8]) -> Result<Request, String> {
    serde_json::from_slice(body).map_err(|e| format!("malformed request: {e}"))
}

/// Bytes as lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Hex back to bytes; `None` for odd length or a non-hex digit.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    let value = |d: u8| (d as char).to_digit(16).map(|v| v as u8);
    digits
        .chunks_exact(2)
        .map(|pair| Some(value(pair[0])? << 4 | value(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn never(_: bool) -> bool {
        false
    }

    #[test]
    fn frames_round_trip_and_limits_hold() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"{\"op\":\"hello\"}").unwrap();
        let body = read_frame(&mut wire.as_slice(), 100, &mut never).unwrap();
        assert_eq!(decode_request(&body).unwrap(), Request::Hello);
        assert!(matches!(
            read_frame(&mut wire.as_slice(), 4, &mut never),
            Err(FrameError::TooLarge { size: 14, limit: 4 })
        ));
        assert!(matches!(
            read_frame(&mut &wire[..9], 100, &mut never),
            Err(FrameError::Truncated {
                expected: 14,
                got: 5
            })
        ));
        assert!(matches!(
            read_frame(&mut &wire[..2], 100, &mut never),
            Err(FrameError::Truncated {
                expected: 4,
                got: 2
            })
        ));
        assert!(matches!(
            read_frame(&mut &[][..], 100, &mut never),
            Err(FrameError::Closed)
        ));
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(to_hex(b"\x00\xffa"), "00ff61");
        assert_eq!(from_hex("00ff61").unwrap(), b"\x00\xffa");
        assert!(from_hex("0").is_none());
        assert!(from_hex("zz").is_none());
        assert!(from_hex("é1").is_none());
    }

    proptest! {
        #[test]
        fn any_bytes_give_a_frame_or_an_error_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(body) = read_frame(&mut bytes.as_slice(), 256, &mut never) {
                let _ = decode_request(&body);
            }
        }

        #[test]
        fn any_body_decodes_or_is_refused_with_a_message(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Err(message) = decode_request(&body) {
                prop_assert!(message.starts_with("malformed request"));
            }
        }

        #[test]
        fn json_shaped_garbage_is_refused(op in "[a-z_]{0,12}", field in "[a-z_]{0,8}", value in any::<i64>()) {
            let body = format!("{{\"op\":\"{op}\",\"{field}\":{value}}}");
            let _ = decode_request(body.as_bytes());
        }

        #[test]
        fn hex_of_any_bytes_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            prop_assert_eq!(from_hex(&to_hex(&bytes)).unwrap(), bytes);
        }
    }
}
