//! No input makes breachdesk panic: property tests over roster rows, argument values and
//! desk calls on a real store; and every desk operation through the daemon at the edges of
//! valid input (`through_the_daemon`).

use breachdesk::cli::Cli;
use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk};
use breachdesk::domain::{CategoryCatalog, IncidentId, NewIncident, Severity, UserName};
use breachdesk::roster;
use breachdesk::store::Store;
use clap::Parser;
use proptest::prelude::*;

use crate::common;
use crate::daemon_support as daemon;

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

/// No valid input panics the daemon (issue 27, item 7). Every desk operation goes through
/// `breachdesk serve` on a real socket with values at the edges of what is valid: the
/// longest address, employee id, programme slug, title, name, note and reason; empty lists;
/// the most and least critical severities; the largest incident number and window. After
/// each call the daemon must still answer, and its log must hold no panic. An operation
/// may refuse (not found, conflict, a mail server that is not there): only a panic fails.
mod through_the_daemon {
    use super::common::Sandbox;
    use super::daemon::Daemon;
    use breachdesk::desk::{Desk, DeskError, ErrorKind, IncidentFilter, PeopleFilter, ReadPath};
    use breachdesk::domain::{
        Email, EmployeeId, HarmInputs, IncidentId, NewIncident, NewProgram, ObligationState,
        ProgramSlug, SeriousHarm, Severity, Status, UserName,
    };
    use breachdesk::notify::TemplateName;
    use breachdesk::notify::bounce::BounceReport;
    use breachdesk::remote::RemoteDesk;

    /// The longest valid address: a 64-character local part and a 254-character whole.
    fn longest_email() -> Email {
        let local = "l".repeat(64);
        // 254 - 65 = 189 characters of domain: three labels of 63 and dots.
        let domain = format!("{}.{}.{}", "a".repeat(63), "b".repeat(62), "c".repeat(62));
        let address = format!("{local}@{domain}");
        assert_eq!(address.len(), 254);
        Email::parse(&address).unwrap()
    }

    fn longest_employee_id() -> EmployeeId {
        EmployeeId::parse(&"E".repeat(128)).unwrap()
    }

    fn longest_slug() -> ProgramSlug {
        "p".repeat(64).parse().unwrap()
    }

    fn reason() -> String {
        "r".repeat(1000)
    }

    /// What an operation gave: anything but a sign of a panic (a dropped connection or an
    /// internal error) is fine.
    fn survived<T>(what: &str, result: Result<T, DeskError>) {
        if let Err(e) = result {
            assert_ne!(e.kind(), ErrorKind::Internal, "{what}: {e}");
            let text = e.to_string();
            assert!(
                !text.contains("connection") || e.kind() != ErrorKind::Unavailable,
                "{what}: the daemon dropped the call: {text}"
            );
        }
    }

    #[test]
    fn every_desk_operation_survives_the_edges_of_valid_input() {
        let sb = Sandbox::new();
        sb.write(
            "config.toml",
            "[smtp]\nhost = \"127.0.0.1\"\nport = 9\nfrom = \"privacy@corp.example\"\ntimeout_secs = 1\n\
             [contact]\nname = \"Privacy Team\"\nemail = \"privacy@corp.example\"\n",
        );
        let log = sb.path("daemon.log");
        let mut daemon = Daemon::start_logging(&sb, Some(&log));
        let desk = RemoteDesk::connect(&daemon.socket).unwrap();
        let me = breachdesk::identity::current_user();
        let nowhere = IncidentId::new(u64::MAX);

        let mut worst = NewIncident::new(
            &"T".repeat(200),
            Severity::new(0).unwrap(),
            &"s".repeat(10_000),
        )
        .unwrap();
        worst.categories =
            [breachdesk::domain::CategoryName::try_from("keystrokes".to_owned()).unwrap()]
                .into_iter()
                .collect();
        let id = desk.open_incident(worst).unwrap().id;
        let least = NewIncident::new("t", Severity::new(5).unwrap(), "").unwrap();
        survived("open_incident SEV 5", desk.open_incident(least));
        let roster = format!(
            "employee_id,name,email,categories,location\n{},{},{},keystrokes,US-CA\n",
            longest_employee_id(),
            "N".repeat(200),
            longest_email()
        );
        survived(
            "import_roster",
            desk.import_roster(id, roster.into_bytes(), "r.csv".into(), false),
        );
        survived(
            "import_roster (empty)",
            desk.import_roster(id, Vec::new(), "e.csv".into(), true),
        );

        let new_program = NewProgram::new(longest_slug(), &"P".repeat(200), None, None).unwrap();
        survived("add_program", desk.add_program(new_program.clone()));
        survived("edit_program", desk.edit_program(new_program));
        let harm: HarmInputs = serde_json::from_value(serde_json::json!({
            "dpc": 4, "dpc_reason": "x".repeat(1000), "ei": 4,
            "confidentiality": 2, "integrity": 2, "availability": 2, "malicious": 2
        }))
        .unwrap();
        let serious = SeriousHarm::new(true, std::array::from_fn(|_| "f".repeat(1000))).unwrap();
        let filter = PeopleFilter {
            text: Some("x".repeat(200)),
            ..PeopleFilter::default()
        };
        let bounce = BounceReport {
            source: "s".repeat(200),
            tokens: Vec::new(),
            message_id: Some(format!("<{}>", "m".repeat(240))),
            status: "5.1.1".into(),
            diagnostic: "d".repeat(500),
        };
        let done = ObligationState::Done {
            at: chrono::DateTime::UNIX_EPOCH,
            reference: Some("x".repeat(500)),
            phase: None,
        };

        for target in [id, nowhere] {
            let slug = longest_slug();
            survived("identity", Desk::identity(&desk));
            survived("incidents", desk.incidents(IncidentFilter::default()));
            survived(
                "incidents (most critical)",
                desk.incidents(IncidentFilter {
                    status: Some(Status::Open),
                    max_severity: Some(Severity::new(0).unwrap()),
                }),
            );
            survived("incident", desk.incident(target));
            survived("timeline", desk.timeline(target));
            survived(
                "set_severity",
                desk.set_severity(target, Severity::new(5).unwrap(), reason()),
            );
            survived(
                "assess_harm",
                desk.assess_harm(target, harm.clone(), reason()),
            );
            survived(
                "assess_serious_harm",
                desk.assess_serious_harm(target, serious.clone(), reason()),
            );
            survived("add_note", desk.add_note(target, "n".repeat(10_000)));
            survived("assign", desk.assign(target, me.clone()));
            survived(
                "set_member",
                desk.set_member(target, UserName::parse(&"u".repeat(32)).unwrap(), true),
            );
            survived("known_users", desk.known_users());
            survived(
                "set_clock",
                desk.set_clock(target, Some(chrono::DateTime::UNIX_EPOCH), None, reason()),
            );
            survived(
                "people",
                desk.people(target, filter.clone(), ReadPath::PeopleList),
            );
            survived(
                "people_window",
                desk.people_window(target, usize::MAX, usize::MAX),
            );
            survived("programs", desk.programs());
            survived("link_program", desk.link_program(slug.clone(), target));
            survived(
                "pause_program",
                desk.pause_program(slug.clone(), target, reason()),
            );
            survived(
                "resume_program",
                desk.resume_program(slug.clone(), reason(), true),
            );
            survived(
                "unlink_program",
                desk.unlink_program(slug.clone(), target, reason()),
            );
            survived("audit_log", desk.audit_log(Some(target)));
            survived("verify_audit", desk.verify_audit());
            survived("audit_head", desk.audit_head());
            survived("reset_witness", desk.reset_witness(reason()));
            survived(
                "access_log",
                desk.access_log(Some(target), Some(me.clone())),
            );
            for template in TemplateName::ALL {
                survived(
                    "preview_letter",
                    desk.preview_letter(target, template, Some(longest_employee_id())),
                );
                survived(
                    "queue_notifications",
                    desk.queue_notifications(
                        target,
                        template,
                        PeopleFilter::default(),
                        vec![longest_email()],
                        Some(reason()),
                    ),
                );
            }
            survived(
                "queue_notifications (no recipients)",
                desk.queue_notifications(
                    target,
                    TemplateName::StakeholderBrief,
                    PeopleFilter::default(),
                    Vec::new(),
                    None,
                ),
            );
            survived(
                "outbox_status",
                desk.outbox_status(target, ReadPath::PeopleList),
            );
            survived("retry_failed", desk.retry_failed(target));
            survived(
                "record_bounces",
                desk.record_bounces(Some(target), vec![bounce.clone()]),
            );
            survived(
                "record_bounces (none)",
                desk.record_bounces(None, Vec::new()),
            );
            survived("test_smtp", desk.test_smtp());
            survived("mail_readiness", desk.mail_readiness());
            survived("obligations", desk.obligations(Some(target)));
            survived("obligations (all)", desk.obligations(None));
            survived(
                "settle_obligation",
                desk.settle_obligation(target, "gdpr-33".into(), done.clone()),
            );
            survived(
                "settle_obligation (waived)",
                desk.settle_obligation(
                    target,
                    "r".repeat(64),
                    ObligationState::Waived { reason: reason() },
                ),
            );
            survived("evidence", desk.evidence(target));
            survived(
                "set_status",
                desk.set_status(target, Status::Closed, Some(reason()), false),
            );
            survived("purge_due", desk.purge_due(true));
            survived("purge_incident", desk.purge_incident(target, reason()));
        }

        // Still answering, and nothing panicked on the way.
        assert_eq!(Desk::identity(&desk).unwrap().user, me);
        assert!(desk.incidents(IncidentFilter::default()).unwrap().len() >= 2);
        assert!(
            daemon.child.try_wait().unwrap().is_none(),
            "the daemon is running"
        );
        daemon.sigterm();
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(!logged.contains("panicked"), "{logged}");
    }
}
