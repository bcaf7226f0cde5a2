//! The database on disk: where it lives, its permissions, its format version, and that
//! what one process wrote is all there when the next one opens it.

mod common;

use breachdesk::domain::{IncidentId, ProgramState, Status};
use breachdesk::store::Store;
use common::{Sandbox, assert_mode, roster};

#[test]
fn everything_written_is_found_after_the_writer_is_gone() {
    let s = Sandbox::new();
    s.ok(&[
        "program",
        "add",
        "staff-monitoring",
        "--name",
        "Staff monitoring",
        "--pause-hook",
        "true",
    ]);
    s.open_incident("Leak", 2);
    s.import("1", &roster(500));
    s.ok(&["incident", "status", "1", "investigating"]);
    s.ok(common::PAUSE_STAFF_MONITORING);

    let store = Store::open(&s.db()).unwrap();
    let inc = store.incident(IncidentId::new(1)).unwrap().unwrap();
    assert_eq!(inc.title, "Leak");
    assert_eq!(inc.status, Status::Investigating);
    assert_eq!(inc.people, 500);
    let people: Vec<_> = store
        .people(IncidentId::new(1))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(people.len(), 500);
    assert_eq!(people[499].email.as_str(), "person499@corp.example");
    let program = store
        .program(&"staff-monitoring".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(program.state, ProgramState::Paused);
    let events: Vec<_> = store.events().collect::<Result<_, _>>().unwrap();
    assert_eq!(events.len(), 7);
    let (raw, head) = store.raw_audit().unwrap();
    assert_eq!(breachdesk::audit::verify(raw, head), Ok(7));
}

#[test]
fn database_directory_is_private() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    assert_mode(&s.db(), 0o700);
}

#[test]
fn default_location_is_under_the_data_dir() {
    let s = Sandbox::new();
    let out = s
        .cmd()
        .env_remove("BREACHDESK_DB")
        .args(["incident", "open", "--title", "x", "--severity", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = s.path("home/data/breachdesk");
    assert!(
        dir.join("conf").exists(),
        "no database at {}",
        dir.display()
    );
    assert_mode(&dir, 0o700);
}

#[test]
fn db_flag_beats_the_environment() {
    let s = Sandbox::new();
    let other = s.path("other-db");
    s.ok(&[
        "--db",
        other.to_str().unwrap(),
        "incident",
        "open",
        "--title",
        "x",
        "--severity",
        "3",
    ]);
    assert!(other.join("conf").exists());
    assert!(!s.db().exists());
}

#[test]
fn unknown_format_version_is_refused() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    {
        let db = sled::open(s.db()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert("format_version", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let err = s.fails(&["incident", "list"], 2);
    assert!(
        err.contains("has format version 99") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn a_directory_of_other_files_is_not_taken_over() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.db()).unwrap();
    std::fs::write(s.db().join("thesis.txt"), "precious").unwrap();
    let err = s.fails(&["incident", "list"], 2);
    assert!(err.contains("is not a breachdesk database"), "{err}");
    assert_eq!(std::fs::read_dir(s.db()).unwrap().count(), 1);
}

#[test]
fn a_database_in_use_gets_a_clear_message() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let _held = Store::open(&s.db()).unwrap();
    let err = s.fails(&["incident", "list"], 2);
    assert!(
        err.contains("in use by another breachdesk process"),
        "{err}"
    );
}
