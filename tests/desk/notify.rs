//! Letters to affected staff, through the real binary, against a real SMTP server on
//! loopback that the tests start themselves.

use crate::common;

use crate::smtp;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::Sandbox;
use smtp::{Faults, SmtpServer};

/// A sandbox with an incident of `n` people, configured for `server`.
fn setup(server: &SmtpServer, n: usize, extra: &str) -> Sandbox {
    let s = Sandbox::new();
    s.write("config.toml", &server.config(extra));
    s.ok(&[
        "program",
        "add",
        "staff-monitoring",
        "--name",
        "Staff monitoring",
        "--pause-hook",
        "true",
    ]);
    s.ok(&[
        "incident",
        "open",
        "--title",
        "Monitoring data readable by all",
        "--severity",
        "2",
        "--summary",
        "The store was readable by every employee.",
        "--program",
        "staff-monitoring",
    ]);
    s.ok(common::PAUSE_STAFF_MONITORING);
    s.import("1", &setup_roster(n));
    s
}

/// The roster `setup` imports: E0000 `p0@corp.example`, E0001 `p1@corp.example`, ...
fn setup_roster(n: usize) -> String {
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..n {
        let cats = if i % 2 == 0 {
            "keystrokes;chat-messages"
        } else {
            "screenshots"
        };
        csv.push_str(&format!("E{i:04},Person {i},p{i}@corp.example,{cats},DE\n"));
    }
    csv
}

fn by_recipient(server: &SmtpServer) -> HashMap<String, Vec<smtp::Received>> {
    let mut map: HashMap<String, Vec<smtp::Received>> = HashMap::new();
    for m in server.messages() {
        map.entry(m.to[0].clone()).or_default().push(m);
    }
    map
}

#[test]
fn each_person_gets_one_personal_letter() {
    let server = SmtpServer::start(Faults::default());
    let s = setup(&server, 10, "");
    assert!(
        s.ok(&["notify", "queue", "1", "--template", "initial"])
            .contains("queued 10 'initial' letters")
    );
    let again = s.ok(&["notify", "queue", "1", "--template", "initial"]);
    assert!(again.contains("nothing new to queue"), "{again}");
    let out = s.ok(&["notify", "send", "1"]);
    assert!(out.contains("10 sent, 0 failed of 10"), "{out}");

    let got = by_recipient(&server);
    assert_eq!(got.len(), 10);
    let ids: HashSet<String> = server
        .messages()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), 10, "every letter has its own Message-ID");
    let first = &got["<p0@corp.example>"][0];
    assert_eq!(first.from, "<privacy@corp.example>");
    assert!(first.header("To").unwrap().contains("p0@corp.example"));
    assert_eq!(
        first.header("Subject").unwrap(),
        "Your personal data was exposed in a security incident (INC-1)"
    );
    assert!(
        first
            .header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    let body = first.decoded();
    assert!(body.contains("Dear Person 0"), "{body}");
    assert!(
        body.contains("the keys you typed on your work computer"),
        "own categories: {body}"
    );
    assert!(
        !body.contains("screenshots taken of your screen"),
        "not someone else's categories"
    );
    assert!(
        body.contains("We paused the programme \"Staff monitoring\""),
        "{body}"
    );
    assert!(
        got["<p1@corp.example>"][0]
            .decoded()
            .contains("screenshots taken of your screen")
    );

    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["sent"], 10);
    assert_eq!(
        s.json(&["people", "list", "1", "--pending", "--json"]),
        serde_json::json!([])
    );
    assert_eq!(s.json(&["incident", "show", "1", "--json"])["notified"], 10);
    let out = s.ok(&["notify", "send", "1"]);
    assert!(
        out.contains("0 sent, 0 failed of 0"),
        "nothing is sent twice: {out}"
    );
    assert_eq!(server.messages().len(), 10);
}

#[test]
fn temporary_refusals_are_retried_until_accepted() {
    for reply in ["451 4.3.0 try again later", "421 4.3.2 shutting down"] {
        let server = SmtpServer::start(Faults {
            refuse_data: 3,
            refuse_with: reply,
            ..Faults::default()
        });
        let s = setup(&server, 6, "connections = 1");
        s.ok(&["notify", "queue", "1", "--template", "initial"]);
        let out = s.ok(&["notify", "send", "1"]);
        assert!(out.contains("6 sent, 0 failed"), "{reply}: {out}");
        assert_eq!(by_recipient(&server).len(), 6, "{reply}");
    }
}

#[test]
fn a_permanent_refusal_fails_that_person_and_the_rest_go_on() {
    // One connection: the refused recipient's MAIL, RCPT and DATA ride with the previous
    // letter's body (pipelined), and its refusal is that letter's alone.
    for connections in ["connections = 1", ""] {
        a_permanent_refusal_on(connections);
    }
}

fn a_permanent_refusal_on(connections: &str) {
    let server = SmtpServer::start(Faults {
        reject_recipient: Some("p3@".into()),
        ..Faults::default()
    });
    let s = setup(&server, 8, connections);
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let err = s.fails(&["notify", "send", "1"], 1);
    assert!(err.contains("some letters failed"), "{err}");
    assert_eq!(by_recipient(&server).len(), 7);
    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["sent"], 7);
    assert_eq!(status["counts"]["failed"], 1);
    let failure = &status["failures"][0];
    assert_eq!(failure["recipient"], "E0003");
    assert!(
        failure["error"].as_str().unwrap().contains("550"),
        "{failure}"
    );
    assert_eq!(failure["attempts"], 1, "a permanent refusal is not retried");
    let human = s.ok(&["notify", "status", "1"]);
    assert!(
        human.contains("FAILED initial E0003") && human.contains("mailbox unavailable"),
        "{human}"
    );
    assert!(s.ok(&["notify", "retry", "1"]).contains("requeued 1"));
    assert_eq!(
        s.json(&["notify", "status", "1", "--json"])["counts"]["queued"],
        1
    );
}

#[test]
fn a_connection_dropped_mid_data_is_retried_with_the_same_message() {
    let server = SmtpServer::start(Faults {
        drop_mid_data: 2,
        ..Faults::default()
    });
    let s = setup(&server, 5, "connections = 1");
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let out = s.ok(&["notify", "send", "1"]);
    assert!(out.contains("5 sent, 0 failed"), "{out}");
    assert_eq!(by_recipient(&server).len(), 5);
}

#[test]
fn a_killed_sender_resumes_and_nobody_is_missed_or_sent_a_different_letter() {
    let server = SmtpServer::start(Faults {
        delay: Duration::from_millis(15),
        ..Faults::default()
    });
    let s = setup(&server, 120, "connections = 2");
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let mut child = s.spawn(&["notify", "send", "1"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.messages().len() < 30 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = server.messages().len();
    assert!(
        (30..120).contains(&before),
        "killed partway: {before} delivered"
    );

    let out = s.ok(&["notify", "send", "1"]);
    assert!(out.contains("0 failed"), "{out}");
    let got = by_recipient(&server);
    assert_eq!(got.len(), 120, "everyone got their letter");
    for (to, copies) in got {
        let ids: HashSet<_> = copies.iter().map(|m| m.header("Message-ID")).collect();
        let bodies: HashSet<_> = copies
            .iter()
            .map(|m| {
                m.decoded()
                    .split("\r\n\r\n")
                    .skip(1)
                    .collect::<String>()
                    .split("--")
                    .next()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(ids.len(), 1, "{to} got different Message-IDs");
        assert_eq!(bodies.len(), 1, "{to} got different letters");
    }
    assert_eq!(
        s.json(&["notify", "status", "1", "--json"])["counts"]["sent"],
        120
    );
}

#[test]
fn throughput_per_connection_does_not_fall_to_the_delayed_ack_stall() {
    // Sending the body and the final CRLF.CRLF as two writes costs ~40 ms a message on
    // loopback (Nagle + delayed ACK): 200 messages would take 8 s on one connection.
    let server = SmtpServer::start(Faults::default());
    let s = setup(&server, 200, "connections = 1");
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let started = Instant::now();
    s.ok(&["notify", "send", "1"]);
    let took = started.elapsed();
    assert_eq!(server.messages().len(), 200);
    assert!(
        took < Duration::from_secs(3),
        "200 messages on one connection took {took:?}"
    );
}

#[test]
fn preview_shows_headers_and_both_parts_with_names_encoded_and_html_escaped() {
    let server = SmtpServer::start(Faults::default());
    let s = setup(&server, 1, "");
    s.import(
        "1",
        "employee_id,name,email,categories\nX1,<b>Zoë Ødegård</b>,zoe@corp.example,keystrokes\n",
    );
    // By default, as the person reads it: headers decoded, each part decoded.
    let readable = s.ok(&[
        "notify",
        "preview",
        "1",
        "--template",
        "initial",
        "--person",
        "X1",
    ]);
    assert!(
        readable.contains("To: <b>Zoë Ødegård</b> <zoe@corp.example>"),
        "{readable}"
    );
    assert!(readable.contains("----- text part -----"), "{readable}");
    assert!(readable.contains("----- HTML part -----"), "{readable}");
    assert!(
        readable.contains("&lt;b&gt;Zoë"),
        "HTML is escaped: {readable}"
    );
    assert!(
        !readable.contains("=\n") && !readable.contains("=C3"),
        "{readable}"
    );
    // With --raw, the message as it goes over the wire.
    let text = s.ok(&[
        "notify",
        "preview",
        "1",
        "--template",
        "initial",
        "--person",
        "X1",
        "--raw",
    ]);
    assert!(
        text.contains("To: =?utf-8?"),
        "non-ASCII names are encoded: {text}"
    );
    assert!(text.contains("Message-ID: <breachdesk."), "{text}");
    assert!(
        text.contains("Content-Type: text/plain") && text.contains("Content-Type: text/html"),
        "{text}"
    );
    let decoded = smtp::Received {
        from: String::new(),
        to: vec![],
        data: text.replace('\n', "\r\n"),
    }
    .decoded();
    assert!(
        decoded.contains("&lt;b&gt;Zo"),
        "HTML is escaped: {decoded}"
    );
    let err = s.fails(
        &[
            "notify",
            "preview",
            "1",
            "--template",
            "initial",
            "--person",
            "NOPE",
        ],
        2,
    );
    assert!(err.contains("NOPE is not on the roster of INC-1"), "{err}");
    let err = s.fails(&["notify", "preview", "1", "--template", "apology"], 2);
    assert!(err.contains("unknown template 'apology'"), "{err}");
}

#[test]
fn template_check_names_the_template_and_line_and_overrides_cannot_read_files() {
    let s = Sandbox::new();
    s.write("config.toml", "");
    std::fs::create_dir_all(s.path("templates")).unwrap();
    s.write(
        "templates/update.txt",
        "Dear {{ person.name }},\n\n{{ person.shoe_size }}\n",
    );
    s.write("templates/resolution.html", "{% include \"/etc/passwd\" %}");
    let out = s.cmd().args(["template", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok     initial"), "{text}");
    assert!(
        text.contains("template update.txt line 3: undefined value"),
        "{text}"
    );
    assert!(
        text.contains("template resolution.html line 1: template not found"),
        "{text}"
    );
    let list = s.ok(&["template", "list"]);
    assert!(
        list.contains("update.txt") && list.contains("overridden by"),
        "{list}"
    );
    // A template that fails for one person fails the whole queue: nothing half-written.
    s.ok(&["incident", "open", "--title", "x", "--severity", "3"]);
    s.import(
        "1",
        "employee_id,name,email,categories\nE1,A,a@corp.example,keystrokes\n",
    );
    s.write(
        "config.toml",
        "[smtp]\nfrom = \"privacy@corp.example\"\n[contact]\nemail = \"privacy@corp.example\"\n",
    );
    let err = s.fails(&["notify", "queue", "1", "--template", "update"], 2);
    assert!(
        err.contains("update.txt line 3") && err.contains("0 letters were queued before it"),
        "{err}"
    );
    assert_eq!(
        s.json(&["notify", "status", "1", "--json"])["counts"]["queued"],
        0
    );
}

#[test]
fn a_template_failing_mid_run_keeps_the_blocks_before_it_and_queuing_again_finishes() {
    // Letters are built on several threads a block at a time and written in roster
    // order: a failure at the 1,101st person keeps exactly the 1,100 before it.
    let s = Sandbox::new();
    s.write(
        "config.toml",
        "[smtp]\nfrom = \"privacy@corp.example\"\n[contact]\nemail = \"privacy@corp.example\"\n",
    );
    std::fs::create_dir_all(s.path("templates")).unwrap();
    let failing = "Dear {{ person.name }},\n{% if person.employee_id == \"E1100\" %}{{ person.shoe_size }}{% endif %}\n";
    s.write("templates/update.txt", failing);
    s.ok(&["incident", "open", "--title", "x", "--severity", "3"]);
    let mut roster = String::from("employee_id,name,email,categories\n");
    for i in 0..1300 {
        roster.push_str(&format!("E{i},P{i},p{i}@corp.example,keystrokes\n"));
    }
    s.import("1", &roster);
    let err = s.fails(&["notify", "queue", "1", "--template", "update"], 2);
    assert!(
        err.contains("E1100") && err.contains("1100 letters were queued before it"),
        "{err}"
    );
    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["queued"], 1100, "{status}");
    s.write("templates/update.txt", "Dear {{ person.name }},\n");
    let out = s.ok(&["notify", "queue", "1", "--template", "update"]);
    assert!(
        out.contains("queued 200 'update' letters (1100 already in the outbox)"),
        "{out}"
    );
    assert_eq!(
        s.json(&["notify", "status", "1", "--json"])["counts"]["queued"],
        1300
    );
}

#[test]
fn sending_needs_a_sender_address_and_a_reachable_server() {
    let s = Sandbox::new();
    s.ok(&["incident", "open", "--title", "x", "--severity", "3"]);
    s.import(
        "1",
        "employee_id,name,email,categories\nE1,A,a@corp.example,keystrokes\n",
    );
    let err = s.fails(&["notify", "queue", "1", "--template", "initial"], 2);
    assert!(err.contains("set `from` under [smtp]"), "{err}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    s.write(
        "config.toml",
        &format!("[smtp]\nport = {port}\nfrom = \"privacy@corp.example\"\n"),
    );
    let err = s.fails(&["notify", "test-smtp"], 1);
    assert!(err.contains("connecting to 127.0.0.1"), "{err}");
    let server = SmtpServer::start(Faults::default());
    s.write("config.toml", &server.config(""));
    assert!(s.ok(&["notify", "test-smtp"]).contains("connected"));
}

#[test]
fn stakeholder_brief_goes_to_named_staff_with_totals() {
    let server = SmtpServer::start(Faults::default());
    let s = setup(&server, 4, "");
    let err = s.fails(
        &["notify", "queue", "1", "--template", "stakeholder-brief"],
        2,
    );
    assert!(err.contains("--recipient"), "{err}");
    s.ok(&[
        "notify",
        "queue",
        "1",
        "--template",
        "stakeholder-brief",
        "--recipient",
        "legal@corp.example",
    ]);
    s.ok(&["notify", "send", "1"]);
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let body = msgs[0].decoded();
    assert!(
        body.contains("People affected: 4") && body.contains("keystrokes: 2"),
        "{body}"
    );
    assert_eq!(
        s.json(&["incident", "show", "1", "--json"])["notified"],
        0,
        "a brief notifies nobody affected"
    );
}

#[test]
fn export_writes_eml_files_and_changes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let server = SmtpServer::start(Faults::default());
    let s = setup(&server, 3, "");
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let before = s.json(&["notify", "status", "1", "--json"])["counts"].clone();
    let dir = s.path("eml");
    let out = s.ok(&["notify", "export", "1", "--dir", dir.to_str().unwrap()]);
    assert!(out.contains("wrote 3 queued letters"), "{out}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "000001-initial.eml",
            "000002-initial.eml",
            "000003-initial.eml"
        ]
    );
    let mode = std::fs::metadata(dir.join(&names[0]))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(server.messages().is_empty());
    // Nothing was marked: the state is as before, and a real send sends all three.
    assert_eq!(
        s.json(&["notify", "status", "1", "--json"])["counts"],
        before
    );
    assert_eq!(s.json(&["incident", "show", "1", "--json"])["notified"], 0);
    // Exporting again refuses to overwrite, and a planted symlink is not followed.
    let again = s.fails(
        &["notify", "export", "1", "--dir", dir.to_str().unwrap()],
        2,
    );
    assert!(again.contains("000001-initial.eml"), "{again}");
    let other = s.path("eml2");
    std::fs::create_dir(&other).unwrap();
    let target = s.path("victim");
    std::fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, other.join("000001-initial.eml")).unwrap();
    s.fails(
        &["notify", "export", "1", "--dir", other.to_str().unwrap()],
        2,
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    s.ok(&["notify", "send", "1"]);
    assert_eq!(server.messages().len(), 3);
}

#[test]
fn ten_kills_mid_send_resend_at_most_one_letter_per_connection_each() {
    const PEOPLE: usize = 2400;
    const CONNECTIONS: usize = 16;
    let server = SmtpServer::start(Faults {
        delay: Duration::from_millis(2),
        ..Faults::default()
    });
    let s = setup(&server, PEOPLE, &format!("connections = {CONNECTIONS}"));
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let mut duplicates_before = 0;
    let mut per_crash = Vec::new();
    for crash in 1..=10 {
        let mut child = s.spawn(&["notify", "send", "1"]);
        // The chosen point: this crash's share of the roster has reached the server.
        let point = crash * PEOPLE / 12;
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.messages().len() < point && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The killed sender's sockets are closed; what it had handed over is still being
        // stored by the server (its 2 ms delay), so count only once every session has ended.
        server.wait_idle();
        let received = server.messages().len();
        let distinct = by_recipient(&server).len();
        let duplicates = received - distinct;
        per_crash.push(duplicates - duplicates_before);
        duplicates_before = duplicates;
    }
    let out = s.ok(&["notify", "send", "1"]);
    assert!(out.contains("0 failed"), "{out}");
    let got = by_recipient(&server);
    assert_eq!(got.len(), PEOPLE, "nobody is missed");
    for (to, copies) in &got {
        let ids: HashSet<_> = copies.iter().map(|m| m.header("Message-ID")).collect();
        let bodies: HashSet<_> = copies.iter().map(|m| m.data.clone()).collect();
        assert_eq!(ids.len(), 1, "{to} got different Message-IDs");
        assert_eq!(bodies.len(), 1, "{to} got different bytes");
    }
    assert!(
        per_crash.iter().all(|d| *d <= CONNECTIONS),
        "second copies per crash: {per_crash:?}"
    );
    let status = s.json(&["notify", "status", "1", "--json"]);
    // The counts are kept with every state change, through every crash.
    assert_eq!(status["counts"]["sent"], PEOPLE, "{status}");
    assert_eq!(status["counts"]["queued"], 0, "{status}");
    assert_eq!(status["counts"]["sending"], 0, "{status}");
    assert_eq!(status["by_template"]["initial"]["sent"], PEOPLE, "{status}");
    assert_eq!(
        s.json(&["incident", "show", "1", "--json"])["notified"],
        PEOPLE
    );
    eprintln!("second copies per crash: {per_crash:?}");
}

#[test]
fn the_audit_log_counts_what_the_outbox_holds_after_a_kill_during_queue() {
    let server = SmtpServer::start(Faults::default());
    let s = setup(&server, 12000, "");
    let mut child = s.spawn(&["notify", "queue", "1", "--template", "initial"]);
    // Kill it once some chunks are on disk: a chunk of 500 letters is about 1-2 MB, so
    // 4 MB of growth means at least one chunk has committed, and the whole is ~25 MB.
    let deadline = Instant::now() + Duration::from_secs(60);
    let db_size = || {
        std::fs::read_dir(s.db())
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum::<u64>()
            })
            .unwrap_or(0)
    };
    let start = db_size();
    while db_size() < start + 4_000_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let status = s.json(&["notify", "status", "1", "--json"]);
    let in_outbox = status["counts"]["queued"].as_u64().unwrap();
    let log = s.json(&["audit", "log", "--incident", "1", "--json"]);
    let logged: u64 = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "notify.queued")
        .map(|e| {
            let detail = e["detail"].as_str().unwrap();
            detail
                .split_whitespace()
                .nth(1)
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert!((1..12000).contains(&in_outbox), "killed partway: {status}");
    assert_eq!(
        logged, in_outbox,
        "the audit log matches the outbox: {status}"
    );
}

#[test]
fn a_corrected_address_rebuilds_the_queued_letter_and_flags_one_already_sent() {
    let server = SmtpServer::start(Faults::default());
    let s = setup(&server, 3, "");
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    // Person 2's address is corrected before anything is sent.
    let fixed = setup_roster(3).replace("p1@corp.example", "p.two@corp.example");
    s.write("fixed.csv", &fixed);
    let out = s.ok(&[
        "people",
        "import",
        "1",
        s.path("fixed.csv").to_str().unwrap(),
    ]);
    assert!(out.contains("1 updated"), "{out}");
    s.ok(&["notify", "send", "1"]);
    let got = by_recipient(&server);
    assert!(got.contains_key("<p.two@corp.example>"), "{:?}", got.keys());
    assert!(
        !got.contains_key("<p1@corp.example>"),
        "no letter to the old address"
    );
    let letter = &got["<p.two@corp.example>"][0];
    assert!(
        letter.data.contains("p.two@corp.example"),
        "the To header is rebuilt too"
    );

    // Person 3's address changes after their letter went out: listed for the responder.
    let moved = fixed.replace("p2@corp.example", "p.three@corp.example");
    s.write("moved.csv", &moved);
    s.ok(&[
        "people",
        "import",
        "1",
        s.path("moved.csv").to_str().unwrap(),
    ]);
    let status = s.json(&["notify", "status", "1", "--json"]);
    let previous = status["sent_to_previous"].as_array().unwrap();
    assert_eq!(previous.len(), 1, "{status}");
    assert_eq!(previous[0]["sent_to"], "p2@corp.example");
    let text = s.ok(&["notify", "status", "1"]);
    assert!(text.contains("sent to a previous address"), "{text}");
    assert_eq!(server.messages().len(), 3, "nothing is resent by itself");
}

#[test]
fn an_interrupted_send_reports_real_counts_and_exits_3() {
    let server = SmtpServer::start(Faults {
        delay: Duration::from_millis(5),
        ..Faults::default()
    });
    let s = setup(&server, 300, "connections = 2");
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let child = s.spawn(&["notify", "send", "1"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.messages().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("INTERRUPTED"), "{said}");
    let delivered = server.messages().len();
    let status = s.json(&["notify", "status", "1", "--json"]);
    let sent = status["counts"]["sent"].as_u64().unwrap() as usize;
    let queued = status["counts"]["queued"].as_u64().unwrap() as usize;
    assert_eq!(
        sent, delivered,
        "every accepted letter is recorded: {status}"
    );
    assert_eq!(sent + queued, 300, "{status}");
    assert!(queued > 0, "stopped partway: {status}");
    assert!(
        said.contains(&format!(
            "{sent} sent, 0 failed, {queued} still queued of 300"
        )),
        "{said}"
    );
    let log = s.ok(&["audit", "log", "--incident", "1"]);
    assert!(log.contains("interrupted, the rest stays queued"), "{log}");
    s.ok(&["notify", "send", "1"]);
    assert_eq!(by_recipient(&server).len(), 300);
    assert_eq!(server.messages().len(), 300, "nobody twice");
}
