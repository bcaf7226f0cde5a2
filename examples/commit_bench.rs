//! Measures one store commit (one audit event, flushed) with and without the audit witness:
//! `cargo run --profile dist --example commit_bench -- [COMMITS] [ROUNDS]` commits COMMITS
//! single-event changes (default 2000) into a fresh database per mode, alternating the
//! modes for ROUNDS rounds (default 3), and prints the mean, median and 99th percentile.

use std::time::{Duration, Instant};

use breachdesk::crypto::Key;
use breachdesk::domain::{AuditAction, EventDraft, IncidentId, UserName};
use breachdesk::store::{Changes, Store};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let commits: usize = args.next().unwrap_or_else(|| "2000".into()).parse()?;
    let rounds: usize = args.next().unwrap_or_else(|| "3".into()).parse()?;
    let actor = UserName::parse("bench")?;
    for round in 1..=rounds {
        for witnessed in [false, true] {
            let dir = tempfile::tempdir()?;
            let mut store = Store::open(&dir.path().join("db"), &Key::generate()?)?;
            if witnessed {
                store = store.with_witness(&dir.path().join("cfg").join("audit-witness"))?;
            }
            let mut times = Vec::with_capacity(commits);
            for n in 0..commits {
                let draft = EventDraft::new(
                    &actor,
                    chrono::Utc::now(),
                    AuditAction::NoteAdded,
                    format!("note {n}"),
                )
                .on_incident(IncidentId::new(1));
                let start = Instant::now();
                store.commit(&Changes::events(vec![draft]))?;
                times.push(start.elapsed());
            }
            report(round, witnessed, &mut times);
        }
    }
    Ok(())
}

fn report(round: usize, witnessed: bool, times: &mut [Duration]) {
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let median = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    println!(
        "round {round} {:<15} mean {:>7.1} µs  median {:>7.1} µs  p99 {:>7.1} µs",
        if witnessed {
            "with witness"
        } else {
            "without witness"
        },
        mean.as_secs_f64() * 1e6,
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}
