//! Programmes through the real binary: add, list, link, pause with a real hook, resume.

use crate::common;

use common::Sandbox;

fn setup_with_hook(hook: &str) -> Sandbox {
    let s = Sandbox::new();
    s.ok(&[
        "program",
        "add",
        "staff-monitoring",
        "--name",
        "Staff monitoring",
        "--category",
        "keystrokes",
        "--pause-hook",
        hook,
        "--resume-hook",
        "echo resumed",
    ]);
    s.open_incident("Monitoring data readable by all", 2);
    s
}

#[test]
fn add_list_and_link() {
    let s = Sandbox::new();
    s.ok(&[
        "program",
        "add",
        "chat-archive",
        "--name",
        "Chat archive",
        "--owner",
        "dana",
    ]);
    s.open_incident("Leak", 3);
    assert!(
        s.ok(&["program", "link", "chat-archive", "INC-1"])
            .contains("linked")
    );
    assert!(
        s.ok(&["program", "link", "chat-archive", "1"])
            .contains("already linked")
    );
    let v = s.json(&["program", "list", "--json"]);
    assert_eq!(v[0]["slug"], "chat-archive");
    assert_eq!(v[0]["name"], "Chat archive");
    assert_eq!(v[0]["state"], "active");
    assert_eq!(v[0]["owner"], "dana");
    assert_eq!(v[0]["incidents"], serde_json::json!(["INC-1"]));
    assert_eq!(
        s.json(&["incident", "show", "1", "--json"])["programs"],
        serde_json::json!(["chat-archive"])
    );
    let err = s.fails(&["program", "add", "chat-archive", "--name", "again"], 2);
    assert!(err.contains("already exists"), "{err}");
    let err = s.fails(&["program", "add", "Bad Slug", "--name", "x"], 2);
    assert!(err.contains("is not a programme slug"), "{err}");
    s.fails(&["program", "link", "nope", "1"], 2);
}

#[test]
fn pause_runs_the_hook_with_env_and_records_its_output() {
    let marker = tempfile::NamedTempFile::new().unwrap();
    let hook = format!(
        "echo \"$BREACHDESK_PROGRAM $BREACHDESK_INCIDENT $BREACHDESK_ACTOR\" > {}; echo collection stopped",
        marker.path().display()
    );
    let s = setup_with_hook(&hook);
    let out = s
        .cmd()
        .args([
            "program",
            "pause",
            "staff-monitoring",
            "--incident",
            "INC-1",
            "--reason",
            "exposure",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env_seen = std::fs::read_to_string(marker.path()).unwrap();
    let parts: Vec<&str> = env_seen.split_whitespace().collect();
    assert_eq!(parts[..2], ["staff-monitoring", "INC-1"]);
    assert!(!parts[2].is_empty());

    let v = s.json(&["program", "list", "--json"]);
    assert_eq!(v[0]["state"], "paused");
    let timeline = s.json(&["incident", "show", "1", "--json"])["timeline"].clone();
    let paused = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "program.paused")
        .unwrap();
    let detail = paused["detail"].as_str().unwrap();
    assert!(detail.contains("exited with status 0"), "{detail}");
    // The hook's command and output are sealed: in the timeline only for readers.
    assert!(!detail.contains("collection stopped"), "{detail}");
    let private = paused["private"].as_str().unwrap();
    assert!(private.contains("collection stopped"), "{private}");
    assert!(private.contains("command: echo"), "{private}");

    let again = s.ok(&[
        "program",
        "pause",
        "staff-monitoring",
        "--incident",
        "1",
        "--reason",
        "again",
    ]);
    assert!(again.contains("already paused"), "{again}");
}

#[test]
fn failing_hook_leaves_pause_failed_and_exits_nonzero() {
    let s = setup_with_hook("echo 'permission denied' >&2; exit 4");
    let err = s.fails(common::PAUSE_STAFF_MONITORING, 1);
    assert!(
        err.contains("PAUSE FAILED") && err.contains("may still be collecting"),
        "{err}"
    );
    assert!(
        err.contains("exited with status 4") && err.contains("permission denied"),
        "{err}"
    );
    assert_eq!(
        s.json(&["program", "list", "--json"])[0]["state"],
        "pause-failed"
    );
    let timeline = s.json(&["incident", "show", "1", "--json"])["timeline"].clone();
    let failed = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "program.pause-failed")
        .unwrap();
    assert!(failed["detail"].as_str().unwrap().contains("status 4"));
}

#[test]
fn a_hanging_hook_times_out() {
    let s = setup_with_hook("sleep 20");
    s.write("config.toml", "[hooks]\ntimeout_secs = 1\n");
    let started = std::time::Instant::now();
    let err = s.fails(
        &[
            "program",
            "pause",
            "staff-monitoring",
            "--incident",
            "1",
            "--reason",
            "x",
        ],
        1,
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(err.contains("timed out after 1 s"), "{err}");
    assert_eq!(
        s.json(&["program", "list", "--json"])[0]["state"],
        "pause-failed"
    );
}

#[test]
fn a_pause_without_a_hook_warns_loudly() {
    let s = Sandbox::new();
    s.ok(&["program", "add", "survey", "--name", "Survey"]);
    s.open_incident("Leak", 2);
    let out = s
        .cmd()
        .args([
            "program",
            "pause",
            "survey",
            "--incident",
            "1",
            "--reason",
            "x",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pause hook"));
    let v = s.json(&["program", "list", "--json"]);
    assert_eq!(v[0]["state"], "paused");
    assert_eq!(
        v[0]["incidents"],
        serde_json::json!(["INC-1"]),
        "pausing for an incident links it"
    );
}

#[test]
fn resume_is_refused_while_a_serious_incident_is_open() {
    let s = setup_with_hook("true");
    s.ok(common::PAUSE_STAFF_MONITORING);
    let err = s.fails(
        &[
            "program",
            "resume",
            "staff-monitoring",
            "--reason",
            "back to work",
        ],
        2,
    );
    assert!(
        err.contains("INC-1 (SEV2, open)") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(s.json(&["program", "list", "--json"])[0]["state"], "paused");
    let actions = s.json(&["audit", "log", "--incident", "1", "--json"]);
    assert!(
        actions
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "program.resume-refused")
    );

    for step in ["investigating", "resolved"] {
        s.ok(&["incident", "status", "1", step]);
    }
    let out = s
        .cmd()
        .args(["program", "resume", "staff-monitoring", "--reason", "fixed"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("resumed"),
        "hook output shown"
    );
    assert_eq!(s.json(&["program", "list", "--json"])[0]["state"], "active");
    assert!(
        s.ok(&["program", "resume", "staff-monitoring", "--reason", "x"])
            .contains("already active")
    );
}

#[test]
fn forced_resume_is_recorded() {
    let s = setup_with_hook("true");
    s.open_incident("Minor", 4);
    s.ok(&["program", "link", "staff-monitoring", "2"]);
    s.ok(common::PAUSE_STAFF_MONITORING);
    let out = s
        .cmd()
        .args([
            "program",
            "resume",
            "staff-monitoring",
            "--reason",
            "CEO said so",
            "--force",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forced over unresolved INC-1"));
    for id in ["1", "2"] {
        let log = s.json(&["audit", "log", "--incident", id, "--json"]);
        let resumed = log
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "program.resumed")
            .unwrap();
        assert!(
            resumed["detail"]
                .as_str()
                .unwrap()
                .contains("FORCED over INC-1"),
            "{resumed}"
        );
    }
}

#[test]
fn hooks_get_no_secrets_and_viewers_see_neither_command_nor_output() {
    let seen = tempfile::NamedTempFile::new().unwrap();
    let s = setup_with_hook(&format!(
        "env > {}; echo stopped-agent",
        seen.path().display()
    ));
    let me = breachdesk::identity::current_user().to_string();
    s.write(
        "config.toml",
        &format!(
            "[access]\nadmins = [\"{me}\"]\n[hooks]\npass_env = [\"BREACHDESK_KEY\", \"SMTP_PASSWORD\", \"HOOK_PROXY\"]\n[smtp]\nhost = \"127.0.0.1\"\nfrom = \"privacy@corp.example\"\nusername = \"mailer\"\npassword_env = \"SMTP_PASSWORD\"\n"
        ),
    );
    let key = s.key().to_hex();
    let out = s
        .cmd()
        .env("BREACHDESK_KEY", &key)
        .env("SMTP_PASSWORD", "hunter2-relay-secret")
        .env("HOOK_PROXY", "proxy.corp.example:3128")
        .args(common::PAUSE_STAFF_MONITORING)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = std::fs::read_to_string(seen.path()).unwrap();
    assert!(env.contains("HOOK_PROXY=proxy.corp.example:3128"), "{env}");
    assert!(env.contains("BREACHDESK_PROGRAM=staff-monitoring"), "{env}");
    assert!(
        !env.contains(&key),
        "the database key reached the hook: {env}"
    );
    assert!(
        !env.contains("hunter2"),
        "the SMTP password reached the hook: {env}"
    );
    assert!(
        !env.contains("XDG_DATA_HOME"),
        "only the minimal environment: {env}"
    );
    for entry in common::files_under(&s.db()) {
        let bytes = std::fs::read(&entry).unwrap();
        let found = bytes.windows(16).any(|w| w == b"stopped-agent-42");
        assert!(!found, "hook output in the clear in {}", entry.display());
    }

    // The same database, read by a viewer.
    s.write(
        "config.toml",
        &format!("[access]\nadmins = [\"someone-else\"]\nviewers = [\"{me}\"]\n"),
    );
    let programs = s.json(&["program", "list", "--json"]);
    assert_eq!(programs[0]["pause_hook"], "(hidden)", "{programs}");
    let raw = s.ok(&["program", "list", "--json"]);
    assert!(!raw.contains("env >"), "{raw}");
    let shown = s.ok(&["incident", "show", "1", "--json"]);
    assert!(shown.contains("program.paused"), "{shown}");
    assert!(
        !shown.contains("stopped-agent-42") && !shown.contains("env >"),
        "{shown}"
    );
    assert!(!shown.contains("\"private\""), "{shown}");
}

#[test]
fn edit_keeps_what_is_not_given_and_unlinking_a_held_programme_needs_an_admin() {
    let sb = Sandbox::new();
    let me = breachdesk::identity::current_user();
    sb.ok(&[
        "program",
        "add",
        "staff-monitoring",
        "--name",
        "Staff monitoring",
        "--pause-hook",
        "true",
    ]);
    sb.ok(&[
        "program",
        "edit",
        "staff-monitoring",
        "--name",
        "Staff monitoring v2",
    ]);
    let list = sb.json(&["program", "list", "--json"]);
    assert_eq!(list[0]["name"], "Staff monitoring v2");
    assert_eq!(list[0]["pause_hook"], "true", "the hook stays: {list}");
    let err = sb.fails(
        &[
            "program",
            "edit",
            "staff-monitoring",
            "--name",
            "Staff monitoring v2",
        ],
        2,
    );
    assert!(err.contains("nothing to change"), "{err}");

    sb.ok(&["incident", "open", "--title", "Exposure", "--severity", "2"]);
    sb.ok(&["program", "link", "staff-monitoring", "1"]);
    sb.ok(common::PAUSE_STAFF_MONITORING);
    // A responder who is not an admin may not lift the hold a SEV 2 incident has on it.
    sb.write(
        "config.toml",
        &format!("[access]\nadmins = [\"someone-else\"]\nresponders = [\"{me}\"]\n"),
    );
    let err = sb.fails(
        &[
            "program",
            "unlink",
            "staff-monitoring",
            "1",
            "--reason",
            "wrong incident",
        ],
        2,
    );
    assert!(err.contains("access denied (program.unlink-held)"), "{err}");
    let err = sb.fails(
        &[
            "program",
            "edit",
            "staff-monitoring",
            "--pause-hook",
            "rm -rf /",
        ],
        2,
    );
    assert!(err.contains("access denied (program.edit-hook)"), "{err}");
    std::fs::remove_file(sb.config()).unwrap();
    sb.ok(&[
        "program",
        "unlink",
        "staff-monitoring",
        "1",
        "--reason",
        "wrong incident",
    ]);
    let inc = sb.json(&["incident", "show", "1", "--json"]);
    assert_eq!(inc["programs"].as_array().unwrap().len(), 0);
    let log = sb.json(&["audit", "log", "--json"]);
    assert!(log.as_array().unwrap().iter().any(|e| {
        e["action"] == "program.unlinked"
            && e["detail"]
                .as_str()
                .unwrap()
                .contains("no longer holds the programme from resuming")
    }));
}
