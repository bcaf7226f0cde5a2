//! A small SMTP server for tests, speaking real SMTP over TCP on loopback, with faults to
//! order: temporary refusals, a permanent refusal for one recipient, a dropped connection in
//! the middle of DATA, slow replies, and a gate that holds every message after a chosen number
//! until the test opens it.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic here is the failure report

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    v.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }

    /// The body with quoted-printable soft breaks and escapes undone.
    pub fn decoded(&self) -> String {
        let joined = self.data.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// What the server should do wrong.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer this many DATA transactions with this reply, then accept.
    pub refuse_data: usize,
    pub refuse_with: &'static str,
    /// Refuse RCPT TO for addresses containing this with 550.
    pub reject_recipient: Option<String>,
    /// Drop the connection in the middle of DATA this many times.
    pub drop_mid_data: usize,
    /// Wait this long before accepting each message.
    pub delay: Duration,
    /// Hold every message after the gate's first ones until the test opens it.
    pub hold: Option<Arc<Gate>>,
}

/// Lets a chosen number of messages through, then holds the rest (their DATA unanswered)
/// until [`Gate::open`].
#[derive(Debug, Default)]
pub struct Gate {
    after: usize,
    /// Whether the gate is open, and how many messages it holds.
    state: Mutex<(bool, usize)>,
    changed: Condvar,
}

impl Gate {
    pub fn after(messages: usize) -> Arc<Gate> {
        Arc::new(Gate {
            after: messages,
            ..Gate::default()
        })
    }

    /// Waits until the gate holds a message: the chosen number went through.
    pub fn wait_holding(&self) {
        let mut state = self.state.lock().unwrap();
        while !state.0 && state.1 == 0 {
            state = self.changed.wait(state).unwrap();
        }
    }

    pub fn open(&self) {
        self.state.lock().unwrap().0 = true;
        self.changed.notify_all();
    }

    fn pass(&self, accepted: usize) {
        if accepted < self.after {
            return;
        }
        let mut state = self.state.lock().unwrap();
        state.1 += 1;
        self.changed.notify_all();
        while !state.0 {
            state = self.changed.wait(state).unwrap();
        }
        state.1 -= 1;
    }
}

/// A running server.
pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Sessions still open, and a signal each time one ends.
    open: Arc<(Mutex<usize>, Condvar)>,
}

impl SmtpServer {
    pub fn start(faults: Faults) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let counters = Arc::new((
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        ));
        let faults = Arc::new(faults);
        let store = Arc::clone(&received);
        let open = Arc::new((Mutex::new(0), Condvar::new()));
        let sessions = Arc::clone(&open);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (store, faults, counters, sessions) = (
                    Arc::clone(&store),
                    Arc::clone(&faults),
                    Arc::clone(&counters),
                    Arc::clone(&sessions),
                );
                // Counted before the session thread starts, so that a client's connection
                // accepted here is never missed by `wait_idle`.
                *sessions.0.lock().unwrap() += 1;
                thread::spawn(move || {
                    let _ = session(stream, &store, &faults, &counters);
                    *sessions.0.lock().unwrap() -= 1;
                    sessions.1.notify_all();
                });
            }
        });
        SmtpServer {
            port,
            received,
            open,
        }
    }

    /// Waits until every session the server accepted has ended: after a client is killed,
    /// the letters it had finished handing over are all stored once this returns.
    pub fn wait_idle(&self) {
        let (count, ended) = &*self.open;
        let mut open = count.lock().unwrap();
        while *open > 0 {
            open = ended.wait(open).unwrap();
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// A config file's text pointing breachdesk at this server.
    pub fn config(&self, extra: &str) -> String {
        let connections = if extra.contains("connections") {
            ""
        } else {
            "connections = 4\n"
        };
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"Privacy Team <privacy@corp.example>\"\nreply_to = \"privacy@corp.example\"\n{connections}retry_base_ms = 50\ntimeout_secs = 5\n{extra}\n[contact]\nname = \"Privacy Team\"\nemail = \"privacy@corp.example\"\n",
            self.port
        )
    }
}

fn session(
    stream: TcpStream,
    store: &Mutex<Vec<Received>>,
    faults: &Faults,
    counters: &(AtomicUsize, AtomicUsize, AtomicUsize),
) -> std::io::Result<()> {
    // Like a real server, answer pipelined commands without waiting on Nagle's algorithm;
    // the client's own writes are what the throughput test guards.
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 test.local ESMTP ready\r\n")?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            out.write_all(b"250-test.local\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_owned();
            to.clear();
            out.write_all(b"250 2.1.0 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            let addr = line[8..].trim().to_owned();
            if faults
                .reject_recipient
                .as_ref()
                .is_some_and(|r| addr.contains(r.as_str()))
            {
                out.write_all(b"550 5.1.1 mailbox unavailable\r\n")?;
            } else {
                to.push(addr);
                out.write_all(b"250 2.1.5 ok\r\n")?;
            }
        } else if upper.starts_with("DATA") {
            if to.is_empty() {
                out.write_all(b"554 5.5.1 no valid recipients\r\n")?;
                continue;
            }
            out.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            let dropping = counters.1.fetch_add(1, Ordering::SeqCst) < faults.drop_mid_data;
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if dropping && data.len() > 200 {
                    return Ok(()); // hang up mid-DATA
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            if counters.0.fetch_add(1, Ordering::SeqCst) < faults.refuse_data {
                out.write_all(format!("{}\r\n", faults.refuse_with).as_bytes())?;
                if faults.refuse_with.starts_with("421") {
                    return Ok(());
                }
                continue;
            }
            thread::sleep(faults.delay);
            if let Some(gate) = &faults.hold {
                gate.pass(counters.2.fetch_add(1, Ordering::SeqCst));
            }
            store.lock().unwrap().push(Received {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            out.write_all(b"250 2.0.0 queued\r\n")?;
        } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 not implemented\r\n")?;
        }
    }
}
