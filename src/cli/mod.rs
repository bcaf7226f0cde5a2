//! The command-line front end: resolves paths and config, opens the desk, runs one
//! subcommand and turns its result into output and an exit code (0 done, 1 failed,
//! 2 the user's input was wrong or refused; 3 a send interrupted). A desk error's exit code
//! follows its kind, locally and through the daemon alike.

mod alerts_cmd;
mod args;
mod audit_cmd;
mod bounces_cmd;
mod db_cmd;
mod deadlines_cmd;
mod incident;
mod notify_cmd;
mod output;
mod people;
mod program;
mod report_cmd;
mod setup_cmd;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use thiserror::Error;

use args::NotifyCommand;
pub use args::{Cli, Command};

use crate::config::{self, ConfigError, Settings};
use crate::desk::{Desk, DeskError, LocalDesk};
use crate::domain::text::display_path;
use crate::domain::{DomainError, UserName};
use crate::identity;
use crate::remote::RemoteDesk;
use crate::store::{Store, StoreError};

/// A command's failure, sorted by whose it is.
#[derive(Debug, Error)]
pub enum CliError {
    /// The input was wrong: exit 2.
    #[error("{0}")]
    User(String),
    /// Something failed that the input could not prevent: exit 1.
    #[error("{0}")]
    Failure(String),
    /// Writing output failed (a closed pipe ends quietly).
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

impl From<DeskError> for CliError {
    /// By the error's kind ([`crate::desk::ErrorKind::is_user_error`]): exit 2 for denied,
    /// not found, invalid and conflict; 1 for unavailable and internal.
    fn from(e: DeskError) -> Self {
        if e.kind().is_user_error() {
            CliError::User(e.to_string())
        } else {
            CliError::Failure(e.to_string())
        }
    }
}

impl From<DomainError> for CliError {
    fn from(e: DomainError) -> Self {
        CliError::User(e.to_string())
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::User(e.to_string())
    }
}

impl From<StoreError> for CliError {
    /// By the same kind as through the desk ([`StoreError::kind`]).
    fn from(e: StoreError) -> Self {
        CliError::from(DeskError::Store(e))
    }
}

/// What a handler needs: the desk, who is acting, and where output goes.
pub struct Context<'a> {
    pub desk: &'a dyn Desk,
    pub actor: UserName,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// How this run uses memory, decided from its parsed command before any thread starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryUse {
    /// Give freed memory back to the system at once rather than after mimalloc's default
    /// 10 ms: a send's 16 connection threads otherwise each keep pages they are done with,
    /// and its peak went from 192 to 216-224 MB (docs/PERFORMANCE.md). Not for `notify
    /// queue`, which allocates and frees letter after letter: there, giving pages back at
    /// once made it take them again from the kernel, zeroed, for every chunk (20-30% of its
    /// time).
    pub purge_at_once: bool,
    /// `notify queue` and `notify send` on the embedded database run without transparent
    /// huge pages. mimalloc commits its arenas whole and the kernel backs them with 2 MiB
    /// pages: a sled send peaked at 140-150 MB for 85 MB of heap (90-98 MB without, as
    /// fast). On PostgreSQL the same send was 28% slower without them (7,600-8,000 against
    /// 10,650-10,900 msg/s), so there they stay; other commands' short runs are faster with
    /// them (`incident list` over 10,000 incidents 95 ms against 117-128 ms).
    pub huge_pages_off_on_sled: bool,
}

impl MemoryUse {
    /// The settings for `command`.
    pub fn for_command(command: Option<&Command>) -> MemoryUse {
        let (queue, send) = match command {
            Some(Command::Notify(NotifyCommand::Queue { .. })) => (true, false),
            Some(Command::Notify(NotifyCommand::Send { .. })) => (false, true),
            _ => (false, false),
        };
        MemoryUse {
            purge_at_once: !queue,
            huge_pages_off_on_sled: queue || send,
        }
    }
}

/// This run of the command line: where the database and config are (after flags, environment
/// and defaults), and how it uses memory.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The database directory; with a PostgreSQL database, where this machine keeps its
    /// send journal.
    pub db: PathBuf,
    /// The PostgreSQL database named by `--db`.
    pub url: Option<String>,
    /// `--db` (or BREACHDESK_DB) was given: `[store] url` does not apply.
    pub db_given: bool,
    pub config: PathBuf,
    /// The config file was named explicitly, so it must exist.
    pub config_required: bool,
    pub key_file: PathBuf,
    /// How the run uses memory ([`MemoryUse::for_command`]).
    pub memory: MemoryUse,
}

impl Invocation {
    /// Resolves `--db` and `--config` (or their environment variables) against defaults.
    pub fn resolve(cli: &Cli) -> Result<Invocation, ConfigError> {
        let url = cli
            .db
            .as_ref()
            .and_then(|d| d.to_str())
            .filter(|d| crate::store::is_url(d))
            .map(str::to_owned);
        let db = match (&url, &cli.db) {
            (Some(url), _) => config::postgres_local_dir(url)?,
            (None, Some(dir)) => dir.clone(),
            (None, None) => config::default_db_dir()?,
        };
        let (config, config_required) = match &cli.config {
            Some(file) => (file.clone(), true),
            None => (config::default_config_file()?, false),
        };
        let key_file = match &cli.key_file {
            Some(file) => file.clone(),
            None => crate::crypto::default_key_file().ok_or(ConfigError::NoHome("config"))?,
        };
        Ok(Invocation {
            db,
            url,
            db_given: cli.db.is_some(),
            config,
            config_required,
            key_file,
            memory: MemoryUse::for_command(cli.command.as_ref()),
        })
    }

    /// Loads the settings and opens a local desk on the database.
    pub fn open_desk(&self) -> Result<LocalDesk, CliError> {
        let settings = Settings::load(&self.config, self.config_required)?;
        let store = self.open_store(&settings)?;
        Ok(LocalDesk::new(store, settings))
    }

    /// The PostgreSQL database to use: `--db URL`, else `[store] url` unless `--db` named a
    /// directory.
    pub fn postgres_url(&self, settings: &Settings) -> Option<String> {
        match (&self.url, self.db_given) {
            (Some(url), _) => Some(url.clone()),
            (None, true) => None,
            (None, false) => settings.config.store.url.clone(),
        }
    }

    /// Opens the database (the directory, or PostgreSQL) with its key and witness.
    pub fn open_store(&self, settings: &Settings) -> Result<Store, CliError> {
        let url = self.postgres_url(settings);
        let local = match &url {
            Some(url) => config::postgres_local_dir(url)?,
            None => self.db.clone(),
        };
        let key = crate::crypto::Key::for_database(&local, Some(&self.key_file))
            .map_err(|e| CliError::User(e.to_string()))?;
        let witness = self.witness(settings);
        let store = match &url {
            Some(url) => Store::open_postgres(url, &key, &local)?,
            None => {
                if self.memory.huge_pages_off_on_sled {
                    crate::sys::no_transparent_huge_pages();
                }
                Store::open(&self.db, &key)?
            }
        };
        Ok(store.with_witness(&witness)?)
    }

    /// The audit witness: `[audit] witness` (relative to the config file's directory),
    /// else `audit-witness` beside the key file, which is in the config directory unless
    /// `--key-file` moves it (also when the key itself comes from `BREACHDESK_KEY`).
    pub fn witness(&self, settings: &Settings) -> PathBuf {
        match &settings.config.audit.witness {
            Some(path) => self
                .config
                .parent()
                .map_or_else(|| path.clone(), |dir| dir.join(path)),
            None => self.key_file.with_file_name("audit-witness"),
        }
    }
}

/// Runs the command line and returns the process's exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread starts: parsing the arguments starts none.
    if MemoryUse::for_command(cli.command.as_ref()).purge_at_once {
        crate::sys::purge_freed_memory_at_once();
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = io::stderr();
    let result = dispatch(cli, &mut out, &mut err).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(CliError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            let _ = writeln!(err, "error: {e}");
            match e {
                CliError::User(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn dispatch(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitCode, CliError> {
    let invocation = Invocation::resolve(&cli)?;
    let cli = match cli.command {
        Some(Command::Setup(cmd)) => {
            let stdin = io::stdin();
            return setup_cmd::run(cmd, &invocation, &mut stdin.lock(), out);
        }
        Some(Command::Db(cmd)) => return db_cmd::run(cmd, &invocation, out),
        command => Cli { command, ..cli },
    };
    if let Some(Command::Serve { socket }) = &cli.command {
        if cli.remote.is_some() {
            return Err(CliError::User(
                "`serve` runs the daemon itself; drop --remote".into(),
            ));
        }
        let desk = invocation.open_desk()?;
        let group = desk.settings().config.daemon.group.clone();
        crate::remote::serve(desk, socket, group.as_deref(), err)
            .map_err(|e| CliError::Failure(e.to_string()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let remote = match &cli.remote {
        Some(socket) => Some(socket.clone()),
        None => {
            Settings::load(&invocation.config, invocation.config_required)?
                .config
                .remote
        }
    };
    let (desk, actor): (Arc<dyn Desk>, UserName) = match remote {
        Some(socket) => {
            let desk = RemoteDesk::connect(&socket)?;
            let actor = desk.identity().user.clone();
            (Arc::new(desk), actor)
        }
        None => {
            let user = identity::current_user();
            let session = Arc::new(invocation.open_desk()?).session(user.clone());
            (Arc::new(session), user)
        }
    };
    let Some(command) = cli.command else {
        // Drafts written from the TUI name this machine's contact point, as `report` does.
        let settings = Arc::new(Settings::load(
            &invocation.config,
            invocation.config_required,
        )?);
        crate::tui::run(desk, actor, settings).map_err(|e| CliError::Failure(e.to_string()))?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut ctx = Context {
        desk: desk.as_ref(),
        actor,
        out,
        err,
    };
    match command {
        Command::Demo => {
            let summary = crate::demo::populate(ctx.desk)?;
            writeln!(
                ctx.out,
                "demo database ready at {}: {} incidents, {} people on {}. Run `breachdesk{}` to open it.",
                display_path(&invocation.db),
                summary.incidents,
                summary.people,
                summary.main_incident,
                if cli.db.is_some() {
                    format!(" --db {}", display_path(&invocation.db))
                } else {
                    String::new()
                }
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Incident(cmd) => incident::run(&mut ctx, cmd),
        Command::People(cmd) => people::run(&mut ctx, cmd),
        Command::Program(cmd) => program::run(&mut ctx, cmd),
        Command::Audit(cmd) => audit_cmd::run(&mut ctx, cmd),
        Command::Template(cmd) => notify_cmd::template(&mut ctx, cmd, &invocation),
        Command::Notify(cmd) => notify_cmd::run(&mut ctx, cmd),
        Command::Serve { .. } | Command::Setup(_) | Command::Db(_) => Err(CliError::Failure(
            "internal error: this command runs before the desk opens".into(),
        )),
        Command::Deadlines {
            id,
            json,
            uncovered,
            due_within: Some(within),
        } if !uncovered => deadlines_cmd::due_within(&mut ctx, id, json, within),
        Command::Deadlines {
            id,
            json,
            uncovered,
            ..
        } => deadlines_cmd::deadlines(&mut ctx, id, json, uncovered),
        Command::Register { format, since } => report_cmd::register(&mut ctx, format, since),
        Command::Alerts(cmd) => alerts_cmd::alerts(&mut ctx, cmd),
        Command::Obligation(cmd) => deadlines_cmd::obligation(&mut ctx, cmd),
        Command::Evidence(cmd) => deadlines_cmd::evidence(&mut ctx, cmd),
        Command::Report {
            id,
            format,
            regulator,
            out,
        } => report_cmd::run(
            &mut ctx,
            &invocation,
            id,
            format,
            regulator.as_deref(),
            out.as_deref(),
        ),
    }
}
