//! One report or regulator draft, rendered to text: what `breachdesk report` prints and the
//! terminal UI writes to a file. Drafts that name the contact point or render a sample
//! letter use the settings of this machine (a daemon's are not sent).

use chrono::{DateTime, Utc};

use super::{Report, drafts};
use crate::config::Settings;
use crate::desk::{Desk, DeskError};
use crate::domain::{IncidentId, UserName};

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Json,
    Html,
}

/// The regulator drafts there are, as `--regulator` names them.
pub const REGULATORS: [&str; 5] = ["gdpr-33", "nz-notifyus", "ico", "hhs", "us-ca-ag"];

/// Why a report was not rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Desk(#[from] DeskError),
    /// The request does not make sense (a draft in a format it does not come in).
    #[error("{0}")]
    Invalid(String),
    #[error("cannot encode the {0}: {1}")]
    Encode(&'static str, String),
}

/// The report of incident `id` as `actor` sees it, or with `regulator` the draft for that
/// regulator, in `format`.
pub fn render(
    desk: &dyn Desk,
    actor: &UserName,
    id: IncidentId,
    regulator: Option<&str>,
    format: ReportFormat,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<String, RenderError> {
    let r = super::gather(desk, actor, id, now)?;
    let contact = &settings.config.contact;
    Ok(match (regulator, format) {
        (None, ReportFormat::Md) => super::markdown(&r),
        (None, ReportFormat::Html) => super::html_page(&r),
        (None, ReportFormat::Json) => pretty_json(&r, "report")?,
        (Some("gdpr-33"), ReportFormat::Md) => super::gdpr33_markdown(&r, contact),
        (Some("gdpr-33"), ReportFormat::Html) => super::gdpr33_html(&r, contact),
        (Some("gdpr-33"), ReportFormat::Json) => {
            return Err(RenderError::Invalid(
                "the gdpr-33 draft is written as md or html".into(),
            ));
        }
        (Some(rule @ ("hhs" | "us-ca-ag" | "nz-notifyus" | "ico")), format) => {
            let draft = match rule {
                "hhs" => drafts::hhs(&r),
                "nz-notifyus" => drafts::nz_notifyus(&r, contact),
                "ico" => drafts::ico(&r, contact),
                _ => drafts::california_ag(&r, &sample_letter(desk, &r, settings)?),
            };
            match format {
                ReportFormat::Md => drafts::markdown(&draft),
                ReportFormat::Json => pretty_json(&draft, "draft")?,
                ReportFormat::Html => {
                    return Err(RenderError::Invalid(format!(
                        "the {rule} draft is Markdown or JSON: use --format md or --format json"
                    )));
                }
            }
        }
        (Some(other), _) => {
            return Err(RenderError::Invalid(format!(
                "no regulator draft for '{}'; drafts exist for: {}",
                crate::domain::text::for_terminal(other),
                REGULATORS.join(", ")
            )));
        }
    })
}

/// The first notice as a Californian would get it, for a placeholder person: the sample
/// copy the Attorney General receives carries no one's personal information.
fn sample_letter(
    desk: &dyn Desk,
    r: &Report,
    settings: &Settings,
) -> Result<crate::notify::Letter, RenderError> {
    use crate::domain::{AffectedPerson, Email, EmployeeId, Location};
    let invalid = |e: crate::domain::DomainError| RenderError::Invalid(e.to_string());
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
    let programs = desk.programs()?;
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
        .map_err(|e| RenderError::Invalid(format!("the sample letter does not render: {e}")))
}

/// `value` as indented JSON and a newline.
pub fn pretty_json(
    value: &impl serde::Serialize,
    what: &'static str,
) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| RenderError::Encode(what, e.to_string()))?;
    text.push('\n');
    Ok(text)
}
