//! Issue 30: on-call alerts to a real HTTP server on loopback (plain and TLS with a test
//! CA), from the real binary and the daemon: signed webhooks, PagerDuty pages opened and
//! resolved, retries after a 500, exactly once across runs, nothing personal in any alert.

use std::time::{Duration, Instant};

use crate::common;
use common::Sandbox;

use crate::daemon_support as daemon;
use crate::http;
use crate::tls_support as smtp_tls;

use http::HttpServer;

const AWARE_HOURS_AGO: i64 = 60;

fn config(sb: &Sandbox, alerts: &str) {
    sb.write(
        "config.toml",
        &format!("[alerts]\nretry_after_secs = 0\n\n{alerts}"),
    );
}

/// `alerts send`, with the environment the secrets come from.
fn send(sb: &Sandbox) -> std::process::Output {
    sb.cmd()
        .env("BD_HOOK_SECRET", "s3cret-for-tests")
        .env("BD_PD_KEY", "R0UT1NGKEY")
        .args(["alerts", "send"])
        .output()
        .unwrap()
}

/// An incident of SEV 2 made aware 60 hours ago (GDPR Art. 33 has 12 hours left), with
/// people whose names and addresses must never reach an alert.
fn incident(sb: &Sandbox) {
    let aware = (chrono::Utc::now() - chrono::Duration::hours(AWARE_HOURS_AGO))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Keystrokes of Zorvath Quillon readable",
        "--severity",
        "2",
        "--aware",
        &aware,
    ]);
    sb.import(
        "1",
        "employee_id,name,email,categories,location\n\
         E1,Zorvath Quillon,zorvath.quillon@corp.example,keystrokes,DE\n",
    );
}

fn no_personal_data(bodies: &[http::Received]) {
    for r in bodies {
        let text = String::from_utf8_lossy(&r.body);
        for secret in [
            "Zorvath",
            "Quillon",
            "zorvath",
            "corp.example",
            "Keystrokes of",
        ] {
            assert!(!text.contains(secret), "{secret} in an alert: {text}");
        }
    }
}

#[test]
fn a_webhook_gets_each_alert_once_signed_and_without_personal_data() {
    let server = HttpServer::start(&[]);
    let sb = Sandbox::new();
    config(
        &sb,
        &format!(
            "[[alert]]\nname = \"oncall\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"BD_HOOK_SECRET\"\n",
            server.url("/hook")
        ),
    );
    // A destination starts at the end of the log: alerts are about what happens next.
    assert!(send(&sb).status.success());
    incident(&sb);
    sb.ok(&[
        "incident",
        "severity",
        "1",
        "1",
        "--reason",
        "keystrokes hold passwords",
    ]);
    let out = send(&sb);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = server.requests();
    let events: Vec<String> = got
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(events.contains(&"incident-opened".to_owned()), "{events:?}");
    assert!(events.contains(&"severity-raised".to_owned()), "{events:?}");
    assert!(
        events.contains(&"due-soon".to_owned()),
        "GDPR Art. 33 within 24h: {events:?}"
    );
    let opened = got
        .iter()
        .find(|r| r.json()["event"] == "incident-opened")
        .unwrap();
    assert_eq!(opened.path, "/hook");
    assert_eq!(opened.json()["incident"], "INC-1");
    // The incident as it stands when the alert leaves: raised to SEV 1 since.
    assert_eq!(opened.json()["severity"], 1);
    // The signature is HMAC-SHA256 of the body with the secret.
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret-for-tests").unwrap();
    mac.update(&opened.body);
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        opened.header("X-Breachdesk-Signature"),
        Some(format!("sha256={want}").as_str())
    );
    assert!(
        opened
            .header("X-Breachdesk-Delivery")
            .unwrap()
            .starts_with("oncall-")
    );
    no_personal_data(&got);
    // Once: another round sends nothing more.
    let n = got.len();
    assert!(send(&sb).status.success());
    assert_eq!(server.requests().len(), n, "nothing is sent twice");
    let list = sb.json(&["alerts", "list", "--json"]);
    assert_eq!(list[0]["sent"], n as u64, "{list}");
    assert_eq!(list[0]["pending"], 0, "{list}");
}

#[test]
fn a_failing_destination_is_retried_and_does_not_hold_up_the_others() {
    let dead = HttpServer::start(&[500, 500, 500, 500, 500, 500, 500, 500]);
    let live = HttpServer::start(&[]);
    let sb = Sandbox::new();
    config(
        &sb,
        &format!(
            "[[alert]]\nname = \"dead\"\nkind = \"webhook\"\nurl = \"{}\"\n\n[[alert]]\nname = \"chat\"\nkind = \"slack\"\nurl = \"{}\"\nevents = [\"incident-opened\", \"status-changed\"]\n",
            dead.url("/"),
            live.url("/slack")
        ),
    );
    assert!(send(&sb).status.success());
    incident(&sb);
    sb.ok(&["incident", "status", "1", "investigating"]);
    sb.ok(&["incident", "note", "1", "a note is no alert"]);
    let out = send(&sb);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dead: failed: answered 500"), "{err}");
    // The dead destination cost one request; the live one got everything it wants.
    assert_eq!(dead.requests().len(), 1);
    let texts: Vec<String> = live
        .requests()
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].starts_with("[breachdesk] INC-1 opened (SEV2)"),
        "{texts:?}"
    );
    let failing = sb.ok(&["alerts", "list", "--failed"]);
    assert!(
        failing.contains("dead") && failing.contains("FAILING (1 in a row"),
        "{failing}"
    );
    assert!(!failing.contains("chat"), "{failing}");
    // Retried, in order: the same first alert again, with the same delivery id.
    let _ = send(&sb);
    let tries = dead.requests();
    assert_eq!(tries.len(), 2);
    assert_eq!(
        tries[0].header("X-Breachdesk-Delivery"),
        tries[1].header("X-Breachdesk-Delivery")
    );
    assert_eq!(tries[0].body, tries[1].body);
    no_personal_data(&live.requests());
}

#[test]
fn pagerduty_pages_an_obligation_and_resolves_it_when_met() {
    let server = HttpServer::start(&[202, 202, 202, 202, 202, 202]);
    let sb = Sandbox::new();
    config(
        &sb,
        &format!(
            "[[alert]]\nname = \"pager\"\nkind = \"pagerduty\"\nurl = \"{}\"\nrouting_key_env = \"BD_PD_KEY\"\nevents = [\"due-soon\", \"overdue\", \"obligation-settled\"]\nmax_severity = 2\n",
            server.url("/v2/enqueue")
        ),
    );
    assert!(send(&sb).status.success());
    incident(&sb);
    assert!(send(&sb).status.success());
    let pages = server.requests();
    assert_eq!(pages.len(), 1, "one page for GDPR Art. 33 within 24 hours");
    let page = pages[0].json();
    assert_eq!(page["routing_key"], "R0UT1NGKEY");
    assert_eq!(page["event_action"], "trigger");
    assert_eq!(page["dedup_key"], "breachdesk-INC-1-gdpr-33");
    assert_eq!(page["payload"]["severity"], "warning");
    assert_eq!(page["payload"]["source"], "breachdesk");
    assert!(
        page["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("gdpr-33 is due"),
        "{page}"
    );
    // The sweep records each threshold once.
    assert!(send(&sb).status.success());
    assert_eq!(server.requests().len(), 1);
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    sb.ok(&[
        "obligation",
        "done",
        "1",
        "gdpr-33",
        "--at",
        &at,
        "--reference",
        "DPC-7",
    ]);
    assert!(send(&sb).status.success());
    let pages = server.requests();
    assert_eq!(pages.len(), 2);
    let resolve = pages[1].json();
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], "breachdesk-INC-1-gdpr-33");
    no_personal_data(&pages);
    let log = sb.ok(&["audit", "log"]);
    assert!(log.contains("obligation.due-soon"), "{log}");
}

#[test]
fn alerts_reach_an_https_endpoint_signed_by_an_internal_ca_and_test_says_what_it_answered() {
    let ca = smtp_tls::TestCa::new("Acme Internal CA");
    let cert = ca.server_cert(&["localhost"]);
    let server = HttpServer::start_with(&[], Duration::ZERO, Some(cert.server_config()));
    let sb = Sandbox::new();
    sb.write("ca.pem", &ca.pem());
    config(
        &sb,
        &format!(
            "[[alert]]\nname = \"teams\"\nkind = \"teams\"\nurl = \"{}\"\nca_file = \"{}\"\n",
            server.url("/webhook"),
            sb.path("ca.pem").display()
        ),
    );
    let out = sb.ok(&["alerts", "test", "teams"]);
    assert!(out.contains("teams answered 200"), "{out}");
    let got = server.requests();
    assert!(
        got[0].json()["text"]
            .as_str()
            .unwrap()
            .contains("test alert"),
        "{got:?}"
    );
    // Without the CA the same endpoint is refused: the certificate is checked.
    config(
        &sb,
        &format!(
            "[[alert]]\nname = \"teams\"\nkind = \"teams\"\nurl = \"{}\"\n",
            server.url("/webhook")
        ),
    );
    let err = sb.fails(&["alerts", "test", "teams"], 1);
    assert!(err.contains("teams"), "{err}");
    let err = sb.fails(&["alerts", "test", "nobody"], 2);
    assert!(
        err.contains("no [[alert]] named 'nobody'; configured: teams"),
        "{err}"
    );
}

#[test]
fn the_daemon_sends_an_alert_within_two_seconds_of_its_cause() {
    let server = HttpServer::start_with(&[], Duration::from_millis(200), None);
    let sb = Sandbox::new();
    config(
        &sb,
        &format!(
            "[[alert]]\nname = \"oncall\"\nkind = \"webhook\"\nurl = \"{}\"\n",
            server.url("/")
        ),
    );
    let d = daemon::Daemon::start(&sb);
    // Let its first round set the cursor at the end of the log.
    std::thread::sleep(Duration::from_millis(1500));
    let socket = d.socket.to_str().unwrap().to_owned();
    let started = Instant::now();
    sb.ok(&[
        "--remote",
        &socket,
        "incident",
        "open",
        "--title",
        "Readable",
        "--severity",
        "1",
    ]);
    let got = server.wait_for(1, Duration::from_secs(5));
    let took = started.elapsed();
    eprintln!("alert latency: {took:?} from the incident's commit to the request");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(took < Duration::from_secs(2), "the alert took {took:?}");
    assert_eq!(got[0].json()["event"], "incident-opened");
    // The server answers after 200 ms: the delivery is recorded once it has.
    let until = Instant::now() + Duration::from_secs(10);
    let list = loop {
        let list = sb.ok(&["--remote", &socket, "alerts", "list"]);
        if list.contains("1 sent") || Instant::now() > until {
            break list;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(list.contains("oncall") && list.contains("1 sent"), "{list}");
}

#[test]
fn a_destination_without_its_endpoint_or_key_is_refused_when_the_config_is_read() {
    let sb = Sandbox::new();
    config(&sb, "[[alert]]\nname = \"pager\"\nkind = \"pagerduty\"\n");
    let err = sb.fails(&["alerts", "list"], 2);
    assert!(
        err.contains("PagerDuty needs routing_key_env or routing_key_file"),
        "{err}"
    );
    config(&sb, "[[alert]]\nname = \"hook\"\nkind = \"webhook\"\n");
    let err = sb.fails(&["alerts", "list"], 2);
    assert!(err.contains("give url"), "{err}");
}

/// Alerts by email go through the relay letters use (a real SMTP server on loopback).
#[test]
fn an_email_destination_gets_the_alert_through_the_relay() {
    let server = crate::smtp::SmtpServer::start(crate::smtp::Faults::default());
    let sb = Sandbox::new();
    sb.write(
        "config.toml",
        &server.config(
            "\n[alerts]\nretry_after_secs = 0\n\n[[alert]]\nname = \"security-list\"\nkind = \"email\"\nto = [\"oncall@corp.example\", \"ciso@corp.example\"]\n",
        ),
    );
    assert!(send(&sb).status.success());
    incident(&sb);
    let out = send(&sb);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = server.messages();
    let to: Vec<&str> = got
        .iter()
        .flat_map(|m| m.to.iter().map(String::as_str))
        .collect();
    assert!(
        to.contains(&"<oncall@corp.example>") && to.contains(&"<ciso@corp.example>"),
        "{to:?}"
    );
    let opened = got
        .iter()
        .find(|m| {
            m.header("Subject")
                .is_some_and(|s| s.contains("INC-1 opened"))
        })
        .expect("an incident-opened alert");
    assert_eq!(
        opened.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    for m in &got {
        for secret in ["Zorvath", "Quillon", "zorvath.quillon", "Keystrokes of"] {
            assert!(!m.data.contains(secret), "{secret} in an alert: {}", m.data);
        }
    }
}

/// Two daemons on one PostgreSQL delivering at once: each alert reaches the destination
/// once (the lease under the shared write lock), with distinct delivery ids.
#[test]
fn two_daemons_on_one_postgresql_deliver_each_alert_once() {
    use breachdesk::config::Settings;
    use breachdesk::crypto::Key;
    use breachdesk::desk::{Desk, LocalDesk};
    use breachdesk::domain::{NewIncident, Severity};
    use breachdesk::store::Store;
    use std::sync::{Arc, Barrier};
    let Some(url) = crate::pg::fresh_database() else {
        return;
    };
    let server = HttpServer::start(&[]);
    let key = Key::generate().unwrap();
    let desk = |dir: &tempfile::TempDir| {
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[[alert]]\nname = \"oncall\"\nkind = \"webhook\"\nurl = \"{}\"\n",
                server.url("/")
            ),
        )
        .unwrap();
        let settings = Settings::load(&config, true).unwrap();
        let store = Store::open_postgres(&url, &key, &dir.path().join("journal")).unwrap();
        Arc::new(LocalDesk::new(store, settings)).session(breachdesk::identity::current_user())
    };
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (desk(&da), desk(&db));
    a.send_alerts().unwrap();
    for n in 0..20 {
        let new =
            NewIncident::new(&format!("Exposure {n}"), Severity::new(2).unwrap(), "").unwrap();
        let d = if n % 2 == 0 { &a } else { &b };
        d.open_incident(new).unwrap();
    }
    let start = Arc::new(Barrier::new(2));
    std::thread::scope(|s| {
        for d in [&a, &b] {
            let start = Arc::clone(&start);
            s.spawn(move || {
                start.wait();
                for _ in 0..5 {
                    d.send_alerts().unwrap();
                }
            });
        }
    });
    let got = server.requests();
    let ids: std::collections::BTreeSet<String> = got
        .iter()
        .map(|r| r.header("X-Breachdesk-Delivery").unwrap().to_owned())
        .collect();
    assert_eq!(got.len(), 20, "each alert once: {ids:?}");
    assert_eq!(ids.len(), 20);
}
