//! Incidents through the real binary: open, list, show, severity, status, note, assign.

use crate::common;

use common::Sandbox;

#[test]
fn open_prints_sequential_ids() {
    let s = Sandbox::new();
    assert_eq!(s.open_incident("First", 3), "INC-1");
    assert_eq!(s.open_incident("Second", 2), "INC-2");
}

#[test]
fn show_json_has_the_documented_fields() {
    let s = Sandbox::new();
    s.ok(&[
        "program",
        "add",
        "staff-monitoring",
        "--name",
        "Staff monitoring",
    ]);
    s.ok(&[
        "incident",
        "open",
        "--title",
        "Monitoring data readable by all",
        "--severity",
        "2",
        "--summary",
        "Bucket was world-readable",
        "--category",
        "keystrokes",
        "--category",
        "chat-messages",
        "--program",
        "staff-monitoring",
        "--discovered",
        "2026-11-20T14:30:00+01:00",
    ]);
    let v = s.json(&["incident", "show", "1", "--json"]);
    assert_eq!(v["id"], "INC-1");
    assert_eq!(v["title"], "Monitoring data readable by all");
    assert_eq!(v["severity"], 2);
    assert_eq!(v["status"], "open");
    assert_eq!(v["summary"], "Bucket was world-readable");
    assert_eq!(
        v["categories"],
        serde_json::json!(["chat-messages", "keystrokes"])
    );
    assert_eq!(v["programs"], serde_json::json!(["staff-monitoring"]));
    assert_eq!(v["discovered_at"], "2026-11-20T13:30:00Z");
    assert_eq!(v["people"], 0);
    assert!(v["owner"].as_str().is_some_and(|o| !o.is_empty()));
    assert!(chrono::DateTime::parse_from_rfc3339(v["opened_at"].as_str().unwrap()).is_ok());
    let timeline = v["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["action"], "incident.opened");
    for event in timeline {
        for field in ["at", "actor", "action", "detail"] {
            assert!(event.get(field).is_some(), "event lacks {field}: {event}");
        }
    }
}

#[test]
fn list_is_most_severe_first_then_newest_and_filters() {
    let s = Sandbox::new();
    s.open_incident("old sev3", 3);
    s.open_incident("sev1", 1);
    s.open_incident("new sev3", 3);
    s.open_incident("sev5", 5);
    let v = s.json(&["incident", "list", "--json"]);
    let titles: Vec<&str> = common::field_strings(&v, "title");
    assert_eq!(titles, ["sev1", "new sev3", "old sev3", "sev5"]);

    let v = s.json(&["incident", "list", "--max-severity", "3", "--json"]);
    assert_eq!(v.as_array().unwrap().len(), 3);
    s.ok(&["incident", "status", "INC-2", "investigating"]);
    let v = s.json(&["incident", "list", "--status", "investigating", "--json"]);
    assert_eq!(v[0]["id"], "INC-2");
    let table = s.ok(&["incident", "list"]);
    assert!(
        table.lines().nth(1).unwrap().starts_with("INC-2"),
        "{table}"
    );
}

#[test]
fn severity_change_needs_a_reason_and_is_recorded() {
    let s = Sandbox::new();
    s.open_incident("Leak", 3);
    s.fails(&["incident", "severity", "1", "1"], 2);
    let out = s.ok(&[
        "incident",
        "severity",
        "INC-1",
        "1",
        "--reason",
        "transcripts involved",
    ]);
    assert!(out.contains("INC-1 is now SEV1"), "{out}");
    let v = s.json(&["incident", "show", "1", "--json"]);
    assert_eq!(v["severity"], 1);
    let last = v["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "incident.severity");
    assert_eq!(last["detail"], "transcripts involved");
    assert_eq!(last["before"], "SEV3");
    assert_eq!(last["after"], "SEV1");
}

#[test]
fn severity_out_of_range_is_refused_with_the_rule() {
    let s = Sandbox::new();
    s.open_incident("Leak", 3);
    for bad in ["6", "-1", "high", "2.5"] {
        let err = s.fails(&["incident", "severity", "1", bad, "--reason", "x"], 2);
        assert!(
            err.contains("severity must be 0 (most critical) to 5"),
            "{bad}: {err}"
        );
    }
    let err = s.fails(&["incident", "open", "--title", "x", "--severity", "9"], 2);
    assert!(
        err.contains("severity must be 0 (most critical) to 5"),
        "{err}"
    );
}

#[test]
fn help_shows_guidance_for_every_level() {
    let s = Sandbox::new();
    let help = s.ok(&["incident", "open", "--help"]);
    for sev in breachdesk::domain::Severity::all() {
        let line = format!("{}  {}\n", sev.level(), sev.guidance());
        assert!(help.contains(&line), "{line:?} missing:\n{help}");
    }
    assert!(help.contains("most critical"), "{help}");
}

#[test]
fn illegal_status_move_names_allowed_ones() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let err = s.fails(&["incident", "status", "1", "resolved"], 2);
    assert_eq!(
        err.trim(),
        "error: cannot move INC-1 from open to resolved; allowed from open: investigating, contained, closed"
    );
    for step in ["investigating", "contained", "resolved", "closed"] {
        s.ok(&["incident", "status", "1", step, "--reason", "progress"]);
    }
    let err = s.fails(&["incident", "status", "1", "done"], 2);
    assert!(err.contains("unknown status 'done'"), "{err}");
}

#[test]
fn notes_and_assignment_land_in_the_timeline() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    s.ok(&[
        "incident",
        "note",
        "1",
        "Checked bucket ACLs; readable by all staff since March",
    ]);
    s.ok(&["incident", "assign", "1", "priya"]);
    let v = s.json(&["incident", "show", "1", "--json"]);
    assert_eq!(v["owner"], "priya");
    let actions: Vec<&str> = common::field_strings(&v["timeline"], "action");
    assert_eq!(
        actions,
        ["incident.opened", "incident.note", "incident.assigned"]
    );
    let human = s.ok(&["incident", "show", "INC-1"]);
    assert!(human.contains("Checked bucket ACLs"), "{human}");
    s.fails(&["incident", "assign", "1", "two words"], 2);
    s.fails(&["incident", "note", "1", "   "], 2);
}

#[test]
fn unknown_ids_and_bad_values_exit_2_with_one_line() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    for (args, want) in [
        (vec!["incident", "show", "INC-9"], "no incident INC-9"),
        (
            vec!["incident", "show", "INC-x"],
            "'INC-x' is not an incident id",
        ),
        (vec!["incident", "note", "42", "hi"], "no incident INC-42"),
        (
            vec![
                "incident",
                "open",
                "--title",
                "x",
                "--severity",
                "1",
                "--category",
                "dna",
            ],
            "unknown category 'dna'; known categories: keystrokes",
        ),
        (
            vec![
                "incident",
                "open",
                "--title",
                "x",
                "--severity",
                "1",
                "--program",
                "nope",
            ],
            "no programme 'nope'",
        ),
        (
            vec![
                "incident",
                "open",
                "--title",
                "x",
                "--severity",
                "1",
                "--discovered",
                "yesterday",
            ],
            "'yesterday' is not a time: use now, -2h",
        ),
        (
            vec![
                "incident",
                "open",
                "--title",
                "bad\u{1b}[2Jtitle",
                "--severity",
                "1",
            ],
            "title contains a control character",
        ),
    ] {
        let err = s.fails(&args, 2);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let err = s.fails(&["incident", "show", "INC-9"], 2);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn category_list_extends_from_config() {
    let s = Sandbox::new();
    s.write(
        "config.toml",
        "[[category]]\nname = \"badge-swipes\"\ndescription = \"when you entered buildings\"\n",
    );
    s.ok(&[
        "incident",
        "open",
        "--title",
        "x",
        "--severity",
        "4",
        "--category",
        "badge-swipes",
    ]);
    let v = s.json(&["incident", "show", "1", "--json"]);
    assert_eq!(v["categories"], serde_json::json!(["badge-swipes"]));
}

#[test]
fn a_broken_config_is_named() {
    let s = Sandbox::new();
    s.write("config.toml", "[hooks]\ntimeout = 3\n");
    let err = s.fails(&["incident", "list"], 2);
    assert!(
        err.contains("config.toml") && err.contains("unknown field `timeout`"),
        "{err}"
    );
}

#[test]
fn demo_fills_an_empty_database_and_refuses_a_used_one() {
    let s = Sandbox::new();
    let out = s.ok(&["demo"]);
    assert!(out.contains("3 incidents, 2000 people on INC-3"), "{out}");
    let list = s.json(&["incident", "list", "--json"]);
    assert_eq!(list[0]["id"], "INC-3");
    assert_eq!(list[0]["severity"], 2);
    assert_eq!(list[0]["people"], 2000);
    let programs = s.json(&["program", "list", "--json"]);
    let states: Vec<&str> = common::field_strings(&programs, "state");
    assert!(states.contains(&"paused"), "{states:?}");
    let err = s.fails(&["demo"], 2);
    assert!(err.contains("already holds incidents"), "{err}");
}

#[test]
fn the_ui_without_a_terminal_says_what_to_do() {
    let s = Sandbox::new();
    let err = s.fails(&[], 1);
    assert!(
        err.contains("needs a terminal") && err.contains("--help"),
        "{err}"
    );
}

#[test]
fn describe_rewrites_the_title_or_summary_and_the_timeline_keeps_the_old_title() {
    let s = Sandbox::new();
    s.open_incident("Monitoring data readable company-wide", 2);
    let out = s.ok(&[
        "incident",
        "describe",
        "1",
        "--title",
        "Monitoring bucket public on the internet",
        "--reason",
        "the access log shows anonymous reads",
    ]);
    assert!(
        out.contains("INC-1: Monitoring bucket public on the internet"),
        "{out}"
    );
    let shown = s.json(&["incident", "show", "1", "--json"]);
    assert_eq!(shown["title"], "Monitoring bucket public on the internet");
    let timeline = s.ok(&["incident", "show", "1"]);
    assert!(
        timeline.contains("the title was 'Monitoring data readable company-wide'"),
        "{timeline}"
    );
    let log = s.ok(&["audit", "log", "--incident", "1"]);
    assert!(log.contains("incident.described"), "{log}");
    // The same text again changes nothing; no text at all, or a title of two lines, is refused.
    let err = s.fails(
        &[
            "incident",
            "describe",
            "1",
            "--title",
            "Monitoring bucket public on the internet",
            "--reason",
            "again",
        ],
        2,
    );
    assert!(err.contains("already has that title and summary"), "{err}");
    let err = s.fails(&["incident", "describe", "1", "--reason", "nothing"], 2);
    assert!(err.contains("give a new title"), "{err}");
    let err = s.fails(
        &[
            "incident", "describe", "1", "--title", "a\nb", "--reason", "x",
        ],
        2,
    );
    assert!(err.contains("title"), "{err}");
}
