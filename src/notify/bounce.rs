//! Reading bounces back: delivery status notifications (RFC 3464) from a Maildir or an
//! mbox, each turned into a [`BounceReport`] that names its letter by the bounce token in
//! the VERP address it was delivered to (`bounces+TOKEN@...`), or by the Message-ID of the
//! original it carries. The reading happens where the files are (the command line); the desk
//! only matches reports to letters, so a daemon never opens a mailbox path it is given.
//!
//! Only what a report states is taken: a message that is not a `multipart/report` with a
//! `message/delivery-status` part, or whose status is not a failure, is never a bounce.

use std::fmt;
use std::path::Path;

use mailparse::{MailHeaderMap, ParsedMail};
use serde::{Deserialize, Serialize};

/// The largest message read; a bounce is a few kilobytes.
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;
/// The longest diagnostic kept, in characters.
pub const MAX_DIAGNOSTIC_CHARS: usize = 500;
/// The longest Message-ID kept.
pub const MAX_MESSAGE_ID_CHARS: usize = 250;
/// The most bounce tokens one message may name.
pub const MAX_TOKENS: usize = 4;

/// One failed delivery as a report states it, and what names its letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BounceReport {
    /// Where it was read (a file name, or `FILE:N` for the Nth message of an mbox), for
    /// the lines that report on it.
    pub source: String,
    /// Bounce tokens found in the addresses it was delivered to.
    pub tokens: Vec<String>,
    /// The Message-ID of the original it carries, when it carries one.
    pub message_id: Option<String>,
    /// The RFC 3463 status code, `5.1.1`.
    pub status: String,
    /// The remote server's diagnostic (`Diagnostic-Code`), or the action when there is none.
    pub diagnostic: String,
}

impl BounceReport {
    /// Checks a report that came from elsewhere (over the socket): sizes, shapes, no
    /// control characters.
    pub fn check(&self) -> Result<(), String> {
        let at = crate::domain::text::for_terminal(&self.source);
        if self.source.chars().count() > 1000 {
            return Err("a bounce's source name is longer than 1000 characters".into());
        }
        if !is_status(&self.status) || !self.status.starts_with('5') {
            return Err(format!(
                "{at}: '{}' is not a permanent failure status",
                crate::domain::text::for_terminal(&self.status)
            ));
        }
        if self.tokens.len() > MAX_TOKENS || !self.tokens.iter().all(|t| is_token(t)) {
            return Err(format!("{at}: a bounce token is not 16 hex digits"));
        }
        if self.diagnostic.chars().count() > MAX_DIAGNOSTIC_CHARS
            || self.diagnostic.chars().any(char::is_control)
        {
            return Err(format!(
                "{at}: the diagnostic is longer than {MAX_DIAGNOSTIC_CHARS} characters or holds a control character"
            ));
        }
        if let Some(id) = &self.message_id
            && (id.chars().count() > MAX_MESSAGE_ID_CHARS || id.chars().any(char::is_control))
        {
            return Err(format!(
                "{at}: the Message-ID is too long or holds a control character"
            ));
        }
        Ok(())
    }
}

/// What one message in the bounce mailbox turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailReading {
    /// A report of a failed delivery.
    Bounce(BounceReport),
    /// A report that is not a failure: delayed, delivered, relayed or expanded.
    NotFailed(String),
    /// Not a delivery report at all (an out-of-office reply, a person writing back).
    NotAReport,
}

/// A message that could not be read, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub source: String,
    pub why: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.why)
    }
}

/// What reading a mailbox found; each failure report went to the reader's sink as it was
/// read, so that a mailbox of any size is read in bounded memory.
#[derive(Debug, Default)]
pub struct Mailbox {
    pub messages: usize,
    /// Failure reports handed to the sink.
    pub bounces: usize,
    pub not_failed: usize,
    pub not_reports: usize,
    pub unreadable: Vec<Unreadable>,
}

/// Where a mailbox reader hands each failure report.
pub type BounceSink<'a> = &'a mut dyn FnMut(BounceReport);

impl Mailbox {
    fn take(&mut self, source: String, raw: &[u8], sink: &mut dyn FnMut(BounceReport)) {
        self.messages += 1;
        match read_message(&source, raw) {
            Ok(MailReading::Bounce(report)) => {
                self.bounces += 1;
                sink(report);
            }
            Ok(MailReading::NotFailed(_)) => self.not_failed += 1,
            Ok(MailReading::NotAReport) => self.not_reports += 1,
            Err(why) => self.unreadable.push(Unreadable { source, why }),
        }
    }
}

/// Reads every message of a Maildir (`new/` and `cur/`, in name order), handing each
/// failure report to `sink`. A directory without those is read as a directory of message
/// files.
pub fn read_maildir(dir: &Path, sink: BounceSink<'_>) -> Result<Mailbox, String> {
    let name = crate::domain::text::display_path(dir);
    let subdirs: Vec<_> = ["new", "cur"]
        .iter()
        .map(|s| dir.join(s))
        .filter(|p| p.is_dir())
        .collect();
    let dirs = if subdirs.is_empty() {
        if !dir.is_dir() {
            return Err(format!("{name} is not a directory"));
        }
        vec![dir.to_owned()]
    } else {
        subdirs
    };
    let mut files = Vec::new();
    for d in &dirs {
        let entries =
            std::fs::read_dir(d).map_err(|e| format!("cannot read {}: {e}", display(d)))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", display(d)))?;
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read {name}: {e}"))?;
            // Dot files are the mail client's own; anything else that is not a regular
            // file (a link, a pipe, a device) is reported, never opened.
            if kind.is_file() || !entry.file_name().to_string_lossy().starts_with('.') {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    let mut mailbox = Mailbox::default();
    for file in files {
        let source = display(&file);
        match read_bounded(&file) {
            Ok(raw) => mailbox.take(source, &raw, sink),
            Err(why) => {
                mailbox.messages += 1;
                mailbox.unreadable.push(Unreadable { source, why });
            }
        }
    }
    Ok(mailbox)
}

/// Reads every message of an mbox file (`From ` lines between messages; `>From ` in a body
/// is unquoted once, as mboxrd writes it), one message at a time: at most one message
/// ([`MAX_MESSAGE_BYTES`]) and one line of it are held, whatever the file's size. Anything
/// but a regular file (a device, a pipe, a directory) is refused before it is read.
pub fn read_mbox(file: &Path, sink: BounceSink<'_>) -> Result<Mailbox, String> {
    let name = display(file);
    let opened = open_regular(file, false).map_err(|e| match e {
        NotAMailbox::Io(e) => format!("cannot read {name}: {e}"),
        NotAMailbox::NotRegular => format!("{name} is {NOT_REGULAR}"),
    })?;
    let reader = std::io::BufReader::with_capacity(64 * 1024, opened);
    let mut mailbox = Mailbox::default();
    let mut n = 0;
    each_mbox_message(reader, &mut |message| {
        n += 1;
        mailbox.take_mbox(format!("{name}:{n}"), message, sink);
    })
    .map_err(|e| format!("cannot read {name}: {e}"))?;
    Ok(mailbox)
}

/// Hands each message of the mbox `reader` reads to `each`, without its `From ` line:
/// its bytes, or `Err` when it is larger than [`MAX_MESSAGE_BYTES`].
fn each_mbox_message(
    mut reader: impl std::io::BufRead,
    each: &mut dyn FnMut(Result<Vec<u8>, ()>),
) -> std::io::Result<()> {
    let mut message = MboxMessage::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = read_line_bounded(&mut reader, &mut line, MAX_MESSAGE_BYTES + 1)?;
        if read == 0 {
            break;
        }
        if line.starts_with(b"From ") {
            if let Some(done) = message.finish() {
                each(done);
            }
            message = MboxMessage::started();
            continue;
        }
        message.push(&line, read);
    }
    if let Some(done) = message.finish().filter(|m| match m {
        Ok(raw) => !raw.iter().all(u8::is_ascii_whitespace),
        Err(()) => true,
    }) {
        each(done);
    }
    Ok(())
}

/// The message an mbox reader is gathering: its bytes while within
/// [`MAX_MESSAGE_BYTES`], or that it went over.
#[derive(Default)]
struct MboxMessage {
    started: bool,
    body: Vec<u8>,
    too_large: bool,
}

impl MboxMessage {
    fn started() -> Self {
        MboxMessage {
            started: true,
            ..MboxMessage::default()
        }
    }

    /// Adds a line (`read` bytes long in the file, of which `line` holds the first).
    fn push(&mut self, line: &[u8], read: usize) {
        self.started = true;
        if self.too_large {
            return;
        }
        let unquoted = line
            .strip_prefix(b">")
            .filter(|rest| rest.iter().skip_while(|b| **b == b'>').take(5).eq(b"From "));
        let part = unquoted.unwrap_or(line);
        if read > line.len() || self.body.len() + part.len() > MAX_MESSAGE_BYTES {
            self.too_large = true;
            self.body = Vec::new();
            return;
        }
        self.body.extend_from_slice(part);
    }

    /// The message's bytes, `Err` when it was too large; `None` before any line.
    fn finish(&mut self) -> Option<Result<Vec<u8>, ()>> {
        let done = std::mem::take(self);
        if !done.started {
            return None;
        }
        Some(if done.too_large {
            Err(())
        } else {
            Ok(done.body)
        })
    }
}

impl Mailbox {
    fn take_mbox(
        &mut self,
        source: String,
        message: Result<Vec<u8>, ()>,
        sink: &mut dyn FnMut(BounceReport),
    ) {
        match message {
            Ok(raw) => self.take(source, &raw, sink),
            Err(()) => {
                self.messages += 1;
                self.unreadable.push(Unreadable {
                    source,
                    why: format!("larger than {} MiB", MAX_MESSAGE_BYTES >> 20),
                });
            }
        }
    }
}

/// Reads one line (through its `\n`, or to the end) into `line`, keeping at most `cap`
/// bytes of it; returns how many bytes the line had in the file (0 at the end).
fn read_line_bounded(
    reader: &mut impl std::io::BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(read);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(at) => (at + 1, true),
            None => (buf.len(), false),
        };
        let room = cap.saturating_sub(line.len()).min(take);
        line.extend_from_slice(&buf[..room]);
        reader.consume(take);
        read += take;
        if done {
            return Ok(read);
        }
    }
}

/// Why a mailbox file was not opened.
enum NotAMailbox {
    Io(std::io::Error),
    NotRegular,
}

const NOT_REGULAR: &str =
    "not a regular file (a link, a device, a pipe or a directory is not a mailbox)";

/// Opens `path` for reading if it is a regular file, without waiting on a pipe or a device
/// (the type is checked on what was opened, so nothing can be swapped in between);
/// `no_links` refuses a symbolic link too.
fn open_regular(path: &Path, no_links: bool) -> Result<std::fs::File, NotAMailbox> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut flags = nix::libc::O_NONBLOCK;
    if no_links {
        flags |= nix::libc::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(nix::libc::ELOOP) if no_links => NotAMailbox::NotRegular,
            _ => NotAMailbox::Io(e),
        })?;
    if !file.metadata().map_err(NotAMailbox::Io)?.is_file() {
        return Err(NotAMailbox::NotRegular);
    }
    Ok(file)
}

fn display(path: &Path) -> String {
    crate::domain::text::display_path(path)
}

/// One message file of a Maildir: a regular file (not a link) of at most
/// [`MAX_MESSAGE_BYTES`], read whole.
fn read_bounded(file: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let opened = open_regular(file, true).map_err(|e| match e {
        NotAMailbox::Io(e) => format!("cannot read: {e}"),
        NotAMailbox::NotRegular => NOT_REGULAR.to_owned(),
    })?;
    let mut raw = Vec::new();
    opened
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read: {e}"))?;
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(format!("larger than {} MiB", MAX_MESSAGE_BYTES >> 20));
    }
    Ok(raw)
}

/// Reads one message: a failure report, another report, or not a report.
pub fn read_message(source: &str, raw: &[u8]) -> Result<MailReading, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err("empty message".into());
    }
    let mail = mailparse::parse_mail(raw).map_err(|e| format!("not a mail message: {e}"))?;
    if mail.headers.is_empty() {
        return Err("not a mail message: no headers".into());
    }
    if let Some(n) = mail
        .headers
        .iter()
        .position(|h| !is_field_name(h.get_key_raw()))
    {
        return Err(format!(
            "not a mail message: header {} is not a 'Name: value' line",
            n + 1
        ));
    }
    if !mail.ctype.mimetype.eq_ignore_ascii_case("multipart/report") {
        return Ok(MailReading::NotAReport);
    }
    let status_part = find_part(&mail, "message/delivery-status").ok_or_else(|| {
        "a multipart/report without a message/delivery-status part (not a delivery report)"
            .to_string()
    })?;
    let body = status_part
        .get_body_raw()
        .map_err(|e| format!("cannot decode the delivery-status part: {e}"))?;
    let groups = field_groups(&body);
    // The first group is about the message, the rest one per recipient.
    let failed = groups
        .iter()
        .skip(1)
        .find(|g| field(g, "action").is_some_and(|a| a.eq_ignore_ascii_case("failed")));
    let Some(recipient) = failed else {
        let action = groups
            .iter()
            .skip(1)
            .find_map(|g| field(g, "action"))
            .ok_or_else(|| "a delivery-status part with no recipient's action".to_string())?;
        return Ok(MailReading::NotFailed(action.to_ascii_lowercase()));
    };
    let status = field(recipient, "status")
        .map(|s| s.split_whitespace().next().unwrap_or_default().to_owned())
        .filter(|s| is_status(s))
        .ok_or_else(|| "a failed recipient without a valid Status field".to_string())?;
    if !status.starts_with('5') {
        // A "failed" action with a temporary status is contradictory: not taken as a bounce.
        return Ok(MailReading::NotFailed(format!(
            "failed with temporary status {status}"
        )));
    }
    let diagnostic = field(recipient, "diagnostic-code")
        .map(|d| {
            d.split_once(';')
                .map_or(d, |(_, text)| text)
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| "failed (no diagnostic given)".into());
    Ok(MailReading::Bounce(BounceReport {
        source: source.to_owned(),
        tokens: tokens(&mail),
        message_id: original_message_id(&mail),
        status,
        diagnostic: bounded(&diagnostic, MAX_DIAGNOSTIC_CHARS),
    }))
}

fn find_part<'a>(mail: &'a ParsedMail<'a>, mimetype: &str) -> Option<&'a ParsedMail<'a>> {
    if mail.ctype.mimetype.eq_ignore_ascii_case(mimetype) {
        return Some(mail);
    }
    mail.subparts.iter().find_map(|p| find_part(p, mimetype))
}

/// The groups of `Name: value` fields of a delivery-status body (blank lines between
/// groups, folded lines joined), names in lower case.
fn field_groups(body: &[u8]) -> Vec<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(body);
    let mut groups = Vec::new();
    let mut group: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

fn field<'a>(group: &'a [(String, String)], name: &str) -> Option<&'a str> {
    group
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The bounce tokens in the addresses the report was delivered to.
fn tokens(mail: &ParsedMail<'_>) -> Vec<String> {
    let mut found = Vec::new();
    for header in ["Delivered-To", "X-Original-To", "Envelope-To", "To"] {
        for value in mail.headers.get_all_values(header) {
            for token in value.split('+').skip(1).filter_map(|rest| {
                let (token, after) = rest.split_at_checked(16)?;
                (after.starts_with('@') && is_token(&token.to_ascii_lowercase()))
                    .then(|| token.to_ascii_lowercase())
            }) {
                if !found.contains(&token) && found.len() < MAX_TOKENS {
                    found.push(token);
                }
            }
        }
    }
    found
}

/// The Message-ID of the original the report carries (whole, or its headers only).
fn original_message_id(mail: &ParsedMail<'_>) -> Option<String> {
    let original =
        find_part(mail, "message/rfc822").or_else(|| find_part(mail, "text/rfc822-headers"))?;
    let body = original.get_body_raw().ok()?;
    let (headers, _) = mailparse::parse_headers(&body).ok()?;
    let id = headers.get_first_value("Message-ID")?;
    let id = id.trim();
    (!id.is_empty() && id.len() <= MAX_MESSAGE_ID_CHARS && !id.chars().any(char::is_control))
        .then(|| id.to_owned())
}

/// An RFC 5322 field name: printable ASCII but the colon, at least one character.
fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| (33..=126).contains(b) && *b != b':')
}

fn is_token(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `class.subject.detail` (RFC 3463): class 2, 4 or 5, then one to three digits twice.
fn is_status(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// At most `max` characters, control characters as spaces.
fn bounded(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DSN: &str = "From: MAILER-DAEMON@mx.corp.example\r\n\
Delivered-To: bounces+00112233aabbccdd@corp.example\r\n\
To: bounces+00112233aabbccdd@corp.example\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\
\r\n\
--B\r\n\
Content-Type: text/plain\r\n\
\r\n\
I'm sorry to have to inform you...\r\n\
--B\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.corp.example\r\n\
\r\n\
Final-Recipient: rfc822; gone@corp.example\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Diagnostic-Code: X-Postfix; unknown user:\r\n\x20\"gone\"\r\n\
\r\n\
--B\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
Message-ID: <breachdesk.0123456789abcdef@corp.example>\r\n\
Subject: Your data\r\n\
\r\n\
--B--\r\n";

    #[test]
    fn a_failure_report_names_its_token_status_diagnostic_and_original() {
        let MailReading::Bounce(report) = read_message("m1", DSN.as_bytes()).unwrap() else {
            panic!("not a bounce");
        };
        assert_eq!(report.tokens, ["00112233aabbccdd"]);
        assert_eq!(report.status, "5.1.1");
        assert_eq!(report.diagnostic, "unknown user: \"gone\"");
        assert_eq!(
            report.message_id.as_deref(),
            Some("<breachdesk.0123456789abcdef@corp.example>")
        );
        report.check().unwrap();
    }

    #[test]
    fn delays_and_ordinary_mail_are_not_bounces() {
        let delayed = DSN
            .replace("Action: failed", "Action: delayed")
            .replace("5.1.1", "4.4.1");
        assert_eq!(
            read_message("m", delayed.as_bytes()).unwrap(),
            MailReading::NotFailed("delayed".into())
        );
        let reply = "From: eve@corp.example\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nBack Monday.\r\n";
        assert_eq!(
            read_message("m", reply.as_bytes()).unwrap(),
            MailReading::NotAReport
        );
    }

    #[test]
    fn malformed_messages_are_errors_never_panics() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"Content-Type: multipart/report; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nhi\r\n--X--\r\n",
            b"Content-Type: multipart/report; boundary=X\r\n\r\n--X\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: x\r\n\r\nAction: failed\r\nStatus: banana\r\n--X--\r\n",
            b"\xff\xfe\x00garbage",
        ] {
            assert!(read_message("m", raw).is_err(), "{:?}", String::from_utf8_lossy(raw));
        }
    }

    /// The messages of an mbox held in memory.
    fn split_mbox(raw: &[u8]) -> Vec<Vec<u8>> {
        let mut messages = Vec::new();
        each_mbox_message(raw, &mut |m| {
            messages.push(m.unwrap_or_else(|()| b"(too large)".to_vec()));
        })
        .unwrap();
        messages
    }

    #[test]
    fn an_mbox_too_large_message_is_one_unreadable_and_the_next_is_read() {
        let mut mbox = b"From a\nSubject: big\n\n".to_vec();
        mbox.extend(std::iter::repeat_n(b'x', MAX_MESSAGE_BYTES + 10));
        mbox.extend(b"\nFrom b\nSubject: small\n\nbody\n");
        let messages = split_mbox(&mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], b"(too large)");
        assert_eq!(messages[1], b"Subject: small\n\nbody\n");
    }

    #[test]
    fn an_mbox_splits_on_from_lines_and_unquotes_bodies() {
        let mbox = b"From MAILER-DAEMON Fri Dec  4 10:00:00 2026\nSubject: a\n\n>From the start\nbody\n\nFrom MAILER-DAEMON Fri Dec  4 10:00:01 2026\nSubject: b\n\nx\n";
        let messages = split_mbox(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], b"Subject: a\n\nFrom the start\nbody\n\n");
        assert_eq!(messages[1], b"Subject: b\n\nx\n");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_never_a_panic(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1024)
        ) {
            let _ = read_message("m", &raw);
            let _ = split_mbox(&raw);
        }

        #[test]
        fn a_damaged_report_is_read_or_refused_never_a_panic(cut in 0usize..DSN.len(), byte in 0u8..=255) {
            let mut raw = DSN.as_bytes().to_vec();
            raw[cut] = byte;
            let _ = read_message("m", &raw);
            let _ = read_message("m", &raw[..cut]);
        }
    }

    #[test]
    fn reports_from_elsewhere_are_checked() {
        let good = BounceReport {
            source: "m".into(),
            tokens: vec!["00112233aabbccdd".into()],
            message_id: None,
            status: "5.1.1".into(),
            diagnostic: "unknown user".into(),
        };
        good.check().unwrap();
        for bad in [
            BounceReport {
                status: "4.4.1".into(),
                ..good.clone()
            },
            BounceReport {
                tokens: vec!["XYZ".into()],
                ..good.clone()
            },
            BounceReport {
                diagnostic: "a\u{1b}[2J".into(),
                ..good.clone()
            },
            BounceReport {
                diagnostic: "x".repeat(501),
                ..good.clone()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
