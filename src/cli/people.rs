//! `breachdesk people ...`: import a roster and list affected people.

use std::path::Path;
use std::process::ExitCode;

use super::args::PeopleCommand;
use super::output::{self, PersonView, safe};
use super::{CliError, Context};
use crate::desk::{PeopleFilter, ReadPath};
use crate::domain::IncidentId;
use crate::domain::text::display_path;

/// The largest roster file read.
const MAX_FILE_BYTES: u64 = 1 << 30;

pub fn run(ctx: &mut Context<'_>, cmd: PeopleCommand) -> Result<ExitCode, CliError> {
    match cmd {
        PeopleCommand::Import { id, file, dry_run } => import(ctx, id, &file, dry_run),
        PeopleCommand::Export {
            id,
            out,
            undeliverable,
        } => export(ctx, id, out.as_deref(), undeliverable),
        PeopleCommand::List {
            id,
            category,
            pending,
            undeliverable,
            search,
            json,
        } => {
            let category = category.map(|c| ctx.desk.catalog().parse(&c)).transpose()?;
            let filter = PeopleFilter {
                category,
                pending,
                undeliverable,
                text: search,
            };
            let people = ctx.desk.people(id, filter, ReadPath::PeopleList)?;
            if json {
                let views: Vec<_> = people.iter().map(PersonView::new).collect();
                output::json(ctx.out, &views)?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(
                ctx.out,
                "{:<14} {:<24} {:<32} {:<8} {:<8} CATEGORIES",
                "EMPLOYEE", "NAME", "EMAIL", "LOCATION", "NOTIFIED"
            )?;
            for p in &people {
                let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
                writeln!(
                    ctx.out,
                    "{:<14} {:<24} {:<32} {:<8} {:<8} {}",
                    safe(p.employee_id.as_str()),
                    safe(&p.name),
                    safe(p.email.as_str()),
                    p.location.as_ref().map_or("-", |l| l.as_str()),
                    if p.is_notified() { "yes" } else { "no" },
                    cats.join(";")
                )?;
            }
            for p in people.iter().filter(|p| p.is_undeliverable()) {
                if let Some(b) = &p.bounced {
                    writeln!(
                        ctx.out,
                        "  {} UNDELIVERABLE: {} {}",
                        safe(p.employee_id.as_str()),
                        b.status,
                        safe(&b.diagnostic)
                    )?;
                }
            }
            writeln!(ctx.err, "{} people", people.len())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the roster as CSV, to a new file only the user can read, or to standard output;
/// with `undeliverable`, only the people no letter reached, with their bounce.
fn export(
    ctx: &mut Context<'_>,
    id: IncidentId,
    out: Option<&Path>,
    undeliverable: bool,
) -> Result<ExitCode, CliError> {
    let filter = PeopleFilter {
        undeliverable,
        ..PeopleFilter::default()
    };
    let people = ctx.desk.people(id, filter, ReadPath::PeopleExport)?;
    let bytes = crate::roster::export_csv(&people, undeliverable)
        .map_err(|e| CliError::Failure(format!("cannot write CSV: {e}")))?;
    match out {
        Some(path) => {
            let name = display_path(path);
            output::write_private(path, &bytes)?;
            writeln!(ctx.err, "{} people written to {name}", people.len())?;
        }
        None => ctx.out.write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn import(
    ctx: &mut Context<'_>,
    id: IncidentId,
    file: &Path,
    dry_run: bool,
) -> Result<ExitCode, CliError> {
    let name = display_path(file);
    let unreadable = |e: std::io::Error| CliError::User(format!("cannot read {name}: {e}"));
    let size = std::fs::metadata(file).map_err(unreadable)?.len();
    if size > MAX_FILE_BYTES {
        return Err(CliError::User(format!(
            "{name} is larger than 1 GiB; split the roster"
        )));
    }
    let bytes = std::fs::read(file).map_err(unreadable)?;
    let report = ctx.desk.import_roster(id, bytes, name, dry_run)?;
    let verb = if dry_run { "would import" } else { "imported" };
    writeln!(
        ctx.out,
        "{id}: {verb} {} rows: {} added, {} updated, {} unchanged{}",
        report.rows,
        report.added,
        report.updated,
        report.unchanged,
        if dry_run {
            " (dry run; nothing written)"
        } else {
            ""
        }
    )?;
    Ok(ExitCode::SUCCESS)
}
