//! Bounces read back: letters leave with a VERP envelope sender, and delivery status
//! notifications that a real postfix produced (`tests/fixtures/bounces/`, see its README)
//! mark their letters bounced, through the real binary against the tests' SMTP server.

use crate::common;

use crate::smtp;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::Sandbox;
use smtp::{Faults, SmtpServer};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces");

/// What the fixtures hold in place of the letters' tokens and ids.
const TOKEN_A: &str = "aaaaaaaaaaaaaaaa";
const ID_C: &str = "cccccccccccccccc";
const TOKEN_D: &str = "dddddddddddddddd";
const TOKEN_E: &str = "eeeeeeeeeeeeeeee";

/// An incident of four people whose letters went out through `server` with a bounce
/// address; returns the sandbox and each person's letter (token, Message-ID) by address.
fn sent(server: &SmtpServer) -> (Sandbox, HashMap<String, (String, String)>) {
    let s = Sandbox::new();
    s.write(
        "config.toml",
        &server.config("bounce_address = \"bounces@corp.example\"\n"),
    );
    let id = s.open_incident("Monitoring data readable by all", 2);
    assert_eq!(id, "INC-1");
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..4 {
        csv.push_str(&format!(
            "E{i:04},Person {i},p{i}@corp.example,keystrokes,DE\n"
        ));
    }
    s.import("1", &csv);
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    s.ok(&["notify", "send", "1"]);
    let mut letters = HashMap::new();
    for m in server.messages() {
        let from = m.from.trim_start_matches('<');
        let from = from.split('>').next().unwrap();
        let token = from
            .strip_prefix("bounces+")
            .and_then(|t| t.strip_suffix("@corp.example"))
            .unwrap_or_else(|| panic!("envelope sender {from} is not a VERP address"));
        let message_id = m.header("Message-ID").unwrap();
        let id = message_id
            .trim_start_matches("<breachdesk.")
            .split('@')
            .next()
            .unwrap()
            .to_owned();
        letters.insert(
            m.to[0].trim_matches(['<', '>']).to_owned(),
            (token.to_owned(), id),
        );
    }
    (s, letters)
}

/// A fixture with its placeholders replaced.
fn fixture(name: &str, swaps: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap();
    for (from, to) in swaps {
        text = text.replace(from, to);
    }
    text
}

fn maildir(s: &Sandbox, files: &[(&str, String)]) -> PathBuf {
    let dir = s.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (name, text) in files {
        std::fs::write(dir.join("new").join(name), text).unwrap();
    }
    dir
}

#[test]
fn each_letter_leaves_with_its_own_verp_sender_that_names_nobody() {
    let server = SmtpServer::start(Faults::default());
    let (_s, letters) = sent(&server);
    assert_eq!(letters.len(), 4);
    let mut tokens: Vec<&String> = letters.values().map(|(t, _)| t).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 4, "one token per letter: {letters:?}");
    for (address, (token, id)) in &letters {
        assert_eq!(token.len(), 16);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
        assert!(!address.contains(token.as_str()) && token != id, "{token}");
    }
    for m in server.messages() {
        assert_eq!(
            m.header("Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        assert_eq!(
            m.header("Reply-To").as_deref(),
            Some("privacy@corp.example")
        );
    }
}

#[test]
fn bounces_mark_letters_and_people_once_and_the_rest_is_reported() {
    let server = SmtpServer::start(Faults::default());
    let (s, letters) = sent(&server);
    let (token0, _) = &letters["p0@corp.example"];
    let (_, id1) = &letters["p1@corp.example"];
    let (token2, _) = &letters["p2@corp.example"];
    let (token3, _) = &letters["p3@corp.example"];
    let dir = maildir(
        &s,
        &[
            // By the token of p0's VERP address.
            (
                "1.eml",
                fixture("verp-unknown-user.eml", &[(TOKEN_A, token0)]),
            ),
            // The VERP address rewritten: by the Message-ID of p1's letter.
            ("2.eml", fixture("rewritten-sender.eml", &[(ID_C, id1)])),
            // Only the original's headers returned, p2's token.
            ("3.eml", fixture("headers-only.eml", &[(TOKEN_D, token2)])),
            // A delay warning about p3: not a bounce.
            ("4.eml", fixture("delayed.eml", &[(TOKEN_E, token3)])),
            // An out-of-office reply: not a report.
            ("5.eml", fixture("auto-reply.eml", &[(TOKEN_A, token3)])),
            // A bounce whose token names no letter.
            ("6.eml", fixture("verp-unknown-user.eml", &[])),
            // Not a message at all.
            ("7.eml", "\u{1b}[2J garbage with no headers\n".into()),
        ],
    );
    let dir_arg = dir.to_str().unwrap();
    let out = s
        .cmd()
        .args(["notify", "bounces", "1", "--maildir", dir_arg])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreadable message: {stdout}{stderr}"
    );
    assert!(
        stdout.contains("read 7 messages: 4 bounces, 1 reports of no failure (delays, deliveries), 1 not delivery reports (auto-replies, other mail), 1 unreadable"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "marked 3 letters bounced (0 already recorded); 3 people no longer count as notified"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 bounces matched no letter of INC-1"),
        "{stdout}"
    );
    assert!(stdout.contains("new/6.eml"), "{stdout}");
    let unreadable: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("unreadable:"))
        .collect();
    assert_eq!(unreadable.len(), 1, "{stderr}");
    assert!(unreadable[0].contains("new/7.eml: "), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");

    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["bounced"], 3, "{status}");
    assert_eq!(status["counts"]["sent"], 1, "{status}");
    let bounced = status["bounced"].as_array().unwrap();
    assert!(bounced.iter().all(|b| b["status"] == "5.1.1"), "{status}");
    assert!(
        bounced
            .iter()
            .any(|b| b["diagnostic"] == "unknown user: \"left.company\""),
        "{status}"
    );

    let people = s.json(&["people", "list", "1", "--undeliverable", "--json"]);
    let ids = common::field_strings(&people, "employee_id");
    assert_eq!(ids, ["E0000", "E0001", "E0002"], "{people}");
    let pending = s.json(&["people", "list", "1", "--pending", "--json"]);
    assert_eq!(common::field_strings(&pending, "employee_id").len(), 3);
    let csv = s.ok(&["people", "export", "1", "--undeliverable"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "employee_id,name,email,categories,location,language,bounce_status,bounce_diagnostic,bounced_at"
        )
    );
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("E0000,Person 0,p0@corp.example,keystrokes,DE,,5.1.1,"),
        "{first}"
    );
    assert_eq!(lines.count(), 2);

    // Read again, and from an mbox of the same messages: nothing changes.
    let log_before = s
        .json(&["audit", "log", "--json"])
        .as_array()
        .unwrap()
        .len();
    let again = s.fails(&["notify", "bounces", "1", "--maildir", dir_arg], 1);
    assert!(again.contains("unreadable: "), "{again}");
    let mbox = s.write(
        "bounces.mbox",
        &fixture(
            "bounces.mbox",
            &[(TOKEN_A, token0), (ID_C, id1), (TOKEN_D, token2)],
        ),
    );
    let out = s.ok(&["notify", "bounces", "--mbox", mbox.to_str().unwrap()]);
    assert!(out.contains("read 3 messages: 3 bounces"), "{out}");
    assert!(
        out.contains("marked 0 letters bounced (3 already recorded); 0 people"),
        "{out}"
    );
    let log_after = s.json(&["audit", "log", "--json"]);
    let changes: Vec<_> = log_after
        .as_array()
        .unwrap()
        .iter()
        .skip(log_before)
        .filter(|e| e["action"] == "notify.bounced")
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["bounced"], 3);
}

#[test]
fn a_corrected_address_sends_the_bounced_letter_again_there() {
    let server = SmtpServer::start(Faults::default());
    let (s, letters) = sent(&server);
    let (token0, _) = &letters["p0@corp.example"];
    let dir = maildir(
        &s,
        &[(
            "1.eml",
            fixture("verp-unknown-user.eml", &[(TOKEN_A, token0)]),
        )],
    );
    s.ok(&["notify", "bounces", "1", "--maildir", dir.to_str().unwrap()]);
    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["bounced"], 1);

    s.import(
        "1",
        "employee_id,name,email,categories,location\nE0000,Person 0,person.zero@home.example,keystrokes,DE\n",
    );
    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["bounced"], 0, "{status}");
    assert_eq!(status["counts"]["queued"], 1, "{status}");
    let out = s.ok(&["notify", "send", "1"]);
    assert!(out.contains("1 sent, 0 failed of 1"), "{out}");
    let last = server.messages().pop().unwrap();
    assert_eq!(
        last.to[0].trim_matches(['<', '>']),
        "person.zero@home.example"
    );
    let people = s.json(&["people", "list", "1", "--undeliverable", "--json"]);
    assert!(people.as_array().unwrap().is_empty(), "{people}");
}

#[test]
fn malformed_mailboxes_get_a_line_each_and_never_a_panic() {
    let s = Sandbox::new();
    s.open_incident("Monitoring data readable by all", 2);
    let report_without_status = "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\n\n--B--\n";
    let dir = maildir(
        &s,
        &[
            ("empty.eml", String::new()),
            ("no-status.eml", report_without_status.into()),
            (
                "no-dsn-part.eml",
                "Content-Type: multipart/report; boundary=B\n\n--B\nContent-Type: text/plain\n\nhi\n--B--\n".into(),
            ),
        ],
    );
    let err = s.fails(
        &["notify", "bounces", "1", "--maildir", dir.to_str().unwrap()],
        1,
    );
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("unreadable:"))
        .collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(err.contains("empty.eml: empty message"), "{err}");
    assert!(
        err.contains("no-status.eml: a failed recipient without a valid Status field"),
        "{err}"
    );
    assert!(
        err.contains("no-dsn-part.eml: a multipart/report without a message/delivery-status part"),
        "{err}"
    );
    let missing = s.fails(
        &["notify", "bounces", "1", "--mbox", "/nonexistent/mbox"],
        2,
    );
    assert!(
        missing.contains("cannot read /nonexistent/mbox"),
        "{missing}"
    );
}

/// Issue 27, item 3: a device or a pipe given as a mailbox is refused at once (it used to
/// read /dev/zero until memory ran out, and to wait on a pipe for ever).
#[test]
fn a_device_or_a_pipe_is_not_a_mailbox() {
    let s = Sandbox::new();
    s.open_incident("Monitoring data readable by all", 2);
    let fifo = s.path("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for path in ["/dev/zero", fifo.to_str().unwrap()] {
        let err = s.fails(&["notify", "bounces", "1", "--mbox", path], 2);
        assert!(err.contains("is not a regular file"), "{path}: {err}");
    }
    let dir = maildir(&s, &[]);
    std::os::unix::fs::symlink("/dev/zero", dir.join("new/zero")).unwrap();
    nix::unistd::mkfifo(
        &dir.join("new/pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let err = s.fails(
        &["notify", "bounces", "1", "--maildir", dir.to_str().unwrap()],
        1,
    );
    for name in ["zero", "pipe"] {
        assert!(
            err.contains(&format!("new/{name}: not a regular file")),
            "{name}: {err}"
        );
    }
}
