//! The audit trail through the real binary, and tampering with it by editing the database
//! directly.

use crate::common;

use common::Sandbox;

/// Some history: an incident, a note, a status change, a programme.
fn history() -> Sandbox {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    s.ok(&["incident", "note", "1", "first note"]);
    s.ok(&["incident", "status", "1", "investigating"]);
    s.ok(&["program", "add", "survey", "--name", "Survey"]);
    s.ok(&["incident", "note", "1", "second note"]);
    s
}

/// Opens the database behind the binary's back and edits the audit tree.
fn tamper(s: &Sandbox, edit: impl FnOnce(&sled::Tree)) {
    tamper_tree(s, "audit", edit);
}

/// Opens the database behind the binary's back and edits one tree.
fn tamper_tree(s: &Sandbox, name: &str, edit: impl FnOnce(&sled::Tree)) {
    let db = common::open_sled(&s.db());
    let tree = db.open_tree(name).unwrap();
    edit(&tree);
    db.flush().unwrap();
}

/// The default witness file of a sandbox: beside its key file.
fn witness(s: &Sandbox) -> std::path::PathBuf {
    s.path("home/config/breachdesk/audit-witness")
}

fn cp_r(from: &std::path::Path, to: &std::path::Path) {
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Puts `copy` back in place of the database, as someone restoring an old copy would.
fn put_back(s: &Sandbox, copy: &std::path::Path) {
    std::fs::remove_dir_all(s.db()).unwrap();
    cp_r(copy, &s.db());
}

/// Runs `audit verify` and returns (exit code, stdout, stderr).
fn verify(s: &Sandbox) -> (Option<i32>, String, String) {
    let out = s.cmd().args(["audit", "verify"]).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

#[test]
fn log_lists_every_change_with_actor_and_time() {
    let s = history();
    let log = s.json(&["audit", "log", "--json"]);
    let actions: Vec<&str> = common::field_strings(&log, "action");
    assert_eq!(
        actions,
        [
            "incident.opened",
            "incident.note",
            "incident.status",
            "program.added",
            "incident.note"
        ]
    );
    for (i, e) in log.as_array().unwrap().iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1);
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
        assert!(!e["actor"].as_str().unwrap().is_empty());
        assert_eq!(e["hash"].as_str().unwrap().len(), 64);
    }
    let only = s.json(&["audit", "log", "--incident", "INC-1", "--json"]);
    assert_eq!(
        only.as_array().unwrap().len(),
        4,
        "the programme event is not the incident's"
    );
    let human = s.ok(&["audit", "log"]);
    assert!(
        human.contains("program.added") && human.contains("second note"),
        "{human}"
    );
}

#[test]
fn verify_counts_an_intact_chain() {
    let s = history();
    let (code, out, err) = verify(&s);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "audit log intact: 5 events checked");
    assert!(lines[1].starts_with("head: event 5 (hash "), "{out}");
    assert!(
        lines[2].contains("audit-witness last recorded event 5"),
        "{out}"
    );
    assert_eq!(err, "", "no warning in normal use");
}

/// Regression (hostile-insider test): copying the database away and putting the old copy
/// back later erased history, and `audit verify` still said "intact".
#[test]
fn a_database_put_back_from_a_copy_fails_verify_naming_the_witnessed_head() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let copy = s.path("db-copy");
    cp_r(&s.db(), &copy);
    s.ok(&["incident", "note", "1", "read the exposed bucket"]);
    let witnessed = s.json(&["audit", "head", "--json"]);
    put_back(&s, &copy);
    let err = s.fails(&["audit", "verify"], 1);
    let seq = witnessed["seq"].as_u64().unwrap();
    let prefix = &witnessed["hash"].as_str().unwrap()[..12];
    assert!(
        err.contains("the database is older than its witness"),
        "{err}"
    );
    assert!(
        err.contains(&format!("last witnessed event {seq} (hash {prefix}")),
        "{err}"
    );
    assert!(err.contains(&format!("ends at event {}", seq - 1)), "{err}");
    assert!(err.contains("restored from a copy?"), "{err}");
    let json = s
        .cmd()
        .args(["audit", "verify", "--json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["detail"]["OlderThanWitness"]["last"]["seq"], seq);
}

#[test]
fn a_copy_put_back_and_changed_again_still_fails_verify() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let copy = s.path("db-copy");
    cp_r(&s.db(), &copy);
    s.ok(&["incident", "note", "1", "read the exposed bucket"]);
    put_back(&s, &copy);
    s.ok(&["incident", "note", "1", "nothing happened"]);
    s.ok(&["incident", "note", "1", "still nothing"]);
    let err = s.fails(&["audit", "verify"], 1);
    assert!(err.contains("older than its witness"), "{err}");
    assert!(err.contains("is a different one"), "{err}");
}

#[test]
fn head_prints_what_verify_checked() {
    let s = history();
    let head = s.json(&["audit", "head", "--json"]);
    let log = s.json(&["audit", "log", "--json"]);
    let last = &log.as_array().unwrap()[4];
    assert_eq!(head["seq"], 5);
    assert_eq!(head["hash"], last["hash"]);
    assert_eq!(head["at"], last["at"]);
    assert_eq!(head["tag"].as_str().unwrap().len(), 64);
    let verified = s.json(&["audit", "verify", "--json"]);
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["head"], head);
    assert_eq!(verified["witness"]["state"], "matches");
    assert_eq!(verified["witness"]["last"]["hash"], head["hash"]);
    let text = s.ok(&["audit", "head"]);
    assert!(text.starts_with("event 5\n"), "{text}");
    assert!(text.contains(head["hash"].as_str().unwrap()), "{text}");
    assert!(text.contains(head["tag"].as_str().unwrap()), "{text}");
    let empty = Sandbox::new();
    assert_eq!(
        empty.ok(&["audit", "head"]).trim(),
        "the audit log is empty"
    );
}

#[test]
fn a_head_forged_without_the_key_fails_verify() {
    let s = history();
    // Cut the last event and point the head at event 4, keeping the old tag.
    let four = {
        let db = common::open_sled(&s.db());
        db.open_tree("audit").unwrap().get(key(4)).unwrap().unwrap()
    };
    tamper(&s, |t| {
        t.remove(key(5)).unwrap();
    });
    tamper_tree(&s, "meta", |t| {
        let mut head = t.get("audit_head").unwrap().unwrap().to_vec();
        head[..8].copy_from_slice(&4u64.to_be_bytes());
        head[8..40].copy_from_slice(&four[..32]);
        t.insert("audit_head", head).unwrap();
    });
    let err = s.fails(&["audit", "verify"], 1);
    assert!(
        err.contains("chain head (event 4) is not tagged with this database's key"),
        "{err}"
    );
    // Without a tag at all.
    tamper_tree(&s, "meta", |t| {
        let head = t.get("audit_head").unwrap().unwrap();
        t.insert("audit_head", &head[..40]).unwrap();
    });
    let err = s.fails(&["audit", "verify"], 1);
    assert!(err.contains("carries no key tag"), "{err}");
}

/// Issue 27, item 4: putting an old copy back *and* deleting the witness used to pass as a
/// warning, and the next write silently started a new witness at the rolled-back head.
#[test]
fn a_rollback_behind_a_deleted_witness_fails_verify_and_stops_writes_until_reset() {
    let s = history();
    let copy = s.path("db-copy");
    cp_r(&s.db(), &copy);
    s.ok(&["incident", "note", "1", "read the exposed bucket"]);
    put_back(&s, &copy);
    std::fs::remove_file(witness(&s)).unwrap();

    let err = s.fails(&["audit", "verify"], 1);
    assert!(
        err.contains("is gone or records nothing of this database"),
        "{err}"
    );
    assert!(err.contains("audit witness reset --reason"), "{err}");
    let err = s.fails(&["incident", "note", "1", "hidden"], 2);
    assert!(
        err.contains("nothing was written: the audit witness"),
        "{err}"
    );
    assert!(!witness(&s).exists(), "no new witness was started silently");

    let out = s.ok(&[
        "audit",
        "witness",
        "reset",
        "--reason",
        "restored from the 09:00 backup on purpose",
    ]);
    assert!(
        out.starts_with("audit witness re-established; the new head:\nevent 6\n"),
        "{out}"
    );
    let (code, out, err) = verify(&s);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("audit-witness last recorded event 6"), "{out}");
    let log = s.json(&["audit", "log", "--json"]);
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "audit.witness-reset");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("restored from the 09:00 backup on purpose"),
        "{last}"
    );
    s.ok(&["incident", "note", "1", "writes go on"]);
    let err = s.fails(&["audit", "witness", "reset", "--reason", "again"], 2);
    assert!(err.contains("nothing to re-establish"), "{err}");
}

#[test]
fn the_witness_is_private_and_can_be_moved() {
    let s = history();
    common::assert_mode(&witness(&s), 0o600);
    let moved = Sandbox::new();
    moved.write("config.toml", "[audit]\nwitness = \"elsewhere/witness\"\n");
    moved.open_incident("Leak", 2);
    common::assert_mode(&moved.path("elsewhere/witness"), 0o600);
    assert!(!witness(&moved).exists());
    assert!(moved.ok(&["audit", "verify"]).contains("elsewhere/witness"));
    let inside = Sandbox::new();
    inside.write("config.toml", "[audit]\nwitness = \"db/witness\"\n");
    let err = inside.fails(&["incident", "list"], 2);
    assert!(err.contains("inside the database directory"), "{err}");
}

#[test]
fn a_database_of_the_previous_format_is_keyed_when_opened() {
    let s = history();
    tamper_tree(&s, "meta", |t| {
        let head = t.get("audit_head").unwrap().unwrap();
        t.insert("audit_head", &head[..40]).unwrap();
        t.insert("format_version", &2u32.to_be_bytes()).unwrap();
    });
    let (code, out, err) = verify(&s);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("head: event 5"), "{out}");
    assert_eq!(
        s.json(&["audit", "head", "--json"])["tag"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
}

#[test]
fn verify_names_an_altered_event() {
    let s = history();
    tamper(&s, |t| {
        let mut raw = t.get(key(2)).unwrap().unwrap().to_vec();
        let text = String::from_utf8(raw.split_off(32))
            .unwrap()
            .replace("first note", "nothing to see");
        raw.extend_from_slice(text.as_bytes());
        t.insert(key(2), raw).unwrap();
    });
    let err = s.fails(&["audit", "verify"], 1);
    assert!(err.contains("event 2") && err.contains("altered"), "{err}");
}

#[test]
fn verify_names_a_removed_event() {
    let s = history();
    tamper(&s, |t| {
        t.remove(key(3)).unwrap();
    });
    let err = s.fails(&["audit", "verify"], 1);
    assert!(err.contains("event 3 is missing"), "{err}");
}

#[test]
fn verify_names_reordered_events() {
    let s = history();
    tamper(&s, |t| {
        let two = t.get(key(2)).unwrap().unwrap();
        let three = t.get(key(3)).unwrap().unwrap();
        t.insert(key(2), three).unwrap();
        t.insert(key(3), two).unwrap();
    });
    let err = s.fails(&["audit", "verify"], 1);
    assert!(err.contains("event 3: stored under key 2"), "{err}");
}

#[test]
fn verify_notices_events_cut_from_the_end() {
    let s = history();
    tamper(&s, |t| {
        t.remove(key(5)).unwrap();
    });
    let err = s.fails(&["audit", "verify"], 1);
    assert!(
        err.contains("ends at event 4") && err.contains("records event 5"),
        "{err}"
    );
}

#[test]
fn verify_notices_a_rewritten_chain_tail() {
    let s = history();
    // Replace the last event with a self-consistent forgery chained to event 4.
    tamper(&s, |t| {
        let four = t.get(key(4)).unwrap().unwrap();
        let five = t.get(key(5)).unwrap().unwrap();
        let body = String::from_utf8(five[32..].to_vec())
            .unwrap()
            .replace("second note", "forged");
        let hash = breachdesk::audit::link(four[..32].try_into().unwrap(), body.as_bytes());
        let mut record = hash.to_vec();
        record.extend_from_slice(body.as_bytes());
        t.insert(key(5), record).unwrap();
    });
    let err = s.fails(&["audit", "verify"], 1);
    assert!(
        err.contains("chain head does not match the last event 5"),
        "{err}"
    );
}
