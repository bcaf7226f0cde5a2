//! A daemon (`breachdesk serve`) on a sandbox's database, for the tests that go through the
//! socket: started on a socket in the sandbox, killed when dropped.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is the failure report

use std::io::Read as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::Sandbox;

/// A daemon serving a sandbox's database; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
}

impl Daemon {
    pub fn start(sb: &Sandbox) -> Daemon {
        Daemon::start_logging(sb, None)
    }

    /// Starts it with its standard error going to `log` (a file) instead of a pipe.
    pub fn start_logging(sb: &Sandbox, log: Option<&Path>) -> Daemon {
        let socket = sb.path("breachdesk.sock");
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("breachdesk"));
        let home = sb.path("home");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("BREACHDESK_DB", sb.db())
            .args(["serve", "--socket"])
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(match log {
                Some(file) => Stdio::from(std::fs::File::create(file).expect("daemon log")),
                None => Stdio::piped(),
            });
        if sb.config().exists() {
            cmd.env("BREACHDESK_CONFIG", sb.config());
        }
        let mut child = cmd.spawn().expect("start daemon");
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&socket).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    pipe.read_to_string(&mut err).unwrap();
                }
                panic!("daemon exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon { child, socket }
    }

    pub fn sigterm(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "daemon did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
