//! TLS and login against a real server: the binary sends over STARTTLS and implicit TLS to a
//! loopback server whose certificate chain the test makes, trusting it through `ca_file` or
//! `SSL_CERT_FILE`; refused certificates and logins say what fixes them; the password shows
//! up nowhere.

use crate::common;

use crate::tls_support as smtp_tls;

use std::cell::RefCell;
use std::process::Output;

use common::Sandbox;
use smtp_tls::{Login, TestCa, TlsSmtpServer, TlsStart};

const USER: &str = "breachdesk-relay";
const PASSWORD: &str = "Corr3ct-H0rse-Battery-Staple";
const PASSWORD_VAR: &str = "BREACHDESK_TEST_SMTP_PASSWORD";

/// The server's login, offering `mechanisms`.
fn login(mechanisms: &[&'static str]) -> Login {
    Login {
        user: USER.into(),
        password: PASSWORD.into(),
        mechanisms: mechanisms.to_vec(),
    }
}

/// A sandbox configured for a TLS server, that keeps everything the binary printed.
struct Desk {
    s: Sandbox,
    /// The password the binary is given (the right one, or not).
    password: String,
    extra_env: Vec<(String, String)>,
    printed: RefCell<String>,
}

impl Desk {
    /// `[smtp]` for the server on `port` with `tls`, plus `extra` lines; the password comes
    /// from `password_env` unless `extra` names a `password_file`.
    fn new(port: u16, tls: &str, extra: &str) -> Desk {
        let s = Sandbox::new();
        let password_line = if extra.contains("password_file") {
            String::new()
        } else {
            format!("password_env = \"{PASSWORD_VAR}\"\n")
        };
        s.write(
            "config.toml",
            &format!(
                "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\n\
                 username = \"{USER}\"\n{password_line}{extra}\n\
                 from = \"Privacy Team <privacy@corp.example>\"\nconnections = 2\n\
                 retry_base_ms = 50\ntimeout_secs = 5\n\
                 [contact]\nname = \"Privacy Team\"\nemail = \"privacy@corp.example\"\n"
            ),
        );
        Desk {
            s,
            password: PASSWORD.into(),
            extra_env: Vec::new(),
            printed: RefCell::new(String::new()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.s.cmd();
        cmd.env(PASSWORD_VAR, &self.password);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        let out = cmd.args(args).output().unwrap();
        let mut printed = self.printed.borrow_mut();
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
        out
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `args`, expects exit code `code`, returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// An incident with `n` people and their initial letters queued.
    fn queue_letters(&self, n: usize) {
        self.ok(&[
            "incident",
            "open",
            "--title",
            "Monitoring data readable by all",
            "--severity",
            "2",
        ]);
        let mut csv = String::from("employee_id,name,email,categories,location\n");
        for i in 0..n {
            csv.push_str(&format!(
                "E{i:04},Person {i},p{i}@corp.example,keystrokes,DE\n"
            ));
        }
        let roster = self.s.write("roster.csv", &csv);
        self.ok(&["people", "import", "1", roster.to_str().unwrap()]);
        self.ok(&["notify", "queue", "1", "--template", "initial"]);
    }

    /// Fails the test if the password is in anything the binary printed, in the status and
    /// audit log as JSON, or in any file of the database.
    fn assert_password_nowhere(&self) {
        let status = self.ok(&["notify", "status", "1", "--json"]);
        let audit = self.ok(&["audit", "log", "--json"]);
        let timeline = self.ok(&["incident", "show", "1", "--json"]);
        for (what, text) in [
            ("the output", self.printed.borrow().clone()),
            ("notify status --json", status),
            ("audit log --json", audit),
            ("the timeline", timeline),
        ] {
            assert!(
                !text.contains(PASSWORD),
                "the password is in {what}: {text}"
            );
        }
        for file in common::files_under(&self.s.db()) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|w| w == PASSWORD.as_bytes()),
                "the password is in {}",
                file.display()
            );
        }
    }
}

#[test]
fn letters_arrive_over_starttls_trusting_the_company_ca_from_ca_file() {
    let ca = TestCa::new("Corp Internal CA");
    let server = TlsSmtpServer::start(
        TlsStart::Starttls,
        ca.server_cert(&["127.0.0.1"]),
        login(&["PLAIN", "LOGIN"]),
    );
    // A relative ca_file is read beside the config file.
    let desk = Desk::new(server.port, "starttls", "ca_file = \"company-ca.pem\"");
    desk.s.write("company-ca.pem", &ca.pem());

    let check = desk.ok(&["notify", "test-smtp"]);
    assert!(check.contains("STARTTLS"), "{check}");
    assert!(check.contains("1 from ca_file"), "{check}");
    // What the server offers, in SMTP's words, never a Rust debug set (issue 33).
    assert!(check.contains("AUTH PLAIN LOGIN"), "{check}");
    assert!(
        !check.contains('{') && !check.contains("Authentication("),
        "{check}"
    );
    assert!(check.contains(&format!("logged in as {USER}")), "{check}");

    desk.queue_letters(6);
    let out = desk.ok(&["notify", "send", "1"]);
    assert!(out.contains("6 sent, 0 failed of 6"), "{out}");
    let got = server.messages();
    assert_eq!(got.len(), 6);
    assert!(got.iter().all(|m| m.encrypted && m.mechanism == "PLAIN"));
    assert!(got.iter().any(|m| m.to == "<p3@corp.example>"));
    assert!(server.auth_attempts().iter().all(|(_, right)| *right));
    desk.assert_password_nowhere();
}

#[test]
fn letters_arrive_over_implicit_tls_logging_in_with_auth_login() {
    let ca = TestCa::new("Corp Internal CA");
    let server = TlsSmtpServer::start(
        TlsStart::Implicit,
        ca.server_cert(&["127.0.0.1"]),
        login(&["LOGIN"]),
    );
    let sandbox_dir = tempfile::tempdir().unwrap();
    let ca_file = sandbox_dir.path().join("ca.pem");
    // Several certificates in one file: another CA first, then the one that signed.
    let other = TestCa::new("Another CA");
    std::fs::write(&ca_file, format!("{}{}", other.pem(), ca.pem())).unwrap();
    let password_file = sandbox_dir.path().join("smtp-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let desk = Desk::new(
        server.port,
        "tls",
        &format!(
            "ca_file = \"{}\"\npassword_file = \"{}\"",
            ca_file.display(),
            password_file.display()
        ),
    );
    desk.queue_letters(5);
    let out = desk.ok(&["notify", "send", "1"]);
    assert!(out.contains("5 sent, 0 failed of 5"), "{out}");
    let got = server.messages();
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|m| m.encrypted && m.mechanism == "LOGIN"));
    let check = desk.ok(&["notify", "test-smtp"]);
    assert!(
        check.contains("implicit TLS") && check.contains("2 from ca_file"),
        "{check}"
    );
    desk.assert_password_nowhere();
}

#[test]
fn ssl_cert_file_is_trusted_like_the_system_store() {
    let ca = TestCa::new("Corp Internal CA");
    let server = TlsSmtpServer::start(
        TlsStart::Starttls,
        ca.server_cert(&["127.0.0.1"]),
        login(&["PLAIN"]),
    );
    let mut desk = Desk::new(server.port, "starttls", "");
    let err = desk.fails(&["notify", "test-smtp"], 1);
    assert!(err.contains("does not trust"), "{err}");
    let bundle = desk.s.write("bundle.pem", &ca.pem());
    desk.extra_env
        .push(("SSL_CERT_FILE".into(), bundle.display().to_string()));
    let check = desk.ok(&["notify", "test-smtp"]);
    assert!(check.contains("1 from the system store"), "{check}");
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_before_any_login() {
    let ours = TestCa::new("Corp Internal CA");
    let stranger = TestCa::new("Somebody Else's CA");
    let server = TlsSmtpServer::start(
        TlsStart::Starttls,
        stranger.server_cert(&["127.0.0.1"]),
        login(&["PLAIN", "LOGIN"]),
    );
    let desk = Desk::new(server.port, "starttls", "ca_file = \"company-ca.pem\"");
    desk.s.write("company-ca.pem", &ours.pem());
    let fix = "the server's certificate is signed by an authority this machine does not trust: \
               add your company's CA with `ca_file` under [smtp] (PEM)";

    let err = desk.fails(&["notify", "test-smtp"], 1);
    assert!(err.contains(fix), "{err}");
    assert!(err.contains("STARTTLS with 127.0.0.1"), "{err}");

    desk.queue_letters(4);
    let err = desk.fails(&["notify", "send", "1"], 1);
    assert!(err.contains("some letters failed"), "{err}");
    assert!(server.messages().is_empty());
    assert!(
        server.auth_attempts().is_empty(),
        "no credentials go to a server that is not trusted"
    );
    let status: serde_json::Value =
        serde_json::from_str(&desk.ok(&["notify", "status", "1", "--json"])).unwrap();
    assert_eq!(status["counts"]["failed"], 4);
    for failure in status["failures"].as_array().unwrap() {
        assert!(
            failure["error"].as_str().unwrap().contains(fix),
            "{failure}"
        );
        assert_eq!(
            failure["attempts"], 1,
            "a refused certificate is not retried"
        );
    }
    assert!(desk.ok(&["notify", "status", "1"]).contains(fix));
    desk.assert_password_nowhere();
}

#[test]
fn wrong_names_and_expired_certificates_say_what_to_change() {
    let ca = TestCa::new("Corp Internal CA");
    let cases = [
        (
            ca.server_cert(&["relay.corp.example"]),
            "the certificate is for relay.corp.example, not `127.0.0.1`: set `host` under \
             [smtp] to the name on the certificate",
        ),
        (
            ca.server_cert_with(&["127.0.0.1"], |p| {
                p.not_before = rcgen::date_time_ymd(2019, 1, 1);
                p.not_after = rcgen::date_time_ymd(2020, 1, 1);
            }),
            "the server's certificate expired on 2020-01-01 00:00 UTC",
        ),
    ];
    for (cert, message) in cases {
        let server = TlsSmtpServer::start(TlsStart::Implicit, cert, login(&["PLAIN"]));
        let desk = Desk::new(server.port, "tls", "ca_file = \"ca.pem\"");
        desk.s.write("ca.pem", &ca.pem());
        let err = desk.fails(&["notify", "test-smtp"], 1);
        assert!(err.contains(message), "{err}");
    }
}

#[test]
fn a_ca_file_that_is_missing_or_empty_is_a_config_error_naming_it() {
    let desk = Desk::new(1, "starttls", "ca_file = \"company-ca.pem\"");
    let err = desk.fails(&["notify", "test-smtp"], 2);
    assert!(err.contains("cannot read ca_file"), "{err}");
    assert!(err.contains("company-ca.pem"), "{err}");
    desk.s.write("company-ca.pem", "# the CA goes here\n");
    let err = desk.fails(&["notify", "test-smtp"], 2);
    assert!(err.contains("company-ca.pem holds no certificate"), "{err}");
}

#[test]
fn a_wrong_password_is_a_permanent_failure_that_never_shows_the_password() {
    let ca = TestCa::new("Corp Internal CA");
    let server = TlsSmtpServer::start(
        TlsStart::Starttls,
        ca.server_cert(&["127.0.0.1"]),
        login(&["PLAIN", "LOGIN"]),
    );
    let mut desk = Desk::new(server.port, "starttls", "ca_file = \"ca.pem\"");
    desk.s.write("ca.pem", &ca.pem());
    // The wrong password holds the right one, so a leak of either shows.
    desk.password = format!("{PASSWORD}-old");

    let err = desk.fails(&["notify", "test-smtp"], 1);
    assert!(
        err.contains(&format!("the server refused the login as `{USER}`")),
        "{err}"
    );
    assert!(err.contains("password_env"), "{err}");

    desk.queue_letters(3);
    let tried_before = server.auth_attempts().len();
    desk.fails(&["notify", "send", "1"], 1);
    assert!(server.messages().is_empty());
    let status: serde_json::Value =
        serde_json::from_str(&desk.ok(&["notify", "status", "1", "--json"])).unwrap();
    assert_eq!(status["counts"]["failed"], 3);
    for failure in status["failures"].as_array().unwrap() {
        let error = failure["error"].as_str().unwrap();
        assert!(
            error.contains("refused the login") && error.contains("535"),
            "{error}"
        );
        assert_eq!(failure["attempts"], 1, "a refused login is not retried");
    }
    // One try per connection (two), not one per letter.
    let attempts = server.auth_attempts();
    assert!(
        (1..=2).contains(&(attempts.len() - tried_before)),
        "{attempts:?}"
    );
    assert!(attempts.iter().all(|(_, right)| !right));
    desk.assert_password_nowhere();
}
