//! Shared set-up for tests that drive the real binary: a temp home, data and config
//! directory per test, so nothing on the machine leaks in.

#![allow(clippy::expect_used)] // test support: a panic is the failure report
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// Pauses the `staff-monitoring` programme for INC-1, as most programme tests do.
pub const PAUSE_STAFF_MONITORING: &[&str] = &[
    "program",
    "pause",
    "staff-monitoring",
    "--incident",
    "1",
    "--reason",
    "exposure",
];

/// A sandbox with its own database and config paths.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A sandbox other OS users can reach (for a daemon's socket they connect to), holding
    /// a copy of the binary they can run (`breachdesk` in it): the clone, the target
    /// directory and the temp directory may all sit under directories only this user may
    /// enter. `Err` says why there is none.
    pub fn shared() -> Result<Self, String> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = shared_tempdir()?;
        let bin = dir.path().join("breachdesk");
        std::fs::copy(assert_cmd::cargo::cargo_bin("breachdesk"), &bin)
            .and_then(|_| std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| format!("cannot copy the binary for other users: {e}"))?;
        Ok(Sandbox { dir })
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the sandbox and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// The database key the binary created in this sandbox's config directory.
    pub fn key(&self) -> breachdesk::crypto::Key {
        let file = self.path("home/config/breachdesk/key");
        let text = std::fs::read_to_string(&file).expect("key file");
        breachdesk::crypto::Key::from_hex(&text).expect("valid key")
    }

    /// The binary with `--db` pointing into the sandbox and HOME/XDG dirs isolated.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// The same as a plain process, to spawn and signal.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("breachdesk"));
        let home = self.dir.path().join("home");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("BREACHDESK_DB", self.db());
        if self.config().exists() {
            cmd.env("BREACHDESK_CONFIG", self.config());
        }
        cmd
    }

    /// Starts the binary with `args` in the background, its output piped.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.std_cmd()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the binary")
    }

    /// Runs the binary with `args`, expects success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run");
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs the binary with `args`, expects exit code `code`, returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.cmd().args(args).output().expect("run");
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Runs the binary and parses its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
    }

    /// Opens an incident and returns its id.
    pub fn open_incident(&self, title: &str, severity: u8) -> String {
        self.ok(&[
            "incident",
            "open",
            "--title",
            title,
            "--severity",
            &severity.to_string(),
        ])
        .trim()
        .to_owned()
    }

    /// Imports a roster given as CSV text.
    pub fn import(&self, id: &str, csv: &str) -> String {
        let file = self.write("roster.csv", csv);
        self.ok(&["people", "import", id, file.to_str().expect("utf-8 path")])
    }
}

/// One string field of every object in a JSON array, e.g. every `title` of a list.
pub fn field_strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| item[field].as_str().expect("a string field"))
        .collect()
}

/// A roster of `n` people with predictable ids, names and categories.
pub fn roster(n: usize) -> String {
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    let cats = [
        "keystrokes",
        "mouse-movements;chat-messages",
        "transcripts",
        "performance-data",
    ];
    let places = ["US-CA", "DE", "NZ", "US-TX", ""];
    for i in 0..n {
        csv.push_str(&format!(
            "E{i:06},Person {i},person{i}@corp.example,{},{}\n",
            cats[i % cats.len()],
            places[i % places.len()]
        ));
    }
    csv
}

pub fn assert_mode(path: &Path, want: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, want, "{} has mode {mode:o}", path.display());
}

/// Opens a database's sled files directly, behind breachdesk's back. sled's own threads can
/// keep its lock a moment after the handle is dropped, so that the next open (a tamper step
/// after another, or the binary) would fail at random: dropping the returned handle waits,
/// on the very lock sled takes, until nothing holds it.
pub fn open_sled(dir: &Path) -> RawSled {
    let db = sled::Config::new()
        .path(dir)
        .flush_every_ms(None)
        .open()
        .expect("open the sled files");
    RawSled {
        db: Some(db),
        lock: dir.join("db"),
    }
}

/// A sled database opened by a test; see [`open_sled`].
pub struct RawSled {
    db: Option<sled::Db>,
    lock: PathBuf,
}

impl std::ops::Deref for RawSled {
    type Target = sled::Db;

    fn deref(&self) -> &sled::Db {
        self.db.as_ref().expect("open until dropped")
    }
}

impl Drop for RawSled {
    fn drop(&mut self) {
        drop(self.db.take());
        // sled locks its `db` file with flock; a blocking flock of our own returns once the
        // last of sled's handles on it is closed.
        let file = std::fs::File::open(&self.lock).expect("the database's lock file");
        let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .expect("wait for the database's lock");
        drop(held);
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every file under `dir`, whole.
pub fn every_byte(dir: &Path) -> Vec<Vec<u8>> {
    files_under(dir)
        .iter()
        .map(|f| std::fs::read(f).expect("read a file"))
        .collect()
}

/// What the database key opens in `files` (every byte window, every key found on the
/// way), looking for the data keys of the incidents numbered `incidents`.
pub fn scan_for_keys(
    files: &[Vec<u8>],
    key: &breachdesk::crypto::Key,
    incidents: &[u64],
) -> breachdesk_forensics::Findings {
    let places = breachdesk_forensics::Places {
        wrapping: breachdesk::store::WRAPPING_AAD,
        data_keys: incidents
            .iter()
            .map(|n| (*n, breachdesk::store::data_key_place(*n)))
            .collect(),
    };
    let root: &[u8; 32] = key.bytes().try_into().expect("a 32-byte key");
    breachdesk_forensics::scan(files, root, &places)
}

/// Whether every directory from the root down to `dir` lets other users pass (`o+x`).
fn reachable_by_others(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    dir.ancestors()
        .all(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// A new directory (mode 0755) that other OS users can reach: under the temp directory
/// when they can reach that, else under `/tmp`; removed when dropped.
pub fn shared_tempdir() -> Result<TempDir, String> {
    use std::os::unix::fs::PermissionsExt as _;
    let base = [std::env::temp_dir(), PathBuf::from("/tmp")]
        .into_iter()
        .find(|b| reachable_by_others(b))
        .ok_or("neither the temp directory nor /tmp can be reached by other users")?;
    let dir = tempfile::Builder::new()
        .prefix("breachdesk-shared-")
        .tempdir_in(&base)
        .map_err(|e| format!("cannot make a directory in {}: {e}", base.display()))?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Says on the terminal (not captured, so it shows in every run) that `test` did not run
/// here, and why: a test that cannot run where it is never passes silently.
pub fn skip(test: &str, why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "test {test} skipped: {why}");
}
