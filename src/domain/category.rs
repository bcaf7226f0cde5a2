//! Data categories: the kinds of personal data an incident exposed. A default list is
//! built in; the config file can add more.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{DataElement, DomainError};

/// The name of a data category known to the catalogue, such as `keystrokes`.
///
/// Decoded, a name is checked for its form only (1-64 lowercase letters, digits and dashes);
/// whether this installation's catalogue knows it is [`CategoryCatalog::check`]'s question,
/// which the desk asks of every category a request names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryName(String);

/// Whether `name` has the form of a category name.
fn well_formed(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl TryFrom<String> for CategoryName {
    type Error = DomainError;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        if well_formed(&name) {
            Ok(CategoryName(name))
        } else {
            Err(DomainError::CategoryName { given: name })
        }
    }
}

impl From<CategoryName> for String {
    fn from(name: CategoryName) -> String {
        name.0
    }
}

impl CategoryName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CategoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A category with a plain-language description for letters to affected people, and the
/// statutory data elements it contains or may contain (a keystroke log may hold typed
/// passwords: whether it does is for a responder to confirm or rule out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<DataElement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub may_contain: Vec<DataElement>,
}

use DataElement::{
    Behavioural, CommunicationsContent, Contact, Credentials, FinancialAccount, GovernmentId,
    Health, HealthInsurance, PaymentCard,
};

/// Name, description, elements contained, elements it may contain.
type Default4 = (
    &'static str,
    &'static str,
    &'static [DataElement],
    &'static [DataElement],
);

/// What a person may have typed or had on screen: anything a state law names.
const TYPED: &[DataElement] = &[Credentials, FinancialAccount, PaymentCard, GovernmentId];

const DEFAULTS: [Default4; 9] = [
    (
        "keystrokes",
        "the keys you typed on your work computer",
        &[Behavioural],
        TYPED,
    ),
    (
        "mouse-movements",
        "how you moved and clicked your mouse",
        &[Behavioural],
        &[],
    ),
    (
        "chat-messages",
        "messages you sent in workplace chat",
        &[CommunicationsContent],
        &[],
    ),
    (
        "transcripts",
        "transcripts of your calls and meetings",
        &[CommunicationsContent],
        &[],
    ),
    (
        "performance-data",
        "performance ratings and productivity measures about you",
        &[Behavioural],
        &[],
    ),
    (
        "application-usage",
        "which applications you used, and when",
        &[Behavioural],
        &[],
    ),
    (
        "screenshots",
        "screenshots taken of your screen",
        &[],
        &[
            Credentials,
            FinancialAccount,
            PaymentCard,
            GovernmentId,
            Health,
        ],
    ),
    (
        "contact-details",
        "your name, email address and other contact details",
        &[Contact],
        &[],
    ),
    (
        "health-data",
        "medical or health information about you",
        &[Health],
        &[HealthInsurance],
    ),
];

/// The categories this installation knows: the defaults plus any from config.
#[derive(Debug, Clone)]
pub struct CategoryCatalog {
    defs: Vec<CategoryDef>,
}

impl Default for CategoryCatalog {
    fn default() -> Self {
        let defs = DEFAULTS
            .iter()
            .map(|(name, description, elements, may_contain)| CategoryDef {
                name: (*name).to_owned(),
                description: (*description).to_owned(),
                elements: elements.to_vec(),
                may_contain: may_contain.to_vec(),
            })
            .collect();
        CategoryCatalog { defs }
    }
}

impl CategoryCatalog {
    /// The defaults extended with `extra`; an extra with a default's name replaces its
    /// description.
    pub fn with_extra(extra: &[CategoryDef]) -> Result<Self, DomainError> {
        let mut catalog = CategoryCatalog::default();
        for def in extra {
            if !well_formed(&def.name) {
                return Err(DomainError::CategoryName {
                    given: def.name.clone(),
                });
            }
            match catalog.defs.iter_mut().find(|d| d.name == def.name) {
                // A default redefined keeps its elements unless the config names some.
                Some(existing) => {
                    existing.description.clone_from(&def.description);
                    if !def.elements.is_empty() || !def.may_contain.is_empty() {
                        existing.elements.clone_from(&def.elements);
                        existing.may_contain.clone_from(&def.may_contain);
                    }
                }
                None => catalog.defs.push(def.clone()),
            }
        }
        Ok(catalog)
    }

    /// This catalogue with `extra` categories added (a sample for `template check`).
    #[must_use]
    pub fn extended(&self, extra: impl IntoIterator<Item = CategoryDef>) -> Self {
        let mut out = self.clone();
        for def in extra {
            if well_formed(&def.name) && !out.defs.iter().any(|d| d.name == def.name) {
                out.defs.push(def);
            }
        }
        out
    }

    /// Looks up a category by name (case-insensitive; `_` and spaces read as `-`).
    pub fn parse(&self, given: &str) -> Result<CategoryName, DomainError> {
        let wanted = given.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        self.defs
            .iter()
            .find(|d| d.name == wanted)
            .map(|d| CategoryName(d.name.clone()))
            .ok_or_else(|| DomainError::UnknownCategory {
                given: given.to_owned(),
                known: self.names().collect::<Vec<_>>().join(", "),
            })
    }

    /// Refuses a category this catalogue does not know (one decoded from a request is only
    /// checked for its form).
    pub fn check(&self, name: &CategoryName) -> Result<(), DomainError> {
        self.parse(name.as_str()).map(|_| ())
    }

    /// The plain-language description of a category.
    pub fn describe(&self, name: &CategoryName) -> &str {
        self.defs
            .iter()
            .find(|d| d.name == name.0)
            .map_or("", |d| d.description.as_str())
    }

    /// Every category with its description.
    pub fn defs(&self) -> &[CategoryDef] {
        &self.defs
    }

    /// The elements the named categories contain, and those they may contain.
    pub fn elements<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> (Vec<DataElement>, Vec<DataElement>) {
        let mut contained = Vec::new();
        let mut may = Vec::new();
        for name in names {
            if let Some(def) = self.defs.iter().find(|d| d.name == name) {
                contained.extend(&def.elements);
                may.extend(&def.may_contain);
            }
        }
        (contained, may)
    }

    /// All category names, defaults first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.defs.iter().map(|d| d.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_category_lists_known_ones() {
        let err = CategoryCatalog::default().parse("dna").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown category 'dna'"), "{msg}");
        assert!(msg.contains("keystrokes, mouse-movements"), "{msg}");
    }

    #[test]
    fn config_extends_the_defaults() {
        let extra = [CategoryDef {
            name: "badge-swipes".into(),
            description: "when you entered buildings".into(),
            elements: vec![DataElement::PreciseLocation],
            may_contain: Vec::new(),
        }];
        let catalog = CategoryCatalog::with_extra(&extra).unwrap();
        let name = catalog.parse("Badge_Swipes").unwrap();
        assert_eq!(name.as_str(), "badge-swipes");
        assert_eq!(catalog.describe(&name), "when you entered buildings");
        assert!(catalog.parse("keystrokes").is_ok());
        assert_eq!(
            catalog.elements(["badge-swipes", "keystrokes"]),
            (
                vec![DataElement::PreciseLocation, Behavioural],
                TYPED.to_vec()
            )
        );
    }

    #[test]
    fn config_rejects_bad_names() {
        let extra = [CategoryDef {
            name: "Bad Name".into(),
            description: String::new(),
            elements: Vec::new(),
            may_contain: Vec::new(),
        }];
        assert!(CategoryCatalog::with_extra(&extra).is_err());
    }
}
