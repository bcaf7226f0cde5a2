//! The daemon's wire protocol: frames of a 4-byte big-endian length and a JSON body.
//! Requests are generated from the table of operations (`src/desk/ops.rs`) and carry domain
//! types that validate themselves when decoded, with the same rules as the command line;
//! nothing in a request says who is asking (the daemon takes that from the socket).
//! Every connection opens with a hello naming [`PROTOCOL_VERSION`]; error replies carry an
//! [`ErrorKind`] beside their message, and callers branch on the kind, never the words.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::desk::ops::vocabulary::*;
use crate::desk::{ErrorKind, SendProgress};
use crate::domain::CategoryDef;

/// The version of this protocol. A client names it in the hello that opens each
/// connection, and the daemon refuses a connection whose version is not its own.
///
/// 1. Before versions: a hello without a version, errors as text and a `user` flag.
/// 2. The hello names the version; error replies carry a kind.
/// 3. Requests come from the table of operations: typed fields (a severity as its level,
///    filters as objects), `identity` as an operation of its own.
/// 4. Purges (`purge_incident`, `purge_due`), `mail_readiness`, `known_users`,
///    `edit_program` and `unlink_program`.
/// 5. `reset_witness`.
/// 6. `decide_element`, `set_exposure`; rules and categories carry data elements,
///    obligations `possible`; `import_evidence` takes `options` (format, authorised
///    principals, how to find the person in a resource).
/// 7. `describe` (a new title or summary); incidents carry people per category within
///    each location.
pub const PROTOCOL_VERSION: u32 = 7;

/// The largest request the daemon reads (a roster import is the big one).
pub const MAX_REQUEST: usize = 64 << 20;
/// The largest reply a client reads (a 100,000-person roster is about 20 MB).
pub const MAX_REPLY: usize = 1 << 30;

/// What went wrong reading a frame.
#[derive(Debug, Error)]
pub enum WireError {
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
) -> Result<Vec<u8>, WireError> {
    let mut header = [0u8; 4];
    let got = fill(input, &mut header, false, keep_waiting)?;
    if got == 0 {
        return Err(WireError::Closed);
    }
    if got < 4 {
        return Err(WireError::Truncated { expected: 4, got });
    }
    let size = u32::from_be_bytes(header) as usize;
    if size > limit {
        return Err(WireError::TooLarge { size, limit });
    }
    let mut body = vec![0u8; size];
    let got = fill(input, &mut body, true, keep_waiting)?;
    if got < size {
        return Err(WireError::Truncated {
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
) -> Result<usize, WireError> {
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
                        WireError::Stalled
                    } else {
                        WireError::Closed
                    });
                }
            }
            Err(e) => return Err(WireError::Io(e)),
        }
    }
    Ok(got)
}

/// The protocol's side of each row of the table: one request variant per operation, whose
/// fields are the operation's arguments, decoded into self-validating types.
macro_rules! request_enum {
    (
        { $($extra:tt)* }
        $(
            $(#[doc = $doc:literal])*
            $variant:ident $name:ident ( $( $(#[$fattr:meta])* $arg:ident : $ty:ty ),* $(,)? )
                -> $reply:ty = $local:path, $access:expr ;
        )*
    ) => {
        /// One call to the daemon: a row of the table of operations, or one of the
        /// hand-written calls that hold the connection (the hello, a watch, a send with
        /// progress, an evidence upload).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
        pub enum Request {
            $($extra)*
            $(
                $(#[doc = $doc])*
                $variant { $( $(#[$fattr])* $arg: $ty ),* },
            )*
        }

        /// A row's reply, typed: what [`Request::perform`] answers, one variant a row.
        #[derive(Debug)]
        #[allow(
            clippy::large_enum_variant,
            reason = "one answer at a time, moved once to whoever asked"
        )]
        pub enum Answer {
            $( $variant($reply), )*
        }

        impl Request {
            /// Each request's name, arguments and reply as written in the table, and the
            /// hand-written calls: what `wire.txt` holds beside [`PROTOCOL_VERSION`].
            pub const WIRE: &[(&str, &str, &str)] = &[
                ("(hand-written calls)", stringify!($($extra)*), ""),
                $( (stringify!($name), stringify!($( $arg: $ty ),*), stringify!($reply)), )*
            ];

            /// Runs a row of the table on `desk`, local or remote, and answers with its typed
            /// reply; a request that is not a row (the hand-written calls) comes back. The
            /// terminal UI's actions are rows run this way.
            pub fn perform(
                self,
                desk: &dyn crate::desk::Desk,
            ) -> Result<Result<Answer, crate::desk::DeskError>, Box<Request>> {
                match self {
                    $( Request::$variant { $($arg),* } => Ok(desk.$name($($arg),*).map(Answer::$variant)), )*
                    other => Err(Box::new(other)),
                }
            }

            /// The operation's name on the wire.
            pub fn name(&self) -> &'static str {
                match self {
                    Request::Hello { .. } => "hello",
                    Request::Watch => "watch",
                    Request::SendNotifications { .. } => "send_notifications",
                    Request::ImportEvidence { .. } => "import_evidence",
                    $( Request::$variant { .. } => stringify!($name), )*
                }
            }
        }
    };
}

crate::desk::ops::desk_ops!(request_enum {
    /// Opens every connection (and may be sent again later). A client of protocol 1 sends
    /// no version, which the daemon refuses with a reply saying to upgrade the client.
    Hello {
        #[serde(default)]
        protocol: Option<u32>,
    },
    /// Turns this connection into a stream of change notices (see `watch.rs`).
    Watch,
    /// Drains the outbox with progress frames; the client hanging up stops it.
    SendNotifications {
        scope: Option<IncidentId>,
        rate: Option<u32>,
    },
    /// Followed by the log's bytes in raw frames of at most [`CHUNK`] bytes and an empty
    /// frame; the reply comes after the empty frame.
    ImportEvidence {
        id: IncidentId,
        source_name: String,
        options: crate::evidence::EvidenceOptions,
    },
});

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
    /// A change committed by anyone, on a watching connection.
    Notice {
        notice: crate::domain::ChangeNotice,
    },
    /// `protocol` is set only on the refusal of a hello whose version differs, so that the
    /// client can say which side to upgrade. This reply keeps its shape in every version.
    Error {
        kind: ErrorKind,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        protocol: Option<u32>,
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
    pub notice: Option<crate::domain::ChangeNotice>,
    #[serde(default)]
    pub message: Option<String>,
    /// Absent only from a daemon of protocol 1.
    #[serde(default)]
    pub kind: Option<ErrorKind>,
    /// The daemon's protocol, on its refusal of a hello of another version.
    #[serde(default)]
    pub protocol: Option<u32>,
}

/// What `Hello` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub identity: Identity,
    pub catalog: Vec<CategoryDef>,
    pub rules: Vec<crate::deadlines::Rule>,
    pub targets: std::collections::BTreeMap<String, u32>,
    /// The daemon's breachdesk release.
    pub version: String,
    /// The daemon's [`PROTOCOL_VERSION`].
    pub protocol: u32,
}

/// The daemon's refusal of a hello whose protocol is not its own, worded for whoever reads
/// it (a client of any version prints the message as it stands).
pub fn refuse_protocol(client: Option<u32>) -> Reply {
    let daemon = PROTOCOL_VERSION;
    let release = env!("CARGO_PKG_VERSION");
    let message = match client {
        None => format!(
            "this client did not open with a hello naming its protocol version, so it speaks protocol 1 (from before versions), and this daemon (breachdesk {release}) speaks protocol {daemon}: upgrade the client to breachdesk {release} (or use a daemon of the same version)"
        ),
        Some(client) if client < daemon => format!(
            "this client speaks protocol {client}, and this daemon (breachdesk {release}) speaks protocol {daemon}: upgrade the client to breachdesk {release} (or use a daemon of the same version)"
        ),
        Some(client) => format!(
            "this client speaks protocol {client}, and this daemon (breachdesk {release}) speaks protocol {daemon}: upgrade the daemon (or use a client of the same version)"
        ),
    };
    Reply::Error {
        kind: ErrorKind::Unavailable,
        message,
        protocol: Some(daemon),
    }
}

/// The client's account of a daemon that speaks protocol `daemon` (1 when it predates
/// versions), as the user of this breachdesk reads it.
pub fn protocol_mismatch(socket: &str, daemon: u32) -> String {
    let ours = PROTOCOL_VERSION;
    let release = env!("CARGO_PKG_VERSION");
    let older = if daemon == 1 {
        " (it predates protocol versions)"
    } else {
        ""
    };
    if daemon < ours {
        format!(
            "this breachdesk ({release}) speaks protocol {ours}, the daemon at {socket} speaks {daemon}{older}: upgrade the daemon to breachdesk {release} (or use a client of the same version)"
        )
    } else {
        format!(
            "this breachdesk ({release}) speaks protocol {ours}, the daemon at {socket} speaks {daemon}: upgrade this breachdesk to the daemon's release (or use a daemon of the same version)"
        )
    }
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

    /// The wire as the table declares it: the version, then one line a request (names,
    /// arguments and reply, whitespace taken out so that the compiler's spacing does not
    /// count). It names argument types, not their fields: a change inside a type the wire
    /// carries is for the reviewer to catch.
    fn wire_text() -> String {
        // Doc comments are not the wire.
        let docs = regex_lite::Regex::new(r#"#\[doc=r?"(?:[^"\\]|\\.)*"\]"#).unwrap();
        let squeeze = |s: &str| {
            let text = s.split_whitespace().collect::<Vec<_>>().join("");
            docs.replace_all(&text, "").into_owned()
        };
        let mut text = format!("protocol {PROTOCOL_VERSION}\n");
        for (name, args, reply) in Request::WIRE {
            text.push_str(&format!(
                "{name}({}) -> {}\n",
                squeeze(args),
                squeeze(reply)
            ));
        }
        text
    }

    #[test]
    fn the_wire_changes_only_with_a_new_protocol_version() {
        let golden_path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/remote/wire.txt");
        let now = wire_text();
        if std::env::var_os("BREACHDESK_BLESS_WIRE").is_some() {
            std::fs::write(golden_path, &now).unwrap();
            return;
        }
        let golden = std::fs::read_to_string(golden_path).unwrap_or_default();
        if golden == now {
            return;
        }
        let version = |t: &str| t.lines().next().map(str::to_owned);
        if version(&golden) == version(&now) {
            panic!(
                "the requests on the wire changed but PROTOCOL_VERSION is still {PROTOCOL_VERSION}: \
                 raise it in src/remote/protocol.rs, then record the new wire with \
                 `BREACHDESK_BLESS_WIRE=1 cargo test --lib the_wire_changes`"
            );
        }
        panic!(
            "PROTOCOL_VERSION is now {PROTOCOL_VERSION}: record the wire it names with \
             `BREACHDESK_BLESS_WIRE=1 cargo test --lib the_wire_changes`"
        );
    }
    use super::*;
    use proptest::prelude::*;

    fn never(_: bool) -> bool {
        false
    }

    #[test]
    fn frames_round_trip_and_limits_hold() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"{\"op\":\"hello\",\"protocol\":2}").unwrap();
        let body = read_frame(&mut wire.as_slice(), 100, &mut never).unwrap();
        assert_eq!(
            decode_request(&body).unwrap(),
            Request::Hello { protocol: Some(2) }
        );
        assert!(matches!(
            read_frame(&mut wire.as_slice(), 4, &mut never),
            Err(WireError::TooLarge { size: 27, limit: 4 })
        ));
        assert!(matches!(
            read_frame(&mut &wire[..9], 100, &mut never),
            Err(WireError::Truncated {
                expected: 27,
                got: 5
            })
        ));
        assert!(matches!(
            read_frame(&mut &wire[..2], 100, &mut never),
            Err(WireError::Truncated {
                expected: 4,
                got: 2
            })
        ));
        assert!(matches!(
            read_frame(&mut &[][..], 100, &mut never),
            Err(WireError::Closed)
        ));
    }

    #[test]
    fn an_error_reply_carries_its_kind_in_kebab_case_and_reads_back() {
        let reply = Reply::Error {
            kind: ErrorKind::NotFound,
            message: "no incident INC-99".into(),
            protocol: None,
        };
        let wire = serde_json::to_string(&reply).unwrap();
        assert_eq!(
            wire,
            r#"{"reply":"error","kind":"not-found","message":"no incident INC-99"}"#
        );
        let read: ReplyFrame = serde_json::from_str(&wire).unwrap();
        assert_eq!(read.kind, Some(ErrorKind::NotFound));
        assert_eq!(read.protocol, None);
        // A daemon of protocol 1 sent a flag instead of a kind.
        let old: ReplyFrame =
            serde_json::from_str(r#"{"reply":"error","message":"x","user":true}"#).unwrap();
        assert_eq!(old.kind, None);
    }

    #[test]
    fn a_hello_without_a_version_is_protocol_1() {
        assert_eq!(
            decode_request(br#"{"op":"hello"}"#).unwrap(),
            Request::Hello { protocol: None }
        );
    }

    #[test]
    fn a_protocol_refusal_names_both_versions_and_the_side_to_upgrade() {
        for (client, upgrade) in [
            (None, "upgrade the client"),
            (Some(1), "upgrade the client"),
            (Some(PROTOCOL_VERSION + 1), "upgrade the daemon"),
        ] {
            let Reply::Error {
                kind,
                message,
                protocol,
            } = refuse_protocol(client)
            else {
                panic!("a refusal is an error reply");
            };
            assert_eq!(kind, ErrorKind::Unavailable);
            assert_eq!(protocol, Some(PROTOCOL_VERSION));
            let theirs = format!("protocol {}", client.unwrap_or(1));
            assert!(message.contains(&theirs), "{message}");
            assert!(
                message.contains(&format!("speaks protocol {PROTOCOL_VERSION}")),
                "{message}"
            );
            assert!(message.contains(upgrade), "{message}");
        }
        let older = protocol_mismatch("/run/b.sock", 1);
        assert!(
            older.contains(&format!("speaks protocol {PROTOCOL_VERSION}"))
                && older.contains("the daemon at /run/b.sock speaks 1")
                && older.contains("upgrade the daemon"),
            "{older}"
        );
        let newer = protocol_mismatch("/run/b.sock", PROTOCOL_VERSION + 1);
        assert!(newer.contains("upgrade this breachdesk"), "{newer}");
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
