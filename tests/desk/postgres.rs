//! PostgreSQL as the shared store: several desks (each standing for a daemon on its own
//! host, with its own journal directory) on one database in a throwaway cluster
//! (`common/pg.rs`). What a team relies on: one sender per outbox across daemons, an audit
//! chain that never forks, change notices that reach every daemon's clients, nothing
//! personal in a dump, schema versions, and moving a database in and back out. Skipped,
//! saying so in one line, where PostgreSQL is not installed.

use crate::common;
use crate::pg;
use crate::smtp;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, DeskError, LocalDesk, PeopleFilter, ReadPath, SendOptions, Session};
use breachdesk::domain::{IncidentId, NewIncident, Severity};
use breachdesk::notify::TemplateName;
use breachdesk::store::Store;
use tempfile::TempDir;

/// One daemon's desk on the shared database, with its own directory for the journal.
struct Daemon {
    desk: Session,
    _dir: TempDir,
}

fn daemon(url: &str, key: &Key, smtp: &smtp::SmtpServer) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, smtp.config("connections = 4")).unwrap();
    let settings = Settings::load(&config, true).unwrap();
    let store = Store::open_postgres(url, key, &dir.path().join("journal")).unwrap();
    let desk =
        Arc::new(LocalDesk::new(store, settings)).session(breachdesk::identity::current_user());
    Daemon { desk, _dir: dir }
}

fn roster(n: usize) -> Vec<u8> {
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..n {
        csv.push_str(&format!(
            "E{i:05},Quillon Vantrebe {i},qvantrebe{i}@corp.example,keystrokes;chat-messages,DE\n"
        ));
    }
    csv.into_bytes()
}

fn open_with_roster(desk: &dyn Desk, people: usize) -> IncidentId {
    let new = NewIncident::new("Exposure", Severity::new(2).unwrap(), "").unwrap();
    let id = desk.open_incident(new).unwrap().id;
    desk.import_roster(id, roster(people), "roster.csv".into(), false)
        .unwrap();
    id
}

#[test]
fn two_daemons_sending_the_same_letters_at_once_send_each_letter_once() {
    let Some(url) = pg::fresh_database() else {
        return;
    };
    let key = Key::generate().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let a = daemon(&url, &key, &smtp);
    let b = daemon(&url, &key, &smtp);
    let id = open_with_roster(&a.desk, 300);
    let queued = a
        .desk
        .queue_notifications(
            id,
            TemplateName::Initial,
            PeopleFilter::default(),
            Vec::new(),
            None,
        )
        .unwrap();
    assert_eq!(queued.queued, 300);

    let start = Arc::new(Barrier::new(2));
    let outcomes: Vec<Result<usize, DeskError>> = std::thread::scope(|s| {
        let runs: Vec<_> = [&a, &b]
            .into_iter()
            .map(|d| {
                let start = Arc::clone(&start);
                s.spawn(move || {
                    start.wait();
                    d.desk
                        .send_notifications(Some(id), &SendOptions::default(), &mut |_| {})
                        .map(|p| p.sent)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for outcome in &outcomes {
        match outcome {
            Ok(_) | Err(DeskError::SendRunning(_)) => {}
            Err(e) => panic!("a send failed: {e}"),
        }
    }
    let sent: usize = outcomes.iter().filter_map(|o| o.as_ref().ok()).sum();
    assert_eq!(sent, 300, "{outcomes:?}");
    let messages = smtp.messages();
    let people: HashSet<&String> = messages.iter().flat_map(|m| &m.to).collect();
    assert_eq!(messages.len(), 300, "every person exactly one letter");
    assert_eq!(people.len(), 300);
    assert_eq!(b.desk.incident(id).unwrap().notified, 300);
}

#[test]
fn concurrent_changes_on_two_daemons_keep_one_audit_chain() {
    let Some(url) = pg::fresh_database() else {
        return;
    };
    let key = Key::generate().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let a = daemon(&url, &key, &smtp);
    let b = daemon(&url, &key, &smtp);
    let new = NewIncident::new("Exposure", Severity::new(2).unwrap(), "").unwrap();
    let id = a.desk.open_incident(new).unwrap().id;
    let start = Arc::new(Barrier::new(2));
    std::thread::scope(|s| {
        for (name, d) in [("a", &a), ("b", &b)] {
            let start = Arc::clone(&start);
            s.spawn(move || {
                start.wait();
                for n in 0..25 {
                    d.desk
                        .add_note(id, format!("note {n} from {name}"))
                        .unwrap();
                }
            });
        }
    });
    let timeline = b.desk.timeline(id).unwrap();
    let notes = timeline
        .iter()
        .filter(|e| e.draft.detail.starts_with("note "))
        .count();
    assert_eq!(notes, 50, "no change lost");
    let verified = a.desk.verify_audit().unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    let seqs: Vec<u64> = a
        .desk
        .audit_log(None)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "one chain, no gaps, no fork");
}

#[test]
fn a_change_on_one_daemon_reaches_the_watchers_of_the_other() {
    let Some(url) = pg::fresh_database() else {
        return;
    };
    let key = Key::generate().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let a = daemon(&url, &key, &smtp);
    let b = daemon(&url, &key, &smtp);
    let notices = b.desk.watch().unwrap();
    // The listener connects in the background: announce until it hears one.
    let mut heard = None;
    for n in 0..100 {
        let new =
            NewIncident::new(&format!("Exposure {n}"), Severity::new(2).unwrap(), "").unwrap();
        let id = a.desk.open_incident(new).unwrap().id;
        if let Ok(notice) = notices.recv_timeout(Duration::from_millis(200)) {
            heard = Some((id, notice));
            break;
        }
    }
    let (_, notice) = heard.expect("a notice from the other daemon");
    assert!(notice.incident.is_some(), "{notice:?}");
}

#[test]
fn a_dump_of_the_database_shows_no_personal_data() {
    let Some(url) = pg::fresh_database() else {
        return;
    };
    let key = Key::generate().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let a = daemon(&url, &key, &smtp);
    let id = open_with_roster(&a.desk, 20);
    a.desk
        .queue_notifications(
            id,
            TemplateName::Initial,
            PeopleFilter::default(),
            Vec::new(),
            None,
        )
        .unwrap();
    let log = "accessed_at,accessor,employee_id,action\n2026-11-19T10:00:00Z,zorvath.kimble,E00001,read\n";
    a.desk
        .import_evidence(
            id,
            &mut log.as_bytes(),
            "access.csv",
            &breachdesk::evidence::EvidenceOptions::default(),
        )
        .unwrap();
    // The check finds what is stored in the clear: the incident's title.
    let clear = pg::tables_holding(&url, "Exposure");
    assert!(clear.contains(&"bd_incidents".to_owned()), "{clear:?}");
    for secret in [
        "Quillon",
        "Vantrebe",
        "qvantrebe",
        "corp.example",
        "zorvath",
    ] {
        let found = pg::tables_holding(&url, secret);
        assert!(found.is_empty(), "'{secret}' is readable in {found:?}");
    }
    // And the desk still reads it all back with the key.
    let people = a
        .desk
        .people(id, PeopleFilter::default(), ReadPath::PeopleList)
        .unwrap();
    assert_eq!(people.len(), 20);
}

#[test]
fn a_database_without_tables_is_refused_until_migrated() {
    let Some(url) = pg::empty_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let refused = Store::open_postgres(&url, &key, dir.path()).err().unwrap();
    assert!(
        refused.to_string().contains("breachdesk db migrate"),
        "{refused}"
    );
    breachdesk::store::PgEngine::connect(&url)
        .unwrap()
        .migrate()
        .unwrap();
    Store::open_postgres(&url, &key, dir.path()).unwrap();
}

#[test]
fn db_copy_moves_a_database_into_postgresql_and_back() {
    let Some(url) = pg::empty_database() else {
        return;
    };
    let sandbox = common::Sandbox::new();
    let id = sandbox.open_incident("Exposure", 2);
    sandbox.import(&id, &String::from_utf8(roster(50)).unwrap());
    sandbox.ok(&["incident", "note", &id, "contained at 14:00"]);
    let before = sandbox.json(&["incident", "list", "--json"]);

    let db = sandbox.db();
    let copied = sandbox.ok(&["db", "copy", "--from", db.to_str().unwrap(), "--to", &url]);
    assert!(
        copied.contains("audit chain of the copy verified"),
        "{copied}"
    );
    let on_pg = sandbox.json(&["--db", &url, "incident", "list", "--json"]);
    assert_eq!(on_pg, before);
    let people = sandbox.ok(&["--db", &url, "people", "list", &id]);
    assert!(people.contains("Quillon Vantrebe 49"), "{people}");

    // A second copy into the same database is refused: it is not empty.
    let refused = sandbox.fails(
        &["db", "copy", "--from", db.to_str().unwrap(), "--to", &url],
        2,
    );
    assert!(refused.contains("already holds"), "{refused}");

    let back = sandbox.path("back");
    sandbox.ok(&["db", "copy", "--from", &url, "--to", back.to_str().unwrap()]);
    let on_sled = sandbox.json(&["--db", back.to_str().unwrap(), "incident", "list", "--json"]);
    assert_eq!(on_sled, before);
    sandbox.ok(&["--db", back.to_str().unwrap(), "audit", "verify"]);
}

#[test]
fn store_url_in_the_config_selects_postgresql_once_db_migrate_made_its_tables() {
    let Some(url) = pg::empty_database() else {
        return;
    };
    let sandbox = common::Sandbox::new();
    sandbox.write("config.toml", &format!("[store]\nurl = \"{url}\"\n"));
    // Without --db (nor BREACHDESK_DB), the config's database.
    let run = |args: &[&str]| {
        sandbox
            .std_cmd()
            .env_remove("BREACHDESK_DB")
            .args(args)
            .output()
            .unwrap()
    };
    let refused = run(&["incident", "list"]);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("breachdesk db migrate"), "{message}");
    assert!(
        !message.contains(&url),
        "the URL is not repeated: {message}"
    );

    let migrated = run(&["db", "migrate"]);
    assert!(migrated.status.success());
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("tables created"));
    let again = run(&["db", "migrate"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already at schema version"));

    let opened = run(&[
        "incident",
        "open",
        "--title",
        "On PostgreSQL",
        "--severity",
        "2",
    ]);
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let listed = run(&["incident", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("On PostgreSQL"));
    // The sled default directory was never made.
    assert!(!sandbox.path("home/data/breachdesk").exists());
}

#[test]
fn the_clients_of_two_daemons_see_each_others_changes() {
    let Some(url) = pg::fresh_database() else {
        return;
    };
    let key = Key::generate().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut sockets = Vec::new();
    let mut servers = Vec::new();
    for name in ["eu", "us"] {
        let home = dir.path().join(name);
        std::fs::create_dir_all(&home).unwrap();
        let config = home.join("config.toml");
        std::fs::write(&config, smtp.config("connections = 2")).unwrap();
        let settings = Settings::load(&config, true).unwrap();
        let store = Store::open_postgres(&url, &key, &home.join("journal")).unwrap();
        let desk = LocalDesk::new(store, settings);
        let socket = home.join("breachdesk.sock");
        let (at, stop) = (socket.clone(), Arc::clone(&stop));
        servers.push(std::thread::spawn(move || {
            breachdesk::remote::serve_until(desk, &at, None, stop, &mut std::io::sink()).unwrap();
        }));
        sockets.push(socket);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !sockets.iter().all(|s| s.exists()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemons did not start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let eu = breachdesk::remote::RemoteDesk::connect(&sockets[0]).unwrap();
    let us = breachdesk::remote::RemoteDesk::connect(&sockets[1]).unwrap();
    let notices = us.watch().unwrap();
    // The daemons listen in the background: open incidents through one until a client of
    // the other hears of one.
    let mut heard = None;
    for n in 0..100 {
        let new =
            NewIncident::new(&format!("Exposure {n}"), Severity::new(2).unwrap(), "").unwrap();
        let opened = eu.open_incident(new).unwrap();
        if let Ok(notice) = notices.recv_timeout(Duration::from_millis(200)) {
            heard = Some((opened.id, notice));
            break;
        }
    }
    let (id, notice) = heard.expect("a client of the other daemon hears of the change");
    assert!(notice.incident.is_some(), "{notice:?}");
    // And reads it through its own daemon.
    assert_eq!(us.incident(id).unwrap().id, id);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for server in servers {
        server.join().unwrap();
    }
}

/// Issue 27, item 1 on PostgreSQL: after a purge, every byte window of the cluster's whole
/// data directory (table files with their dead rows, the write-ahead log) and of every row a
/// dump would read opens no key of the purged incident with any key there is. The cluster
/// writes full pages to its log, as a production one does, and removes retired log
/// segments instead of recycling them (`wal_recycle = off`, docs/deploy.md).
#[test]
fn after_a_purge_no_byte_of_the_data_directory_opens_the_incident() {
    let Some(cluster) = pg::own_cluster_with("purge", "-c full_page_writes=on -c wal_recycle=off")
    else {
        return;
    };
    let url = cluster.fresh_database();
    let key = Key::generate().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let a = daemon(&url, &key, &smtp);
    let purged = open_with_roster(&a.desk, 30);
    let kept = open_with_roster(&a.desk, 10);
    a.desk
        .set_status(
            purged,
            breachdesk::domain::Status::Closed,
            Some("retention test".into()),
            true,
        )
        .unwrap();
    a.desk
        .purge_incident(purged, "retention period over".into())
        .unwrap();
    a.desk.add_note(kept, "still investigating".into()).unwrap();
    // Everything the server holds in memory goes to its files, to be scanned too.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute("CHECKPOINT").unwrap();

    let mut files = common::every_byte(&cluster.data_dir());
    // What a dump taken now reads: every row of every table.
    let tables: Vec<String> = admin
        .query(
            "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'bd\\_%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for table in tables {
        for row in admin.query(&format!("SELECT * FROM {table}"), &[]).unwrap() {
            for i in 0..row.len() {
                if let Ok(bytes) = row.try_get::<_, Vec<u8>>(i) {
                    files.push(bytes);
                }
            }
        }
    }
    // Some 40 MB: looking for the purged incident's key only keeps it to seconds. That the
    // wrapping key in force is found shows the scan sees what is there.
    let found = common::scan_for_keys(&files, &key, &[purged.number()]);
    assert!(
        found.data_keys.is_empty(),
        "a key of the purged incident still opens: {found:?}"
    );
    assert_eq!(
        found.wrapping_keys.len(),
        1,
        "only the wrapping key in force"
    );
    assert_eq!(
        a.desk
            .people(kept, PeopleFilter::default(), ReadPath::PeopleList)
            .unwrap()
            .len(),
        10
    );
}

/// Issue 27, item 8: after `pg_ctl restart -m fast` with two daemons idle, their next
/// requests failed ("terminating connection due to administrator command") until each stale
/// pooled connection had failed once, and the changes were lost. Now a request whose
/// connection died with the old server runs again on a new one: all 40 changes are applied
/// and none is reported failed.
#[test]
fn a_postgresql_restart_costs_no_request() {
    let Some(cluster) = pg::own_cluster("restart") else {
        return;
    };
    let url = cluster.fresh_database();
    let key = Key::generate().unwrap();
    let smtp = smtp::SmtpServer::start(smtp::Faults::default());
    let (a, b) = (daemon(&url, &key, &smtp), daemon(&url, &key, &smtp));
    let id = open_with_roster(&a.desk, 3);
    // Both daemons have pooled connections (and the writer lock's) to the server.
    for d in [&a, &b] {
        d.desk.add_note(id, "before the restart".into()).unwrap();
        d.desk
            .people(id, PeopleFilter::default(), ReadPath::PeopleList)
            .unwrap();
    }
    cluster.restart();
    for n in 0..40 {
        let d = if n % 2 == 0 { &a } else { &b };
        d.desk
            .add_note(id, format!("after the restart {n}"))
            .unwrap_or_else(|e| panic!("change {n} failed: {e}"));
    }
    let notes = a
        .desk
        .timeline(id)
        .unwrap()
        .iter()
        .filter(|e| e.draft.detail.contains("after the restart"))
        .count();
    assert_eq!(notes, 40);
}
