//! Connections to the database, kept for reuse, and the listener for change notices.

use std::sync::Mutex;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{Client, NoTls};

use super::CHANNEL;
use crate::store::StoreError;

/// Connections to one database, kept for reuse.
pub(super) struct PgPool {
    /// The URL as given (it may hold a password: never shown).
    pub(super) url: String,
    /// host:port/database, for messages.
    pub(super) shown: String,
    pub(super) clients: Mutex<Vec<Client>>,
    /// Run on every new connection.
    pub(super) setup: &'static str,
    /// How many idle connections are kept.
    pub(super) keep: usize,
}

/// The URL's host, port and database name, without user or password.
pub fn describe_url(url: &str) -> String {
    match url.parse::<postgres::Config>() {
        Ok(config) => {
            let host = config
                .get_hosts()
                .first()
                .map(|h| match h {
                    postgres::config::Host::Tcp(name) => name.clone(),
                    postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .unwrap_or_else(|| "localhost".into());
            let port = config.get_ports().first().copied().unwrap_or(5432);
            let db = config
                .get_dbname()
                .or(config.get_user())
                .unwrap_or("postgres");
            format!("postgres://{host}:{port}/{db}")
        }
        Err(_) => "a PostgreSQL URL that does not parse".into(),
    }
}

pub(super) fn failed(shown: &str, e: &postgres::Error) -> StoreError {
    StoreError::Unreachable {
        at: format!("PostgreSQL at {shown}"),
        message: explain(e),
    }
}

/// The server's own message where there is one, else the client's.
pub(super) fn explain(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => e.to_string(),
    }
}

impl PgPool {
    /// Runs `f` on a pooled connection, opening one when none is free; a connection that
    /// failed is not returned to the pool. A pooled connection found dead (the server
    /// restarted since it was last used) empties the pool, and `f` runs once more on a new
    /// connection: `f` must be safe to run again after any failure it returns as `Err` (a
    /// transaction returns its COMMIT's outcome inside `Ok`).
    pub(super) fn with_client<T>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let pooled = self.clients.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let (mut client, reused) = match pooled {
            Some(c) if !c.is_closed() => (c, true),
            _ => (self.new_client()?, false),
        };
        let mut result = f(&mut client);
        if reused && result.as_ref().is_err_and(|e| connection_lost(e, &client)) {
            self.clients
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            client = self.new_client()?;
            result = f(&mut client);
        }
        if !client.is_closed() {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            if clients.len() < self.keep {
                clients.push(client);
            }
        }
        result.map_err(|e| failed(&self.shown, &e))
    }

    /// A connection for a caller that keeps it (the writer lock's): `kept` if it is still
    /// open, else a new one.
    pub(super) fn fresh_or(&self, kept: Option<Client>) -> Result<(Client, bool), StoreError> {
        match kept {
            Some(c) if !c.is_closed() => Ok((c, true)),
            _ => Ok((self.new_client()?, false)),
        }
    }

    /// Empties the pool: after one of its connections is found lost, the others (made
    /// to the same server before it went away) are too.
    pub(super) fn drop_all(&self) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub(super) fn new_client(&self) -> Result<Client, StoreError> {
        let mut client = Client::connect(&self.url, NoTls).map_err(|e| failed(&self.shown, &e))?;
        if !self.setup.is_empty() {
            client
                .batch_execute(self.setup)
                .map_err(|e| failed(&self.shown, &e))?;
        }
        Ok(client)
    }
}

/// Whether `e` says the connection itself is gone (the server restarted or was shut down
/// since it was last used), not that the request failed: the client saw it close, the
/// socket failed, or the server's last word on it was that it is shutting it down (SQLSTATE
/// class 57P: admin shutdown, crash shutdown, cannot connect now). Such a request never
/// reached a server that could commit it.
pub(super) fn connection_lost(e: &postgres::Error, client: &Client) -> bool {
    if client.is_closed() || e.is_closed() {
        return true;
    }
    match e.as_db_error() {
        Some(db) => db.code().code().starts_with("57P"),
        // No reply from the server at all: the socket failed under the request.
        None => std::error::Error::source(e)
            .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some()),
    }
}

/// Hands every notice another process announces to `deliver` until it returns false (it is
/// also asked, with `None`, every half second); reconnects when the connection drops.
pub(super) fn listen_loop(url: &str, me: &str, deliver: &(dyn Fn(Option<&str>) -> bool + Send)) {
    let prefix = format!("{me} ");
    loop {
        let Ok(mut client) = Client::connect(url, NoTls) else {
            if !deliver(None) {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
            continue;
        };
        if client.batch_execute(&format!("LISTEN {CHANNEL}")).is_err() {
            continue;
        }
        loop {
            let mut notes = client.notifications();
            let next = notes.timeout_iter(Duration::from_millis(500)).next();
            let wanted = match next {
                Ok(Some(n)) if !n.payload().starts_with(&prefix) => deliver(Some(n.payload())),
                Ok(_) => deliver(None),
                Err(_) => break,
            };
            if !wanted {
                return;
            }
        }
    }
}
