//! The audit trail through the real binary, and tampering with it by editing the database
//! directly.

mod common;

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
    let db = sled::open(s.db()).unwrap();
    let tree = db.open_tree("audit").unwrap();
    edit(&tree);
    db.flush().unwrap();
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
    assert_eq!(
        s.ok(&["audit", "verify"]).trim(),
        "audit log intact: 5 events checked"
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
