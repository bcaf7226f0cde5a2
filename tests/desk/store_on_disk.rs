//! The database on disk: where it lives, its permissions, its format version, and that
//! what one process wrote is all there when the next one opens it.

use crate::common;
use crate::smtp;

use std::path::Path;

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

    let store = Store::open(&s.db(), &s.key()).unwrap();
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
        let db = common::open_sled(&s.db());
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
    let _held = Store::open(&s.db(), &s.key()).unwrap();
    let err = s.fails(&["incident", "list"], 2);
    assert!(
        err.contains("in use by another breachdesk process"),
        "{err}"
    );
}

#[test]
fn personal_data_is_not_on_disk_in_the_clear() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    s.import(
        "1",
        "employee_id,name,email,categories\nE1,Zebediah Quartermaine,zebediah.q@corp.example,keystrokes\n",
    );
    s.write(
        "config.toml",
        "[smtp]\nfrom = \"privacy@corp.example\"\n[contact]\nemail = \"privacy@corp.example\"\n",
    );
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    // The roster and the letter are readable through breachdesk...
    let listed = s.ok(&["people", "list", "1"]);
    assert!(listed.contains("Zebediah Quartermaine"));
    let preview = s.ok(&["notify", "preview", "1", "--template", "initial"]);
    assert!(preview.contains("Zebediah"), "{preview}");
    // ...and nowhere in the raw files, whose modes are private.
    let files = common::files_under(&s.db());
    assert!(!files.is_empty());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for needle in [
            &b"Zebediah"[..],
            b"zebediah.q@corp.example",
            b"Quartermaine",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds {:?} in the clear",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    let mode = std::fs::metadata(s.db()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let key_file = s.path("home/config/breachdesk/key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_wrong_or_missing_key_is_a_clear_error_never_garbage() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    s.import("1", &roster(3));
    let key = s.key();
    let other = breachdesk::crypto::Key::generate().unwrap();
    let out = s
        .cmd()
        .env("BREACHDESK_KEY", other.to_hex())
        .args(["people", "list", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the key does not open the database"), "{err}");
    assert!(out.stdout.is_empty());

    // The right key through the environment works without the file.
    let key_file = s.path("home/config/breachdesk/key");
    std::fs::remove_file(&key_file).unwrap();
    let out = s
        .cmd()
        .env("BREACHDESK_KEY", key.to_hex())
        .args(["people", "list", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("person2@corp.example"));

    let err = s.fails(&["people", "list", "1"], 2);
    assert!(err.contains("is encrypted, but its key file"), "{err}");
    assert!(
        !key_file.exists(),
        "no new key is made for an existing database"
    );
    let err = s.fails(&["incident", "list"], 2);
    assert!(err.contains("does not exist"), "{err}");
}

/// Issue 27, item 2: a link planted where breachdesk writes a file is never followed and
/// never replaced: every writer refuses it, and the file it points at is untouched.
#[test]
fn no_writer_follows_a_link_planted_where_it_writes() {
    use std::os::unix::fs::symlink;
    let s = Sandbox::new();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    s.write("config.toml", &smtp.config(""));
    s.open_incident("Exposure", 2);
    s.import("1", &roster(3));
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    let victim = s.write("victim", "precious\n");
    let link = |at: &Path| {
        if let Some(dir) = at.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        let _ = std::fs::remove_file(at);
        symlink(&victim, at).unwrap();
        at.to_str().unwrap().to_owned()
    };
    let untouched = |case: &str| {
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "precious\n",
            "{case} wrote through the link"
        );
    };

    let out = link(&s.path("report.md"));
    s.fails(&["report", "1", "--out", &out], 2);
    untouched("report --out");
    let out = link(&s.path("people.csv"));
    s.fails(&["people", "export", "1", "--out", &out], 2);
    untouched("people export --out");
    link(&s.path("letters/000001-initial.eml"));
    let dir = s.path("letters");
    s.fails(
        &["notify", "export", "1", "--dir", dir.to_str().unwrap()],
        2,
    );
    untouched("notify export --dir");
    link(&s.path("man/breachdesk.1"));
    let dir = s.path("man");
    let err = s.fails(&["man", "--dir", dir.to_str().unwrap()], 2);
    assert!(err.contains("already holds breachdesk.1"), "{err}");
    let err = s.fails(&["man", "--dir", dir.to_str().unwrap(), "--force"], 2);
    assert!(err.contains("symbolic link; not replaced"), "{err}");
    untouched("man --dir");
    let config = std::fs::read_to_string(s.config()).unwrap();
    link(&s.config());
    s.fails(
        &[
            "init",
            "--non-interactive",
            "--force",
            "--contact-email",
            "privacy@corp.example",
        ],
        2,
    );
    untouched("init --force");
    std::fs::remove_file(s.config()).unwrap();
    std::fs::write(s.config(), config).unwrap();
    link(&s.db().join("sent.journal"));
    s.std_cmd().args(["notify", "send", "1"]).output().unwrap();
    untouched("the send journal");
    std::fs::remove_file(s.db().join("sent.journal")).unwrap();
    link(&s.path("home/config/breachdesk/audit-witness"));
    s.std_cmd()
        .args(["incident", "note", "1", "a note"])
        .output()
        .unwrap();
    untouched("the audit witness");
    link(&s.db().join("wrapping-keys"));
    s.std_cmd().args(["people", "list", "1"]).output().unwrap();
    untouched("the wrapping key's slots");
}
