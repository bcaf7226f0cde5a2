//! Identifiers: incident ids (`INC-7`), programme slugs, employee ids and user names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::text::{Lines, checked};

/// An incident's number, shown as `INC-7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct IncidentId(u64);

impl TryFrom<u64> for IncidentId {
    type Error = DomainError;
    /// Incident numbers start at 1, so a decoded 0 is refused.
    fn try_from(n: u64) -> Result<Self, Self::Error> {
        if n == 0 {
            return Err(DomainError::IncidentId { given: "0".into() });
        }
        Ok(IncidentId(n))
    }
}

impl From<IncidentId> for u64 {
    fn from(id: IncidentId) -> u64 {
        id.0
    }
}

impl IncidentId {
    /// Wraps a number; incident numbers start at 1.
    pub const fn new(n: u64) -> Self {
        IncidentId(n)
    }

    /// The bare number.
    pub fn number(self) -> u64 {
        self.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

impl FromStr for IncidentId {
    type Err = DomainError;
    /// Accepts `INC-7`, `inc-7` and a bare `7`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("inc-"))
            .map_or(t, |_| &t[4..]);
        match digits.parse::<u64>() {
            Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(IncidentId(n)),
            _ => Err(DomainError::IncidentId {
                given: s.to_owned(),
            }),
        }
    }
}

/// A programme's short name: lowercase letters, digits and dashes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProgramSlug(String);

impl ProgramSlug {
    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProgramSlug {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(ProgramSlug(s.to_owned()))
        } else {
            Err(DomainError::ProgramSlug {
                given: s.to_owned(),
            })
        }
    }
}

impl TryFrom<String> for ProgramSlug {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ProgramSlug> for String {
    fn from(slug: ProgramSlug) -> String {
        slug.0
    }
}

impl fmt::Display for ProgramSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a token: present, at most `max` characters, no whitespace or control characters.
fn token(field: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let value = checked(field, s, max, Lines::Single)?;
    if value.chars().any(char::is_whitespace) {
        return Err(DomainError::Token {
            field,
            given: value,
        });
    }
    Ok(value)
}

/// An affected person's employee id, unique within an incident.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmployeeId(String);

impl TryFrom<String> for EmployeeId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        EmployeeId::parse(&s)
    }
}

impl From<EmployeeId> for String {
    fn from(value: EmployeeId) -> String {
        value.0
    }
}

impl EmployeeId {
    /// Validates an employee id: 1-128 characters without whitespace or control characters.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        token("employee_id", s, 128).map(EmployeeId)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmployeeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user of breachdesk: an operating-system account name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl TryFrom<String> for UserName {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        UserName::parse(&s)
    }
}

impl From<UserName> for String {
    fn from(value: UserName) -> String {
        value.0
    }
}

impl UserName {
    /// Validates a user name: 1-64 characters without whitespace or control characters.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        token("user", s, 64).map(UserName)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_ids_take_both_forms() {
        for (input, want) in [
            ("INC-7", Some(7)),
            ("inc-12", Some(12)),
            ("3", Some(3)),
            (" 4 ", Some(4)),
        ] {
            assert_eq!(
                input.parse::<IncidentId>().ok().map(IncidentId::number),
                want
            );
        }
        for input in ["", "INC-", "INC-0", "0", "-1", "+1", "INC-x", "INC7", "1.0"] {
            assert!(input.parse::<IncidentId>().is_err(), "{input:?} accepted");
        }
        assert_eq!(IncidentId::new(7).to_string(), "INC-7");
    }

    #[test]
    fn slugs_are_lowercase_tokens() {
        assert!("staff-monitoring".parse::<ProgramSlug>().is_ok());
        assert!("p2".parse::<ProgramSlug>().is_ok());
        for bad in ["", "Staff", "a b", "-x", "a_b", &"a".repeat(65)] {
            assert!(bad.parse::<ProgramSlug>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn user_names_refuse_spaces() {
        assert!(UserName::parse("alice").is_ok());
        assert!(UserName::parse("al ice").is_err());
        assert!(UserName::parse("").is_err());
    }
}
