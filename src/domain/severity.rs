//! Severity levels: SEV 0 is the most critical, SEV 5 the least.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// How bad an incident is, from 0 (most critical) to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Severity(u8);

const GUIDANCE: [&str; 6] = [
    "critical: sensitive data confirmed taken or published; all hands now",
    "major: sensitive data exposed beyond need-to-know; respond around the clock",
    "serious: personal data broadly readable (e.g. company-wide); contain today",
    "moderate: limited exposure to a small group; contain within days",
    "minor: low-sensitivity data or a near miss; fix in normal work",
    "informational: no personal data exposed; record for learning",
];

impl Severity {
    /// The least critical level.
    pub const LEAST: Severity = Severity(5);

    /// Makes a severity from its level, 0 to 5.
    pub fn new(level: u8) -> Result<Self, DomainError> {
        if level <= 5 {
            Ok(Severity(level))
        } else {
            Err(DomainError::Severity)
        }
    }

    /// The numeric level, 0 (most critical) to 5.
    pub fn level(self) -> u8 {
        self.0
    }

    /// SEV 0 to 2: serious enough that a linked programme stays paused until the incident
    /// is resolved.
    pub fn is_critical(self) -> bool {
        self.0 <= 2
    }

    /// One line of guidance on what this level means and how fast to act.
    pub fn guidance(self) -> &'static str {
        GUIDANCE[usize::from(self.0)]
    }

    /// All levels, most critical first.
    pub fn all() -> impl Iterator<Item = Severity> {
        (0..=5).map(Severity)
    }

    /// A help text listing every level with its guidance.
    pub fn help_text() -> String {
        let mut text = String::from("Severity, 0 (most critical) to 5:");
        for sev in Severity::all() {
            text.push_str(&format!("\n  {}  {}", sev.level(), sev.guidance()));
        }
        text
    }
}

impl TryFrom<u8> for Severity {
    type Error = DomainError;
    fn try_from(level: u8) -> Result<Self, Self::Error> {
        Severity::new(level)
    }
}

impl From<Severity> for u8 {
    fn from(sev: Severity) -> u8 {
        sev.0
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV{}", self.0)
    }
}

impl FromStr for Severity {
    type Err = DomainError;
    /// Accepts `2`, `SEV2`, `sev2` and `SEV 2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let digits = s
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("sev"))
            .map_or(s, |_| s[3..].trim_start());
        digits
            .parse::<u8>()
            .map_err(|_| DomainError::Severity)
            .and_then(Severity::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels_and_refuses_the_rest() {
        for (input, want) in [
            ("0", Some(0)),
            ("5", Some(5)),
            ("SEV2", Some(2)),
            ("sev 3", Some(3)),
        ] {
            assert_eq!(input.parse::<Severity>().ok().map(Severity::level), want);
        }
        for input in ["6", "-1", "", "sev", "two", "256", "SEV6"] {
            assert_eq!(
                input.parse::<Severity>(),
                Err(DomainError::Severity),
                "{input}"
            );
        }
    }

    #[test]
    fn critical_is_zero_to_two() {
        let critical: Vec<u8> = Severity::all()
            .filter(|s| s.is_critical())
            .map(Severity::level)
            .collect();
        assert_eq!(critical, vec![0, 1, 2]);
    }
}
