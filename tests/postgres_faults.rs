//! PostgreSQL going away under a send, on a cluster of this test's own (stopped and started
//! again at a chosen point: after the send has recorded its first outcomes). The send must
//! stop with a clear error and record nothing wrong; the next send, once the database is
//! back, must finish with every person sent exactly one letter (the letters delivered while
//! the database was gone are in the daemon's journal, not sent again). Skipped, saying so,
//! where PostgreSQL is not installed.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

#[path = "common/pg.rs"]
mod pg;
#[path = "common/smtp.rs"]
mod smtp;

use std::collections::HashMap;
use std::sync::Arc;

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk, PeopleFilter, SendOptions};
use breachdesk::domain::{NewIncident, Severity};
use breachdesk::notify::TemplateName;
use breachdesk::store::Store;

#[test]
fn postgres_stopped_mid_send_then_a_later_send_misses_nobody_and_repeats_nobody() {
    let Some(cluster) = pg::own_cluster("faults") else {
        return;
    };
    let url = cluster.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let config = dir.path().join("config.toml");
    std::fs::write(&config, smtp.config("connections = 4")).unwrap();
    let settings = Settings::load(&config, true).unwrap();
    let key = Key::generate().unwrap();
    let store = Store::open_postgres(&url, &key, &dir.path().join("journal")).unwrap();
    let desk =
        Arc::new(LocalDesk::new(store, settings)).session(breachdesk::identity::current_user());

    let new = NewIncident::new("Exposure", Severity::new(2).unwrap(), "").unwrap();
    let id = desk.open_incident(new).unwrap().id;
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..400 {
        csv.push_str(&format!(
            "E{i:04},Person {i},person{i}@corp.example,keystrokes,DE\n"
        ));
    }
    desk.import_roster(id, csv.into_bytes(), "roster.csv".into(), false)
        .unwrap();
    desk.queue_notifications(
        id,
        TemplateName::Initial,
        PeopleFilter::default(),
        Vec::new(),
        None,
    )
    .unwrap();

    // The chosen point: the first progress report, after the first outcomes are committed.
    let mut stopped = false;
    let failed = desk
        .send_notifications(Some(id), &SendOptions::default(), &mut |p| {
            if !stopped && p.sent > 0 && p.sent < 400 {
                cluster.stop();
                stopped = true;
            }
        })
        .expect_err("the send cannot record its outcomes without the database");
    assert!(stopped, "the database was stopped mid-send");
    assert!(
        failed.to_string().contains("PostgreSQL"),
        "the error names the database: {failed}"
    );
    let before = smtp.messages().len();
    assert!(before < 400, "the send stopped early ({before} letters)");

    cluster.start();
    let done = desk
        .send_notifications(Some(id), &SendOptions::default(), &mut |_| {})
        .unwrap();
    assert_eq!(done.failed, 0);
    let mut per_person: HashMap<String, usize> = HashMap::new();
    for m in smtp.messages() {
        for to in m.to {
            *per_person.entry(to).or_default() += 1;
        }
    }
    assert_eq!(per_person.len(), 400, "nobody missed");
    let twice: Vec<_> = per_person.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "letters sent twice: {twice:?}");
    let status = desk
        .outbox_status(id, breachdesk::desk::ReadPath::NotifyStatus)
        .unwrap();
    assert_eq!(status.counts["sent"], 400);
    assert_eq!(desk.incident(id).unwrap().notified, 400);
}
