//! Setting up (issue 14, items 5 and 6): `breachdesk init` writes a config that works, tries
//! the mail server and says what is missing; queuing refuses letters that would name no
//! contact; `completions` and `man` come from the command definitions.

use crate::common;

use crate::smtp;

use common::Sandbox;

/// The config `init` writes in the sandbox (its XDG config directory).
fn written(s: &Sandbox) -> String {
    std::fs::read_to_string(s.path("home/config/breachdesk/config.toml")).unwrap()
}

fn init(s: &Sandbox, extra: &[&str]) -> String {
    let mut args = vec![
        "init",
        "--non-interactive",
        "--contact-name",
        "Corp Privacy",
        "--contact-email",
        "privacy@corp.example",
        "--dpo",
        "Dana Ortiz, dpo@corp.example",
    ];
    args.extend_from_slice(extra);
    s.ok(&args)
}

/// `init` with a plain SMTP server on loopback at `port`.
fn init_on_loopback(s: &Sandbox, port: &str) -> String {
    init(
        s,
        &[
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            port,
            "--tls",
            "none",
        ],
    )
}

#[test]
fn init_writes_a_config_that_sends_and_says_what_is_missing() {
    let server = smtp::SmtpServer::start(smtp::Faults::default());
    let s = Sandbox::new();
    let port = server.port.to_string();
    let out = init_on_loopback(&s, &port);
    assert!(out.contains("mail server: connected to 127.0.0.1"), "{out}");
    assert!(
        out.contains("still missing: [contact] toll_free (rule hipaa"),
        "{out}"
    );
    let text = written(&s);
    assert!(text.contains("email = \"privacy@corp.example\""), "{text}");
    assert!(
        text.contains("from = \"Corp Privacy <privacy@corp.example>\""),
        "{text}"
    );
    assert!(text.contains("# toll_free = \"\""), "annotated: {text}");
    common::assert_mode(&s.path("home/config/breachdesk/config.toml"), 0o600);

    // The config it wrote is the one breachdesk uses: letters queue and go out.
    s.open_incident("Monitoring data readable by all", 2);
    s.import(
        "1",
        "employee_id,name,email,categories,location\nE1,Ana,ana@corp.example,keystrokes,DE\n",
    );
    s.ok(&["notify", "queue", "1", "--template", "initial"]);
    s.ok(&["notify", "send", "1"]);
    assert_eq!(server.messages().len(), 1);

    let err = s.fails(
        &[
            "init",
            "--non-interactive",
            "--contact-email",
            "a@b.example",
        ],
        2,
    );
    assert!(
        err.contains("exists; edit it, or run `breachdesk init --force`"),
        "{err}"
    );
}

#[test]
fn init_refuses_bad_answers_before_writing_anything() {
    let s = Sandbox::new();
    let err = s.fails(&["init", "--non-interactive"], 2);
    assert!(err.contains("a contact email is required"), "{err}");
    let err = s.fails(
        &[
            "init",
            "--non-interactive",
            "--contact-email",
            "not an address",
        ],
        2,
    );
    assert!(err.contains("--contact-email"), "{err}");
    let err = s.fails(
        &[
            "init",
            "--non-interactive",
            "--contact-email",
            "a@corp.example",
            "--admin",
            "bad user!",
        ],
        2,
    );
    assert!(err.contains("bad user!"), "{err}");
    assert!(!s.path("home/config/breachdesk/config.toml").exists());
}

#[test]
fn init_reports_a_mail_server_that_does_not_answer() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let s = Sandbox::new();
    let out = init_on_loopback(&s, &port);
    assert!(
        out.contains("letters cannot be sent until this works"),
        "{out}"
    );
}

#[test]
fn init_asks_when_interactive() {
    let s = Sandbox::new();
    let out = s
        .cmd()
        .args(["init", "--no-test"])
        .write_stdin("Sec Team\nsec@corp.example\n\n\n\n\n\nrelay.corp.example\n\n\n\n\n\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = written(&s);
    assert!(text.contains("name = \"Sec Team\""), "{text}");
    assert!(text.contains("host = \"relay.corp.example\""), "{text}");
    assert!(text.contains("tls = \"starttls\"\n"), "{text}");
    assert!(text.contains("port = 587\n"), "{text}");
}

#[test]
fn queuing_refuses_letters_that_would_name_no_contact() {
    let s = Sandbox::new();
    s.write("config.toml", "[smtp]\nfrom = \"privacy@corp.example\"\n");
    s.open_incident("x", 3);
    s.import(
        "1",
        "employee_id,name,email,categories\nE1,Ana,ana@corp.example,keystrokes\n",
    );
    let err = s.fails(&["notify", "queue", "1", "--template", "initial"], 2);
    assert!(
        err.contains(
            "not queuing: no contact: letters would tell people to write to privacy@localhost"
        ),
        "{err}"
    );
    assert_eq!(
        s.json(&["notify", "status", "1", "--json"])["counts"]["queued"],
        0
    );
}

#[test]
fn completions_and_manual_pages_come_from_the_commands() {
    let s = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = s.ok(&["completions", shell]);
        assert!(script.contains("breachdesk"), "{shell}");
        assert!(script.contains("purge"), "{shell}: every command is in it");
    }
    let page = s.ok(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH breachdesk 1"),
        "{page}"
    );
    let dir = s.path("man");
    s.ok(&["man", "--dir", dir.to_str().unwrap()]);
    for page in [
        "breachdesk.1",
        "breachdesk-incident-purge.1",
        "breachdesk-init.1",
    ] {
        assert!(dir.join(page).exists(), "{page}");
    }
}
