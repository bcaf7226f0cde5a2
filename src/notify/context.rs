//! What a template can see: the person, the incident, its programmes, the contact details
//! from config and roster statistics. Built from domain values; nothing else is reachable.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};

use crate::domain::{AffectedPerson, CategoryCatalog, Incident, Program};

/// Contact details letters give, from `[contact]` in config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default = "Contact::default_name")]
    pub name: String,
    #[serde(default = "Contact::default_email")]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    /// The data protection officer or other contact point, as the letter should name them
    /// (name and how to reach them); GDPR Art. 34 letters need it.
    #[serde(default)]
    pub dpo: String,
    /// A toll-free telephone number; HIPAA letters need it.
    #[serde(default)]
    pub toll_free: String,
    /// A postal address for questions.
    #[serde(default)]
    pub postal_address: String,
    /// A web page about the incident or the privacy team.
    #[serde(default)]
    pub web: String,
    /// The free credit monitoring or identity protection offered, and how to enrol; US
    /// states that require offering it need it in the letter.
    #[serde(default)]
    pub credit_monitoring: String,
    /// Each state attorney general's contact details, by roster location (`US-MD = "..."`),
    /// for the states whose letters must give them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attorney_general: BTreeMap<String, String>,
}

impl Contact {
    /// Whether the named field (as written in `[contact]`) holds something.
    pub fn has(&self, field: &str) -> bool {
        let value = match field {
            "name" => &self.name,
            "email" => &self.email,
            "phone" => &self.phone,
            "dpo" => &self.dpo,
            "toll_free" => &self.toll_free,
            "postal_address" => &self.postal_address,
            "web" => &self.web,
            "credit_monitoring" => &self.credit_monitoring,
            other => match other
                .strip_prefix("attorney_general.")
                .and_then(|at| self.attorney_general.get(at))
            {
                Some(details) => details,
                None => return false,
            },
        };
        !value.trim().is_empty()
    }

    fn default_name() -> String {
        "The Privacy Team".to_owned()
    }
    fn default_email() -> String {
        "privacy@localhost".to_owned()
    }

    /// Name, address and (when set) phone, as drafts for regulators name the contact point.
    pub fn line(&self) -> String {
        let mut line = format!("{} <{}>", self.name, self.email);
        if !self.phone.is_empty() {
            line.push_str(", ");
            line.push_str(&self.phone);
        }
        line
    }

    /// Why letters could not name a contact as configured; `None` when `[contact]` gives an
    /// address people can write to.
    pub fn problem(&self) -> Option<&'static str> {
        (self.email.trim().is_empty() || self.email == Self::default_email()).then_some(
            "no contact: letters would tell people to write to privacy@localhost; set `name` and `email` under [contact] in the config (`breachdesk init` writes them)",
        )
    }
}

impl Default for Contact {
    fn default() -> Self {
        Contact {
            name: Contact::default_name(),
            email: Contact::default_email(),
            phone: String::new(),
            dpo: String::new(),
            toll_free: String::new(),
            postal_address: String::new(),
            web: String::new(),
            credit_monitoring: String::new(),
            attorney_general: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryView {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LetterPerson {
    pub employee_id: String,
    pub name: String,
    pub email: String,
    pub location: Option<String>,
    /// Their language tag (BCP 47), when the roster gives one.
    pub language: Option<String>,
    pub categories: Vec<CategoryView>,
    /// How many people without authority read their data, by the exposed store's access
    /// log; `None` (undefined in templates: test with `is none`) until a log is imported.
    pub viewed_by: Option<u64>,
    /// Whether someone without authority copied their data.
    pub copied: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LetterIncident {
    pub id: String,
    pub title: String,
    pub severity: u8,
    pub severity_label: String,
    pub summary: String,
    pub status: String,
    pub discovered: String,
    pub discovered_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LetterProgram {
    pub slug: String,
    pub name: String,
    pub state: String,
    /// The date the programme was paused, if it is paused.
    pub paused: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub name: String,
    pub description: String,
    pub people: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LocationCount {
    pub code: String,
    pub people: u64,
}

/// Roster totals, for the stakeholder brief.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub people: u64,
    pub notified: u64,
    pub categories: Vec<Count>,
    pub locations: Vec<LocationCount>,
}

/// Everything one letter is rendered from: the person's own part, and the part the same
/// for everyone on the roster.
#[derive(Debug, Clone)]
pub struct LetterContext {
    pub person: LetterPerson,
    /// What the law asks of this person's letter.
    pub law: LawView,
    pub shared: Arc<SharedView>,
}

impl LetterContext {
    /// The value templates see: `person`, `law`, `incident`, `programs`, `contact` and
    /// `stats`.
    pub fn value(&self) -> Value {
        let shared = &self.shared.values;
        minijinja::context! {
            person => Value::from(Serde(&self.person)),
            law => minijinja::context! {
                rules => Value::from(self.law.rules.clone()),
                elements => Value::from_object(Elements(self.law.elements.clone())),
                notice_date => self.law.notice_date.clone(),
                attorney_general => self.law.attorney_general.clone(),
            },
            incident => shared.incident.clone(),
            programs => shared.programs.clone(),
            contact => shared.contact.clone(),
            stats => shared.stats.clone(),
        }
    }
}

/// `law.elements` as templates see it: the element names in order, iterated and printed as
/// a list, and looked up by name for `"name" in law.elements`. As a plain list, each such
/// test compared the name with every element in turn: a fifth of the work of rendering a
/// letter, with two dozen tests in each.
#[derive(Debug)]
struct Elements(Vec<&'static str>);

impl minijinja::value::Object for Elements {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        // A map's containment test looks the name up instead of walking the elements.
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str() {
            Some(name) => self.0.contains(&name).then(|| Value::from(true)),
            None => key
                .as_usize()
                .and_then(|at| self.0.get(at))
                .map(|e| Value::from(*e)),
        }
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(self.0.iter().map(|e| Value::from(*e)).collect())
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As a list of the same names prints.
        let list: Vec<Value> = self.0.iter().map(|e| Value::from(*e)).collect();
        write!(f, "{}", Value::from(list))
    }
}

/// The part of every letter's context that is the same for the whole incident, with its
/// template value made once: serializing it again for each of 100,000 letters was a tenth
/// of queuing them.
#[derive(Debug)]
pub struct SharedView {
    pub incident: LetterIncident,
    pub programs: Vec<LetterProgram>,
    pub contact: Contact,
    pub stats: Stats,
    /// The same as template values, put into each letter's one map (cheaper to look into
    /// than two merged maps).
    values: SharedValues,
}

/// [`SharedView`]'s parts as template values.
#[derive(Debug)]
struct SharedValues {
    incident: Value,
    programs: Value,
    contact: Value,
    stats: Value,
}

impl SharedView {
    fn new(
        incident: LetterIncident,
        programs: Vec<LetterProgram>,
        contact: Contact,
        stats: Stats,
    ) -> Self {
        let values = SharedValues {
            incident: Value::from(Serde(&incident)),
            programs: Value::from(Serde(&programs)),
            contact: Value::from(Serde(&contact)),
            stats: Value::from(Serde(&stats)),
        };
        SharedView {
            incident,
            programs,
            contact,
            stats,
            values,
        }
    }
}

/// What the rules covering one person ask their letter to contain (`deadlines/letter.rs`):
/// templates test `"what-you-can-do" in law.elements`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LawView {
    /// Ids of the rules requiring notice to this person.
    pub rules: Vec<String>,
    /// The elements the letter must contain, by name.
    pub elements: Vec<&'static str>,
    /// The date of the notice (the day the letter is built).
    pub notice_date: String,
    /// The contact details of the person's state attorney general, from
    /// `[contact.attorney_general]`, when configured for their location.
    pub attorney_general: Option<String>,
}

/// The parts shared by every letter of one incident, built once.
#[derive(Debug, Clone)]
pub struct IncidentContext {
    shared: Arc<SharedView>,
    /// Per employee id, from the exposure evidence, once imported.
    evidence: Option<std::collections::BTreeMap<String, crate::evidence::PersonEvidence>>,
    /// The rules whose letter elements apply, and the notice date.
    law: Option<(crate::deadlines::RuleBook, String)>,
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

impl IncidentContext {
    pub fn new(incident: &Incident, programs: &[Program], contact: &Contact, stats: Stats) -> Self {
        let shared = SharedView::new(
            LetterIncident {
                id: incident.id.to_string(),
                title: incident.title.clone(),
                severity: incident.severity.level(),
                severity_label: incident.severity.to_string(),
                summary: incident.summary.clone(),
                status: incident.status.to_string(),
                discovered: day(incident.discovered_at),
                discovered_at: incident
                    .discovered_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
            programs
                .iter()
                .filter(|p| incident.programs.contains(&p.slug))
                .map(|p| LetterProgram {
                    slug: p.slug.to_string(),
                    name: p.name.clone(),
                    state: p.state.to_string(),
                    paused: p.paused_at.map(day),
                })
                .collect(),
            contact.clone(),
            stats,
        );
        IncidentContext {
            shared: Arc::new(shared),
            evidence: None,
            law: None,
        }
    }

    /// The same context, telling each person's letter what the rules covering them require
    /// (without it, `law` is empty), dated `today`.
    pub fn with_law(mut self, rules: &crate::deadlines::RuleBook, today: DateTime<Utc>) -> Self {
        self.law = Some((rules.clone(), day(today)));
        self
    }

    /// The same context, telling each person what the access log shows about their data.
    pub fn with_evidence(mut self, evidence: Option<crate::evidence::Evidence>) -> Self {
        self.evidence = evidence.map(|e| e.people);
        self
    }

    /// The context for one person.
    pub fn for_person(&self, person: &AffectedPerson, catalog: &CategoryCatalog) -> LetterContext {
        LetterContext {
            person: LetterPerson {
                employee_id: person.employee_id.to_string(),
                name: person.name.clone(),
                email: person.email.to_string(),
                location: person.location.as_ref().map(ToString::to_string),
                language: person.language.as_ref().map(ToString::to_string),
                categories: person
                    .categories
                    .iter()
                    .map(|c| CategoryView {
                        name: c.to_string(),
                        description: catalog.describe(c).to_owned(),
                    })
                    .collect(),
                viewed_by: self.evidence.as_ref().map(|e| {
                    e.get(person.employee_id.as_str())
                        .map_or(0, |p| p.accessors)
                }),
                copied: self.evidence.as_ref().is_some_and(|e| {
                    e.get(person.employee_id.as_str())
                        .is_some_and(|p| p.copies > 0)
                }),
            },
            law: self.law_for(person),
            shared: Arc::clone(&self.shared),
        }
    }

    fn law_for(&self, person: &AffectedPerson) -> LawView {
        let Some((rules, notice_date)) = &self.law else {
            return LawView::default();
        };
        let location = person.location.as_ref().map(ToString::to_string);
        let law = rules.letter_law(
            location.as_deref(),
            person.categories.iter().map(|c| c.as_str()),
        );
        LawView {
            rules: law.rules,
            elements: law.elements.iter().map(|e| e.as_str()).collect(),
            notice_date: notice_date.clone(),
            attorney_general: location
                .as_ref()
                .and_then(|l| self.shared.contact.attorney_general.get(l))
                .cloned(),
        }
    }
}

/// Counts people by category and by location.
pub fn stats(
    people: impl IntoIterator<Item = impl std::borrow::Borrow<AffectedPerson>>,
    catalog: &CategoryCatalog,
) -> Stats {
    let mut total = 0;
    let mut notified = 0;
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_location: BTreeMap<String, u64> = BTreeMap::new();
    for p in people {
        let p: &AffectedPerson = std::borrow::Borrow::borrow(&p);
        total += 1;
        notified += u64::from(p.is_notified());
        for c in &p.categories {
            *by_category.entry(c.to_string()).or_default() += 1;
        }
        let loc = p
            .location
            .as_ref()
            .map_or("unknown".to_owned(), ToString::to_string);
        *by_location.entry(loc).or_default() += 1;
    }
    Stats {
        people: total,
        notified,
        categories: by_category
            .into_iter()
            .map(|(name, people)| Count {
                description: catalog
                    .parse(&name)
                    .map(|c| catalog.describe(&c).to_owned())
                    .unwrap_or_default(),
                name,
                people,
            })
            .collect(),
        locations: by_location
            .into_iter()
            .map(|(code, people)| LocationCount { code, people })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn law_elements_are_tested_by_name_iterated_and_printed_as_a_list() {
        let ctx = LetterContext {
            person: LetterPerson {
                employee_id: "E1".into(),
                name: "Ana".into(),
                email: "ana@corp.example".into(),
                location: Some("US-CA".into()),
                language: None,
                categories: Vec::new(),
                viewed_by: None,
                copied: false,
            },
            law: LawView {
                rules: vec!["us-ca".into()],
                elements: vec!["notice-title", "what-happened"],
                notice_date: "6 December 2026".into(),
                attorney_general: None,
            },
            shared: Arc::new(SharedView::new(
                LetterIncident {
                    id: "INC-1".into(),
                    title: "Leak".into(),
                    severity: 2,
                    severity_label: "SEV2".into(),
                    summary: String::new(),
                    status: "open".into(),
                    discovered: "1 December 2026".into(),
                    discovered_at: "2026-12-01T00:00:00Z".into(),
                },
                Vec::new(),
                Contact::default(),
                Stats::default(),
            )),
        };
        let env = minijinja::Environment::new();
        let render = |source: &str| env.render_str(source, ctx.value()).unwrap();
        assert_eq!(
            render(r#"{{ "notice-title" in law.elements }} {{ "contact" in law.elements }}"#),
            "True False"
        );
        assert_eq!(render(r#"{{ "contact" not in law.elements }}"#), "True");
        assert_eq!(
            render("{% for e in law.elements %}{{ loop.index }}:{{ e }} {% endfor %}"),
            "1:notice-title 2:what-happened "
        );
        assert_eq!(
            render("{{ law.elements|length }} {{ law.elements[1] }} {{ law.elements|join(',') }}"),
            "2 what-happened notice-title,what-happened"
        );
        assert_eq!(
            render("{{ law.elements }} {{ law.rules }} {{ law.notice_date }}"),
            r#"['notice-title', 'what-happened'] ['us-ca'] 6 December 2026"#
        );
    }
}
