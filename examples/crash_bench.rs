//! Measures how many people get a second copy when a send is killed with SIGKILL:
//! `cargo run --release --example crash_bench -- BINARY [LETTERS] [CRASHES] [CONNECTIONS]`
//! queues LETTERS letters with the release BINARY, starts `notify send` against an SMTP
//! server on loopback that records every message, kills the sender at CRASHES evenly spaced
//! points (by messages received), then lets a last send finish, and prints the second copies
//! per crash, whether anyone was missed, and whether every copy was identical.

#[path = "../tests/common/smtp.rs"]
mod smtp;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let bin = PathBuf::from(args.next().ok_or_else(|| {
        anyhow::anyhow!("usage: crash_bench BINARY [LETTERS] [CRASHES] [CONNECTIONS]")
    })?);
    let letters: usize = args.next().unwrap_or_else(|| "10000".into()).parse()?;
    let crashes: usize = args.next().unwrap_or_else(|| "20".into()).parse()?;
    let connections: usize = args.next().unwrap_or_else(|| "16".into()).parse()?;
    let server = smtp::SmtpServer::start(smtp::Faults::default());
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        server.config(&format!("connections = {connections}")),
    )?;
    let run = |args: &[&str]| -> anyhow::Result<()> {
        let status = breachdesk(&bin, dir.path(), &config).args(args).status()?;
        anyhow::ensure!(status.success(), "{args:?} failed");
        Ok(())
    };
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..letters {
        csv.push_str(&format!(
            "E{i:06},Person {i},person{i}@corp.example,keystrokes,DE\n"
        ));
    }
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, csv)?;
    run(&[
        "incident",
        "open",
        "--title",
        "Crash bench",
        "--severity",
        "2",
    ])?;
    run(&["people", "import", "1", roster.to_str().unwrap_or_default()])?;
    run(&["notify", "queue", "1", "--template", "initial"])?;

    let mut per_crash = Vec::new();
    let mut duplicates_before = 0;
    let started = Instant::now();
    for crash in 1..=crashes {
        let mut child = breachdesk(&bin, dir.path(), &config)
            .args(["notify", "send", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let point = crash * letters / (crashes + 2);
        while server.messages().len() < point && child.try_wait()?.is_none() {
            std::thread::sleep(Duration::from_micros(200));
        }
        child.kill()?;
        child.wait()?;
        let (received, distinct) = counts(&server);
        per_crash.push(received - distinct - duplicates_before);
        duplicates_before = received - distinct;
    }
    run(&["notify", "send", "1"])?;
    let (received, distinct) = counts(&server);
    let mut bodies: HashMap<String, String> = HashMap::new();
    let mut identical = true;
    for m in server.messages() {
        let first = bodies
            .entry(m.to[0].clone())
            .or_insert_with(|| m.data.clone());
        identical &= *first == m.data;
    }
    let worst = per_crash.iter().max().copied().unwrap_or(0);
    let mean = per_crash.iter().sum::<usize>() as f64 / per_crash.len().max(1) as f64;
    println!("letters {letters}, connections {connections}, crashes {crashes}");
    println!("second copies per crash: {per_crash:?}");
    println!(
        "worst {worst}, mean {mean:.1}, total {}",
        received - distinct
    );
    println!(
        "missed {}, every copy identical: {identical}",
        letters - distinct
    );
    println!("wall time {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn breachdesk(bin: &Path, dir: &Path, config: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("home/config"))
        .env("XDG_DATA_HOME", dir.join("home/data"))
        .env("BREACHDESK_DB", dir.join("db"))
        .env("BREACHDESK_CONFIG", config);
    cmd
}

fn counts(server: &smtp::SmtpServer) -> (usize, usize) {
    let messages = server.messages();
    let distinct: std::collections::HashSet<&String> = messages.iter().map(|m| &m.to[0]).collect();
    (messages.len(), distinct.len())
}
