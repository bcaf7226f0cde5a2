//! A throwaway PostgreSQL cluster for the tests of one test binary: `initdb` and `pg_ctl`
//! from the system's PostgreSQL (on PATH, else /usr/lib/postgresql/*/bin), in a temp
//! directory, on a free loopback port, stopped when the binary exits. Each test gets a
//! database of its own. As root the cluster runs as the `postgres` user (PostgreSQL refuses
//! to run as root). Without PostgreSQL the tests that need it are skipped, and one line on
//! the terminal says so.

#![allow(clippy::expect_used)] // test support: a panic is the failure report
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    run_as: Option<String>,
    /// Server options beyond the test defaults (later `-c` settings win).
    extra: &'static str,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// The URL of a new, empty database with breachdesk's tables (`db migrate` done), or
/// `None` (after saying why, once) when PostgreSQL is not installed.
pub fn fresh_database() -> Option<String> {
    let url = empty_database()?;
    breachdesk::store::PgEngine::connect(&url)
        .and_then(|e| e.migrate())
        .expect("migrate the test database");
    Some(url)
}

/// The URL of a new database without breachdesk's tables.
pub fn empty_database() -> Option<String> {
    let cluster = match CLUSTER.get_or_init(start) {
        Ok(c) => c,
        Err(why) => {
            skipped(why);
            return None;
        }
    };
    let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
    let name = format!("bd_{}_{n}", std::process::id());
    let mut admin = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls)
        .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    Some(cluster.url(&name))
}

/// Whether PostgreSQL tests run here.
pub fn available() -> bool {
    CLUSTER.get_or_init(start).is_ok()
}

/// Says once per test binary, on the terminal (not captured), what was skipped.
fn skipped(why: &str) {
    static SAID: OnceLock<()> = OnceLock::new();
    SAID.get_or_init(|| {
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL tests skipped: {why} (apt-get install postgresql; .ci/run does)"
        );
    });
}

impl Cluster {
    pub fn url(&self, db: &str) -> String {
        format!("postgres://breachdesk@127.0.0.1:{}/{db}", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }
}

fn find_bin() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").exists() && dir.join("pg_ctl").exists() {
                // A symlink on PATH: use the directory it points into, where postgres is.
                let real = std::fs::canonicalize(dir.join("initdb")).ok()?;
                return real.parent().map(Path::to_path_buf);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn start() -> Result<Cluster, String> {
    let cluster = launch("shared", "")?;
    register_stop(&cluster);
    Ok(cluster)
}

/// A cluster of the caller's own, to stop and start again; stopped and removed when
/// dropped. `None` (said once) without PostgreSQL.
pub fn own_cluster(name: &str) -> Option<Cluster> {
    own_cluster_with(name, "")
}

/// Like [`own_cluster`], with server options of its own (`-c name=value ...`).
pub fn own_cluster_with(name: &str, extra: &'static str) -> Option<Cluster> {
    match launch(name, extra) {
        Ok(c) => Some(c),
        Err(why) => {
            skipped(&why);
            None
        }
    }
}

impl Cluster {
    /// Stops the server at once, as a crash or a pulled cable would.
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }

    /// Restarts the server the way an administrator does (`pg_ctl restart -m fast`): every
    /// connection is told the server is shutting down and closed.
    pub fn restart(&self) {
        let options = self.options();
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "-l"])
            .arg(self.dir.join("log"))
            .args(["-o", &options, "restart"])
            .output()
            .expect("pg_ctl restart");
        assert!(out.status.success(), "the test cluster did not restart");
    }

    /// Starts the server again on the same port.
    pub fn start(&self) {
        let options = self.options();
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-l"])
            .arg(self.dir.join("log"))
            .args(["-o", &options, "start"])
            .output()
            .expect("pg_ctl start");
        assert!(out.status.success(), "the test cluster did not start again");
    }

    fn options(&self) -> String {
        format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200 {}",
            self.port,
            self.dir.display(),
            self.extra
        )
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A new database with breachdesk's tables.
    pub fn fresh_database(&self) -> String {
        let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
        let name = format!("bd_own_{n}");
        let mut admin =
            postgres::Client::connect(&self.url("postgres"), postgres::NoTls).expect("connect");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let url = self.url(&name);
        breachdesk::store::PgEngine::connect(&url)
            .and_then(|e| e.migrate())
            .expect("migrate the test database");
        url
    }
}

fn launch(name: &str, extra: &'static str) -> Result<Cluster, String> {
    let bin = find_bin().ok_or("no initdb found")?;
    let root = nix::unistd::geteuid().is_root();
    let run_as = root.then(|| "postgres".to_owned());
    // As root the server runs as `postgres`, which must reach its directory wherever the
    // temp directory is.
    let dir = if root {
        super::common::shared_tempdir()?.keep()
    } else {
        std::env::temp_dir().join(format!("breachdesk-pg-{}-{name}", std::process::id()))
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if let Some(user) = &run_as {
        let owner = nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .ok_or_else(|| format!("running as root and there is no '{user}' user"))?;
        nix::unistd::chown(&dir, Some(owner.uid), Some(owner.gid)).map_err(|e| e.to_string())?;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut cluster = Cluster {
        dir,
        bin,
        port,
        run_as,
        extra,
    };
    let data = cluster.dir.join("data");
    let init = cluster
        .command("initdb")
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "breachdesk", "-E", "UTF8", "--no-sync"])
        // Small log segments: less for a test that reads the whole data directory.
        .arg("--wal-segsize=1")
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !init.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr).trim()
        ));
    }
    for attempt in 0..3 {
        let options = cluster.options();
        let started = cluster
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-w", "-l"])
            .arg(cluster.dir.join("log"))
            .args(["-o", &options, "start"])
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if started.status.success() {
            return Ok(cluster);
        }
        if attempt == 2 {
            let log = std::fs::read_to_string(cluster.dir.join("log")).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {log}"));
        }
        // The port was taken between choosing and starting: another one.
        cluster.port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
    }
    unreachable!("the loop returns on its last attempt")
}

static STOP: OnceLock<(PathBuf, PathBuf, Option<String>)> = OnceLock::new();

extern "C" fn stop_cluster() {
    let Some((bin, dir, run_as)) = STOP.get() else {
        return;
    };
    // Dropping it stops it and removes its directory.
    drop(Cluster {
        dir: dir.clone(),
        bin: bin.clone(),
        port: 0,
        run_as: run_as.clone(),
        extra: "",
    });
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops the cluster and removes its directory when the test binary exits.
fn register_stop(cluster: &Cluster) {
    let _ = STOP.set((
        cluster.bin.clone(),
        cluster.dir.clone(),
        cluster.run_as.clone(),
    ));
    // SAFETY: `stop_cluster` is a plain function that only reads a static set before.
    unsafe {
        nix::libc::atexit(stop_cluster);
    }
}

/// The breachdesk tables of the database at `url` whose keys or values hold the bytes of
/// `needle`, as a database administrator reading them would find them.
pub fn tables_holding(url: &str, needle: &str) -> Vec<String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let tables: Vec<String> = client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'bd\\_%' ORDER BY 1",
            &[],
        )
        .expect("list tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let needle = needle.as_bytes();
    tables
        .into_iter()
        .filter(|t| {
            if t == "bd_schema" {
                return false;
            }
            // The journal holds keys and times, the wrapping key's slots numbers and
            // values; every other table keys and values.
            let (key, value) = match t.as_str() {
                "bd_journal" => ("k", "k"),
                "bd_wrapping" => ("v", "v"),
                _ => ("k", "v"),
            };
            let sql = format!(
                "SELECT count(*) FROM {t} WHERE position($1::bytea in {key}) > 0 OR position($1::bytea in {value}) > 0"
            );
            let found: i64 = client.query_one(&sql, &[&needle]).expect("search").get(0);
            found > 0
        })
        .collect()
}
