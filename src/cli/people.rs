//! `breachdesk people ...`: import a roster and list affected people.

use std::path::Path;
use std::process::ExitCode;

use super::args::PeopleCommand;
use super::output::{self, PersonView, safe};
use super::{CliError, Context};
use crate::desk::{PeopleFilter, ReadPath};
use crate::domain::IncidentId;
use crate::domain::inert::csv_cell;
use crate::domain::text::display_path;

/// The largest roster file read.
const MAX_FILE_BYTES: u64 = 1 << 30;

pub fn run(ctx: &mut Context<'_>, cmd: PeopleCommand) -> Result<ExitCode, CliError> {
    match cmd {
        PeopleCommand::Import { id, file, dry_run } => import(ctx, id, &file, dry_run),
        PeopleCommand::Export { id, out } => export(ctx, id, out.as_deref()),
        PeopleCommand::List {
            id,
            category,
            pending,
            search,
            json,
        } => {
            let category = category.map(|c| ctx.desk.catalog().parse(&c)).transpose()?;
            let filter = PeopleFilter {
                category,
                pending,
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
            writeln!(ctx.err, "{} people", people.len())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the roster as CSV, to a new file only the user can read, or to standard output.
fn export(ctx: &mut Context<'_>, id: IncidentId, out: Option<&Path>) -> Result<ExitCode, CliError> {
    let people = ctx
        .desk
        .people(id, PeopleFilter::default(), ReadPath::PeopleExport)?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| CliError::Failure(format!("cannot write CSV: {e}"));
    csv.write_record(["employee_id", "name", "email", "categories", "location"])
        .map_err(failed)?;
    for p in &people {
        let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
        let cats = cats.join(";");
        let cells = [
            p.employee_id.as_str(),
            &p.name,
            p.email.as_str(),
            &cats,
            p.location.as_ref().map_or("", |l| l.as_str()),
        ];
        // Every column came from the imported roster, so none may run in a spreadsheet.
        let cells = cells.map(csv_cell);
        csv.write_record(cells.iter().map(|c| c.as_bytes()))
            .map_err(failed)?;
    }
    let bytes = csv
        .into_inner()
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
