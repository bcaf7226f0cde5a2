//! No input makes breachdesk panic: property tests over roster rows, argument values and
//! desk calls on a real store.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use breachdesk::cli::Cli;
use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk};
use breachdesk::domain::{CategoryCatalog, IncidentId, NewIncident, Severity, UserName};
use breachdesk::roster;
use breachdesk::store::Store;
use clap::Parser;
use proptest::prelude::*;

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 @._;-]{0,30}",
        any::<String>(),
        Just("a@b.de".to_owned()),
        Just("keystrokes;screenshots".to_owned()),
        Just("\"quoted, \"\"field\"\"\"".to_owned()),
        Just("x".repeat(1001)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn roster_parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = roster::parse(&bytes, "fuzz.csv", &CategoryCatalog::default());
    }

    #[test]
    fn roster_rows_are_accepted_only_when_clean(rows in proptest::collection::vec(proptest::collection::vec(field(), 0..7), 0..12)) {
        let mut csv = String::from("employee_id,name,email,categories,location\n");
        for row in &rows {
            csv.push_str(&row.join(","));
            csv.push('\n');
        }
        if let Ok(people) = roster::parse(csv.as_bytes(), "fuzz.csv", &CategoryCatalog::default()) {
            for p in people {
                prop_assert!(!p.name.chars().any(char::is_control));
                prop_assert!(p.name.chars().count() <= roster::MAX_FIELD_CHARS);
                prop_assert!(!p.categories.is_empty());
            }
        }
    }

    #[test]
    fn argument_values_never_panic(a in any::<String>(), b in any::<String>(), c in any::<String>()) {
        let a = a.replace('\0', "");
        let b = b.replace('\0', "");
        let c = c.replace('\0', "");
        let shapes: [Vec<&str>; 6] = [
            vec!["breachdesk", "incident", "severity", &a, &b, "--reason", &c],
            vec!["breachdesk", "incident", "open", "--title", &a, "--severity", &b, "--discovered", &c],
            vec!["breachdesk", "incident", "status", &a, &b],
            vec!["breachdesk", "incident", "list", "--max-severity", &a, "--status", &b],
            vec!["breachdesk", "program", "pause", &a, "--incident", &b, "--reason", &c],
            vec!["breachdesk", "people", "list", &a, "--category", &b],
        ];
        for args in shapes {
            let _ = Cli::try_parse_from(args);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn desk_calls_with_any_text_never_panic(title in any::<String>(), note in any::<String>(), user in any::<String>(), level in any::<u8>()) {
        let dir = tempfile::tempdir().unwrap();
        let actor = UserName::parse("tester").unwrap();
        let desk = LocalDesk::for_local_user(Store::open(dir.path(), &Key::generate().unwrap()).unwrap(), Settings::defaults(), actor.clone());
        let desk = std::sync::Arc::new(desk).session(actor.clone());
        let severity = Severity::new(level % 6).unwrap();
        let opened = NewIncident::new(&title, severity, &note).map(|new| desk.open_incident(new));
        let id = IncidentId::new(1);
        let _ = desk.add_note(id, note.clone());
        if let Ok(owner) = UserName::parse(&user) {
            let _ = desk.assign(id, owner);
        }
        let _ = desk.set_severity(id, Severity::LEAST, note);
        if let Ok(Ok(inc)) = opened {
            prop_assert!(!inc.title.chars().any(char::is_control));
        }
        prop_assert_eq!(desk.verify_audit().unwrap().is_ok(), true);
    }
}
