//! Measures what the daemon adds to a call: the same small desk calls made directly on a
//! local desk, then through `serve_until` and a `RemoteDesk` over a Unix socket. See
//! benches/daemon.sh.
//!
//! Usage: daemon_bench DIR [CALLS]   (DIR seeded with `seed DIR 10000 100000`)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, IncidentFilter, LocalDesk};
use breachdesk::domain::IncidentId;
use breachdesk::remote::{RemoteDesk, serve_until};
use breachdesk::store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Call = (&'static str, fn(&dyn Desk));

const CALLS: [Call; 4] = [
    ("identity", |d| {
        d.identity().unwrap();
    }),
    ("incident INC-2", |d| {
        d.incident(IncidentId::new(2)).unwrap();
    }),
    ("programs", |d| {
        d.programs().unwrap();
    }),
    ("people window of 40 (INC-1)", |d| {
        d.people_window(IncidentId::new(1), 5_000, 40).unwrap();
    }),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .ok_or_else(|| anyhow::anyhow!("usage: daemon_bench DIR [CALLS]"))?;
    let n: usize = args.get(1).map_or(Ok(2000), |s| s.parse())?;
    let actor = breachdesk::identity::current_user();
    let desk = Arc::new(LocalDesk::new(
        Store::open(dir.as_ref(), &Key::for_database(dir.as_ref(), None)?)?,
        Settings::defaults(),
    ));
    let session = desk.session(actor);
    // Warm the cache the same way for both.
    session.incidents(IncidentFilter::default())?;
    let local: Vec<Duration> = CALLS
        .iter()
        .map(|(_, call)| median(n, || call(&session)))
        .collect();
    drop(session);
    let desk = Arc::try_unwrap(desk)
        .ok()
        .ok_or_else(|| anyhow::anyhow!("the desk is still shared"))?;

    let socket = std::path::Path::new(dir.as_str()).with_extension("sock");
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let (socket, stop) = (socket.clone(), Arc::clone(&stop));
        std::thread::spawn(move || serve_until(desk, &socket, None, stop, &mut std::io::sink()))
    };
    while !socket.exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let remote = RemoteDesk::connect(&socket)?;
    println!(
        "{:<30} {:>10} {:>12} {:>10}",
        "call", "local", "via daemon", "added"
    );
    for ((name, call), local) in CALLS.iter().zip(local) {
        let via = median(n, || call(&remote));
        println!(
            "{name:<30} {:>7.3} ms {:>9.3} ms {:>7.3} ms",
            ms(local),
            ms(via),
            ms(via.saturating_sub(local))
        );
    }
    stop.store(true, Ordering::Relaxed);
    server
        .join()
        .map_err(|_| anyhow::anyhow!("daemon thread panicked"))??;
    Ok(())
}

/// The median time of `n` runs of `f`, after 50 warm-up runs.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..50 {
        f();
    }
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
