//! Legal clocks: jurisdiction rules (shipped as data in `rules/*.toml`, overridable
//! in config) and the obligations they put on an incident, from where its affected people
//! live, what was exposed, what the evidence found and when the organisation became aware.
//!
//! Due-time arithmetic (hours, calendar days in a rule's time zone, time left) is `due.rs`.
//!
//! Decision support, not legal advice: see the header of `rules/europe.toml`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::{
    CategoryCatalog, DataElement, ExposedElements, Finding, Incident, IncidentId, ObligationState,
};

pub use crate::domain::{EvidenceSummary, ObligationRecord};
pub use due::{TimeLeft, add_local_days};
pub use exemption::Art34Ground;
pub use letter::{LetterElement, LetterLaw, MissingContact, Required};

mod due;
mod exemption;
mod letter;

/// The shipped rule files (compiled in), by region: `rules/*.toml`.
const BUILT_IN: [(&str, &str); 7] = [
    ("europe.toml", include_str!("rules/europe.toml")),
    ("us-1.toml", include_str!("rules/us-1.toml")),
    ("us-2.toml", include_str!("rules/us-2.toml")),
    ("us-3.toml", include_str!("rules/us-3.toml")),
    ("us-4.toml", include_str!("rules/us-4.toml")),
    ("world-1.toml", include_str!("rules/world-1.toml")),
    ("world-2.toml", include_str!("rules/world-2.toml")),
];

/// Every shipped rule, file by file.
fn built_in_rules() -> Result<Vec<Rule>, RuleError> {
    // Parsed once per process: settings, the desk and each front end build rule books from
    // the same compiled-in text.
    static PARSED: std::sync::OnceLock<Result<Vec<Rule>, RuleError>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            let mut rules = Vec::new();
            for (name, text) in BUILT_IN {
                rules.extend(
                    shipped_rules(text)
                        .map_err(|e| RuleError::Parse(format!("rules/{name}: {e}")))?,
                );
            }
            Ok(rules)
        })
        .clone()
}

/// A rule file or `[deadlines]` section that cannot be used.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum RuleError {
    #[error("jurisdiction rules: {0}")]
    Parse(String),
    #[error("rule '{id}': {reason}")]
    Invalid { id: String, reason: String },
}

/// What starts a rule's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockStart {
    Awareness,
    Discovery,
    Determination,
}

impl ClockStart {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockStart::Awareness => "awareness",
            ClockStart::Discovery => "discovery",
            ClockStart::Determination => "determination",
        }
    }
}

/// What must have happened for a rule to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Any breach: the data was exposed.
    Exposure,
    /// Someone without authority read it.
    Access,
    /// Someone without authority took a copy.
    Acquisition,
}

/// Whether a rule with `trigger` applies given what the evidence found.
pub fn triggers(finding: Finding, trigger: Trigger) -> bool {
    match trigger {
        Trigger::Exposure => true,
        Trigger::Access => finding != Finding::NoAccess,
        Trigger::Acquisition => matches!(finding, Finding::Unknown | Finding::Acquired),
    }
}

/// One jurisdiction's notification rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub notify: String,
    pub locations: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default)]
    pub undue_delay: bool,
    pub clock: ClockStart,
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_people: Option<u64>,
    pub timezone: String,
    pub citation: String,
    /// Applies only when the breach is likely to result in a high risk to the people (GDPR
    /// Art. 34(1)): once a harm assessment rates it below high, the obligation shows as not
    /// required, with the assessment as its reason.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub high_risk_only: bool,
    /// Applies only to a notifiable privacy breach (NZ Privacy Act 2020 s112): once the
    /// serious-harm test finds serious harm not likely, the obligation shows as not
    /// required, with the test as its reason.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub serious_harm_only: bool,
    /// What a notice to individuals under this rule must contain (see `letter.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub letter: Vec<Required>,
    /// The first day this version applies: the one in force on the day its clock starts
    /// (awareness, discovery or determination, in the rule's time zone) is the one that
    /// counts. Every shipped rule has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_force_from: Option<NaiveDate>,
    /// The day a later version (same id) took over; clocks started from then on use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// When the rule was last checked against its citation. Every shipped rule has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<NaiveDate>,
    /// What is uncertain about the rule, said rather than guessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The statutory data elements whose exposure brings the rule into play (a US state's
    /// definition of personal information); empty: any personal data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<DataElement>,
    /// `min_people` counts each location on its own (HIPAA's media notice: more than 500
    /// residents of one state), and the obligation covers the locations that reach it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_location: bool,
    /// `days` are business days (Monday to Friday in the rule's time zone).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub business_days: bool,
    /// A harm test the law puts on the duty, in words ("real risk of significant harm").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    /// What a notice to an authority must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
    /// When notice by other means (website, media) may stand in for letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_notice: Option<String>,
    /// Credit monitoring or identity protection the law requires offering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_monitoring: Option<CreditMonitoring>,
    /// The jurisdiction sets no statutory duty: the rule says so (with what to consider in
    /// its note) rather than the location being missing. It has no deadline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_duty: bool,
}

/// Credit monitoring or identity-theft protection a statute requires offering for free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditMonitoring {
    /// The elements whose exposure requires it.
    pub elements: Vec<DataElement>,
    pub months: u32,
    pub citation: String,
}

impl Rule {
    fn check(&self) -> Result<Tz, RuleError> {
        let invalid = |reason: &str| RuleError::Invalid {
            id: self.id.clone(),
            reason: reason.to_owned(),
        };
        let valid_id = !self.id.is_empty()
            && self.id.len() <= 40
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_id {
            return Err(invalid("the id must be lowercase letters, digits and '-'"));
        }
        let kinds = [self.hours.is_some(), self.days.is_some(), self.undue_delay];
        let given = kinds.iter().filter(|k| **k).count();
        if self.no_duty && given != 0 {
            return Err(invalid(
                "a rule with no_duty = true has no deadline: drop hours, days and undue_delay",
            ));
        }
        if !self.no_duty && given != 1 {
            return Err(invalid(
                "give exactly one of hours, days or undue_delay = true (or no_duty = true)",
            ));
        }
        if self.business_days && self.days.is_none() {
            return Err(invalid("business_days = true needs days"));
        }
        if self.locations.is_empty() {
            return Err(invalid("locations is empty"));
        }
        if self.citation.trim().is_empty() {
            return Err(invalid("citation is empty: every rule names its source"));
        }
        if let (Some(from), Some(until)) = (self.in_force_from, self.until)
            && from >= until
        {
            return Err(invalid("until must come after in_force_from"));
        }
        self.timezone
            .parse::<Tz>()
            .map_err(|_| invalid(&format!("unknown time zone '{}'", self.timezone)))
    }

    /// Whether this version applies to a clock started on `day`.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.in_force_from.is_none_or(|from| from <= day) && self.until.is_none_or(|u| day < u)
    }

    /// Whether this is the version in force today (no later version took over).
    pub fn is_current(&self) -> bool {
        self.until.is_none()
    }

    /// Whether a roster location falls under the rule.
    pub fn covers(&self, location: &str) -> bool {
        self.locations
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => location.starts_with(prefix),
                None => location == pattern,
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<Rule>,
}

/// The rules of a shipped rule file, each with the dates a reviewer needs: when it took
/// effect and when it was last checked against its citation.
fn shipped_rules(text: &str) -> Result<Vec<Rule>, RuleError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::Parse(e.to_string()))?;
    for rule in &file.rule {
        let missing = if rule.in_force_from.is_none() {
            Some("in_force_from")
        } else if rule.checked.is_none() {
            Some("checked")
        } else {
            None
        };
        if let Some(field) = missing {
            return Err(RuleError::Invalid {
                id: rule.id.clone(),
                reason: format!("a shipped rule needs {field}"),
            });
        }
    }
    Ok(file.rule)
}

/// Refuses two versions of one rule in force on the same day.
fn check_versions<'a>(rules: impl Iterator<Item = &'a Rule>) -> Result<(), RuleError> {
    let mut by_id: BTreeMap<&str, Vec<&Rule>> = BTreeMap::new();
    for rule in rules {
        by_id.entry(&rule.id).or_default().push(rule);
    }
    for (id, versions) in by_id {
        for (i, a) in versions.iter().enumerate() {
            for b in &versions[i + 1..] {
                let starts_before_end = |x: &Rule, y: &Rule| match (x.in_force_from, y.until) {
                    (Some(from), Some(until)) => from < until,
                    _ => true,
                };
                if starts_before_end(a, b) && starts_before_end(b, a) {
                    return Err(RuleError::Invalid {
                        id: id.to_owned(),
                        reason: "two versions are in force on the same days (give each an in_force_from, and the earlier an until)".into(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The `[deadlines.targets]` key whose target applies to every rule without a fixed
/// deadline or a target of its own.
pub const ANY_RULE: &str = "*";

/// The `[deadlines]` section of the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineConfig {
    /// Internal targets, in hours, for rules without a fixed deadline, by rule id (`"*"`:
    /// every such rule without a target of its own).
    #[serde(default)]
    pub targets: BTreeMap<String, u32>,
    /// Rules that replace the shipped rule of the same id, or add to them.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// The rules in force, checked.
#[derive(Debug, Clone)]
pub struct RuleBook {
    rules: Vec<(Rule, Tz)>,
    targets: BTreeMap<String, u32>,
    /// What each category contains and may contain, for rules limited to data elements.
    catalog: CategoryCatalog,
}

impl Default for RuleBook {
    #[allow(
        clippy::expect_used,
        reason = "the shipped rules are compiled in and tested"
    )]
    fn default() -> Self {
        RuleBook::with_config(&DeadlineConfig::default()).expect("the shipped rules are valid")
    }
}

impl RuleBook {
    /// The shipped rules with `config`'s replacements, additions and targets.
    pub fn with_config(config: &DeadlineConfig) -> Result<Self, RuleError> {
        let mut rules = built_in_rules()?;
        // A rule of the config replaces every shipped version of its id.
        rules.retain(|r| !config.rules.iter().any(|extra| extra.id == r.id));
        rules.extend(config.rules.iter().cloned());
        let checked = rules
            .into_iter()
            .map(|r| r.check().map(|tz| (r, tz)))
            .collect::<Result<Vec<_>, _>>()?;
        check_versions(checked.iter().map(|(r, _)| r))?;
        for id in config.targets.keys().filter(|id| *id != ANY_RULE) {
            if !checked.iter().any(|(r, _)| r.id == *id) {
                return Err(RuleError::Invalid {
                    id: id.clone(),
                    reason: "a target names no rule".into(),
                });
            }
        }
        Ok(RuleBook {
            rules: checked,
            targets: config.targets.clone(),
            catalog: CategoryCatalog::default(),
        })
    }

    /// The same rules, reading the data elements of categories from `catalog` (the
    /// installation's, with the config's categories).
    #[must_use]
    pub fn with_catalog(mut self, catalog: &CategoryCatalog) -> Self {
        self.catalog = catalog.clone();
        self
    }

    /// The internal target for rule `id`: its own, else the one for every rule (`"*"`).
    fn target(&self, id: &str) -> Option<u32> {
        self.targets
            .get(id)
            .or_else(|| self.targets.get(ANY_RULE))
            .copied()
    }

    /// The rules as data and the internal targets, to hand to a client.
    pub fn parts(&self) -> (Vec<Rule>, BTreeMap<String, u32>) {
        (
            self.rules.iter().map(|(r, _)| r.clone()).collect(),
            self.targets.clone(),
        )
    }

    /// A rule book from [`RuleBook::parts`].
    pub fn from_parts(rules: Vec<Rule>, targets: BTreeMap<String, u32>) -> Result<Self, RuleError> {
        let rules = rules
            .into_iter()
            .map(|r| r.check().map(|tz| (r, tz)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RuleBook {
            rules,
            targets,
            catalog: CategoryCatalog::default(),
        })
    }

    /// Every rule as a Markdown table (docs/deadlines.md holds it, generated from the data,
    /// so that a reviewer can read it against the statutes).
    pub fn markdown_table(&self) -> String {
        let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
        let mut out = String::from(
            "| rule | in force | where | who is told | deadline | clock starts | threshold | trigger | checked | citation and notes |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for rule in self.rules() {
            let in_force = match (rule.in_force_from, rule.until) {
                (Some(from), Some(until)) => format!("{from} to {until}"),
                (Some(from), None) => format!("from {from}"),
                (None, Some(until)) => format!("until {until}"),
                (None, None) => "always".to_owned(),
            };
            let deadline = match (rule.hours, rule.days) {
                _ if rule.no_duty => "no statutory duty".to_owned(),
                (Some(h), _) => format!("{h} hours"),
                (None, Some(d)) if rule.business_days => format!("{d} business days"),
                (None, Some(d)) => format!("{d} days"),
                (None, None) => "without undue delay".to_owned(),
            };
            let mut threshold = Vec::new();
            if let Some(n) = rule.min_people {
                let scope = if rule.per_location {
                    " in one location"
                } else {
                    ""
                };
                threshold.push(format!("at least {n} people{scope}"));
            }
            if !rule.elements.is_empty() {
                let names: Vec<&str> = rule.elements.iter().map(|e| e.as_str()).collect();
                threshold.push(format!("elements: {}", names.join(", ")));
            }
            if let Some(t) = &rule.threshold {
                threshold.push(t.clone());
            }
            if !rule.categories.is_empty() {
                threshold.push(format!("categories: {}", rule.categories.join(", ")));
            }
            if rule.high_risk_only {
                threshold.push("a high risk".to_owned());
            }
            if rule.serious_harm_only {
                threshold.push("serious harm likely".to_owned());
            }
            let mut citation = rule.citation.clone();
            if let Some(m) = &rule.credit_monitoring {
                let names: Vec<&str> = m.elements.iter().map(|e| e.as_str()).collect();
                let _ = write!(
                    citation,
                    ". Credit monitoring: {} months when {} exposed ({})",
                    m.months,
                    names.join(" or "),
                    m.citation
                );
            }
            if let Some(s) = &rule.substitute_notice {
                citation.push_str(". Substitute notice: ");
                citation.push_str(s);
            }
            if let Some(c) = &rule.contents {
                citation.push_str(". Contents: ");
                citation.push_str(c);
            }
            if let Some(note) = &rule.note {
                citation.push_str(". Note: ");
                citation.push_str(note);
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&rule.id),
                in_force,
                cell(&rule.locations.join(" ")),
                cell(&rule.notify),
                deadline,
                rule.clock.as_str(),
                if threshold.is_empty() {
                    "any".to_owned()
                } else {
                    cell(&threshold.join("; "))
                },
                match rule.trigger {
                    Trigger::Exposure => "exposure",
                    Trigger::Access => "access",
                    Trigger::Acquisition => "acquisition",
                },
                rule.checked.map_or("-".to_owned(), |d| d.to_string()),
                cell(&citation)
            );
        }
        out
    }

    /// The open obligation due soonest, if any has a due time.
    pub fn next_due(&self, incident: &Incident) -> Option<Obligation> {
        self.obligations(incident)
            .into_iter()
            .find(|o| o.state == ObligationState::Open && o.due_at.is_some())
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|(r, _)| r)
    }

    /// The version of rule `id` in force today.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules()
            .filter(|r| r.id == id)
            .max_by_key(|r| (r.is_current(), r.in_force_from))
    }

    /// The affected people no rule puts a duty on: by location, most people first, then
    /// those with no location at all. Never silent: each is for a responder to check with
    /// counsel. A location counts as covered by a rule in force on the day the incident's
    /// organisation became aware; one whose only rule says the law sets no duty is listed
    /// with that rule's advice.
    pub fn uncovered(&self, incident: &Incident) -> Vec<Uncovered> {
        let day = incident.aware_time().date_naive();
        let mut out: Vec<Uncovered> = Vec::new();
        for (loc, n) in &incident.people_by_location {
            if *n == 0 {
                continue;
            }
            let mut in_force = self.rules().filter(|r| r.covers(loc) && r.in_force_on(day));
            let mut no_duty = None;
            let has_duty = in_force.any(|r| {
                if r.no_duty {
                    no_duty.get_or_insert(r);
                }
                !r.no_duty
            });
            if has_duty {
                continue;
            }
            out.push(Uncovered {
                location: Some(loc.clone()),
                people: *n,
                // The note's first sentence says what to consider; the rest (reforms,
                // what is unverified) is in the rule and the docs' table.
                no_duty: no_duty.map(|r| NoDuty {
                    rule: r.id.clone(),
                    advice: r.note.as_deref().map_or_else(
                        || r.name.clone(),
                        |n| n.split_once(". ").map_or(n, |(first, _)| first).to_owned(),
                    ),
                }),
            });
        }
        out.sort_by(|a, b| b.people.cmp(&a.people).then(a.location.cmp(&b.location)));
        let located: u64 = incident.people_by_location.values().sum();
        if incident.people > located {
            out.push(Uncovered {
                location: None,
                people: incident.people - located,
                no_duty: None,
            });
        }
        out
    }

    /// What the incident's exposed categories and the responders' decisions say of each
    /// data element. With no category recorded, every element is possible.
    pub fn exposed_elements(&self, incident: &Incident) -> ExposedElements {
        let (contained, may) = if incident.categories.is_empty() {
            (Vec::new(), DataElement::ALL.to_vec())
        } else {
            self.catalog
                .elements(incident.categories.iter().map(|c| c.as_str()))
        };
        ExposedElements::decide(contained, may, &incident.elements)
    }

    /// The obligations `incident` has under these rules, soonest due first (open ones
    /// without a due time last).
    pub fn obligations(&self, incident: &Incident) -> Vec<Obligation> {
        let exposed = self.exposed_elements(incident);
        let mut out: Vec<Obligation> = self
            .rules
            .iter()
            .filter_map(|(rule, tz)| self.obligation(incident, &exposed, rule, *tz))
            .collect();
        out.sort_by(|a, b| {
            (a.due_at.is_none(), a.due_at, &a.rule).cmp(&(b.due_at.is_none(), b.due_at, &b.rule))
        });
        out
    }

    fn obligation(
        &self,
        incident: &Incident,
        exposed: &ExposedElements,
        rule: &Rule,
        tz: Tz,
    ) -> Option<Obligation> {
        if rule.no_duty {
            return None;
        }
        // A rule limited to data elements applies when one of them was exposed, and
        // possibly while one that may have been awaits a responder's decision.
        let applied = incident.applied.contains_key(&rule.id);
        let mut not_triggered = None;
        let possible: Vec<DataElement> = if rule.elements.is_empty()
            || rule.elements.iter().any(|e| exposed.certain.contains(e))
        {
            Vec::new()
        } else {
            let possible: Vec<DataElement> = rule
                .elements
                .iter()
                .filter(|e| exposed.possible.contains(e))
                .copied()
                .collect();
            if possible.is_empty() && !applied {
                let names: Vec<&str> = rule.elements.iter().map(|e| e.as_str()).collect();
                not_triggered = Some(format!(
                    "not triggered: none of the data elements it covers ({}) was exposed",
                    names.join(", ")
                ));
            }
            possible
        };
        let least = if rule.per_location {
            rule.min_people.unwrap_or(0)
        } else {
            0
        };
        let people: u64 = incident
            .people_by_location
            .iter()
            .filter(|(loc, n)| rule.covers(loc) && **n >= least)
            .map(|(_, n)| n)
            .sum();
        if people == 0 || people < rule.min_people.unwrap_or(0) {
            return None;
        }
        let exposed = rule.categories.is_empty()
            || rule
                .categories
                .iter()
                .any(|c| incident.categories.iter().any(|have| have.as_str() == c));
        let finding = incident
            .evidence
            .as_ref()
            .map_or(Finding::Unknown, |e| e.finding);
        if !exposed {
            return None;
        }
        if !applied && !triggers(finding, rule.trigger) {
            not_triggered.get_or_insert_with(|| {
                match (rule.trigger, finding) {
                    (Trigger::Acquisition, Finding::Accessed) => {
                        "not triggered: reads but no copies found; acquisition not shown"
                    }
                    (Trigger::Acquisition, _) => {
                        "not triggered: no access found; acquisition not shown"
                    }
                    _ => {
                        "not triggered: no access found in the logs, and the law applies on access"
                    }
                }
                .to_owned()
            });
        }
        let started_at = match rule.clock {
            ClockStart::Awareness => incident.aware_time(),
            ClockStart::Discovery => incident.discovered_at,
            ClockStart::Determination => incident.determined_time(),
        };
        // The version in force on the day the clock started is the one that counts.
        if !rule.in_force_on(started_at.with_timezone(&tz).date_naive()) {
            return None;
        }
        let record = incident.obligations.get(&rule.id);
        Some(Obligation {
            incident: incident.id,
            rule: rule.id.clone(),
            name: rule.name.clone(),
            notify: rule.notify.clone(),
            clock: rule.clock,
            started_at,
            due_at: rule.due(started_at, tz, self.target(&rule.id)),
            state: match (record, &incident.assessment) {
                (Some(r), _) => r.state.clone(),
                (None, _) if not_triggered.is_some() => ObligationState::NotTriggered {
                    reason: not_triggered.unwrap_or_default(),
                },
                (None, Some(a)) if rule.high_risk_only && !a.inputs.band().is_high_risk() => {
                    ObligationState::Waived {
                        reason: format!(
                            "not required: not a high risk by the harm assessment of {} by {}: {}; {}",
                            a.at.format("%Y-%m-%d"),
                            a.by,
                            a.inputs.describe(),
                            a.reason
                        ),
                    }
                }
                (None, _)
                    if rule.serious_harm_only
                        && incident
                            .serious_harm
                            .as_ref()
                            .is_some_and(|h| !h.test.is_notifiable()) =>
                {
                    not_notifiable(incident)
                }
                _ => ObligationState::Open,
            },
            people,
            citation: rule.citation.clone(),
            submissions: record.map(|r| r.submissions.clone()).unwrap_or_default(),
            possible,
            threshold: rule.threshold.clone(),
            contents: rule.contents.clone(),
            substitute_notice: rule.substitute_notice.clone(),
            credit_monitoring: rule.credit_monitoring.clone(),
            note: rule.note.clone(),
        })
    }
}

/// The state of a rule for notifiable breaches only, once the serious-harm test said no.
fn not_notifiable(incident: &Incident) -> ObligationState {
    let reason = incident.serious_harm.as_ref().map_or_else(String::new, |h| {
        format!(
            "not required: not a notifiable privacy breach by the serious-harm test of {} by {}: {}",
            h.at.format("%Y-%m-%d"),
            h.by,
            h.reason
        )
    });
    ObligationState::Waived { reason }
}

/// Affected people of one location (or of none) on whom no rule puts a duty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncovered {
    /// The roster's location; `None` for people with none.
    pub location: Option<String>,
    pub people: u64,
    /// Set when a rule says the location's law sets no statutory duty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_duty: Option<NoDuty>,
}

/// A rule saying the law sets no statutory duty, and what to consider instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoDuty {
    pub rule: String,
    pub advice: String,
}

impl std::fmt::Display for Uncovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let people = if self.people == 1 {
            "1 person".to_owned()
        } else {
            format!("{} people", self.people)
        };
        match (&self.location, &self.no_duty) {
            (Some(loc), Some(none)) => write!(
                f,
                "no statutory duty known for {loc} ({people}, {}): {}",
                none.rule, none.advice
            ),
            (Some(loc), None) => {
                write!(f, "no rule known for {loc} ({people}): check with counsel")
            }
            (None, _) => write!(
                f,
                "no location for {people}: no rule can be matched to them; add their locations or check with counsel"
            ),
        }
    }
}

/// One obligation of one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Obligation {
    pub incident: IncidentId,
    pub rule: String,
    pub name: String,
    pub notify: String,
    pub clock: ClockStart,
    pub started_at: DateTime<Utc>,
    /// `None` where the law sets no fixed time and no internal target is configured.
    pub due_at: Option<DateTime<Utc>>,
    pub state: ObligationState,
    /// How many affected people it covers.
    pub people: u64,
    pub citation: String,
    /// Each report of an obligation met in phases (GDPR Art. 33(4)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub submissions: Vec<crate::domain::Submission>,
    /// Set when the rule applies only if one of these elements was exposed, and an exposed
    /// category may contain them: `possible` until a responder confirms or rules them out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub possible: Vec<DataElement>,
    /// What the law attaches besides the deadline, from the rule: its harm test, what a
    /// notice to an authority contains, when substitute notice may stand in, the credit
    /// monitoring to offer, and what is uncertain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_notice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_monitoring: Option<CreditMonitoring>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Obligation {
    /// The state in a word: `possible` while the data elements that would bring its rule in
    /// await a responder's decision.
    pub fn state_word(&self) -> &'static str {
        if self.state == ObligationState::Open && !self.possible.is_empty() {
            "possible"
        } else {
            self.state.as_str()
        }
    }

    /// Whether it was met by its due time (`None` while open or waived).
    pub fn met_in_time(&self) -> Option<bool> {
        match (&self.state, self.due_at) {
            (ObligationState::Done { at, .. }, Some(due)) => Some(*at <= due),
            (ObligationState::Done { .. }, None) => Some(true),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    use crate::domain::{CategoryCatalog, NewIncident, Severity, UserName};

    fn book() -> RuleBook {
        RuleBook::default()
    }

    /// A time from RFC 3339 text.
    pub(super) fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// The due time of `rule` for a clock started at `start`.
    pub(super) fn due(rule: &str, start: &str) -> Option<DateTime<Utc>> {
        let book = book();
        let (r, tz) = book.rules.iter().find(|(r, _)| r.id == rule).unwrap();
        r.due(t(start), *tz, book.targets.get(rule).copied())
    }

    /// Issue 28, items 1 and 2: every US state, DC and the territories have a rule for
    /// telling their residents, limited to the data elements of their statute; each country
    /// a multinational commonly employs people in has a rule (a statutory duty, or one
    /// saying there is none).
    #[test]
    fn every_us_jurisdiction_and_the_main_countries_have_rules() {
        let book = book();
        const US: [&str; 54] = [
            "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
            "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
            "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
            "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI",
        ];
        for state in US {
            let id = format!("us-{}", state.to_ascii_lowercase());
            let rule = book
                .rule(&id)
                .unwrap_or_else(|| panic!("no rule {id} for US-{state}"));
            assert!(rule.covers(&format!("US-{state}")), "{id}");
            assert!(
                !rule.elements.is_empty(),
                "{id}: a state law names its elements"
            );
            assert_eq!(rule.notify, "individuals", "{id}");
        }
        const COUNTRIES: [&str; 27] = [
            "CA", "CA-QC", "CA-AB", "AU", "SG", "JP", "KR", "IN", "BR", "CH", "IL", "ZA", "MX",
            "PH", "TR", "NG", "KE", "CN", "HK", "TW", "AE", "AR", "DE", "FR", "IE", "GB", "NZ",
        ];
        for country in COUNTRIES {
            assert!(
                book.rules().any(|r| r.is_current() && r.covers(country)),
                "no rule covers {country}"
            );
        }
        for r in book.rules() {
            assert!(!r.citation.trim().is_empty(), "{}", r.id);
            assert!(r.checked.is_some() && r.in_force_from.is_some(), "{}", r.id);
            if let Some(m) = &r.credit_monitoring {
                assert!(m.months > 0 && !m.elements.is_empty(), "{}", r.id);
            }
        }
        // A country whose law sets no duty says so rather than being missing.
        let mut inc = incident(&[("HK", 3), ("AR", 2), ("TV", 1)], &["keystrokes"]);
        inc.people += 4;
        let said: Vec<String> = book
            .uncovered(&inc)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            said[0].starts_with("no statutory duty known for HK (3 people, hk-pdpo)"),
            "{said:?}"
        );
        assert!(
            said[1].starts_with("no statutory duty known for AR (2 people"),
            "{said:?}"
        );
        assert_eq!(
            said[2],
            "no rule known for TV (1 person): check with counsel"
        );
        assert!(said[3].starts_with("no location for 4 people"), "{said:?}");
    }

    /// Issue 28, item 4: the version in force on the day the clock starts applies. A
    /// California breach discovered in 2025 has no 30-day clock (SB 446 took effect on 1
    /// January 2026); one discovered in 2026 does. New York's 30 days start in December 2024.
    #[test]
    fn the_version_in_force_when_the_clock_starts_applies() {
        let book = book();
        let due_of = |location: &str, discovered: &str, rule: &str| {
            let mut inc = incident(&[(location, 10)], &["keystrokes"]);
            inc.discovered_at = t(discovered);
            inc.aware_at = Some(t(discovered));
            book.obligations(&inc)
                .into_iter()
                .find(|o| o.rule == rule)
                .map(|o| o.due_at)
        };
        assert_eq!(due_of("US-CA", "2025-11-20T09:00:00Z", "us-ca"), Some(None));
        assert_eq!(
            due_of("US-CA", "2026-01-05T09:00:00Z", "us-ca"),
            Some(Some(t("2026-02-04T09:00:00Z")))
        );
        assert_eq!(due_of("US-NY", "2024-11-01T12:00:00Z", "us-ny"), Some(None));
        assert_eq!(
            due_of("US-NY", "2025-03-01T12:00:00Z", "us-ny"),
            // 30 calendar days in New York, across the change to summer time.
            Some(Some(t("2025-03-31T11:00:00Z")))
        );
        assert_eq!(due_of("US-NY", "2019-01-01T12:00:00Z", "us-ny"), None);
    }

    /// Issue 28, item 6: every rule is checked as data: a shipped rule without its dates or
    /// citation, an unknown letter element, and two versions in force on the same days are
    /// refused.
    #[test]
    fn rules_without_their_facts_or_with_overlapping_versions_are_refused() {
        let rule = |extra: &str| {
            format!(
                "[[rule]]\nid = \"x\"\nname = \"X\"\nnotify = \"n\"\nlocations = [\"XX\"]\ndays = 30\nclock = \"discovery\"\ntrigger = \"access\"\ntimezone = \"UTC\"\n{extra}\n"
            )
        };
        let ok = rule("citation = \"c\"\nin_force_from = \"2020-01-01\"\nchecked = \"2026-12-07\"");
        assert!(shipped_rules(&ok).is_ok());
        let no_checked = rule("citation = \"c\"\nin_force_from = \"2020-01-01\"");
        assert!(
            matches!(shipped_rules(&no_checked), Err(RuleError::Invalid { reason, .. }) if reason.contains("checked"))
        );
        let no_from = rule("citation = \"c\"\nchecked = \"2026-12-07\"");
        assert!(
            matches!(shipped_rules(&no_from), Err(RuleError::Invalid { reason, .. }) if reason.contains("in_force_from"))
        );
        let no_citation = rule("in_force_from = \"2020-01-01\"\nchecked = \"2026-12-07\"");
        assert!(shipped_rules(&no_citation).is_err());
        let unknown_element = rule(
            "citation = \"c\"\nin_force_from = \"2020-01-01\"\nchecked = \"2026-12-07\"\nletter = [{ element = \"horoscope\", citation = \"c\" }]",
        );
        assert!(shipped_rules(&unknown_element).is_err());
        let unknown_data_element = rule(
            "citation = \"c\"\nin_force_from = \"2020-01-01\"\nchecked = \"2026-12-07\"\nelements = [\"horoscope\"]",
        );
        assert!(shipped_rules(&unknown_data_element).is_err());
        let versions = |first_until: &str| {
            let a = shipped_rules(&rule(&format!("citation = \"c\"\nin_force_from = \"2020-01-01\"\n{first_until}checked = \"2026-12-07\""))).unwrap();
            let b = shipped_rules(&rule(
                "citation = \"c\"\nin_force_from = \"2024-01-01\"\nchecked = \"2026-12-07\"",
            ))
            .unwrap();
            check_versions(a.iter().chain(&b))
        };
        assert!(versions("until = \"2024-01-01\"\n").is_ok());
        assert!(versions("until = \"2024-06-01\"\n").is_err(), "overlap");
        assert!(versions("").is_err(), "open-ended overlap");
    }

    #[test]
    fn undue_delay_has_no_due_time_unless_a_target_is_set() {
        assert_eq!(due("gdpr-34", "2026-03-27T10:00:00Z"), None);
        assert_eq!(due("nz-privacy-2020", "2026-03-27T10:00:00Z"), None);
        let config: DeadlineConfig =
            toml::from_str("[targets]\ngdpr-34 = 48\n\"nz-privacy-2020\" = 24\n").unwrap();
        let book = RuleBook::with_config(&config).unwrap();
        let inc = incident(&[("DE", 3), ("NZ", 2)], &[]);
        let due: Vec<(String, Option<DateTime<Utc>>)> = book
            .obligations(&inc)
            .into_iter()
            .map(|o| (o.rule, o.due_at))
            .collect();
        let aware = inc.aware_time();
        assert!(due.contains(&("gdpr-34".into(), Some(aware + Duration::hours(48)))));
        assert!(due.contains(&("nz-privacy-2020".into(), Some(aware + Duration::hours(24)))));
        // One target for every rule without a deadline of its own ("without unreasonable
        // delay" in most US states), below a rule's own.
        let config: DeadlineConfig =
            toml::from_str("[targets]\n\"*\" = 720\ngdpr-34 = 48\n").unwrap();
        let book = RuleBook::with_config(&config).unwrap();
        let inc = incident(&[("DE", 3), ("US-MA", 2)], &["contact-details"]);
        let mut inc = inc;
        inc.elements.insert(
            DataElement::GovernmentId,
            crate::domain::ElementDecision {
                confirmed: true,
                reason: "payroll export".into(),
                by: crate::domain::UserName::parse("ada").unwrap(),
                at: aware,
            },
        );
        let due: BTreeMap<String, Option<DateTime<Utc>>> = book
            .obligations(&inc)
            .into_iter()
            .map(|o| (o.rule, o.due_at))
            .collect();
        assert_eq!(due["gdpr-34"], Some(aware + Duration::hours(48)));
        assert_eq!(due["us-ma"], Some(aware + Duration::hours(720)));
        assert_eq!(
            due["gdpr-33"],
            Some(aware + Duration::hours(72)),
            "a fixed deadline stays"
        );
    }

    fn incident(locations: &[(&str, u64)], categories: &[&str]) -> Incident {
        let catalog = CategoryCatalog::default();
        let mut new = NewIncident::new("Exposure", Severity::new(2).unwrap(), "").unwrap();
        for c in categories {
            new.categories.insert(catalog.parse(c).unwrap());
        }
        new.aware_at = Some(t("2026-11-20T09:00:00Z"));
        let mut inc = Incident::open(
            IncidentId::new(1),
            new,
            UserName::parse("ada").unwrap(),
            t("2026-11-20T12:00:00Z"),
        );
        inc.people_by_location = locations
            .iter()
            .map(|(l, n)| ((*l).to_owned(), *n))
            .collect();
        inc.people = inc.people_by_location.values().sum();
        inc
    }

    /// The rules that apply (not those the evidence or the data elements leave
    /// untriggered), with the people each covers.
    fn rules_for(inc: &Incident) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = book()
            .obligations(inc)
            .into_iter()
            .filter(|o| !matches!(o.state, ObligationState::NotTriggered { .. }))
            .map(|o| (o.rule, o.people))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn obligations_follow_where_people_live_and_thresholds() {
        let inc = incident(
            &[
                ("DE", 40),
                ("FR", 2),
                ("NZ", 7),
                ("US-CA", 500),
                ("US-TX", 250),
                ("GB", 9),
            ],
            &["keystrokes"],
        );
        assert_eq!(
            rules_for(&inc),
            [
                ("gdpr-33".to_owned(), 42),
                ("gdpr-34".to_owned(), 42),
                ("nz-privacy-2020".to_owned(), 7),
                ("uk-gdpr-33".to_owned(), 9),
                ("uk-gdpr-34".to_owned(), 9),
                ("us-ca".to_owned(), 500),
                ("us-tx".to_owned(), 250),
                ("us-tx-ag".to_owned(), 250),
            ]
        );
        // Over 500 Californians brings in the Attorney General; health data brings HIPAA,
        // with HHS (500 or more) and the media (more than 500 in one state).
        let inc = incident(&[("US-CA", 501)], &["health-data"]);
        assert_eq!(
            rules_for(&inc),
            [
                ("hipaa".to_owned(), 501),
                ("hipaa-hhs".to_owned(), 501),
                ("hipaa-media".to_owned(), 501),
                ("us-ca".to_owned(), 501),
                ("us-ca-ag".to_owned(), 501)
            ]
        );
        // The media count is per state: 300 and 300 are not more than 500 in one.
        let inc = incident(&[("US-CA", 300), ("US-OR", 300)], &["health-data"]);
        let rules: Vec<String> = rules_for(&inc).into_iter().map(|(r, _)| r).collect();
        assert!(rules.contains(&"hipaa-hhs".to_owned()), "{rules:?}");
        assert!(!rules.contains(&"hipaa-media".to_owned()), "{rules:?}");
        assert!(rules_for(&incident(&[], &["keystrokes"])).is_empty());
    }

    /// Issue 28, item 3: a state law applies only to the data elements it names. Mouse
    /// movements trigger none; keystrokes may hold typed passwords or card numbers, so the
    /// obligations they would bring are possible until a responder confirms or rules out.
    #[test]
    fn state_laws_follow_data_elements_and_possible_ones_await_a_decision() {
        use crate::domain::ElementDecision;
        let book = book();
        let states = [("US-CA", 10), ("US-NY", 10), ("US-MA", 10), ("DE", 5)];
        let found = |inc: &Incident| -> Vec<(String, Vec<DataElement>)> {
            let mut out: Vec<_> = book
                .obligations(inc)
                .into_iter()
                // The residents' rules; the attorney general's and the agencies' follow them.
                .filter(|o| o.rule.starts_with("us-") && o.rule.len() == 5)
                .filter(|o| !matches!(o.state, ObligationState::NotTriggered { .. }))
                .map(|o| (o.rule, o.possible))
                .collect();
            out.sort();
            out
        };
        // Mouse movements: no state law; the GDPR still applies (any personal data).
        let mouse = incident(&states, &["mouse-movements"]);
        assert!(found(&mouse).is_empty(), "{:?}", found(&mouse));
        assert!(book.obligations(&mouse).iter().any(|o| o.rule == "gdpr-33"));
        // Keystrokes: each state's rule is possible, naming what would bring it in.
        let mut keys = incident(&states, &["keystrokes"]);
        let possible = found(&keys);
        assert_eq!(
            possible.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
            ["us-ca", "us-ma", "us-ny"]
        );
        assert!(possible.iter().all(|(_, p)| !p.is_empty()), "{possible:?}");
        let ca = book
            .obligations(&keys)
            .into_iter()
            .find(|o| o.rule == "us-ca")
            .unwrap();
        assert_eq!(ca.state_word(), "possible");
        assert!(
            ca.possible.contains(&DataElement::Credentials),
            "{:?}",
            ca.possible
        );
        // Confirming credentials makes California and New York certain; Massachusetts
        // does not name credentials, so it stays possible on the rest.
        let decide = |confirmed| ElementDecision {
            confirmed,
            reason: "checked the capture".into(),
            by: crate::domain::UserName::parse("ada").unwrap(),
            at: t("2026-11-21T10:00:00Z"),
        };
        keys.elements.insert(DataElement::Credentials, decide(true));
        let after = found(&keys);
        let state_of = |rule: &str| {
            after
                .iter()
                .find(|(r, _)| r == rule)
                .map(|(_, p)| p.clone())
        };
        assert_eq!(state_of("us-ca"), Some(Vec::new()));
        assert_eq!(state_of("us-ny"), Some(Vec::new()));
        assert!(state_of("us-ma").is_some_and(|p| !p.is_empty()));
        // Ruling out the rest removes Massachusetts.
        for e in [
            DataElement::FinancialAccount,
            DataElement::PaymentCard,
            DataElement::GovernmentId,
        ] {
            keys.elements.insert(e, decide(false));
        }
        let after = found(&keys);
        assert_eq!(
            after.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
            ["us-ca", "us-ny"]
        );
    }

    #[test]
    fn the_evidence_finding_decides_access_and_acquisition_rules() {
        let mut inc = incident(&[("DE", 1), ("US-CA", 1), ("US-FL", 1)], &[]);
        let with = |inc: &mut Incident, finding| {
            inc.evidence = Some(EvidenceSummary {
                finding,
                ..EvidenceSummary::default()
            });
            rules_for(inc)
                .into_iter()
                .map(|(r, _)| r)
                .collect::<Vec<_>>()
        };
        assert_eq!(with(&mut inc, Finding::NoAccess), ["gdpr-33", "gdpr-34"]);
        assert_eq!(
            with(&mut inc, Finding::Accessed),
            ["gdpr-33", "gdpr-34", "us-fl"]
        );
        assert_eq!(
            with(&mut inc, Finding::Acquired),
            ["gdpr-33", "gdpr-34", "us-ca", "us-fl"]
        );
        // Issue 33, item 2: a rule the evidence leaves untriggered says why; a responder
        // who judges otherwise records that it applies.
        inc.evidence = Some(EvidenceSummary {
            finding: Finding::Accessed,
            ..EvidenceSummary::default()
        });
        let book = book();
        let ca = book
            .obligations(&inc)
            .into_iter()
            .find(|o| o.rule == "us-ca")
            .unwrap();
        assert_eq!(
            ca.state,
            ObligationState::NotTriggered {
                reason: "not triggered: reads but no copies found; acquisition not shown".into()
            }
        );
        assert_eq!(ca.state_word(), "not-triggered");
        inc.applied.insert(
            "us-ca".into(),
            crate::domain::ElementDecision {
                confirmed: true,
                reason: "viewing in the store was acquisition".into(),
                by: crate::domain::UserName::parse("ada").unwrap(),
                at: t("2026-11-21T10:00:00Z"),
            },
        );
        let ca = book
            .obligations(&inc)
            .into_iter()
            .find(|o| o.rule == "us-ca")
            .unwrap();
        assert_eq!(ca.state, ObligationState::Open);
    }

    #[test]
    fn clocks_start_at_awareness_discovery_or_determination() {
        let mut inc = incident(&[("DE", 1), ("US-CO", 1), ("US-CA", 1)], &[]);
        inc.discovered_at = t("2026-11-18T09:00:00Z");
        inc.determined_at = Some(t("2026-11-21T09:00:00Z"));
        let starts: BTreeMap<String, DateTime<Utc>> = book()
            .obligations(&inc)
            .into_iter()
            .map(|o| (o.rule, o.started_at))
            .collect();
        assert_eq!(starts["gdpr-33"], t("2026-11-20T09:00:00Z"));
        assert_eq!(starts["us-ca"], t("2026-11-18T09:00:00Z"));
        assert_eq!(starts["us-co"], t("2026-11-21T09:00:00Z"));
    }

    #[test]
    fn config_can_replace_and_add_rules_and_bad_ones_are_named() {
        let text = r#"
[[rule]]
id = "gdpr-33"
name = "GDPR Art. 33 (internal: 48 h)"
notify = "supervisory authority"
locations = ["DE"]
hours = 48
clock = "awareness"
trigger = "exposure"
timezone = "UTC"
citation = "internal policy"

[[rule]]
id = "uk-gdpr-33"
name = "UK GDPR Art. 33"
notify = "ICO"
locations = ["GB"]
hours = 72
clock = "awareness"
trigger = "exposure"
timezone = "Europe/London"
citation = "UK GDPR Art. 33"
"#;
        let config: DeadlineConfig = toml::from_str(text).unwrap();
        let book = RuleBook::with_config(&config).unwrap();
        assert_eq!(book.rule("gdpr-33").unwrap().hours, Some(48));
        assert!(book.rule("uk-gdpr-33").is_some());
        let bad = text.replace("Europe/London", "Mars/Olympus");
        let config: DeadlineConfig = toml::from_str(&bad).unwrap();
        let err = RuleBook::with_config(&config).unwrap_err().to_string();
        assert!(
            err.contains("uk-gdpr-33") && err.contains("Mars/Olympus"),
            "{err}"
        );
        let config: DeadlineConfig = toml::from_str("[targets]\nnope = 5\n").unwrap();
        assert!(RuleBook::with_config(&config).is_err());
    }

    /// docs/deadlines.md's table of rules is the shipped data's: regenerate it with
    /// `BREACHDESK_UPDATE_DOCS=1 cargo test --lib rules_table`.
    #[test]
    fn the_rules_table_in_the_docs_is_generated_from_the_data() {
        const BEGIN: &str = "<!-- rules table: generated from src/deadlines/rules/*.toml -->\n";
        const END: &str = "<!-- end of rules table -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deadlines.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let table = book().markdown_table();
        let (head, rest) = doc.split_once(BEGIN).expect("the table's begin marker");
        let (_, tail) = rest.split_once(END).expect("the table's end marker");
        let wanted = format!("{head}{BEGIN}{table}{END}{tail}");
        if std::env::var_os("BREACHDESK_UPDATE_DOCS").is_some() {
            std::fs::write(path, &wanted).unwrap();
        }
        assert!(
            doc == wanted,
            "docs/deadlines.md's table of rules is stale: run BREACHDESK_UPDATE_DOCS=1 cargo test --lib rules_table"
        );
    }
}
