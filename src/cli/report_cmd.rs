//! `breachdesk report`: an incident report, or a draft notification to a regulator.

use std::path::Path;
use std::process::ExitCode;

use super::args::ReportFormat;
use super::output;
use super::{CliError, Context, Location};
use crate::config::Settings;
use crate::domain::IncidentId;
use crate::report;

pub fn run(
    ctx: &mut Context<'_>,
    location: &Location,
    id: IncidentId,
    format: ReportFormat,
    regulator: Option<&str>,
    out: Option<&Path>,
) -> Result<ExitCode, CliError> {
    let r = report::gather(ctx.desk, &ctx.actor, id, chrono::Utc::now())?;
    let text = match regulator {
        None => match format {
            ReportFormat::Md => report::markdown(&r),
            ReportFormat::Html => report::html_page(&r),
            ReportFormat::Json => pretty_json(&r, "report")?,
        },
        Some("gdpr-33") => {
            // The contact point comes from this machine's config (the daemon's is not sent).
            let settings = Settings::load(&location.config, location.config_required)?;
            match format {
                ReportFormat::Md => report::gdpr33_markdown(&r, &settings.config.contact),
                ReportFormat::Html => report::gdpr33_html(&r, &settings.config.contact),
                ReportFormat::Json => {
                    return Err(CliError::User(
                        "the gdpr-33 draft is written as md or html".into(),
                    ));
                }
            }
        }
        Some(rule @ ("hhs" | "us-ca-ag" | "nz-notifyus" | "ico")) => {
            let draft = if rule == "hhs" {
                report::drafts::hhs(&r)
            } else {
                let settings = Settings::load(&location.config, location.config_required)?;
                match rule {
                    "nz-notifyus" => report::drafts::nz_notifyus(&r, &settings.config.contact),
                    "ico" => report::drafts::ico(&r, &settings.config.contact),
                    _ => report::drafts::california_ag(&r, &sample_letter(ctx, &r, &settings)?),
                }
            };
            match format {
                ReportFormat::Md => report::drafts::markdown(&draft),
                ReportFormat::Json => pretty_json(&draft, "draft")?,
                ReportFormat::Html => {
                    return Err(CliError::User(format!(
                        "the {rule} draft is Markdown or JSON: use --format md or --format json"
                    )));
                }
            }
        }
        Some(other) => {
            return Err(CliError::User(format!(
                "no regulator draft for '{}'; drafts exist for: gdpr-33, nz-notifyus, ico, hhs, us-ca-ag",
                crate::domain::text::for_terminal(other)
            )));
        }
    };
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

/// The first notice as a Californian would get it, for a placeholder person: the sample
/// copy the Attorney General receives carries no one's personal information.
fn sample_letter(
    ctx: &mut Context<'_>,
    r: &report::Report,
    settings: &Settings,
) -> Result<crate::notify::Letter, CliError> {
    use crate::domain::{AffectedPerson, Email, EmployeeId, Location};
    let invalid = |e: crate::domain::DomainError| CliError::Failure(e.to_string());
    let person = AffectedPerson {
        employee_id: EmployeeId::parse("SAMPLE").map_err(invalid)?,
        name: "[Name]".into(),
        email: Email::parse("name@example.invalid").map_err(invalid)?,
        categories: r.incident.categories.clone(),
        location: Location::parse("US-CA").ok(),
        notified_at: None,
        bounced: None,
        language: None,
    };
    let programs = ctx.desk.programs()?;
    let letters = crate::notify::IncidentContext::new(
        &r.incident,
        &programs,
        &settings.config.contact,
        crate::notify::stats([&person], &settings.catalog),
    )
    .with_law(&settings.rules, r.generated_at);
    settings
        .templates
        .render(
            crate::notify::TemplateName::Initial,
            &letters.for_person(&person, &settings.catalog),
        )
        .map_err(|e| CliError::User(format!("the sample letter does not render: {e}")))
}

/// `value` as indented JSON and a newline, for standard output or a file.
fn pretty_json(value: &impl serde::Serialize, what: &str) -> Result<String, CliError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Failure(format!("cannot encode the {what}: {e}")))?;
    text.push('\n');
    Ok(text)
}
