//! An affected person: someone whose data an incident exposed, and which of it.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CategoryName, DomainError, EmployeeId};

/// One person on an incident's roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AffectedPerson {
    pub employee_id: EmployeeId,
    pub name: String,
    pub email: Email,
    pub categories: BTreeSet<CategoryName>,
    pub location: Option<Location>,
    /// When their first notice was sent; `None` while they have not been told.
    #[serde(default)]
    pub notified_at: Option<DateTime<Utc>>,
    /// The last bounce of a letter to their address, when the mail system reported that it
    /// could not be delivered after the server had accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounced: Option<Bounce>,
    /// The language their letters are written in, when the roster gives one (English
    /// otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

/// A language tag (BCP 47) such as `de`, `pt-BR` or `zh-Hant`: a primary subtag of 2 or 3
/// letters, then subtags of 1 to 8 letters or digits. Stored with the primary subtag in
/// lower case and a 2-letter region in upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::Language {
            given: s.to_owned(),
        };
        let mut parts = s.trim().split('-');
        let primary = parts.next().unwrap_or("");
        if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad());
        }
        let mut tag = primary.to_ascii_lowercase();
        for sub in parts {
            if !(1..=8).contains(&sub.len()) || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad());
            }
            tag.push('-');
            if sub.len() == 2 && sub.bytes().all(|b| b.is_ascii_alphabetic()) {
                tag.push_str(&sub.to_ascii_uppercase());
            } else {
                tag.push_str(sub);
            }
        }
        Ok(Language(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary subtag, e.g. `de` of `de-AT`: what templates are chosen by.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl TryFrom<String> for Language {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Language::parse(&s)
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A letter the mail server accepted and later reported undeliverable (a bounce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounce {
    /// The RFC 3463 status code, such as `5.1.1`.
    pub status: String,
    /// What the reporting server said.
    pub diagnostic: String,
    /// When the bounce was read back.
    pub recorded_at: DateTime<Utc>,
}

impl AffectedPerson {
    /// Whether this person has been told about the incident.
    pub fn is_notified(&self) -> bool {
        self.notified_at.is_some()
    }

    /// Whether a letter to them bounced and nothing has reached them since: they need a
    /// postal or substitute notice, or a corrected address.
    pub fn is_undeliverable(&self) -> bool {
        self.bounced.is_some() && !self.is_notified()
    }

    /// Folds a newer import of the same person into this record: name, email, location and
    /// language take the newer values, categories are the union, notification is kept.
    pub fn merge(&mut self, newer: AffectedPerson) {
        if newer.email != self.email {
            // A bounce was about the old address.
            self.bounced = None;
        }
        self.name = newer.name;
        self.email = newer.email;
        if newer.location.is_some() {
            self.location = newer.location;
        }
        if newer.language.is_some() {
            self.language = newer.language;
        }
        self.categories.extend(newer.categories);
    }
}

/// An email address, checked to be a plausible single mailbox.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl Email {
    /// Accepts `local@domain.tld`: no spaces, quotes, angle brackets or control
    /// characters, a dotted domain of letters, digits and dashes, at most 254 characters.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let bad = || DomainError::Email {
            given: s.to_owned(),
        };
        if s.len() > 254 {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Email(s.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a person is: an ISO 3166-1 country code, optionally with an ISO 3166-2 region,
/// such as `DE` or `US-CA`. Stored in upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Location(String);

impl Location {
    /// Parses `CC` or `CC-RRR` (region of 1-3 letters or digits), in any case.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let upper = s.trim().to_ascii_uppercase();
        let (country, region) = match upper.split_once('-') {
            Some((c, r)) => (c, Some(r)),
            None => (upper.as_str(), None),
        };
        let country_ok = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
        let region_ok = region.is_none_or(|r| {
            (1..=3).contains(&r.len())
                && r.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
        if country_ok && region_ok {
            Ok(Location(upper))
        } else {
            Err(DomainError::Location {
                given: s.to_owned(),
            })
        }
    }

    /// The code as text, e.g. `US-CA`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country part, e.g. `US`.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
impl AffectedPerson {
    /// A person for tests: `E{n}`, named `P{n}`, at `p{n}@corp.example`, no categories.
    pub(crate) fn numbered(n: u64) -> AffectedPerson {
        AffectedPerson {
            employee_id: EmployeeId::parse(&format!("E{n}")).expect("a plain id"),
            name: format!("P{n}"),
            email: Email::parse(&format!("p{n}@corp.example")).expect("a plain address"),
            categories: Default::default(),
            location: None,
            notified_at: None,
            bounced: None,
            language: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@corp.example", "ünï@exämple.de"] {
            assert!(Email::parse(good).is_ok(), "{good} refused");
        }
        for bad in [
            "",
            "bob@",
            "@corp.example",
            "bob",
            "bob@localhost",
            "a b@c.de",
            "a@b..de",
            "a@-b.de",
            "<a@b.de>",
            "a@b.de\r\nBcc: x@y.de",
            ".a@b.de",
            "a\"b@c.de",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn locations() {
        assert_eq!(Location::parse("us-ca").unwrap().as_str(), "US-CA");
        assert_eq!(Location::parse("NZ").unwrap().country(), "NZ");
        for bad in ["", "USA", "U", "US-", "US-CALI", "1A", "US_CA"] {
            assert!(Location::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn language_tags_are_checked_and_normalised() {
        assert_eq!(Language::parse("de-de").unwrap().as_str(), "de-DE");
        assert_eq!(Language::parse(" PT-br ").unwrap().as_str(), "pt-BR");
        assert_eq!(Language::parse("zh-Hant").unwrap().as_str(), "zh-Hant");
        assert_eq!(Language::parse("de-AT").unwrap().primary(), "de");
        for bad in [
            "",
            "e",
            "deutsch",
            "en_GB",
            "de--x",
            "de-toolongsubtag",
            "d3",
        ] {
            assert!(Language::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_unions_categories_and_keeps_notification() {
        let cats = |names: &[&str]| {
            let catalog = super::super::CategoryCatalog::default();
            names.iter().map(|n| catalog.parse(n).unwrap()).collect()
        };
        let mut old = AffectedPerson {
            employee_id: EmployeeId::parse("e1").unwrap(),
            name: "Old".into(),
            email: Email::parse("old@corp.example").unwrap(),
            categories: cats(&["keystrokes"]),
            location: Some(Location::parse("DE").unwrap()),
            notified_at: Some(Utc::now()),
            bounced: None,
            language: None,
        };
        let newer = AffectedPerson {
            name: "New".into(),
            categories: cats(&["screenshots"]),
            location: None,
            notified_at: None,
            ..old.clone()
        };
        old.merge(newer);
        assert_eq!(old.name, "New");
        assert_eq!(old.categories, cats(&["keystrokes", "screenshots"]));
        assert_eq!(old.location.as_ref().map(Location::as_str), Some("DE"));
        assert!(old.is_notified());
    }
}
