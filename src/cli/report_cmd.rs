//! `breachdesk report`: an incident report, or a draft notification to a regulator.

use std::path::Path;
use std::process::ExitCode;

use super::output;
use super::{CliError, Context, Invocation};
use crate::config::Settings;
use crate::domain::IncidentId;
use crate::report;
use crate::report::render::{self, ReportFormat};

pub fn run(
    ctx: &mut Context<'_>,
    invocation: &Invocation,
    id: IncidentId,
    format: ReportFormat,
    regulator: Option<&str>,
    out: Option<&Path>,
) -> Result<ExitCode, CliError> {
    // Drafts name the contact point of this machine's config (the daemon's is not sent).
    let settings = if regulator.is_some() {
        Settings::load(&invocation.config, invocation.config_required)?
    } else {
        Settings::defaults()
    };
    let text = render::render(
        ctx.desk,
        &ctx.actor,
        id,
        regulator,
        format,
        &settings,
        chrono::Utc::now(),
    )
    .map_err(|e| match e {
        render::RenderError::Desk(e) => CliError::from(e),
        render::RenderError::Invalid(m) => CliError::User(m),
        e @ render::RenderError::Encode(..) => CliError::Failure(e.to_string()),
    })?;
    match out {
        Some(path) => {
            let name = crate::domain::text::display_path(path);
            output::write_private(path, text.as_bytes())?;
            writeln!(ctx.err, "report written to {name}")?;
        }
        None => ctx.out.write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `breachdesk register`: the breach register on standard output.
pub fn register(
    ctx: &mut Context<'_>,
    format: super::args::RegisterFormat,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<ExitCode, CliError> {
    use super::args::RegisterFormat;
    let entries = report::register::gather(ctx.desk, since)?;
    match format {
        RegisterFormat::Md => write!(
            ctx.out,
            "{}",
            report::register::markdown(&entries, chrono::Utc::now())
        )?,
        RegisterFormat::Csv => write!(ctx.out, "{}", report::register::csv(&entries))?,
        RegisterFormat::Json => output::json(ctx.out, &entries)?,
    }
    Ok(ExitCode::SUCCESS)
}
