//! `template check`, for the command line and the terminal UI alike: every template rendered
//! for a sample person, the first notice for a sample person of every jurisdiction whose rule
//! lists what its letter must contain (checked element by element), every translation, and
//! the `[contact]` details those letters need.

use crate::config::Settings;
use crate::domain::{
    AffectedPerson, CategoryCatalog, CategoryDef, Email, EmployeeId, Incident, IncidentId,
    NewIncident, Severity, UserName,
};
use crate::notify::{IncidentContext, TemplateName, stats};

/// What the check found: one line per template, rule and contact detail.
#[derive(Debug, Clone, Default)]
pub struct TemplateCheck {
    pub lines: Vec<String>,
    /// Templates that failed to render or lack what a rule requires.
    pub bad: usize,
    /// Contact details the letters must give that are not set.
    pub hard: usize,
}

impl TemplateCheck {
    /// The problems in one sentence, or `None` when there are none.
    pub fn problems(&self) -> Option<String> {
        let mut problems = Vec::new();
        if self.bad > 0 {
            problems.push(format!(
                "{} problem(s) in the templates (failed to render, or lacking what a rule requires)",
                self.bad
            ));
        }
        if self.hard > 0 {
            problems.push(format!(
                "{} contact detail(s) the letters must give are missing: set them under [contact] in the config",
                self.hard
            ));
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}

/// Checks every template of `settings`.
pub fn check_templates(settings: &Settings) -> TemplateCheck {
    let mut lines = Vec::new();

    // A sample category for each element a rule's credit-monitoring duty names, so that
    // the offer is checked where it would be required.
    let elements: std::collections::BTreeSet<crate::domain::DataElement> = settings
        .rules
        .rules()
        .filter_map(|r| r.credit_monitoring.as_ref())
        .flat_map(|m| m.elements.iter().copied())
        .collect();
    let catalog = settings
        .catalog
        .extended(elements.into_iter().map(|e| CategoryDef {
            name: sample_category(e),
            description: format!("your {e} (a sample category)"),
            elements: vec![e],
            may_contain: Vec::new(),
        }));
    let rules = settings.rules.clone().with_catalog(&catalog);
    let sample =
        sample_context(&catalog, &settings.config.contact).with_law(&rules, chrono::Utc::now());
    let mut bad = 0;
    // What the English letters lack (a `[contact]` detail, most often): said once, not
    // again for each translation.
    let mut english_gaps = std::collections::BTreeSet::new();
    // Each template for a sample person, and the letters to people for a sample
    // person of every jurisdiction whose rule lists letter elements.
    for name in TemplateName::ALL {
        let mut people = vec![(
            "".to_owned(),
            sample_person(&settings.catalog, "US-CA", &[]),
        )];
        if name == TemplateName::Initial {
            people.extend(jurisdiction_samples(settings, &catalog));
        }
        for (rule, person) in &people {
            let label = if rule.is_empty() {
                name.to_string()
            } else {
                let at = person
                    .location
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                format!("{name} for {rule} ({at})")
            };
            let letter_ctx = sample.for_person(person, &catalog);
            match settings.templates.render(name, &letter_ctx) {
                Ok(letter) => {
                    // What the person's law requires, by rule and element.
                    let gaps = if rule.is_empty() {
                        Vec::new()
                    } else {
                        crate::notify::check_letter(&letter, &letter_ctx, &rules)
                    };
                    if gaps.is_empty() {
                        lines.push(format!("ok     {label}"));
                    }
                    for gap in gaps {
                        english_gaps.insert((rule.clone(), gap.rule.clone(), gap.element));
                        bad += 1;
                        lines.push(format!("LACKS  {label}: {gap}"));
                    }
                }
                Err(e) => {
                    bad += 1;
                    lines.push(format!("ERROR  {label}: {e}"));
                }
            }
        }
    }
    // Each translation renders for a sample person who reads it; everyone whose
    // language has none gets the English letter.
    // A translated first notice is checked for every jurisdiction, like the English one:
    // anyone may read it, wherever they live.
    let samples = jurisdiction_samples(settings, &catalog);
    for name in TemplateName::ALL {
        for lang in settings.templates.languages(name) {
            let mut people = vec![(String::new(), sample_person(&catalog, "DE", &[]))];
            if name == TemplateName::Initial {
                people.extend(samples.iter().cloned());
            }
            let mut failed = false;
            for (rule, mut person) in people {
                person.language = crate::domain::Language::parse(lang).ok();
                let letter_ctx = sample.for_person(&person, &catalog);
                match settings.templates.render(name, &letter_ctx) {
                    Ok(letter) if !rule.is_empty() => {
                        let at = person
                            .location
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default();
                        for gap in crate::notify::check_letter(&letter, &letter_ctx, &rules) {
                            if english_gaps.contains(&(rule.clone(), gap.rule.clone(), gap.element))
                            {
                                continue;
                            }
                            bad += 1;
                            failed = true;
                            lines.push(format!("LACKS  {name}.{lang} for {rule} ({at}): {gap}"));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        bad += 1;
                        failed = true;
                        lines.push(format!("ERROR  {name}.{lang}: {e}"));
                    }
                }
            }
            if !failed {
                lines.push(format!(
                    "ok     {name}.{lang} (for people whose language is {lang}; other languages get English)"
                ));
            }
        }
    }
    let missing = settings
        .rules
        .missing_contact(|field| settings.config.contact.has(field));
    let mut hard = 0;
    for m in &missing {
        match (m.stand_in, &m.only_when) {
            (Some(instead), _) => lines.push(format!(
                "NOTE   [contact] {} is not set: rule {} letters give the contact {instead} as their {} instead",
                m.field, m.rule, m.element
            )),
            (None, Some(when)) => lines.push(format!(
                "NOTE   [contact] {} is not set: rule {} letters must give {} when {when} is exposed; set it before sending those",
                m.field, m.rule, m.element
            )),
            (None, None) => {
                hard += 1;
                lines.push(format!(
                    "MISSING [contact] {}: rule {} requires its letters to give {}",
                    m.field, m.rule, m.element
                ));
            }
        }
    }
    TemplateCheck { lines, bad, hard }
}

/// The name of the sample category that contains `element`.
fn sample_category(element: crate::domain::DataElement) -> String {
    format!("sample-{element}")
}

/// A sample person for each rule that lists letter elements: living at the rule's first
/// concrete location, with its data categories exposed if it names any, and (once
/// `[contact] credit_monitoring` is set) an element its credit-monitoring duty names.
fn jurisdiction_samples(
    settings: &Settings,
    catalog: &CategoryCatalog,
) -> Vec<(String, AffectedPerson)> {
    let offer = settings.config.contact.has("credit_monitoring");
    settings
        .rules
        .rules()
        .filter(|r| !r.letter.is_empty() && r.is_current())
        .filter_map(|rule| {
            let at = rule.locations.iter().find(|l| !l.contains('*'))?;
            let mut extra: Vec<String> = rule.categories.clone();
            if let Some(m) = rule.credit_monitoring.as_ref().filter(|_| offer) {
                extra.extend(m.elements.first().map(|e| sample_category(*e)));
            }
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            Some((rule.id.clone(), sample_person(catalog, at, &extra)))
        })
        .collect()
}

#[allow(clippy::expect_used, reason = "fixed sample values that are valid")]
fn sample_person(catalog: &CategoryCatalog, location: &str, extra: &[&str]) -> AffectedPerson {
    AffectedPerson {
        employee_id: EmployeeId::parse("E00001").expect("E00001 is an employee id"),
        name: "Ana Díaz".into(),
        email: Email::parse("ana.diaz@corp.example").expect("valid sample address"),
        categories: ["keystrokes", "chat-messages"]
            .iter()
            .chain(extra)
            .filter_map(|c| catalog.parse(c).ok())
            .collect(),
        location: crate::domain::Location::parse(location).ok(),
        notified_at: None,
        bounced: None,
        language: None,
    }
}

#[allow(clippy::expect_used, reason = "fixed sample values that are valid")]
fn sample_context(catalog: &CategoryCatalog, contact: &crate::notify::Contact) -> IncidentContext {
    let new = NewIncident::new(
        "Sample incident",
        Severity::new(2).expect("2 is a severity"),
        "A sample summary.",
    )
    .expect("a valid sample incident");
    let incident = Incident::open(
        IncidentId::new(1),
        new,
        UserName::parse("sample").expect("valid"),
        chrono::Utc::now(),
    );
    let person = sample_person(catalog, "US-CA", &[]);
    IncidentContext::new(&incident, &[], contact, stats([&person], catalog))
}
