//! Need-to-know through the real binary: roles from `[access]`, incident members, every
//! read path of personal data refused to non-members and viewers, and the access log.
//! Locally the acting user is the operating-system user running the tests.

use crate::common;

use common::{Sandbox, roster};
use serde_json::Value;

fn me() -> String {
    breachdesk::identity::current_user().to_string()
}

/// Every command that reads personal data of INC-1.
fn read_paths(sb: &Sandbox) -> Vec<(&'static str, Vec<String>)> {
    let export = sb.path("export.csv").to_string_lossy().into_owned();
    let v = |args: &[&str]| {
        args.iter()
            .map(std::string::ToString::to_string)
            .collect::<Vec<_>>()
    };
    vec![
        ("people.list", v(&["people", "list", "INC-1"])),
        (
            "people.export",
            v(&["people", "export", "INC-1", "--out", &export]),
        ),
        (
            "incident.show",
            v(&["incident", "show", "INC-1", "--people"]),
        ),
        (
            "letter.preview",
            v(&["notify", "preview", "INC-1", "--template", "initial"]),
        ),
        ("notify.status", v(&["notify", "status", "INC-1"])),
    ]
}

/// An incident with 5 people, owned by `rita`, opened by the local user as sole admin.
fn restricted_incident() -> Sandbox {
    let sb = Sandbox::new();
    sb.open_incident("Monitoring data readable by all staff", 2);
    sb.import("INC-1", &roster(5));
    sb.ok(&["incident", "assign", "INC-1", "rita"]);
    sb
}

fn set_roles(sb: &Sandbox, admins: &[&str], responders: &[&str], viewers: &[&str]) {
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    sb.write(
        "config.toml",
        &format!(
            "[access]\nadmins = [{}]\nresponders = [{}]\nviewers = [{}]\n",
            list(admins),
            list(responders),
            list(viewers)
        ),
    );
}

fn access_log(sb: &Sandbox) -> Vec<Value> {
    let me = me();
    set_roles(sb, &[&me], &[], &[]);
    let log = sb.json(&["audit", "access", "--incident", "INC-1", "--json"]);
    log.as_array().expect("array").clone()
}

fn refusals(log: &[Value], path: &str) -> usize {
    log.iter()
        .filter(|e| e["action"] == "access.denied" && e["path"] == path && e["actor"] == me())
        .count()
}

#[test]
fn a_responder_who_is_not_a_member_is_refused_on_every_read_path_and_it_is_recorded() {
    let sb = restricted_incident();
    let me = me();
    set_roles(&sb, &[], &[&me, "rita"], &[]);
    for (path, args) in read_paths(&sb) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = sb.fails(&args, 2);
        assert!(err.contains("access denied"), "{path}: {err}");
        assert!(
            err.contains("owner, its members and admins"),
            "{path}: {err}"
        );
        assert!(!err.contains("corp.example"), "{path} leaked: {err}");
    }
    assert!(!sb.path("export.csv").exists(), "nothing exported");
    let log = access_log(&sb);
    for (path, _) in read_paths(&sb) {
        assert_eq!(refusals(&log, path), 1, "{path} refusal recorded: {log:?}");
    }
}

#[test]
fn a_viewer_sees_counts_but_never_names_and_is_refused_on_every_read_path() {
    let sb = restricted_incident();
    let me = me();
    set_roles(&sb, &[], &["rita"], &[&me]);
    let board = sb.json(&["incident", "list", "--json"]);
    assert_eq!(board[0]["people"], 5, "counts are shown to viewers");
    let shown = sb.ok(&["incident", "show", "INC-1"]);
    assert!(shown.contains("people:      5"), "{shown}");
    assert!(shown.contains("need-to-know"), "{shown}");
    assert!(!shown.contains("Person 0"), "{shown}");
    for (path, args) in read_paths(&sb) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = sb.fails(&args, 2);
        assert!(err.contains("viewers see the board"), "{path}: {err}");
    }
    let err = sb.fails(&["incident", "note", "INC-1", "hello"], 2);
    assert!(err.contains("access denied"), "{err}");
    let log = access_log(&sb);
    for (path, _) in read_paths(&sb) {
        assert_eq!(refusals(&log, path), 1, "{path} refusal recorded");
    }
}

#[test]
fn members_get_access_and_every_read_is_logged_with_its_count() {
    let sb = restricted_incident();
    let me = me();
    set_roles(&sb, &[], &[&me, "rita"], &[]);
    sb.fails(&["people", "list", "INC-1"], 2);
    // Only the owner (or an admin) manages members.
    let err = sb.fails(&["incident", "members", "INC-1", "add", &me], 2);
    assert!(err.contains("owner or an admin"), "{err}");
    set_roles(&sb, &[&me], &[], &[]);
    sb.ok(&["incident", "members", "INC-1", "add", &me]);
    let members = sb.ok(&["incident", "members", "INC-1"]);
    assert_eq!(members, format!("rita\towner\n{me}\tmember\n"));

    set_roles(&sb, &[], &[&me, "rita"], &[]);
    // A member may work the incident but not hand it to someone else.
    let err = sb.fails(&["incident", "assign", "INC-1", &me], 2);
    assert!(err.contains("owner or an admin"), "{err}");
    let listed = sb.ok(&["people", "list", "INC-1", "--pending"]);
    assert!(listed.contains("person4@corp.example"), "{listed}");
    let csv = sb.ok(&["people", "export", "INC-1"]);
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(csv.starts_with("employee_id,name,email,categories,location,language\n"));

    let log = access_log(&sb);
    let reads: Vec<(&str, u64)> = log
        .iter()
        .filter(|e| e["action"] == "access.read")
        .map(|e| (e["path"].as_str().unwrap(), e["records"].as_u64().unwrap()))
        .collect();
    assert_eq!(reads, vec![("people.list", 5), ("people.export", 5)]);
    // The change of membership is on the timeline; reads are not.
    let timeline = sb.json(&["incident", "show", "INC-1", "--json"]);
    let actions: Vec<&str> = timeline["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"incident.member-added"), "{actions:?}");
    assert!(!actions.iter().any(|a| a.starts_with("access.")));
    // The access log is part of the hash chain.
    let verified = sb.ok(&["audit", "verify"]);
    assert!(verified.contains("intact"), "{verified}");
}

#[test]
fn access_log_answers_by_user_and_in_text() {
    let sb = restricted_incident();
    sb.ok(&["people", "list", "INC-1"]);
    let me = me();
    let mine = sb.json(&["audit", "access", "--user", &me, "--json"]);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let others = sb.json(&["audit", "access", "--user", "rita", "--json"]);
    assert_eq!(others.as_array().unwrap().len(), 0);
    let text = sb.ok(&["audit", "access"]);
    assert!(text.contains("people.list"), "{text}");
    assert!(text.contains("5 records"), "{text}");
}

#[test]
fn users_without_a_role_get_nothing() {
    let sb = restricted_incident();
    set_roles(&sb, &["ada"], &["rita"], &[]);
    for args in [
        &["incident", "list"][..],
        &["incident", "show", "INC-1"],
        &["program", "list"],
        &["audit", "verify"],
    ] {
        let err = sb.fails(args, 2);
        assert!(err.contains("no role"), "{args:?}: {err}");
    }
}

#[test]
fn a_fresh_install_needs_no_configuration() {
    let sb = Sandbox::new();
    sb.open_incident("First", 3);
    sb.import("INC-1", &roster(2));
    let listed = sb.ok(&["people", "list", "INC-1"]);
    assert!(listed.contains("person1@corp.example"));
}
