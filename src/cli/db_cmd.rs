//! `db migrate` and `db copy`: the database itself, below the desk.

use std::io::Write;
use std::process::ExitCode;

use super::args::DbCommand;
use super::{CliError, Invocation};
use crate::config::{self, Settings};
use crate::store::{self, PgEngine, Store, copy};

pub fn run(
    cmd: DbCommand,
    invocation: &Invocation,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let settings = Settings::load(&invocation.config, invocation.config_required)?;
    match cmd {
        DbCommand::Migrate => migrate(invocation, &settings, out),
        DbCommand::Copy { from, to } => copy_db(invocation, &from, &to, out),
    }
}

fn migrate(
    invocation: &Invocation,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let Some(url) = invocation.postgres_url(settings) else {
        return Err(CliError::User(
            "`db migrate` is for a PostgreSQL database (--db postgres://... or [store] url); a directory database is upgraded when it is opened".into(),
        ));
    };
    let engine = PgEngine::connect(&url)?;
    let before = engine.migrate()?;
    let at = store::describe_url(&url);
    let wanted = store::SCHEMA_VERSION;
    match before {
        None => writeln!(
            out,
            "{at}: breachdesk tables created (schema version {wanted})"
        )?,
        Some(v) if v == wanted => writeln!(out, "{at}: already at schema version {wanted}")?,
        Some(v) => writeln!(out, "{at}: schema upgraded from version {v} to {wanted}")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn copy_db(
    invocation: &Invocation,
    from: &str,
    to: &str,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let shown = |db: &str| {
        if store::is_url(db) {
            store::describe_url(db)
        } else {
            crate::domain::text::display_path(std::path::Path::new(db)).to_string()
        }
    };
    let report = {
        let source = copy::open_source(from)?;
        let target = copy::open_target(to)?;
        copy::copy(source.as_ref(), target.as_ref(), &mut |_, _| {})?
    };
    writeln!(
        out,
        "copied {} records from {} to {}; every tree counted the same on both sides",
        report.total(),
        shown(from),
        shown(to)
    )?;
    // The copy is sealed under the source's key: open it with that key and check the chain.
    let local = if store::is_url(to) {
        config::postgres_local_dir(to)?
    } else {
        std::path::PathBuf::from(to)
    };
    let key = crate::crypto::Key::for_database(&local, Some(&invocation.key_file))
        .map_err(|e| CliError::User(e.to_string()))?;
    let copied = if store::is_url(to) {
        Store::open_postgres(to, &key, &local)?
    } else {
        Store::open(&local, &key)?
    };
    match copied.verify_audit()? {
        Ok(verified) => {
            writeln!(
                out,
                "audit chain of the copy verified: {} events",
                verified.events
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(tamper) => Err(CliError::Failure(format!(
            "the copy's audit chain does not verify: {tamper}"
        ))),
    }
}
