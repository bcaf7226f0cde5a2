//! Faults under a send on PostgreSQL, each on a cluster of the test's own:
//! - the server stopped and started again at a chosen point (20 letters reached the mail
//!   server, which holds the next ones until the database is down and then accepts them):
//!   the send stops with a clear error, and the next send, once the database is back, finishes with every person sent exactly one letter (the letters
//!   delivered while the database was gone are in the journal, not sent again);
//! - a sending process (standing for a daemon on one host) killed with SIGKILL once a chosen
//!   share of the letters reached the server: another process with its own local directory
//!   (another host) takes the send over and finishes it, recording first what the dead one
//!   had delivered, so at most two letters per connection go out twice (the shared table
//!   is written while the next letter goes out), byte for byte the same.
//!
//! Skipped, saying so, where PostgreSQL is not installed.

use crate::common;
use crate::pg;
use crate::smtp;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    // The server holds every message after the first 20 until the database is down, so the
    // send cannot have finished before it.
    let gate = smtp::Gate::after(20);
    let smtp = smtp::SmtpServer::start(smtp::Faults {
        hold: Some(Arc::clone(&gate)),
        ..smtp::Faults::default()
    });
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

    // The chosen point: 20 letters accepted, the next ones held by the server (their
    // replies unsent) while the database goes down, then let through: letters the server
    // accepts while the database is gone.
    let (failed, stopped) = std::thread::scope(|s| {
        let stopper = s.spawn(|| {
            gate.wait_holding();
            cluster.stop();
            gate.open();
        });
        let failed = desk
            .send_notifications(Some(id), &SendOptions::default(), &mut |_| {})
            .expect_err("the send cannot record its outcomes without the database");
        (failed, stopper.join().is_ok())
    });
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

#[test]
fn a_sender_killed_mid_send_is_taken_over_by_another_host_repeating_at_most_two_per_connection() {
    const PEOPLE: usize = 1200;
    const CONNECTIONS: usize = 8;
    let Some(cluster) = pg::own_cluster("kill") else {
        return;
    };
    let url = cluster.fresh_database();
    let server = smtp::SmtpServer::start(smtp::Faults {
        delay: Duration::from_millis(2),
        ..smtp::Faults::default()
    });
    let key = Key::generate().unwrap().to_hex();
    // Two hosts: each its own home (and so its own local directory), one key, one database.
    let hosts = [common::Sandbox::new(), common::Sandbox::new()];
    for host in &hosts {
        host.write(
            "config.toml",
            &server.config(&format!("connections = {CONNECTIONS}")),
        );
    }
    let run = |host: &common::Sandbox, args: &[&str]| {
        let out = host
            .std_cmd()
            .env("BREACHDESK_KEY", &key)
            .arg("--db")
            .arg(&url)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..PEOPLE {
        csv.push_str(&format!(
            "E{i:05},Person {i},person{i}@corp.example,keystrokes,DE\n"
        ));
    }
    let roster = hosts[0].write("roster.csv", &csv);
    run(
        &hosts[0],
        &["incident", "open", "--title", "Exposure", "--severity", "2"],
    );
    run(
        &hosts[0],
        &["people", "import", "1", roster.to_str().unwrap()],
    );
    run(
        &hosts[0],
        &["notify", "queue", "1", "--template", "initial"],
    );

    let mut child = hosts[0]
        .std_cmd()
        .env("BREACHDESK_KEY", &key)
        .arg("--db")
        .arg(&url)
        .args(["notify", "send", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The chosen point: a third of the letters have reached the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.messages().len() < PEOPLE / 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    server.wait_idle();
    let before = server.messages().len();
    assert!(before < PEOPLE, "killed mid-send ({before} letters)");

    // The other host: the dead sender's process is gone, so its lease no longer holds.
    let out = run(&hosts[1], &["notify", "send", "1"]);
    assert!(out.contains("0 failed"), "{out}");
    let mut got: HashMap<String, Vec<smtp::Received>> = HashMap::new();
    for m in server.messages() {
        got.entry(m.to[0].clone()).or_default().push(m);
    }
    assert_eq!(got.len(), PEOPLE, "nobody is missed");
    let mut twice = 0;
    for (to, copies) in &got {
        let ids: HashSet<_> = copies.iter().map(|m| m.header("Message-ID")).collect();
        let bodies: HashSet<_> = copies.iter().map(|m| m.data.clone()).collect();
        assert_eq!(ids.len(), 1, "{to} got different Message-IDs");
        assert_eq!(bodies.len(), 1, "{to} got different bytes");
        twice += copies.len() - 1;
    }
    assert!(twice <= 2 * CONNECTIONS, "{twice} letters went out twice");
    let status: serde_json::Value =
        serde_json::from_str(&run(&hosts[1], &["notify", "status", "1", "--json"])).unwrap();
    assert_eq!(status["counts"]["sent"], PEOPLE, "{status}");
}
