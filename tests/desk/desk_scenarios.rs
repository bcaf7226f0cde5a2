//! Every desk scenario run three times: against the local desk on a real sled database,
//! against a remote desk through a daemon serving the same kind of database in this process
//! (a real Unix socket, peer credentials, the wire protocol), and against the local desk on
//! a PostgreSQL database (a throwaway cluster, `common/pg.rs`; skipped, saying so, where
//! PostgreSQL is not installed). `desk_test!` writes the tests from one body, so a
//! difference between the desks or the engines is a failing test.

use crate::pg;
use crate::smtp;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{
    Desk, ErrorKind, IncidentFilter, LinkOutcome, LocalDesk, PauseOutcome, PeopleFilter, ReadPath,
    ResumeOutcome, SendOptions,
};
use breachdesk::domain::{
    IncidentId, NewIncident, NewProgram, ObligationState, ProgramSlug, Severity, Status, UserName,
};
use breachdesk::notify::TemplateName;
use breachdesk::notify::bounce::BounceReport;
use breachdesk::remote::{RemoteDesk, serve_until};
use breachdesk::store::Store;
use tempfile::TempDir;

/// A desk under test, with what keeps it alive.
struct Bench {
    desk: Arc<dyn Desk>,
    actor: UserName,
    smtp: smtp::SmtpServer,
    _dir: TempDir,
    stop: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some((stop, server)) = self.stop.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = server.join();
        }
    }
}

fn local_desk(dir: &TempDir, smtp: &smtp::SmtpServer) -> LocalDesk {
    let config = dir.path().join("config.toml");
    std::fs::write(&config, smtp.config("connections = 2")).unwrap();
    let settings = Settings::load(&config, true).unwrap();
    let db = dir.path().join("db");
    let key = Key::for_database(&db, Some(&dir.path().join("key"))).unwrap();
    LocalDesk::new(Store::open(&db, &key).unwrap(), settings)
}

/// A local desk on a new PostgreSQL database; `None` without PostgreSQL.
fn postgres() -> Option<Bench> {
    let url = pg::fresh_database()?;
    let dir = tempfile::tempdir().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let config = dir.path().join("config.toml");
    std::fs::write(&config, smtp.config("connections = 2")).unwrap();
    let settings = Settings::load(&config, true).unwrap();
    let local = dir.path().join("journal");
    let key = Key::for_database(&local, Some(&dir.path().join("key"))).unwrap();
    let store = Store::open_postgres(&url, &key, &local).unwrap();
    let desk = LocalDesk::new(store, settings);
    Some(Bench {
        desk: Arc::new(Arc::new(desk).session(breachdesk::identity::current_user())),
        actor: breachdesk::identity::current_user(),
        smtp,
        _dir: dir,
        stop: None,
    })
}

fn local() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let desk = local_desk(&dir, &smtp);
    Bench {
        desk: Arc::new(Arc::new(desk).session(breachdesk::identity::current_user())),
        actor: breachdesk::identity::current_user(),
        smtp,
        _dir: dir,
        stop: None,
    }
}

fn remote() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let desk = local_desk(&dir, &smtp);
    let socket: PathBuf = dir.path().join("breachdesk.sock");
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let (socket, stop) = (socket.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            serve_until(desk, &socket, None, stop, &mut std::io::sink()).unwrap();
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Bench {
        desk: Arc::new(RemoteDesk::connect(&socket).unwrap()),
        actor: breachdesk::identity::current_user(),
        smtp,
        _dir: dir,
        stop: Some((stop, server)),
    }
}

/// `desk_test!(name, |b| body)` makes `name::local`, `name::remote` and `name::postgres`.
macro_rules! desk_test {
    ($name:ident, |$b:ident| $body:block) => {
        mod $name {
            use super::*;

            fn scenario($b: &Bench) $body

            #[test]
            fn local() {
                scenario(&super::local());
            }

            #[test]
            fn remote() {
                scenario(&super::remote());
            }

            #[test]
            fn postgres() {
                if let Some(b) = super::postgres() {
                    scenario(&b);
                }
            }
        }
    };
}

fn roster(n: usize) -> String {
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..n {
        let place = ["US-CA", "DE", "NZ"][i % 3];
        csv.push_str(&format!(
            "E{i:04},Person {i},person{i}@corp.example,keystrokes;chat-messages,{place}\n"
        ));
    }
    csv
}

fn open(b: &Bench, title: &str, severity: u8) -> IncidentId {
    let new = NewIncident::new(title, Severity::new(severity).unwrap(), "").unwrap();
    b.desk.open_incident(new).unwrap().id
}

desk_test!(incidents_open_change_and_show, |b| {
    let id = open(b, "Monitoring data readable by all", 3);
    let changed = b
        .desk
        .set_severity(
            id,
            Severity::new(2).unwrap(),
            "exposed to everyone".to_owned(),
        )
        .unwrap();
    assert_eq!(changed.severity.level(), 2);
    b.desk
        .set_status(id, Status::Investigating, None, false)
        .unwrap();
    let note = b.desk.add_note(id, "paused collection".to_owned()).unwrap();
    assert_eq!(note.draft.detail, "paused collection");
    let shown = b.desk.incident(id).unwrap();
    assert_eq!(shown.status, Status::Investigating);
    let listed = b.desk.incidents(IncidentFilter::default()).unwrap();
    assert_eq!(listed.len(), 1);
    let actions: Vec<&str> = b
        .desk
        .timeline(id)
        .unwrap()
        .iter()
        .map(|e| e.draft.action.as_str())
        .collect();
    for want in [
        "incident.opened",
        "incident.severity",
        "incident.status",
        "incident.note",
    ] {
        assert!(actions.contains(&want), "{actions:?}");
    }
});

desk_test!(owner_members_and_clocks, |b| {
    let id = open(b, "Exposure", 2);
    let colleague = UserName::parse("rita").unwrap();
    let with = b.desk.set_member(id, colleague.clone(), true).unwrap();
    assert!(with.members.contains(&colleague));
    let without = b.desk.set_member(id, colleague.clone(), false).unwrap();
    assert!(!without.members.contains(&colleague));
    let assigned = b.desk.assign(id, colleague.clone()).unwrap();
    assert_eq!(assigned.owner, colleague);
    let aware = chrono::Utc::now() - chrono::Duration::hours(3);
    let clocked = b
        .desk
        .set_clock(
            id,
            Some(aware),
            None,
            "learned of it from the ticket".to_owned(),
        )
        .unwrap();
    assert_eq!(
        clocked.aware_at.map(|t| t.timestamp()),
        Some(aware.timestamp())
    );
    let future = chrono::Utc::now() + chrono::Duration::days(2);
    let refused = b.desk.set_clock(id, Some(future), None, "typo".to_owned());
    assert!(refused.unwrap_err().is_user_error());
});

desk_test!(roster_import_people_and_windows, |b| {
    let id = open(b, "Exposure", 2);
    let report = b
        .desk
        .import_roster(
            id,
            roster(300).as_bytes().to_vec(),
            "roster.csv".to_owned(),
            false,
        )
        .unwrap();
    assert_eq!((report.rows, report.added), (300, 300));
    let again = b
        .desk
        .import_roster(
            id,
            roster(300).as_bytes().to_vec(),
            "roster.csv".to_owned(),
            false,
        )
        .unwrap();
    assert_eq!(again.unchanged, 300);
    let bad = b.desk.import_roster(
        id,
        b"employee_id,name,email\nE1,Ann,not-an-address\n".to_vec(),
        "bad.csv".to_owned(),
        false,
    );
    assert!(bad.unwrap_err().is_user_error());
    let people = b
        .desk
        .people(id, PeopleFilter::default(), ReadPath::PeopleList)
        .unwrap();
    assert_eq!(people.len(), 300);
    let window = b.desk.people_window(id, 250, 40).unwrap();
    assert_eq!(window.len(), 40);
    assert_eq!(window[0].employee_id.as_str(), "E0250");
    let log = b.desk.access_log(Some(id), None).unwrap();
    assert!(log.iter().any(|e| {
        e.draft
            .access
            .as_ref()
            .is_some_and(|a| a.path == "people.list")
    }));
});

desk_test!(programmes_add_link_pause_resume, |b| {
    let id = open(b, "Exposure", 2);
    let slug: ProgramSlug = "staff-monitoring".parse().unwrap();
    let new = NewProgram::new(
        "staff-monitoring".parse().unwrap(),
        "Staff monitoring",
        Some("echo stopped"),
        Some("echo started"),
    )
    .unwrap();
    b.desk.add_program(new).unwrap();
    assert_eq!(
        b.desk.link_program(slug.clone(), id).unwrap(),
        LinkOutcome::Linked
    );
    let paused = b
        .desk
        .pause_program(slug.clone(), id, "exposure".to_owned())
        .unwrap();
    assert!(
        matches!(paused, PauseOutcome::Paused { hook: Some(_) }),
        "{paused:?}"
    );
    let again = b
        .desk
        .pause_program(slug.clone(), id, "again".to_owned())
        .unwrap();
    assert!(
        matches!(again, PauseOutcome::AlreadyPaused { .. }),
        "{again:?}"
    );
    let refused = b
        .desk
        .resume_program(slug.clone(), "too early".to_owned(), false);
    assert!(
        refused.unwrap_err().is_user_error(),
        "a SEV 2 incident is open"
    );
    b.desk
        .set_status(id, Status::Investigating, None, false)
        .unwrap();
    let forced = b
        .desk
        .resume_program(slug, "admin call".to_owned(), true)
        .unwrap();
    assert!(
        matches!(forced, ResumeOutcome::Resumed { ref forced_over, .. } if forced_over == &[id]),
        "{forced:?}"
    );
    let state = b.desk.programs().unwrap()[0].state;
    assert_eq!(state.as_str(), "active");
    let timeline = b.desk.timeline(id).unwrap();
    let paused = timeline
        .iter()
        .find(|e| e.draft.action.as_str() == "program.paused")
        .unwrap();
    assert!(
        paused
            .revealed
            .as_deref()
            .is_some_and(|r| r.contains("stopped")),
        "{paused:?}"
    );
});

desk_test!(obligations_and_evidence, |b| {
    let id = open(b, "Exposure", 2);
    b.desk
        .import_roster(
            id,
            roster(9).as_bytes().to_vec(),
            "roster.csv".to_owned(),
            false,
        )
        .unwrap();
    let rules: Vec<String> = b
        .desk
        .obligations(Some(id))
        .unwrap()
        .iter()
        .map(|o| o.rule.clone())
        .collect();
    assert!(rules.iter().any(|r| r == "gdpr-33"), "{rules:?}");
    let done = b
        .desk
        .settle_obligation(
            id,
            "gdpr-33".to_owned(),
            ObligationState::Done {
                at: chrono::Utc::now() - chrono::Duration::minutes(5),
                reference: Some("DPC-1".into()),
                phase: None,
            },
        )
        .unwrap();
    assert!(matches!(done.state, ObligationState::Done { .. }));
    let log = "accessed_at,accessor,employee_id,action\n\
               2026-11-19T10:00:00Z,mallory,E0001,read\n\
               2026-11-19T10:05:00Z,mallory,E0002,download\n";
    let summary = b
        .desk
        .import_evidence(
            id,
            &mut log.as_bytes(),
            "access.csv",
            &breachdesk::evidence::EvidenceOptions::default(),
        )
        .unwrap();
    assert_eq!(summary.rows, 2);
    let evidence = b.desk.evidence(id).unwrap();
    assert_eq!(evidence.rows, 2);
    assert_eq!(evidence.accessors[0].accessor, "mallory");
});

desk_test!(queue_send_retry_and_status, |b| {
    let id = open(b, "Exposure", 2);
    b.desk
        .import_roster(
            id,
            roster(12).as_bytes().to_vec(),
            "roster.csv".to_owned(),
            false,
        )
        .unwrap();
    let queued = b
        .desk
        .queue_notifications(
            id,
            TemplateName::Initial,
            PeopleFilter::default(),
            Vec::new(),
            None,
        )
        .unwrap();
    assert_eq!(queued.queued, 12);
    let preview = b
        .desk
        .preview_letter(id, TemplateName::Initial, None)
        .unwrap();
    assert!(preview.contains("Message-ID"), "{preview}");
    let sent = b
        .desk
        .send_notifications(Some(id), &SendOptions::default(), &mut |_| {})
        .unwrap();
    assert_eq!((sent.sent, sent.failed), (12, 0));
    assert_eq!(b.smtp.messages().len(), 12);
    let status = b.desk.outbox_status(id, ReadPath::NotifyStatus).unwrap();
    assert_eq!(status.counts["sent"], 12);
    assert_eq!(b.desk.retry_failed(id).unwrap(), 0);
    assert_eq!(b.desk.incident(id).unwrap().notified, 12);

    // A bounce for one letter, named by its Message-ID: that person is no longer notified.
    let first = &b.smtp.messages()[0];
    let report = BounceReport {
        source: "new/1.eml".into(),
        tokens: Vec::new(),
        message_id: first.header("Message-ID"),
        status: "5.1.1".into(),
        diagnostic: "unknown user".into(),
    };
    let outcome = b
        .desk
        .record_bounces(Some(id), vec![report.clone()])
        .unwrap();
    assert_eq!(
        (outcome.bounced, outcome.people, outcome.already),
        (1, 1, 0)
    );
    let again = b
        .desk
        .record_bounces(Some(id), vec![report.clone()])
        .unwrap();
    assert_eq!((again.bounced, again.already), (0, 1));
    assert_eq!(b.desk.incident(id).unwrap().notified, 11);
    let undeliverable = PeopleFilter {
        undeliverable: true,
        ..PeopleFilter::default()
    };
    let people = b
        .desk
        .people(id, undeliverable, ReadPath::PeopleList)
        .unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(
        people[0].email.as_str(),
        first.to[0].trim_matches(['<', '>'])
    );
    let status = b.desk.outbox_status(id, ReadPath::NotifyStatus).unwrap();
    assert_eq!((status.counts["sent"], status.counts["bounced"]), (11, 1));
    let forged = BounceReport {
        status: "2.0.0".into(),
        ..report
    };
    let refused = b.desk.record_bounces(Some(id), vec![forged]).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid, "{refused}");
});

desk_test!(reports_and_audit, |b| {
    let id = open(b, "Exposure", 2);
    b.desk
        .import_roster(
            id,
            roster(6).as_bytes().to_vec(),
            "roster.csv".to_owned(),
            false,
        )
        .unwrap();
    let report =
        breachdesk::report::gather(b.desk.as_ref(), &b.actor, id, chrono::Utc::now()).unwrap();
    let text = breachdesk::report::markdown(&report);
    assert!(text.contains("Exposure"), "{text}");
    let verified = b.desk.verify_audit().unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    let head = b.desk.audit_head().unwrap();
    assert!(head.is_some());
    let all = b.desk.audit_log(None).unwrap();
    assert!(all.len() >= 3, "{}", all.len());
});

desk_test!(watchers_see_each_change_within_a_second, |b| {
    let id = open(b, "Exposure", 3);
    let notices = b.desk.watch().unwrap();
    b.desk
        .set_severity(id, Severity::new(2).unwrap(), "exposed to all".to_owned())
        .unwrap();
    let notice = notices.recv_timeout(Duration::from_secs(1)).unwrap();
    assert_eq!(notice.action.as_str(), "incident.severity");
    assert_eq!(notice.incident, Some(id));
    // Reads are not changes: they are not announced.
    b.desk
        .people(id, PeopleFilter::default(), ReadPath::PeopleList)
        .unwrap();
    let opened = open(b, "Second", 4);
    let next = notices.recv_timeout(Duration::from_secs(1)).unwrap();
    assert_eq!(
        (next.action.as_str(), next.incident),
        ("incident.opened", Some(opened))
    );
});
