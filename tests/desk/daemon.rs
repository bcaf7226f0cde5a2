//! Team mode with the real parts: `breachdesk serve` on a real Unix socket, the real binary
//! as client (`--remote`), a second operating-system user where the tests run as root, and
//! a real SMTP server on loopback for a send interrupted by SIGTERM.

use crate::common;
use crate::daemon_support as daemon;
use crate::smtp;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, roster};
use daemon::Daemon;
use smtp::{Faults, SmtpServer};

fn me() -> String {
    breachdesk::identity::current_user().to_string()
}

/// The binary as a client of `daemon`, with no database of its own.
fn client(sb: &Sandbox, daemon: &Daemon) -> assert_cmd::Command {
    let mut cmd = sb.cmd();
    cmd.env("BREACHDESK_REMOTE", &daemon.socket)
        .env("BREACHDESK_DB", sb.path("no-database-here"));
    cmd
}

fn run_ok(mut cmd: assert_cmd::Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn run_fails(mut cmd: assert_cmd::Command, args: &[&str], code: i32) -> String {
    let out = cmd.args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// One raw frame on the socket; returns the reply frames' JSON, up to the connection's end
/// or `replies` replies.
fn raw_exchange(socket: &PathBuf, bytes: &[u8], close_write: bool, replies: usize) -> Vec<String> {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    if close_write {
        stream.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut out = Vec::new();
    while out.len() < replies {
        let mut header = [0u8; 4];
        if stream.read_exact(&mut header).is_err() {
            break;
        }
        let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
        stream.read_exact(&mut body).unwrap();
        out.push(String::from_utf8(body).unwrap());
    }
    out
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The hello a client of this build opens every connection with, as a frame.
fn hello() -> Vec<u8> {
    frame(
        format!(
            r#"{{"op":"hello","protocol":{}}}"#,
            breachdesk::remote::protocol::PROTOCOL_VERSION
        )
        .as_bytes(),
    )
}

/// `requests` on a fresh connection after the hello; the replies to them (not the hello's).
fn after_hello(socket: &PathBuf, requests: &[u8], replies: usize) -> Vec<String> {
    let mut all = raw_exchange(
        socket,
        &[hello(), requests.to_vec()].concat(),
        false,
        replies + 1,
    );
    assert!(all[0].contains("\"reply\":\"ok\""), "hello: {all:?}");
    all.remove(0);
    all
}

#[test]
fn the_cli_works_through_the_daemon_with_the_same_commands() {
    let sb = Sandbox::new();
    let daemon = Daemon::start(&sb);
    let c = || client(&sb, &daemon);
    let id = run_ok(
        c(),
        &[
            "incident",
            "open",
            "--title",
            "Chat transcripts readable",
            "--severity",
            "2",
        ],
    );
    assert_eq!(id.trim(), "INC-1");
    let file = sb.write("r.csv", &roster(20));
    let imported = run_ok(c(), &["people", "import", "1", file.to_str().unwrap()]);
    assert!(imported.contains("20 added"), "{imported}");
    let people = run_ok(c(), &["people", "list", "1", "--json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&people)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let err = run_fails(c(), &["incident", "status", "1", "resolved"], 2);
    assert!(err.contains("allowed from open"), "{err}");
    // The daemon took the caller's identity from the socket.
    let shown: serde_json::Value =
        serde_json::from_str(&run_ok(c(), &["incident", "show", "1", "--json"])).unwrap();
    assert_eq!(shown["owner"], me());
    let access = run_ok(c(), &["audit", "access", "--json"]);
    let access: serde_json::Value = serde_json::from_str(&access).unwrap();
    assert_eq!(access[0]["actor"], me());
    assert_eq!(access[0]["records"], 20);
    assert!(run_ok(c(), &["audit", "verify"]).contains("intact"));
    // The head comes from the daemon, which also wrote the witness.
    let head: serde_json::Value =
        serde_json::from_str(&run_ok(c(), &["audit", "head", "--json"])).unwrap();
    let verified: serde_json::Value =
        serde_json::from_str(&run_ok(c(), &["audit", "verify", "--json"])).unwrap();
    assert_eq!(verified["head"], head);
    assert_eq!(verified["witness"]["state"], "matches", "{verified}");
    // The client opened no database of its own.
    assert!(!sb.path("no-database-here").exists());
}

#[test]
fn the_socket_is_0660_under_the_configured_group_and_a_second_daemon_is_refused() {
    let sb = Sandbox::new();
    let gid = nix::unistd::getgid();
    let group = nix::unistd::Group::from_gid(gid)
        .unwrap()
        .expect("own group")
        .name;
    sb.write("config.toml", &format!("[daemon]\ngroup = \"{group}\"\n"));
    let daemon = Daemon::start(&sb);
    let meta = std::fs::metadata(&daemon.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(meta.gid(), gid.as_raw());
    let out = Command::new(assert_cmd::cargo::cargo_bin("breachdesk"))
        .env("HOME", sb.path("home"))
        .env("XDG_DATA_HOME", sb.path("other-data"))
        .env("XDG_CONFIG_HOME", sb.path("home/config"))
        .args(["serve", "--socket"])
        .arg(&daemon.socket)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already serving"), "{err}");
}

#[test]
fn no_request_can_claim_another_identity_and_bad_frames_get_an_error_reply() {
    let sb = Sandbox::new();
    let daemon = Daemon::start(&sb);
    let hello = hello();
    let replies = raw_exchange(&daemon.socket, &hello, false, 1);
    assert!(
        replies[0].contains(&format!("\"user\":\"{}\"", me())),
        "{replies:?}"
    );

    // A field naming an actor is not part of the protocol.
    let spoof = frame(br#"{"op":"add_note","id":1,"text":"x","actor":"ceo"}"#);
    let replies = after_hello(&daemon.socket, &[spoof, hello.clone()].concat(), 2);
    assert!(
        replies[0].contains("malformed request") && replies[0].contains("actor"),
        "{replies:?}"
    );
    assert!(
        replies[1].contains("\"reply\":\"ok\""),
        "the connection goes on: {replies:?}"
    );

    for (bytes, close, expect) in [
        (frame(b"not json at all"), false, "malformed request"),
        (frame(&[0xff, 0xfe, 0x00]), false, "malformed request"),
        (
            frame(br#"{"op":"people_window","id":1}"#),
            false,
            "missing field",
        ),
        (
            u32::MAX.to_be_bytes().to_vec(),
            false,
            "larger than the limit",
        ),
        (
            [&100u32.to_be_bytes()[..], b"{\"op\""].concat(),
            true,
            "cut off",
        ),
        (vec![0, 0], true, "cut off"),
        // Domain values check themselves as the request is decoded, before any desk code.
        (frame(br#"{"op":"incident","id":0}"#), false, "not an incident id"),
        (
            frame(br#"{"op":"set_severity","id":1,"severity":9,"reason":"x"}"#),
            false,
            "severity",
        ),
        (
            frame(br#"{"op":"assign","id":1,"owner":"ann\u001b[2J"}"#),
            false,
            "user contains a control character",
        ),
        (
            frame(br#"{"op":"pause_program","slug":"Bad Slug","id":1,"reason":"x"}"#),
            false,
            "slug",
        ),
        (
            frame(br#"{"op":"queue_notifications","id":1,"template":"initial","filter":{},"recipients":["not-an-address"]}"#),
            false,
            "address",
        ),
    ] {
        let replies = raw_exchange(&daemon.socket, &bytes, close, 1);
        assert_eq!(replies.len(), 1, "{expect}: no reply");
        assert!(replies[0].contains("\"reply\":\"error\""), "{replies:?}");
        assert!(replies[0].contains(expect), "{expect}: {replies:?}");
    }
    // An upload that breaks off (a chunk over the limit) ends the connection with a reason.
    let upload = [
        hello.clone(),
        frame(br#"{"op":"import_evidence","id":1,"source_name":"x.csv","options":{}}"#),
        (3u32 << 20).to_be_bytes().to_vec(),
    ]
    .concat();
    let mut replies = raw_exchange(&daemon.socket, &upload, true, 4);
    assert!(replies.remove(0).contains("\"reply\":\"ok\""), "hello");
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].contains("larger than the limit"), "{replies:?}");
    // Still serving.
    let replies = raw_exchange(&daemon.socket, &hello, false, 1);
    assert!(replies[0].contains("\"reply\":\"ok\""));
}

#[test]
fn a_client_whose_daemon_is_gone_gets_a_clear_message() {
    let sb = Sandbox::new();
    let mut daemon = Daemon::start(&sb);
    run_ok(client(&sb, &daemon), &["incident", "list"]);
    assert!(daemon.sigterm().success());
    assert!(!daemon.socket.exists(), "the socket is removed on stop");
    let started = Instant::now();
    let err = run_fails(client(&sb, &daemon), &["incident", "list"], 1);
    assert!(err.contains("nobody is listening"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn sigterm_parks_a_send_in_flight_and_nobody_is_mailed_twice() {
    let server = SmtpServer::start(Faults {
        delay: Duration::from_millis(10),
        ..Faults::default()
    });
    let sb = Sandbox::new();
    sb.write("config.toml", &server.config("connections = 2"));
    sb.open_incident("Leak", 2);
    sb.import("1", &roster(300));
    sb.ok(&["notify", "queue", "1", "--template", "initial"]);
    let mut daemon = Daemon::start(&sb);
    let send = std::process::Command::new(assert_cmd::cargo::cargo_bin("breachdesk"))
        .env("BREACHDESK_REMOTE", &daemon.socket)
        .env("HOME", sb.path("home"))
        .args(["notify", "send", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.messages().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(daemon.sigterm().success(), "the daemon stops cleanly");
    let out = send.wait_with_output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let before = server.messages().len();
    assert!(
        (40..300).contains(&before),
        "stopped partway: {before}; {said}"
    );

    let daemon = Daemon::start(&sb);
    let status = run_ok(client(&sb, &daemon), &["notify", "status", "1", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        status["counts"]["sending"].as_u64().unwrap_or(0),
        0,
        "nothing left half-sent: {status}"
    );
    run_ok(client(&sb, &daemon), &["notify", "send", "1"]);
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in server.messages() {
        *copies.entry(m.to[0].clone()).or_default() += 1;
    }
    assert_eq!(copies.len(), 300, "everyone got their letter");
    assert!(copies.values().all(|n| *n == 1), "nobody was mailed twice");
}

/// A second user, created for the test, connects through the socket; the daemon sees that
/// identity and holds it to its role. Needs root (to create the user); CI runs as root.
#[test]
fn a_second_os_user_is_seen_and_held_to_their_role() {
    const TEST: &str = "a_second_os_user_is_seen_and_held_to_their_role";
    if !nix::unistd::Uid::effective().is_root() {
        common::skip(
            TEST,
            "creating a second OS user needs root (CI runs as root)",
        );
        return;
    }
    let name = "bdtest2";
    let Some(user) = os_user(name) else {
        common::skip(TEST, "useradd is not available to create a second user");
        return;
    };
    let Some(sb) = team_sandbox(TEST, &[name]) else {
        return;
    };
    sb.open_incident("Owned by the admin", 2);
    sb.import("1", &roster(5));
    let daemon = Daemon::start(&sb);

    let as_second = |args: &[&str]| as_user(&user, &daemon, args);
    let (code, id, err) = as_second(&[
        "incident",
        "open",
        "--title",
        "Opened by the responder",
        "--severity",
        "3",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (_, shown, _) = as_second(&["incident", "show", id.trim(), "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["owner"], name, "the daemon saw the second user");
    let (code, _, err) = as_second(&["people", "list", "1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("access denied"), "{err}");
    let (code, _, err) = as_second(&["audit", "log"]);
    assert_eq!(code, Some(2), "only admins read the whole log: {err}");

    let access = run_ok(
        client(&sb, &daemon),
        &["audit", "access", "--user", name, "--json"],
    );
    let access: serde_json::Value = serde_json::from_str(&access).unwrap();
    let paths: Vec<&str> = access
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"people.list"), "{access}");
    assert!(
        access
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == name)
    );
}

#[test]
fn evidence_streams_through_the_daemon_and_deadlines_come_back() {
    let sb = Sandbox::new();
    sb.open_incident("Leak", 2);
    sb.import("1", &roster(500));
    let daemon = Daemon::start(&sb);
    // About 3 MB: several upload frames.
    let mut log = String::from("accessed_at,accessor,employee_id,action\n");
    for i in 0..60_000 {
        log.push_str(&format!(
            "2026-11-19T10:{:02}:00Z,user{},E{:06},read\n",
            i % 60,
            i % 7,
            i % 250
        ));
    }
    let file = sb.write("access.csv", &log);
    let out = run_ok(
        client(&sb, &daemon),
        &["evidence", "import", "1", file.to_str().unwrap()],
    );
    assert!(out.contains("60000 rows; 7 accessors"), "{out}");
    assert!(out.contains("data of 250 people read"), "{out}");
    let bad = sb.write(
        "bad.csv",
        "accessed_at,accessor,employee_id,action\nnot a time,eve,E000001,read\n",
    );
    let err = run_fails(
        client(&sb, &daemon),
        &["evidence", "import", "1", bad.to_str().unwrap()],
        2,
    );
    assert!(err.contains("line 2: accessed_at 'not a time'"), "{err}");
    let summary = run_ok(
        client(&sb, &daemon),
        &["evidence", "summary", "1", "--json"],
    );
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["rows"], 60000, "the bad log changed nothing");
    let deadlines = run_ok(client(&sb, &daemon), &["deadlines", "1", "--json"]);
    let deadlines: serde_json::Value = serde_json::from_str(&deadlines).unwrap();
    assert!(
        deadlines
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["rule"] == "gdpr-33"),
        "{deadlines}"
    );
    let report = run_ok(client(&sb, &daemon), &["report", "1"]);
    assert!(report.contains("## Legal obligations"), "{report}");
}

/// Waits for `what` to hold, checking every few milliseconds, for at most 30 s.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A shell loop that waits until `file` exists: hooks hold still until the test says go.
fn until(file: &std::path::Path) -> String {
    format!("while [ ! -f {0} ]; do sleep 0.01; done", file.display())
}

fn program_json(sb: &Sandbox, daemon: &Daemon) -> serde_json::Value {
    let out = run_ok(client(sb, daemon), &["program", "list", "--json"]);
    serde_json::from_str::<serde_json::Value>(&out).unwrap()[0].clone()
}

fn spawn_client(sb: &Sandbox, daemon: &Daemon, args: &[&str]) -> std::process::Child {
    sb.std_cmd()
        .env("BREACHDESK_REMOTE", &daemon.socket)
        .env("BREACHDESK_DB", sb.path("no-database-here"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: std::process::Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// A sandbox with `staff-monitoring` registered with the given hooks, linked to INC-1
/// (SEV 4, so resuming it needs no force).
fn kill_switch_sandbox(pause_hook: &str, resume_hook: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.open_incident("Monitoring data readable company-wide", 4);
    sb.ok(&[
        "program",
        "add",
        "staff-monitoring",
        "--name",
        "Staff monitoring",
        "--pause-hook",
        pause_hook,
        "--resume-hook",
        resume_hook,
    ]);
    sb.ok(&["program", "link", "staff-monitoring", "1"]);
    sb
}

#[test]
fn a_pause_asked_for_while_a_resume_hook_runs_wins_and_runs_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hooks.log");
    let started = dir.path().join("resume-started");
    let go = dir.path().join("go");
    let pause_hook = format!("echo pause >> {}", log.display());
    let resume_hook = format!(
        "echo resume-start >> {log}; touch {started}; {wait}; echo resume-end >> {log}",
        log = log.display(),
        started = started.display(),
        wait = until(&go)
    );
    let sb = kill_switch_sandbox(&pause_hook, &resume_hook);
    sb.ok(common::PAUSE_STAFF_MONITORING);
    std::fs::remove_file(&log).unwrap();
    let daemon = Daemon::start(&sb);

    let resume = spawn_client(
        &sb,
        &daemon,
        &["program", "resume", "staff-monitoring", "--reason", "safe"],
    );
    wait_for("the resume hook to start", || started.exists());
    assert_eq!(program_json(&sb, &daemon)["state"], "resuming");

    let pause = spawn_client(&sb, &daemon, common::PAUSE_STAFF_MONITORING);
    wait_for("the pause to queue behind the resume", || {
        program_json(&sb, &daemon)["pause_queued"].is_object()
    });
    assert_eq!(program_json(&sb, &daemon)["state"], "resuming");
    std::fs::write(&go, "").unwrap();

    let (code, resumed) = finish(resume);
    assert_eq!(code, Some(1), "the resume reports it lost: {resumed}");
    assert!(resumed.contains("NOT RESUMED"), "{resumed}");
    let (code, paused) = finish(pause);
    assert_eq!(code, Some(0), "{paused}");
    assert!(paused.contains("paused for INC-1"), "{paused}");
    assert!(!paused.contains("already paused"), "{paused}");

    let program = program_json(&sb, &daemon);
    assert_eq!(program["state"], "paused", "{program}");
    assert!(program.get("running").is_none(), "{program}");
    let hooks = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        hooks.lines().collect::<Vec<_>>(),
        ["resume-start", "resume-end", "pause"],
        "the pause hook runs after the resume hook"
    );
}

#[test]
fn concurrent_pauses_run_the_hook_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hooks.log");
    let started = dir.path().join("pause-started");
    let go = dir.path().join("go");
    let pause_hook = format!(
        "touch {started}; {wait}; echo pause >> {log}",
        log = log.display(),
        started = started.display(),
        wait = until(&go)
    );
    let sb = kill_switch_sandbox(&pause_hook, "true");
    let daemon = Daemon::start(&sb);

    let first = spawn_client(&sb, &daemon, common::PAUSE_STAFF_MONITORING);
    wait_for("the pause hook to start", || started.exists());
    let program = program_json(&sb, &daemon);
    assert_eq!(program["state"], "pausing", "{program}");
    assert_eq!(program["running"]["by"], me(), "{program}");

    let second = run_ok(client(&sb, &daemon), common::PAUSE_STAFF_MONITORING);
    assert!(
        second.contains("pause of 'staff-monitoring' by"),
        "{second}"
    );
    assert!(second.contains("in progress"), "{second}");
    let refused = run_fails(
        client(&sb, &daemon),
        &["program", "resume", "staff-monitoring", "--reason", "now"],
        2,
    );
    assert!(refused.contains("a pause wins"), "{refused}");

    std::fs::write(&go, "").unwrap();
    let (code, out) = finish(first);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(program_json(&sb, &daemon)["state"], "paused");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "pause\n",
        "one hook run"
    );
}

/// The group the tests' second OS users are in; the socket is shared with it.
const TEAM_GROUP: &str = "bdteam";

/// A sandbox other OS users can reach, with a copy of the binary they can run, whose config
/// makes this user admin and `responders` responders, with the socket shared with
/// [`TEAM_GROUP`]; `None` (saying why) where there can be none.
fn team_sandbox(test: &str, responders: &[&str]) -> Option<Sandbox> {
    let sb = match Sandbox::shared() {
        Ok(sb) => sb,
        Err(why) => {
            common::skip(test, &why);
            return None;
        }
    };
    let quoted: Vec<String> = responders.iter().map(|r| format!("\"{r}\"")).collect();
    sb.write(
        "config.toml",
        &format!(
            "[access]\nadmins = [\"{}\"]\nresponders = [{}]\n[daemon]\ngroup = \"{TEAM_GROUP}\"\n",
            me(),
            quoted.join(", ")
        ),
    );
    Some(sb)
}

/// Makes (once) an OS user in group `bdteam` for tests that need a second identity; `None`
/// when not root or the tools are missing.
fn os_user(name: &str) -> Option<nix::unistd::User> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let _ = Command::new("groupadd").arg(TEAM_GROUP).status();
    if nix::unistd::User::from_name(name).ok()?.is_none() {
        let made = Command::new("useradd")
            .args([
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "-g",
                TEAM_GROUP,
                name,
            ])
            .status();
        if !made.is_ok_and(|s| s.success()) {
            return None;
        }
    }
    nix::unistd::User::from_name(name).ok()?
}

/// Two responders, `bdrita` and `bdron`, and a team sandbox for them; `None` (saying why)
/// where `test` cannot have them.
fn rita_and_ron(test: &str) -> Option<(nix::unistd::User, nix::unistd::User, Sandbox)> {
    let (Some(rita), Some(ron)) = (os_user("bdrita"), os_user("bdron")) else {
        common::skip(
            test,
            "two more OS users are needed (root creates them; CI runs as root)",
        );
        return None;
    };
    let sb = team_sandbox(test, &["bdrita", "bdron"])?;
    Some((rita, ron, sb))
}

/// [`as_user`] where the command must succeed: its standard output.
fn as_user_ok(user: &nix::unistd::User, daemon: &Daemon, args: &[&str]) -> String {
    let (code, out, err) = as_user(user, daemon, args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out
}

/// Runs the binary as `user` against the daemon; returns the exit code, stdout and stderr.
fn as_user(
    user: &nix::unistd::User,
    daemon: &Daemon,
    args: &[&str],
) -> (Option<i32>, String, String) {
    use std::os::unix::process::CommandExt;
    // The copy `Sandbox::shared` made beside the socket: the built binary may sit where
    // the other user cannot go.
    let bin = daemon.socket.with_file_name("breachdesk");
    let out = Command::new(bin)
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("XDG_DATA_HOME", "/nonexistent")
        .env("BREACHDESK_REMOTE", &daemon.socket)
        .args(args)
        .uid(user.uid.as_raw())
        .gid(user.gid.as_raw())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn resuming_needs_the_right_to_every_blocking_incident() {
    let Some((rita, ron, sb)) = rita_and_ron("resuming_needs_the_right_to_every_blocking_incident")
    else {
        return;
    };
    let daemon = Daemon::start(&sb);
    let ok = |user, args: &[&str]| as_user_ok(user, &daemon, args);
    // Rita's SEV 2 incident pauses the programme.
    let id = ok(
        &rita,
        &["incident", "open", "--title", "Exposure", "--severity", "2"],
    );
    assert_eq!(id.trim(), "INC-1");
    ok(
        &rita,
        &[
            "program",
            "add",
            "staff-monitoring",
            "--name",
            "Staff monitoring",
        ],
    );
    ok(&rita, common::PAUSE_STAFF_MONITORING);
    // Ron links it to an incident of his own (SEV 4) and tries to resume it.
    ok(
        &ron,
        &["incident", "open", "--title", "Mine", "--severity", "4"],
    );
    ok(&ron, &["program", "link", "staff-monitoring", "2"]);
    for args in [
        &[
            "program",
            "resume",
            "staff-monitoring",
            "--reason",
            "mine is done",
        ][..],
        &[
            "program",
            "resume",
            "staff-monitoring",
            "--reason",
            "mine is done",
            "--force",
        ][..],
    ] {
        let (code, _, out) = as_user(&ron, &daemon, args);
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains("access denied"), "{out}");
        assert!(
            out.contains("INC-1"),
            "the refusal names the incident: {out}"
        );
    }
    // Rita may not force it either; the admin may.
    let (code, _, out) = as_user(
        &rita,
        &daemon,
        &[
            "program",
            "resume",
            "staff-monitoring",
            "--reason",
            "x",
            "--force",
        ],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("only an admin can force"), "{out}");
    let program = program_json(&sb, &daemon);
    assert_eq!(program["state"], "paused", "{program}");
    run_ok(
        client(&sb, &daemon),
        &[
            "program",
            "resume",
            "staff-monitoring",
            "--reason",
            "admin decision",
            "--force",
        ],
    );
    assert_eq!(program_json(&sb, &daemon)["state"], "active");
}

/// A sandbox with `n` letters queued for INC-1 and a server that takes 5 ms a letter.
fn queued_for_a_slow_server(n: usize) -> (SmtpServer, Sandbox) {
    let server = SmtpServer::start(Faults {
        delay: Duration::from_millis(5),
        ..Faults::default()
    });
    let sb = Sandbox::new();
    sb.write("config.toml", &server.config("connections = 2"));
    sb.open_incident("Leak", 2);
    sb.import("1", &roster(n));
    sb.ok(&["notify", "queue", "1", "--template", "initial"]);
    (server, sb)
}

#[test]
fn two_sends_at_once_through_the_daemon_mail_everyone_once() {
    let (server, sb) = queued_for_a_slow_server(200);
    let daemon = Daemon::start(&sb);
    let first = spawn_client(&sb, &daemon, &["notify", "send", "1"]);
    wait_for("the first send to be under way", || {
        server.messages().len() >= 10
    });
    for scope in [&["notify", "send", "1"][..], &["notify", "send"][..]] {
        let refused = run_fails(client(&sb, &daemon), scope, 2);
        assert!(
            refused.contains("is sending INC-1's letters since"),
            "{refused}"
        );
        assert!(refused.contains(&me()), "names who is sending: {refused}");
    }
    let (code, out) = finish(first);
    assert_eq!(code, Some(0), "{out}");
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in server.messages() {
        *copies.entry(m.to[0].clone()).or_default() += 1;
    }
    assert_eq!(copies.len(), 200, "everyone got their letter");
    assert!(copies.values().all(|n| *n == 1), "nobody was mailed twice");
    // The lease is gone with the send: a new send runs (and finds nothing left).
    let again = run_ok(client(&sb, &daemon), &["notify", "send", "1"]);
    assert!(again.contains("0 sent"), "{again}");
}

/// Resident and peak resident memory of a process, in bytes (`VmRSS`, `VmHWM`).
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        let line = status.lines().find_map(|l| l.strip_prefix(name)).unwrap();
        let kib = line.trim().strip_suffix("kB").unwrap().trim();
        kib.parse::<u64>().unwrap() * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const MB: u64 = 1_000_000;

/// Announces a frame of `size` bytes and streams that many bytes until the daemon hangs up,
/// then returns whatever it replied.
fn flood(socket: &std::path::Path, size: usize) -> String {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let chunk = vec![b'x'; 1 << 20];
    if stream.write_all(&(size as u32).to_be_bytes()).is_ok() {
        for _ in 0..size / chunk.len() {
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

/// `n` floods of `size` bytes at once, each on its own connection; their replies.
fn floods(socket: &std::path::Path, n: usize, size: usize) -> Vec<String> {
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let socket = socket.to_owned();
            std::thread::spawn(move || flood(&socket, size))
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// The hostile-insider finding: 16 parallel 64 MiB frames from a user with no role took
/// the daemon from 67 MB to 2.9 GB. Now each is refused from its length prefix.
#[test]
fn a_caller_without_a_role_cannot_grow_the_daemon_with_big_frames() {
    let sb = Sandbox::new();
    sb.write("config.toml", "[access]\nadmins = [\"someone-else\"]\n");
    let daemon = Daemon::start(&sb);
    let (before, _) = memory(daemon.child.id());
    let replies = floods(&daemon.socket, 16, 64 << 20);
    for reply in &replies {
        assert!(
            reply.contains("larger than the limit of 4096 bytes for a user without a role"),
            "{reply}"
        );
    }
    let (rss, peak) = memory(daemon.child.id());
    eprintln!("no-role flood: VmRSS {before} -> {rss} bytes, VmHWM {peak} bytes");
    assert!(rss < 150 * MB, "resident {rss} bytes");
    assert!(peak < 150 * MB, "peak {peak} bytes");
    let replies = raw_exchange(&daemon.socket, &hello(), false, 1);
    assert!(replies[0].contains("\"reply\":\"ok\""), "{replies:?}");
}

/// A responder may send 64 MiB frames, but large frames being read at once share the
/// daemon's budget (96 MiB by default): while one holds 64 MiB, the others are refused as
/// busy rather than buffered, and the budget comes back when it is done.
#[test]
fn big_frames_past_the_budget_are_refused_as_busy_not_buffered() {
    let sb = Sandbox::new();
    let daemon = Daemon::start(&sb);
    let (start, _) = memory(daemon.child.id());
    let size = 64 << 20;
    let mut holder = UnixStream::connect(&daemon.socket).unwrap();
    holder
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let part = vec![b'x'; 1 << 20];
    // More than the socket buffers hold: the daemon is reading this frame once it returns.
    holder
        .write_all(&[&(size as u32).to_be_bytes()[..], &part].concat())
        .unwrap();

    // 15, with the holder the 16 connections one user may have.
    let replies = floods(&daemon.socket, 15, size);
    for reply in &replies {
        assert!(reply.contains("daemon busy"), "{reply}");
    }
    let (rss, peak) = memory(daemon.child.id());
    eprintln!("responder flood past the budget: VmRSS {start} -> {rss} bytes, VmHWM {peak} bytes");
    assert!(peak < 150 * MB, "peak {peak} bytes");

    for _ in 1..size / part.len() {
        holder.write_all(&part).unwrap();
    }
    let mut header = [0u8; 4];
    holder.read_exact(&mut header).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
    holder.read_exact(&mut body).unwrap();
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("malformed request"), "{body}");
    // A large frame's memory goes back to the kernel once it is decoded, before the reply.
    let (rss, _) = memory(daemon.child.id());
    assert!(rss < start + 16 * MB, "{rss} bytes still resident");
    drop(holder);
    let replies = floods(&daemon.socket, 1, size);
    assert!(replies[0].contains("malformed request"), "{replies:?}");
    let (rss, peak) = memory(daemon.child.id());
    eprintln!("after two 64 MiB frames read: VmRSS {rss} bytes, VmHWM {peak} bytes");
    assert!(rss < start + 16 * MB, "{rss} bytes still resident");
    assert!(
        peak < start + (size as u64) + 16 * MB,
        "one frame at a time: peak {peak}, at start {start}"
    );
}

/// A client trickling one byte every 200 ms held a connection forever; a frame must now
/// arrive in full within `[daemon] frame_deadline_secs` of its first byte, and a new
/// connection must send its first request within it.
#[test]
fn a_trickling_client_is_cut_off_at_the_frame_deadline() {
    let sb = Sandbox::new();
    sb.write("config.toml", "[daemon]\nframe_deadline_secs = 1\n");
    let daemon = Daemon::start(&sb);
    let mut idle = UnixStream::connect(&daemon.socket).unwrap();
    let mut stream = UnixStream::connect(&daemon.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    // 100 bytes at 5 a second would take 20 s.
    stream.write_all(&100u32.to_be_bytes()).unwrap();
    let mut writing = true;
    let mut reply = Vec::new();
    let took = loop {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still connected after 10 s"
        );
        writing = writing && stream.write_all(b" ").is_ok();
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => break started.elapsed(),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut) => {}
            Err(_) => break started.elapsed(),
        }
    };
    let reply = String::from_utf8_lossy(&reply);
    eprintln!("trickling client cut off after {took:?}");
    assert!(reply.contains("within 1 s of its first byte"), "{reply}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "cut off after {took:?}"
    );

    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut said = Vec::new();
    idle.read_to_end(&mut said).unwrap();
    assert!(
        String::from_utf8_lossy(&said).contains("no request arrived within 1 s"),
        "{said:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let replies = raw_exchange(&daemon.socket, &hello(), false, 1);
    assert!(replies[0].contains("\"reply\":\"ok\""), "{replies:?}");
}

#[test]
fn a_viewer_may_send_small_requests_only() {
    let sb = Sandbox::new();
    sb.write(
        "config.toml",
        &format!(
            "[access]\nadmins = [\"someone-else\"]\nviewers = [\"{}\"]\n",
            me()
        ),
    );
    let daemon = Daemon::start(&sb);
    let note = format!(
        r#"{{"op":"add_note","id":1,"text":"{}"}}"#,
        "x".repeat(70 << 10)
    );
    let replies = after_hello(&daemon.socket, &frame(note.as_bytes()), 2);
    assert_eq!(replies.len(), 1, "refused, then closed: {replies:?}");
    assert!(
        replies[0].contains("larger than the limit of 65536 bytes for a viewer"),
        "{replies:?}"
    );
    let replies = after_hello(&daemon.socket, &frame(br#"{"op":"programs"}"#), 1);
    assert!(replies[0].contains("\"reply\":\"ok\""), "{replies:?}");
}

#[test]
fn ctrl_c_on_a_client_stops_the_daemons_send_and_says_so() {
    let (server, sb) = queued_for_a_slow_server(300);
    let daemon = Daemon::start(&sb);
    let send = spawn_client(&sb, &daemon, &["notify", "send", "1"]);
    wait_for("the send to be under way", || server.messages().len() >= 30);
    let pid = nix::unistd::Pid::from_raw(send.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let (code, out) = finish(send);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("INTERRUPTED"), "{out}");
    // The daemon stops starting letters, records what it sent, and gives the lease back.
    wait_for("the daemon's send to end", || {
        run_ok(client(&sb, &daemon), &["audit", "log", "--incident", "1"]).contains("notify.sent")
    });
    let log = run_ok(client(&sb, &daemon), &["audit", "log", "--incident", "1"]);
    assert!(log.contains("interrupted, the rest stays queued"), "{log}");
    let stopped_at = server.messages().len();
    assert!(
        stopped_at < 300,
        "the daemon stopped starting letters: {stopped_at}"
    );
    run_ok(client(&sb, &daemon), &["notify", "send", "1"]);
    let mut all: HashMap<String, usize> = HashMap::new();
    for m in server.messages() {
        *all.entry(m.to[0].clone()).or_default() += 1;
    }
    assert_eq!(all.len(), 300, "everyone got their letter");
    assert!(all.values().all(|n| *n == 1), "nobody was mailed twice");
}

/// The JSON of one reply frame.
fn reply_json(reply: &str) -> serde_json::Value {
    serde_json::from_str(reply).unwrap_or_else(|e| panic!("{e}: {reply}"))
}

#[test]
fn a_refusal_through_the_daemon_is_kind_denied_and_exits_2() {
    let sb = Sandbox::new();
    sb.write("config.toml", "[access]\nadmins = [\"someone-else\"]\n");
    let daemon = Daemon::start(&sb);
    let replies = after_hello(
        &daemon.socket,
        &frame(br#"{"op":"incidents","filter":{}}"#),
        1,
    );
    let reply = reply_json(&replies[0]);
    assert_eq!(reply["reply"], "error", "{reply}");
    assert_eq!(reply["kind"], "denied", "{reply}");
    assert!(
        reply.get("user").is_none(),
        "no flag beside the kind: {reply}"
    );
    let err = run_fails(client(&sb, &daemon), &["incident", "list"], 2);
    assert!(err.contains("access denied"), "{err}");
}

#[test]
fn an_incident_that_does_not_exist_is_kind_not_found_and_exits_2() {
    let sb = Sandbox::new();
    let daemon = Daemon::start(&sb);
    let replies = after_hello(&daemon.socket, &frame(br#"{"op":"incident","id":99}"#), 1);
    let reply = reply_json(&replies[0]);
    assert_eq!(reply["kind"], "not-found", "{reply}");
    assert_eq!(reply["message"], "no incident INC-99", "{reply}");
    let err = run_fails(client(&sb, &daemon), &["incident", "show", "99"], 2);
    assert!(err.contains("no incident INC-99"), "{err}");
    // A conflict with the incident's state is the user's to fix as well.
    run_ok(
        client(&sb, &daemon),
        &["incident", "open", "--title", "Leak", "--severity", "2"],
    );
    let replies = after_hello(
        &daemon.socket,
        &frame(br#"{"op":"set_severity","id":1,"severity":2,"reason":"same"}"#),
        1,
    );
    let reply = reply_json(&replies[0]);
    assert_eq!(reply["kind"], "conflict", "{reply}");
    run_fails(
        client(&sb, &daemon),
        &["incident", "severity", "1", "2", "--reason", "same"],
        2,
    );
}

#[test]
fn a_client_of_another_protocol_version_is_refused_naming_both_versions() {
    use breachdesk::remote::protocol::PROTOCOL_VERSION;
    let sb = Sandbox::new();
    let daemon = Daemon::start(&sb);
    let newer = PROTOCOL_VERSION + 1;
    let cases = [
        (
            format!(r#"{{"op":"hello","protocol":{newer}}}"#),
            format!("protocol {newer}"),
            "upgrade the daemon",
        ),
        // A client from before versions sends a bare hello, or opens with a request.
        (
            r#"{"op":"hello"}"#.to_owned(),
            "protocol 1".to_owned(),
            "upgrade the client",
        ),
        (
            r#"{"op":"programs"}"#.to_owned(),
            "protocol 1".to_owned(),
            "upgrade the client",
        ),
    ];
    for (opening, theirs, upgrade) in cases {
        // A hello of the right version after the refusal gets no answer: the connection
        // is closed.
        let bytes = [frame(opening.as_bytes()), hello()].concat();
        let replies = raw_exchange(&daemon.socket, &bytes, false, 2);
        assert_eq!(replies.len(), 1, "refused, then closed: {replies:?}");
        let reply = reply_json(&replies[0]);
        assert_eq!(reply["reply"], "error", "{reply}");
        assert_eq!(reply["kind"], "unavailable", "{reply}");
        assert_eq!(reply["protocol"], PROTOCOL_VERSION, "{reply}");
        let message = reply["message"].as_str().unwrap();
        assert!(message.contains(&theirs), "{opening}: {message}");
        assert!(
            message.contains(&format!("speaks protocol {PROTOCOL_VERSION}")),
            "{opening}: {message}"
        );
        assert!(message.contains(upgrade), "{opening}: {message}");
    }
    // Still serving clients of its own version.
    let replies = raw_exchange(&daemon.socket, &hello(), false, 1);
    assert_eq!(
        reply_json(&replies[0])["value"]["protocol"],
        PROTOCOL_VERSION
    );
}

/// A daemon of protocol 1, played by the test: it answers the first frame of each
/// connection with `reply` and hangs up.
fn old_daemon(sb: &Sandbox, reply: &'static str) -> PathBuf {
    let socket = sb.path("old.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut header = [0u8; 4];
            if stream.read_exact(&mut header).is_err() {
                continue;
            }
            let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
            let _ = stream.read_exact(&mut body);
            let _ = stream.write_all(&frame(reply.as_bytes()));
        }
    });
    socket
}

#[test]
fn a_daemon_from_before_protocol_versions_is_named_and_the_client_exits_1() {
    use breachdesk::remote::protocol::PROTOCOL_VERSION;
    for reply in [
        // Refusing the version field, with the flag it sent instead of a kind.
        r#"{"reply":"error","message":"malformed request: unknown field `protocol`","user":true}"#,
        // Ignoring it, with a welcome that names no protocol.
        r#"{"reply":"ok","value":{"identity":{"user":"x","role":null},"catalog":[],"rules":[],"targets":{},"version":"0.1.0"}}"#,
    ] {
        let sb = Sandbox::new();
        let socket = old_daemon(&sb, reply);
        let mut cmd = sb.cmd();
        cmd.env("BREACHDESK_REMOTE", &socket)
            .env("BREACHDESK_DB", sb.path("no-database-here"));
        let err = run_fails(cmd, &["incident", "list"], 1);
        assert!(
            err.contains(&format!("speaks protocol {PROTOCOL_VERSION}"))
                && err.contains("old.sock speaks 1")
                && err.contains("upgrade the daemon"),
            "{err}"
        );
    }
}

#[test]
fn the_daemon_purges_what_the_retention_period_says_is_due_before_serving() {
    let sb = Sandbox::new();
    sb.write("config.toml", "[retention]\ndays_after_close = 0\n");
    sb.open_incident("Old exposure", 3);
    sb.import(
        "1",
        "employee_id,name,email,categories\nE1,Ana,ana@corp.example,keystrokes\n",
    );
    sb.ok(&["incident", "status", "1", "closed"]);
    sb.open_incident("Still open", 3);
    // The first sweep runs before the first connection is taken.
    let daemon = Daemon::start(&sb);
    let shown: serde_json::Value = serde_json::from_str(&run_ok(
        client(&sb, &daemon),
        &["incident", "show", "1", "--json"],
    ))
    .unwrap();
    assert!(
        shown["purged"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("retention: closed on")),
        "{shown}"
    );
    assert_eq!(shown["people"], 1, "the counts stay");
    let open: serde_json::Value = serde_json::from_str(&run_ok(
        client(&sb, &daemon),
        &["incident", "show", "2", "--json"],
    ))
    .unwrap();
    assert!(open.get("purged").is_none(), "{open}");
}

/// Issue 27, item 6: any responder could rename a programme an admin registered, and the
/// reports then showed the new name. Through the daemon: only the responder who registered
/// it, or an admin, changes it; linking stays open to an incident's members.
#[test]
fn only_the_registrant_or_an_admin_changes_a_programme() {
    let Some((rita, ron, sb)) = rita_and_ron("only_the_registrant_or_an_admin_changes_a_programme")
    else {
        return;
    };
    let daemon = Daemon::start(&sb);
    let ok = |user, args: &[&str]| as_user_ok(user, &daemon, args);
    ok(
        &rita,
        &[
            "program",
            "add",
            "staff-monitoring",
            "--name",
            "Staff monitoring",
        ],
    );
    run_ok(
        client(&sb, &daemon),
        &["program", "add", "chat-archive", "--name", "Chat archive"],
    );
    for slug in ["staff-monitoring", "chat-archive"] {
        let (code, _, err) = as_user(
            &ron,
            &daemon,
            &["program", "edit", slug, "--name", "Nothing to see"],
        );
        assert_eq!(code, Some(2), "{slug}: {err}");
        assert!(
            err.contains("only the responder who registered the programme or an admin"),
            "{err}"
        );
    }
    ok(
        &rita,
        &[
            "program",
            "edit",
            "staff-monitoring",
            "--name",
            "Staff monitoring (paused)",
        ],
    );
    let (code, _, _) = as_user(
        &rita,
        &daemon,
        &["program", "edit", "chat-archive", "--name", "X"],
    );
    assert_eq!(
        code,
        Some(2),
        "the admin's programme is not Rita's to change"
    );
    run_ok(
        client(&sb, &daemon),
        &[
            "program",
            "edit",
            "staff-monitoring",
            "--name",
            "Staff monitoring",
        ],
    );
    ok(
        &ron,
        &["incident", "open", "--title", "Mine", "--severity", "4"],
    );
    ok(&ron, &["program", "link", "chat-archive", "1"]);
    let list = run_ok(client(&sb, &daemon), &["program", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Chat archive", "Staff monitoring"]);
    let refusals = run_ok(
        client(&sb, &daemon),
        &["audit", "access", "--user", "bdron", "--json"],
    );
    assert!(refusals.contains("program.edit"), "{refusals}");
}
