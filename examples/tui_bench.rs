//! Measures the terminal UI against its targets on a seeded database (see benches/tui.sh):
//! the first frame after launch, and handling one key plus drawing one frame, on the board
//! and on the People tab, at 120x40. Frames are drawn into ratatui's TestBackend, so the
//! figures cover everything but the terminal's own write.
//!
//! Usage: tui_bench DIR   (DIR seeded with `seed DIR 10000 100000`)
//!        tui_bench --remote SOCKET   (the same, through a daemon serving DIR)
//!        tui_bench DIR CONFIG --during-send   (INC-1's letters queued, CONFIG pointing at an
//!        SMTP sink): key + frame on the board while the UI sends them in the background.
//!        tui_bench DIR CONFIG --during-evidence FILE   key + frame on the Deadlines tab
//!        while the UI imports FILE (an access log) as INC-1's evidence in the background.
//!        tui_bench DIR --slow-daemon MS   (an in-process daemon serving DIR behind a proxy that
//!        holds every answer MS ms): key + frame over a scripted session (move, open an
//!        incident, every tab, a note submitted), and each frame that takes in an answer.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk};
use breachdesk::store::Store;
use breachdesk::tui::app::App;
use breachdesk::tui::theme::Theme;
use breachdesk::tui::view;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .ok_or_else(|| anyhow::anyhow!("usage: tui_bench DIR [CONFIG --during-send]"))?;
    if args.get(1).is_some_and(|a| a == "--slow-daemon") {
        let delay = args.get(2).map_or(Ok(200), |ms| ms.parse::<u64>())?;
        return slow_daemon(dir.as_ref(), Duration::from_millis(delay));
    }
    let settings = match args.get(1) {
        Some(config) if dir != "--remote" => Settings::load(config.as_ref(), true)?,
        _ => Settings::defaults(),
    };
    let desk: Arc<dyn Desk> = if dir == "--remote" {
        let socket = args
            .get(1)
            .ok_or_else(|| anyhow::anyhow!("usage: tui_bench --remote SOCKET"))?;
        Arc::new(breachdesk::remote::RemoteDesk::connect(socket.as_ref())?)
    } else {
        let local = Arc::new(LocalDesk::new(
            Store::open(dir.as_ref(), &Key::for_database(dir.as_ref(), None)?)?,
            settings,
        ));
        Arc::new(local.session(breachdesk::identity::current_user()))
    };
    if args.get(2).is_some_and(|a| a == "--during-evidence") {
        let file = args
            .get(3)
            .ok_or_else(|| anyhow::anyhow!("usage: tui_bench DIR CONFIG --during-evidence FILE"))?;
        let mut app = App::new(
            desk,
            breachdesk::identity::current_user(),
            Theme::from_env(),
            Box::new(chrono::Utc::now),
        )?;
        app.wait_idle(Duration::from_secs(60));
        return during_evidence(&mut app, file);
    }
    if args.get(2).is_some_and(|a| a == "--during-send") {
        let mut app = App::new(
            desk,
            breachdesk::identity::current_user(),
            Theme::from_env(),
            Box::new(chrono::Utc::now),
        )?;
        app.wait_idle(Duration::from_secs(60));
        return during_send(&mut app);
    }
    let actor = breachdesk::identity::current_user();
    let mut app = App::new(desk, actor, Theme::from_env(), Box::new(chrono::Utc::now))?;
    app.wait_idle(Duration::from_secs(60));
    let mut term = Terminal::new(TestBackend::new(120, 40))?;
    term.draw(|f| view::render(&app, f))?;
    let first = started.elapsed();
    println!(
        "first frame (open database, load {} incidents, draw): {:.1} ms",
        app.board.rows.len(),
        ms(first)
    );

    let board_keys: Vec<KeyCode> = [KeyCode::Down; 200]
        .into_iter()
        .chain([KeyCode::PageDown; 50])
        .chain([KeyCode::Char('G'), KeyCode::Char('g')])
        .chain([KeyCode::Up; 50])
        .collect();
    report("board: move selection", &mut app, &mut term, &board_keys)?;
    let filter: Vec<KeyCode> = std::iter::once(KeyCode::Char('/'))
        .chain("seeded 99".chars().map(KeyCode::Char))
        .chain([KeyCode::Backspace; 9])
        .chain([KeyCode::Esc])
        .collect();
    report("board: type a filter", &mut app, &mut term, &filter)?;

    // Open INC-1, which carries the big roster, and go to its People tab.
    while app
        .board
        .current()
        .is_some_and(|r| r.incident.id.number() != 1)
    {
        press(&mut app, KeyCode::Down);
    }
    let opened = Instant::now();
    for code in [KeyCode::Enter, KeyCode::Tab, KeyCode::Tab] {
        press(&mut app, code);
        app.wait_idle(Duration::from_secs(60));
    }
    term.draw(|f| view::render(&app, f))?;
    let people = app.detail.as_ref().map_or(0, |d| d.people.total);
    println!(
        "open incident with {people} people and show its People tab: {:.1} ms",
        ms(opened.elapsed())
    );
    let people_keys: Vec<KeyCode> = [KeyCode::Down; 300]
        .into_iter()
        .chain([KeyCode::PageDown; 300])
        .chain([KeyCode::Char('G')])
        .chain([KeyCode::PageUp; 100])
        .chain([KeyCode::Char('g')])
        .collect();
    report(
        "people: scroll 100k rows",
        &mut app,
        &mut term,
        &people_keys,
    )?;
    Ok(())
}

/// Starts the send of INC-1's queued letters from the Notifications tab, then moves on the
/// board until it ends, timing each key plus frame.
fn during_send(app: &mut App) -> anyhow::Result<()> {
    let mut term = Terminal::new(TestBackend::new(120, 40))?;
    open_tab(app, breachdesk::tui::app::Tab::Notifications);
    press(app, KeyCode::Char('S'));
    press(app, KeyCode::Enter);
    press(app, KeyCode::Esc);
    let started = Instant::now();
    let mut times = Vec::new();
    let mut down = true;
    let mut total = 0;
    while app.is_busy() {
        total = total.max(app.sending.map_or(0, |p| p.total));
        let t = Instant::now();
        press(app, if down { KeyCode::Down } else { KeyCode::Up });
        app.tick();
        term.draw(|f| view::render(app, f))?;
        times.push(t.elapsed());
        down = !down;
        std::thread::sleep(Duration::from_millis(20));
    }
    times.sort();
    println!(
        "during a send of {total} letters ({:.1} s): {} keys, key+frame median {:.2} ms, worst {:.2} ms",
        started.elapsed().as_secs_f64(),
        times.len(),
        ms(times[times.len() / 2]),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );
    Ok(())
}

/// Opens INC-1 from the board on `tab`, waiting for each read.
fn open_tab(app: &mut App, tab: breachdesk::tui::app::Tab) {
    while app
        .board
        .current()
        .is_some_and(|r| r.incident.id.number() != 1)
    {
        press(app, KeyCode::Down);
    }
    press(app, KeyCode::Enter);
    app.wait_idle(Duration::from_secs(60));
    while app.detail.as_ref().is_some_and(|d| d.tab != tab) {
        press(app, KeyCode::Tab);
        app.wait_idle(Duration::from_secs(60));
    }
}

/// Imports `file` from the Deadlines tab of INC-1 and times key + frame until it is done,
/// noting how often the status line's gauge moved.
fn during_evidence(app: &mut App, file: &str) -> anyhow::Result<()> {
    let mut term = Terminal::new(TestBackend::new(120, 40))?;
    open_tab(app, breachdesk::tui::app::Tab::Deadlines);
    press(app, KeyCode::Char('I'));
    for c in file.chars() {
        press(app, KeyCode::Char(c));
    }
    press(app, KeyCode::Enter);
    let started = Instant::now();
    let mut times = Vec::new();
    let mut gauges = std::collections::BTreeSet::new();
    let mut down = true;
    while app.is_busy() {
        let t = Instant::now();
        press(app, if down { KeyCode::Down } else { KeyCode::Up });
        app.tick();
        term.draw(|f| view::render(app, f))?;
        times.push(t.elapsed());
        if let Some((done, _)) = app.busy.first().and_then(|b| b.progress) {
            gauges.insert(done);
        }
        down = !down;
        std::thread::sleep(Duration::from_millis(20));
    }
    times.sort();
    let rows = app
        .detail
        .as_ref()
        .and_then(|d| d.incident.evidence.as_ref().map(|e| e.rows))
        .unwrap_or(0);
    println!(
        "during an access-log import ({:.1} s, {rows} rows as last read): {} keys, key+frame median {:.2} ms, worst {:.2} ms; the gauge moved {} times",
        started.elapsed().as_secs_f64(),
        times.len(),
        ms(times[times.len() / 2]),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
        gauges.len()
    );
    Ok(())
}

/// Serves DIR from an in-process daemon, puts a proxy that holds every answer `delay` in
/// front of it, and drives a scripted session through a remote desk on the proxy.
fn slow_daemon(dir: &Path, delay: Duration) -> anyhow::Result<()> {
    let desk = LocalDesk::new(
        Store::open(dir, &Key::for_database(dir, None)?)?,
        Settings::defaults(),
    );
    let sockets = tempfile::tempdir()?;
    let daemon = sockets.path().join("daemon.sock");
    let proxy = sockets.path().join("slow.sock");
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let (daemon, stop) = (daemon.clone(), Arc::clone(&stop));
        thread::spawn(move || {
            breachdesk::remote::serve_until(desk, &daemon, None, stop, &mut std::io::sink())
        })
    };
    while !daemon.exists() {
        thread::sleep(Duration::from_millis(10));
    }
    let listener = UnixListener::bind(&proxy)?;
    {
        let daemon = daemon.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let daemon = daemon.clone();
                thread::spawn(move || relay_late(client, &daemon, delay));
            }
        });
    }
    let connected = Instant::now();
    let desk = breachdesk::remote::RemoteDesk::connect(&proxy)?;
    println!(
        "slow daemon: every answer {} ms late (connect took {:.0} ms)",
        delay.as_millis(),
        ms(connected.elapsed())
    );
    let actor = desk.identity().user.clone();
    let mut app = App::new(
        Arc::new(desk),
        actor,
        Theme::from_env(),
        Box::new(chrono::Utc::now),
    )?;
    let mut term = Terminal::new(TestBackend::new(120, 40))?;
    let mut keys = Vec::new();
    let mut answers = Vec::new();
    let started = Instant::now();
    // The board arrives while the user already moves.
    let script: Vec<KeyCode> = [KeyCode::Down; 10]
        .into_iter()
        .chain([KeyCode::Up; 10])
        .chain([KeyCode::Enter])
        .chain([KeyCode::Tab; 7])
        .chain([KeyCode::Char('n')])
        .chain("slow daemon bench note".chars().map(KeyCode::Char))
        .chain([KeyCode::Enter])
        .collect();
    for code in script {
        let t = Instant::now();
        press(&mut app, code);
        term.draw(|f| view::render(&app, f))?;
        keys.push(t.elapsed());
        // A user's pace, drawing at 60 Hz like the event loop; time the frames that take in
        // an answer from the daemon.
        pump(&mut app, &mut term, Duration::from_millis(60), &mut answers)?;
    }
    while app.is_busy() && started.elapsed() < Duration::from_secs(60) {
        pump(&mut app, &mut term, Duration::from_millis(16), &mut answers)?;
    }
    let noted = app
        .detail
        .as_ref()
        .and_then(|d| d.timeline.events.first())
        .is_some_and(|e| e.draft.detail == "slow daemon bench note");
    println!(
        "session: {} keys, key+frame median {:.2} ms, worst {:.2} ms; {} answers, answer+frame median {:.2} ms, worst {:.2} ms; note committed and shown: {noted} ({:.1} s)",
        keys.len(),
        ms(median(&mut keys)),
        ms(*keys.iter().max().unwrap_or(&Duration::ZERO)),
        answers.len(),
        ms(median(&mut answers)),
        ms(*answers.iter().max().unwrap_or(&Duration::ZERO)),
        started.elapsed().as_secs_f64()
    );
    // The process ends here; the daemon thread goes with it.
    stop.store(true, Ordering::Relaxed);
    drop(server);
    Ok(())
}

/// Ticks and draws for `span`, a frame every 16 ms; records how long each frame that took
/// in an answer took.
fn pump(
    app: &mut App,
    term: &mut Terminal<TestBackend>,
    span: Duration,
    answers: &mut Vec<Duration>,
) -> anyhow::Result<()> {
    let until = Instant::now() + span;
    while Instant::now() < until {
        let waiting = app.busy.len();
        let t = Instant::now();
        app.tick();
        term.draw(|f| view::render(app, f))?;
        if app.busy.len() != waiting || app.busy.iter().any(|b| b.started >= t) {
            answers.push(t.elapsed());
        }
        thread::sleep(Duration::from_millis(16));
    }
    Ok(())
}

/// Copies one client's connection to the daemon, holding each answer frame (a 4-byte
/// length, then the body) for `delay` before passing it on.
fn relay_late(client: UnixStream, daemon: &Path, delay: Duration) {
    let Ok(upstream) = UnixStream::connect(daemon) else {
        return;
    };
    let (Ok(mut to_daemon), Ok(mut from_client)) = (upstream.try_clone(), client.try_clone())
    else {
        return;
    };
    thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_daemon);
        let _ = to_daemon.shutdown(std::net::Shutdown::Write);
    });
    let (mut from_daemon, mut to_client) = (upstream, client);
    loop {
        let mut header = [0u8; 4];
        if from_daemon.read_exact(&mut header).is_err() {
            break;
        }
        let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
        if from_daemon.read_exact(&mut body).is_err() {
            break;
        }
        thread::sleep(delay);
        if to_client.write_all(&header).is_err() || to_client.write_all(&body).is_err() {
            break;
        }
    }
    let _ = to_client.shutdown(std::net::Shutdown::Both);
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn report(
    name: &str,
    app: &mut App,
    term: &mut Terminal<TestBackend>,
    keys: &[KeyCode],
) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(keys.len());
    let mut slowest = (Duration::ZERO, KeyCode::Null, 0);
    for (i, code) in keys.iter().enumerate() {
        let t = Instant::now();
        press(app, *code);
        term.draw(|f| view::render(app, f))?;
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, *code, i);
        }
        times.push(took);
    }
    if std::env::var_os("TUI_BENCH_VERBOSE").is_some() {
        println!(
            "  slowest: key {} ({:?}) took {:.2} ms",
            slowest.2,
            slowest.1,
            ms(slowest.0)
        );
    }
    times.sort();
    let median = times[times.len() / 2];
    let worst = *times.last().unwrap_or(&Duration::ZERO);
    println!(
        "{name}: {} keys, key+frame median {:.2} ms, worst {:.2} ms",
        times.len(),
        ms(median),
        ms(worst)
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
