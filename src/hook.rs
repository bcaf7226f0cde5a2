//! Running a programme's kill-switch hook: `sh -c CMD` in its own process group, with a
//! minimal environment (no secret of breachdesk's reaches it), a time limit, its output
//! captured (the first 4 KiB) and its exit status reported.

use std::fmt;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How much output is kept.
pub const OUTPUT_LIMIT: usize = 4096;

/// Variables a hook gets from breachdesk's own environment when they are set.
const BASE_ENV: [&str; 3] = ["PATH", "HOME", "LANG"];

/// Variables that never reach a hook, whatever `[hooks] pass_env` says.
const NEVER_PASSED: [&str; 2] = ["BREACHDESK_KEY", "BREACHDESK_KEY_FILE"];

/// A hook to run.
#[derive(Debug, Clone)]
pub struct HookRun {
    pub command: String,
    /// The hook's whole environment: see [`environment`].
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

/// The environment a hook runs with: `PATH`, `HOME` and `LANG` and the variables named in
/// `pass_env`, as far as this process has them, then `own` (the `BREACHDESK_*` values of
/// the run). Names in `secrets` (the SMTP password's variable) and the database key are
/// left out even when `pass_env` lists them.
pub fn environment(
    own: Vec<(String, String)>,
    pass_env: &[String],
    secrets: &[&str],
) -> Vec<(String, String)> {
    environment_from(own, pass_env, secrets, |name| std::env::var(name).ok())
}

/// [`environment`], reading the variables passed on through `var`.
fn environment_from(
    own: Vec<(String, String)>,
    pass_env: &[String],
    secrets: &[&str],
    var: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let withheld = |name: &str| NEVER_PASSED.contains(&name) || secrets.contains(&name);
    let mut env: Vec<(String, String)> = BASE_ENV
        .iter()
        .copied()
        .chain(pass_env.iter().map(String::as_str))
        .filter(|name| !withheld(name))
        .filter_map(|name| var(name).map(|v| (name.to_owned(), v)))
        .collect();
    env.extend(own);
    env
}

/// How a hook ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HookEnd {
    Exited(i32),
    Signalled(i32),
    TimedOut(Duration),
    CouldNotStart(String),
}

/// What a hook did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HookOutcome {
    pub end: HookEnd,
    /// Standard output and error, interleaved, cut to [`OUTPUT_LIMIT`] bytes.
    pub output: String,
    pub elapsed: Duration,
}

impl HookOutcome {
    /// Exit status 0.
    pub fn succeeded(&self) -> bool {
        self.end == HookEnd::Exited(0)
    }
}

impl fmt::Display for HookEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookEnd::Exited(code) => write!(f, "exited with status {code}"),
            HookEnd::Signalled(sig) => write!(f, "was killed by signal {sig}"),
            HookEnd::TimedOut(limit) => {
                write!(f, "timed out after {} s and was killed", limit.as_secs())
            }
            HookEnd::CouldNotStart(why) => write!(f, "could not start: {why}"),
        }
    }
}

impl HookOutcome {
    /// How it ended and how long it took, without its output (which is sealed).
    pub fn summary(&self) -> String {
        format!("{} in {:.1} s", self.end, self.elapsed.as_secs_f64())
    }
}

impl fmt::Display for HookOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {:.1} s", self.end, self.elapsed.as_secs_f64())?;
        if self.output.trim().is_empty() {
            write!(f, "; no output")
        } else {
            write!(f, "; output:\n{}", self.output.trim_end())
        }
    }
}

/// Runs the hook and waits for it, at most `timeout`; on time-out the whole process group
/// is killed.
pub fn run(hook: &HookRun) -> HookOutcome {
    let started = Instant::now();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(&hook.command)
        .env_clear()
        .envs(hook.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return HookOutcome {
                end: HookEnd::CouldNotStart(e.to_string()),
                output: String::new(),
                elapsed: started.elapsed(),
            };
        }
    };
    let captured = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = mpsc::channel();
    let pipes: Vec<Box<dyn Read + Send>> = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    let readers = pipes.len();
    for pipe in pipes {
        let captured = Arc::clone(&captured);
        let done = done_tx.clone();
        thread::spawn(move || {
            drain(pipe, &captured);
            let _ = done.send(());
        });
    }

    let deadline = started + hook.timeout;
    let end = wait_until(&mut child, deadline, hook.timeout);
    // Readers finish when every holder of the pipes is gone; a grandchild that left the
    // process group could hold them open, so don't wait for ever.
    for _ in 0..readers {
        if done_rx.recv_timeout(Duration::from_secs(1)).is_err() {
            break;
        }
    }
    let bytes = captured.lock().map(|b| b.clone()).unwrap_or_default();
    HookOutcome {
        end,
        output: String::from_utf8_lossy(&bytes).into_owned(),
        elapsed: started.elapsed(),
    }
}

fn wait_until(child: &mut std::process::Child, deadline: Instant, limit: Duration) -> HookEnd {
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return describe(status),
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child.id());
                let _ = child.wait();
                return HookEnd::TimedOut(limit);
            }
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => {
                kill_group(child.id());
                return HookEnd::CouldNotStart(e.to_string());
            }
        }
    }
}

fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

fn describe(status: ExitStatus) -> HookEnd {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => HookEnd::Exited(code),
        (None, Some(sig)) => HookEnd::Signalled(sig),
        (None, None) => HookEnd::Exited(-1),
    }
}

/// Reads a pipe to its end, keeping the first [`OUTPUT_LIMIT`] bytes in all.
fn drain(mut pipe: Box<dyn Read + Send>, captured: &Mutex<Vec<u8>>) {
    let mut buf = [0u8; 4096];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Ok(mut kept) = captured.lock() {
                    let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(command: &str, timeout_ms: u64) -> HookOutcome {
        run(&HookRun {
            command: command.into(),
            env: vec![("BREACHDESK_PROGRAM".into(), "staff-monitoring".into())],
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    #[test]
    fn reports_status_output_and_env() {
        let out = hook(
            "echo pausing $BREACHDESK_PROGRAM; echo oops >&2; exit 3",
            5000,
        );
        assert_eq!(out.end, HookEnd::Exited(3));
        assert!(out.output.contains("pausing staff-monitoring"), "{out:?}");
        assert!(out.output.contains("oops"), "{out:?}");
    }

    #[test]
    fn a_hook_gets_no_secret_even_when_pass_env_names_it() {
        // The process's environment, as the hook's caller would see it.
        let var = |name: &str| {
            match name {
                "BREACHDESK_KEY" => Some("00"),
                "SMTP_SECRET_FOR_TEST" => Some("hunter2"),
                "HOOK_PROXY_FOR_TEST" => Some("proxy:3128"),
                _ => None,
            }
            .map(str::to_owned)
            .or_else(|| std::env::var(name).ok())
        };
        let pass: Vec<String> = [
            "BREACHDESK_KEY",
            "SMTP_SECRET_FOR_TEST",
            "HOOK_PROXY_FOR_TEST",
        ]
        .map(String::from)
        .to_vec();
        let env = environment_from(
            vec![("BREACHDESK_PROGRAM".into(), "staff-monitoring".into())],
            &pass,
            &["SMTP_SECRET_FOR_TEST"],
            var,
        );
        let out = run(&HookRun {
            command: "env".into(),
            env,
            timeout: Duration::from_secs(5),
        });
        assert!(out.succeeded(), "{out:?}");
        assert!(
            out.output.contains("HOOK_PROXY_FOR_TEST=proxy:3128"),
            "{}",
            out.output
        );
        assert!(out.output.contains("BREACHDESK_PROGRAM=staff-monitoring"));
        assert!(!out.output.contains("BREACHDESK_KEY"), "{}", out.output);
        assert!(!out.output.contains("hunter2"), "{}", out.output);
        let names: Vec<&str> = out
            .output
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .filter(|k| !["PWD", "SHLVL", "_", "OLDPWD"].contains(k))
            .collect();
        for name in names {
            assert!(
                [
                    "PATH",
                    "HOME",
                    "LANG",
                    "HOOK_PROXY_FOR_TEST",
                    "BREACHDESK_PROGRAM"
                ]
                .contains(&name),
                "unexpected variable {name} in the hook's environment"
            );
        }
    }

    #[test]
    fn output_is_cut_at_4_kib() {
        let out = hook("yes breach | head -c 100000", 5000);
        assert!(out.succeeded());
        assert_eq!(out.output.len(), OUTPUT_LIMIT);
    }

    #[test]
    fn a_slow_hook_and_its_children_are_killed() {
        let started = Instant::now();
        let out = hook("sleep 30 & sleep 30; echo never", 300);
        assert!(matches!(out.end, HookEnd::TimedOut(_)), "{out:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!out.output.contains("never"));
    }
}
