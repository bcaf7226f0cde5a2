//! Data categories: the kinds of personal data an incident exposed. A default list is
//! built in; the config file can add more.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

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

/// A category with a plain-language description for letters to affected people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    pub name: String,
    pub description: String,
}

const DEFAULTS: [(&str, &str); 9] = [
    ("keystrokes", "the keys you typed on your work computer"),
    ("mouse-movements", "how you moved and clicked your mouse"),
    ("chat-messages", "messages you sent in workplace chat"),
    ("transcripts", "transcripts of your calls and meetings"),
    (
        "performance-data",
        "performance ratings and productivity measures about you",
    ),
    ("application-usage", "which applications you used, and when"),
    ("screenshots", "screenshots taken of your screen"),
    (
        "contact-details",
        "your name, email address and other contact details",
    ),
    ("health-data", "medical or health information about you"),
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
            .map(|(name, description)| CategoryDef {
                name: (*name).to_owned(),
                description: (*description).to_owned(),
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
                Some(existing) => existing.description.clone_from(&def.description),
                None => catalog.defs.push(def.clone()),
            }
        }
        Ok(catalog)
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
        }];
        let catalog = CategoryCatalog::with_extra(&extra).unwrap();
        let name = catalog.parse("Badge_Swipes").unwrap();
        assert_eq!(name.as_str(), "badge-swipes");
        assert_eq!(catalog.describe(&name), "when you entered buildings");
        assert!(catalog.parse("keystrokes").is_ok());
    }

    #[test]
    fn config_rejects_bad_names() {
        let extra = [CategoryDef {
            name: "Bad Name".into(),
            description: String::new(),
        }];
        assert!(CategoryCatalog::with_extra(&extra).is_err());
    }
}
