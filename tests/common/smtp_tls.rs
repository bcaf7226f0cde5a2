//! An SMTP server for tests that speaks TLS, STARTTLS or implicit, with a certificate chain
//! made in the test (a CA of its own, `rcgen`), and asks for a login (AUTH PLAIN and LOGIN,
//! offered only once the connection is encrypted) whose credentials it checks. One thread per
//! connection, blocking I/O. The plain server with faults to order is `smtp.rs`.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic here is the failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A certificate authority made for one test, like a company's internal CA.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    /// The CA certificate in PEM, as `ca_file` holds it.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn server_cert(&self, names: &[&str]) -> ServerCert {
        self.server_cert_with(names, |_| {})
    }

    /// The same, with its parameters changed first (to make it expired, say).
    pub fn server_cert_with(
        &self,
        names: &[&str],
        change: impl FnOnce(&mut CertificateParams),
    ) -> ServerCert {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "mail.test");
        change(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        ServerCert {
            chain: vec![cert.der().clone(), self.issuer.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }
}

/// A server's certificate chain and key.
pub struct ServerCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ServerCert {
    /// A rustls server configuration presenting this certificate (ring provider).
    pub fn server_config(self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.chain, self.key)
            .unwrap();
        Arc::new(tls)
    }
}

/// How the server offers TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsStart {
    /// Plain greeting, then STARTTLS (port 587 style).
    Starttls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

/// The login the server asks for.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    pub password: String,
    /// The AUTH mechanisms offered, e.g. `["PLAIN", "LOGIN"]` or only `["LOGIN"]`.
    pub mechanisms: Vec<&'static str>,
}

/// One message as the server received it, and how its session was set up.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: String,
    pub data: String,
    pub encrypted: bool,
    /// The mechanism the session logged in with.
    pub mechanism: String,
}

/// A running server.
pub struct TlsSmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    /// Every AUTH attempt: mechanism and whether the credentials were right.
    attempts: Arc<Mutex<Vec<(String, bool)>>>,
}

/// What every session of one server shares.
struct Shared {
    start: TlsStart,
    tls: Arc<ServerConfig>,
    login: Login,
    received: Arc<Mutex<Vec<Received>>>,
    attempts: Arc<Mutex<Vec<(String, bool)>>>,
}

impl TlsSmtpServer {
    pub fn start(start: TlsStart, cert: ServerCert, login: Login) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(cert.chain, cert.key)
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            start,
            tls: Arc::new(tls),
            login,
            received: Arc::new(Mutex::new(Vec::new())),
            attempts: Arc::new(Mutex::new(Vec::new())),
        });
        let server = TlsSmtpServer {
            port,
            received: Arc::clone(&shared.received),
            attempts: Arc::clone(&shared.attempts),
        };
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let _ = Session::run(stream, &shared);
                });
            }
        });
        server
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Every AUTH attempt so far: mechanism, and whether the credentials were right.
    pub fn auth_attempts(&self) -> Vec<(String, bool)> {
        self.attempts.lock().unwrap().clone()
    }
}

/// A connection, plain or encrypted.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One client's session.
struct Session<'a> {
    shared: &'a Shared,
    io: BufReader<Stream>,
    logged_in: Option<String>,
    from: String,
    to: Vec<String>,
}

impl<'a> Session<'a> {
    fn run(tcp: TcpStream, shared: &'a Shared) -> std::io::Result<()> {
        tcp.set_nodelay(true)?;
        let stream = match shared.start {
            TlsStart::Starttls => Stream::Plain(tcp),
            TlsStart::Implicit => encrypt(tcp, shared)?,
        };
        let mut session = Session {
            shared,
            io: BufReader::new(stream),
            logged_in: None,
            from: String::new(),
            to: Vec::new(),
        };
        session.reply("220 tls.test ESMTP ready")?;
        session.serve()
    }

    fn encrypted(&self) -> bool {
        matches!(self.io.get_ref(), Stream::Tls(_))
    }

    fn reply(&mut self, text: &str) -> std::io::Result<()> {
        let out = self.io.get_mut();
        out.write_all(text.as_bytes())?;
        out.write_all(b"\r\n")?;
        out.flush()
    }

    /// The next line without its CRLF; `None` when the client hung up.
    fn line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = String::new();
        if self.io.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
    }

    fn serve(&mut self) -> std::io::Result<()> {
        while let Some(line) = self.line()? {
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                self.ehlo()?;
            } else if upper == "STARTTLS" && !self.encrypted() {
                self.reply("220 2.0.0 ready to start TLS")?;
                self.starttls()?;
            } else if upper.starts_with("AUTH ") {
                let mut words = line[5..].split_whitespace();
                let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
                let initial = words.next().unwrap_or("").to_owned();
                self.auth(mechanism, &initial)?;
            } else if upper.starts_with("MAIL FROM:") {
                if self.logged_in.is_none() {
                    self.reply("530 5.7.0 authentication required")?;
                    continue;
                }
                self.from = line[10..].trim().to_owned();
                self.to.clear();
                self.reply("250 2.1.0 ok")?;
            } else if upper.starts_with("RCPT TO:") {
                self.to.push(line[8..].trim().to_owned());
                self.reply("250 2.1.5 ok")?;
            } else if upper == "DATA" {
                self.data()?;
            } else if upper == "RSET" || upper == "NOOP" {
                self.reply("250 ok")?;
            } else if upper == "QUIT" {
                self.reply("221 bye")?;
                return Ok(());
            } else {
                self.reply("502 5.5.2 not implemented")?;
            }
        }
        Ok(())
    }

    /// Like postfix with `smtpd_tls_auth_only`: AUTH only over TLS.
    fn ehlo(&mut self) -> std::io::Result<()> {
        let mut lines = vec!["tls.test".to_owned(), "PIPELINING".to_owned()];
        if self.encrypted() {
            lines.push(format!("AUTH {}", self.shared.login.mechanisms.join(" ")));
        } else {
            lines.push("STARTTLS".to_owned());
        }
        let last = lines.len() - 1;
        let text: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
            .collect();
        self.reply(&text.join("\r\n"))
    }

    fn starttls(&mut self) -> std::io::Result<()> {
        assert!(
            self.io.buffer().is_empty(),
            "the client wrote after STARTTLS before the handshake"
        );
        // The old reader's descriptor closes when it is dropped; the socket lives on in
        // the clone.
        let tcp = self.tcp()?.try_clone()?;
        self.io = BufReader::new(encrypt(tcp, self.shared)?);
        self.logged_in = None;
        Ok(())
    }

    fn tcp(&self) -> std::io::Result<&TcpStream> {
        match self.io.get_ref() {
            Stream::Plain(tcp) => Ok(tcp),
            Stream::Tls(s) => Ok(s.get_ref()),
        }
    }

    fn auth(&mut self, mechanism: String, initial: &str) -> std::io::Result<()> {
        if !self.encrypted() || !self.shared.login.mechanisms.contains(&mechanism.as_str()) {
            return self.reply("504 5.5.4 mechanism not available");
        }
        let (user, password) = match mechanism.as_str() {
            "PLAIN" => {
                let decoded = decode(initial);
                let mut parts = decoded.split('\0').skip(1);
                (
                    parts.next().unwrap_or("").to_owned(),
                    parts.next().unwrap_or("").to_owned(),
                )
            }
            _ => {
                self.reply(&format!("334 {}", BASE64.encode("Username:")))?;
                let user = decode(&self.line()?.unwrap_or_default());
                self.reply(&format!("334 {}", BASE64.encode("Password:")))?;
                let password = decode(&self.line()?.unwrap_or_default());
                (user, password)
            }
        };
        let login = &self.shared.login;
        let right = user == login.user && password == login.password;
        self.shared
            .attempts
            .lock()
            .unwrap()
            .push((mechanism.clone(), right));
        if right {
            self.logged_in = Some(mechanism);
            self.reply("235 2.7.0 authentication successful")
        } else {
            self.reply("535 5.7.8 authentication credentials invalid")
        }
    }

    fn data(&mut self) -> std::io::Result<()> {
        if self.to.is_empty() {
            return self.reply("554 5.5.1 no valid recipients");
        }
        self.reply("354 go ahead")?;
        let mut data = String::new();
        loop {
            let Some(line) = self.line()? else {
                return Ok(());
            };
            if line == "." {
                break;
            }
            data.push_str(line.strip_prefix('.').unwrap_or(&line));
            data.push_str("\r\n");
        }
        let received = Received {
            from: self.from.clone(),
            to: self.to.join(","),
            data,
            encrypted: self.encrypted(),
            mechanism: self.logged_in.clone().unwrap_or_default(),
        };
        self.shared.received.lock().unwrap().push(received);
        self.reply("250 2.0.0 queued")
    }
}

/// Wraps `tcp` in TLS; the handshake happens on first use, as the client reads or writes.
fn encrypt(tcp: TcpStream, shared: &Shared) -> std::io::Result<Stream> {
    let conn = ServerConnection::new(Arc::clone(&shared.tls)).map_err(std::io::Error::other)?;
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

fn decode(text: &str) -> String {
    String::from_utf8(BASE64.decode(text.trim()).unwrap_or_default()).unwrap_or_default()
}
