//! The check before a first notice is queued: the letter rendered for one person of each
//! distinct set of rules among those to be told must give every element those rules
//! require (`notify::check_letter`). What fails it is refused, naming the rules, a location
//! they cover and each missing element, unless the responder queues it anyway with a reason,
//! which the audit event of the queue records.

use std::collections::BTreeMap;

use super::{DeskError, LocalDesk};
use crate::domain::AffectedPerson;
use crate::notify::{self, IncidentContext, TemplateName};

/// One person per distinct set of rules (by rule ids) among the people being told.
pub(super) type Samples = BTreeMap<Vec<String>, AffectedPerson>;

/// Adds `person` to `samples` if their rules are a set not seen yet.
pub(super) fn sample(desk: &LocalDesk, samples: &mut Samples, person: &AffectedPerson) {
    let location = person.location.as_ref().map(ToString::to_string);
    let law = desk.settings.rules.letter_law(
        location.as_deref(),
        person.categories.iter().map(|c| c.as_str()),
    );
    if !law.rules.is_empty() {
        samples.entry(law.rules).or_insert_with(|| person.clone());
    }
}

/// `Ok(None)` when every sample's letter is complete; otherwise the refusal, or with a
/// `reason` the note for the audit event.
pub(super) fn gate(
    desk: &LocalDesk,
    ctx: &IncidentContext,
    template: TemplateName,
    samples: &Samples,
    reason: Option<&str>,
) -> Result<Option<String>, DeskError> {
    let mut lines = Vec::new();
    for (rules, person) in samples {
        let letter_ctx = ctx.for_person(person, &desk.settings.catalog);
        let letter = desk.settings.templates.render(template, &letter_ctx)?;
        let location = person
            .location
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        for gap in notify::check_letter(&letter, &letter_ctx, &desk.settings.rules) {
            lines.push(format!(
                "people under {} ({location}): {gap}",
                rules.join(", ")
            ));
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    match reason {
        None => Err(DeskError::IncompleteLetter(format!(
            "the '{template}' letter lacks what the law requires, so nothing was queued:\n  - {}\nfix the template or [contact] (`breachdesk template check`), or queue it anyway with --allow-incomplete --reason R (recorded)",
            lines.join("\n  - ")
        ))),
        Some(reason) => Ok(Some(format!(
            "queued although incomplete ({} missing: {}); reason: {reason}",
            lines.len(),
            lines.join("; ")
        ))),
    }
}
