//! The severity of a personal-data breach for the people affected, assessed with the ENISA
//! methodology (ENISA, "Recommendations for a methodology of the assessment of severity of
//! personal data breaches", 2013): SE = DPC x EI + CB, where DPC (data processing context,
//! 1 to 4) rates the kind of data in its context, EI (ease of identification: 0.25, 0.5,
//! 0.75 or 1) how easily the data points to a person, and CB (circumstances of the breach)
//! adds up to 0.5 each for loss of confidentiality, of integrity, of availability, and for
//! malicious intent. Below 2 the severity is low, from 2 medium, from 3 high, from 4 very
//! high. Whether GDPR Art. 34 requires telling the people turns on a high risk: high or very
//! high here.
//!
//! Values are kept in quarters (EI 1..=4, each CB 0..=2), so scores are exact.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DomainError, UserName};

/// The four severity levels of the methodology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Band {
    Low,
    Medium,
    High,
    VeryHigh,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
            Band::VeryHigh => "very high",
        }
    }

    /// Whether the breach is likely to result in a high risk to the people (GDPR Art. 34).
    pub fn is_high_risk(self) -> bool {
        self >= Band::High
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inputs of one assessment, each checked against the values the methodology allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HarmFields")]
pub struct HarmInputs {
    dpc: u8,
    dpc_reason: Option<String>,
    ei: u8,
    confidentiality: u8,
    integrity: u8,
    availability: u8,
    malicious: u8,
}

/// [`HarmInputs`] as they travel, before they are checked.
#[derive(Deserialize)]
struct HarmFields {
    dpc: u8,
    dpc_reason: Option<String>,
    ei: u8,
    confidentiality: u8,
    integrity: u8,
    availability: u8,
    malicious: u8,
}

impl TryFrom<HarmFields> for HarmInputs {
    type Error = DomainError;
    fn try_from(f: HarmFields) -> Result<Self, DomainError> {
        HarmInputs::from_quarters(
            f.dpc,
            f.dpc_reason,
            f.ei,
            [f.confidentiality, f.integrity, f.availability, f.malicious],
        )
    }
}

/// A decimal the methodology allows, as quarters: "0.25" is 1.
pub fn parse_quarters(text: &str, what: &str, allowed: &[u8]) -> Result<u8, DomainError> {
    let shown: Vec<String> = allowed.iter().map(|q| quarters(*q)).collect();
    let bad = || {
        DomainError::Invalid(format!(
            "{what} must be one of {}, not '{text}'",
            shown.join(", ")
        ))
    };
    let value: f64 = text.trim().parse().map_err(|_| bad())?;
    allowed
        .iter()
        .copied()
        .find(|q| (f64::from(*q) / 4.0 - value).abs() < 1e-9)
        .ok_or_else(bad)
}

/// Quarters written as a decimal: 1 is "0.25", 4 is "1".
pub fn quarters(q: u8) -> String {
    let whole = q / 4;
    match q % 4 {
        0 => whole.to_string(),
        1 => format!("{whole}.25"),
        2 => format!("{whole}.5"),
        _ => format!("{whole}.75"),
    }
}

impl HarmInputs {
    /// Checks each value: DPC 1 to 4; EI 1 to 4 quarters; confidentiality, integrity and
    /// availability 0 to 2 quarters; malicious intent 0 or 2. The DPC reason, if given,
    /// is one line.
    pub fn from_quarters(
        dpc: u8,
        dpc_reason: Option<String>,
        ei: u8,
        [confidentiality, integrity, availability, malicious]: [u8; 4],
    ) -> Result<Self, DomainError> {
        let invalid = |m: &str| Err(DomainError::Invalid(m.to_owned()));
        if !(1..=4).contains(&dpc) {
            return invalid(
                "DPC must be 1 (simple), 2 (behavioural), 3 (financial) or 4 (sensitive)",
            );
        }
        if !(1..=4).contains(&ei) {
            return invalid("EI must be 0.25, 0.5, 0.75 or 1");
        }
        if [confidentiality, integrity, availability]
            .iter()
            .any(|c| *c > 2)
        {
            return invalid(
                "each loss (confidentiality, integrity, availability) is 0, 0.25 or 0.5",
            );
        }
        if malicious != 0 && malicious != 2 {
            return invalid("malicious intent is 0 or 0.5");
        }
        let dpc_reason = dpc_reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if dpc_reason
            .as_ref()
            .is_some_and(|r| r.len() > 1000 || r.chars().any(char::is_control))
        {
            return invalid("the DPC reason must be one line of at most 1,000 bytes");
        }
        Ok(HarmInputs {
            dpc,
            dpc_reason,
            ei,
            confidentiality,
            integrity,
            availability,
            malicious,
        })
    }

    /// The score in quarters: DPC x EI + CB.
    pub fn score_quarters(&self) -> u8 {
        self.dpc * self.ei
            + self.confidentiality
            + self.integrity
            + self.availability
            + self.malicious
    }

    /// The score as the methodology writes it.
    pub fn score(&self) -> f64 {
        f64::from(self.score_quarters()) / 4.0
    }

    pub fn band(&self) -> Band {
        match self.score_quarters() {
            0..8 => Band::Low,
            8..12 => Band::Medium,
            12..16 => Band::High,
            _ => Band::VeryHigh,
        }
    }

    pub fn dpc(&self) -> u8 {
        self.dpc
    }

    pub fn dpc_reason(&self) -> Option<&str> {
        self.dpc_reason.as_deref()
    }

    /// Ease of identification, in quarters.
    pub fn ei_quarters(&self) -> u8 {
        self.ei
    }

    /// Confidentiality, integrity, availability and malicious intent, in quarters.
    pub fn circumstances_quarters(&self) -> [u8; 4] {
        [
            self.confidentiality,
            self.integrity,
            self.availability,
            self.malicious,
        ]
    }

    /// One line with every input and the result.
    pub fn describe(&self) -> String {
        match &self.dpc_reason {
            Some(r) => format!("{}; DPC because {r}", self.summary()),
            None => self.summary(),
        }
    }

    /// [`HarmInputs::describe`] without the DPC reason (breachdesk's own words only).
    pub fn summary(&self) -> String {
        format!(
            "ENISA severity {} ({}): DPC {} x EI {} + CB {} (confidentiality {}, integrity {}, availability {}, malicious intent {})",
            quarters(self.score_quarters()),
            self.band(),
            self.dpc,
            quarters(self.ei),
            quarters(self.confidentiality + self.integrity + self.availability + self.malicious),
            quarters(self.confidentiality),
            quarters(self.integrity),
            quarters(self.availability),
            quarters(self.malicious),
        )
    }
}

/// An assessment as recorded on the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub inputs: HarmInputs,
    pub reason: String,
    pub by: UserName,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str, allowed: &[u8]) -> u8 {
        parse_quarters(text, "x", allowed).unwrap()
    }

    #[test]
    fn scores_and_bands_for_a_table_of_cases() {
        // (dpc, ei, [c, i, a, m] in quarters, score, band)
        let cases = [
            // The staff-monitoring exposure: behavioural data (keystrokes, mouse movements,
            // performance) with chat transcripts, raised from 2 to 3 for the content of
            // private messages; fully identifiable; readable by every employee (an unknown
            // number of readers: confidentiality 0.5); nothing altered or lost; no malice.
            (3, 4, [2, 0, 0, 0], "3.5", Band::High),
            // The same, rated as behavioural data alone.
            (2, 4, [2, 0, 0, 0], "2.5", Band::Medium),
            // Simple data, hardly identifiable, sent to one known wrong recipient.
            (1, 1, [1, 0, 0, 0], "0.5", Band::Low),
            // Financial data, identifiable, stolen by an attacker and deleted.
            (3, 4, [2, 0, 2, 2], "4.5", Band::VeryHigh),
            // The edges of the bands.
            (2, 4, [0, 0, 0, 0], "2", Band::Medium),
            (1, 4, [2, 2, 1, 0], "2.25", Band::Medium),
            (1, 4, [2, 1, 0, 0], "1.75", Band::Low),
            (4, 3, [0, 0, 0, 0], "3", Band::High),
            (4, 4, [0, 0, 0, 0], "4", Band::VeryHigh),
        ];
        for (dpc, ei, cb, score, band) in cases {
            let inputs = HarmInputs::from_quarters(dpc, None, ei, cb).unwrap();
            assert_eq!(
                quarters(inputs.score_quarters()),
                score,
                "{dpc} {ei} {cb:?}"
            );
            assert_eq!(inputs.score().to_string(), score, "{dpc} {ei} {cb:?}");
            assert_eq!(inputs.band(), band, "{dpc} {ei} {cb:?}");
        }
        assert!(Band::High.is_high_risk() && Band::VeryHigh.is_high_risk());
        assert!(!Band::Medium.is_high_risk());
    }

    #[test]
    fn only_the_values_the_methodology_allows_are_accepted() {
        assert_eq!(q("0.25", &[1, 2, 3, 4]), 1);
        assert_eq!(q("1", &[1, 2, 3, 4]), 4);
        let err = parse_quarters("0.3", "--ei", &[1, 2, 3, 4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--ei must be one of 0.25, 0.5, 0.75, 1, not '0.3'"
        );
        assert!(parse_quarters("much", "--ei", &[1]).is_err());
        assert!(HarmInputs::from_quarters(0, None, 4, [0; 4]).is_err());
        assert!(HarmInputs::from_quarters(5, None, 4, [0; 4]).is_err());
        assert!(HarmInputs::from_quarters(2, None, 4, [3, 0, 0, 0]).is_err());
        assert!(HarmInputs::from_quarters(2, None, 4, [0, 0, 0, 1]).is_err());
        assert!(HarmInputs::from_quarters(2, Some("a\nb".into()), 4, [0; 4]).is_err());
        // Decoding checks the same.
        let bad = r#"{"dpc":9,"dpc_reason":null,"ei":4,"confidentiality":0,"integrity":0,"availability":0,"malicious":0}"#;
        assert!(serde_json::from_str::<HarmInputs>(bad).is_err());
    }

    #[test]
    fn the_description_gives_every_input() {
        let inputs =
            HarmInputs::from_quarters(3, Some("chat transcripts".into()), 4, [2, 0, 0, 0]).unwrap();
        assert_eq!(
            inputs.describe(),
            "ENISA severity 3.5 (high): DPC 3 x EI 1 + CB 0.5 (confidentiality 0.5, integrity 0, availability 0, malicious intent 0); DPC because chat transcripts"
        );
    }
}

/// The New Zealand test of a notifiable privacy breach (Privacy Act 2020, s112): whether
/// the breach has caused or is likely to cause serious harm, judged on the factors of s113,
/// each as the responder considered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SeriousHarmFields")]
pub struct SeriousHarm {
    likely: bool,
    factors: [String; 6],
}

#[derive(Deserialize)]
struct SeriousHarmFields {
    likely: bool,
    factors: [String; 6],
}

impl TryFrom<SeriousHarmFields> for SeriousHarm {
    type Error = DomainError;
    fn try_from(f: SeriousHarmFields) -> Result<Self, DomainError> {
        SeriousHarm::new(f.likely, f.factors)
    }
}

impl SeriousHarm {
    /// The s113 factors, in the Act's order.
    pub const FACTORS: [&'static str; 6] = [
        "action taken to reduce the risk of harm (s113(a))",
        "whether the information is sensitive (s113(b))",
        "the nature of the harm that may be caused (s113(c))",
        "who has obtained or may obtain the information (s113(d))",
        "whether a security measure protects it (s113(e))",
        "any other relevant matters (s113(f))",
    ];

    /// `factors` in the order of [`SeriousHarm::FACTORS`]: each considered (one line, at
    /// most 1,000 bytes); only the last ("other matters") may be empty.
    pub fn new(likely: bool, factors: [String; 6]) -> Result<Self, DomainError> {
        let factors = factors.map(|f| f.trim().to_owned());
        for (i, f) in factors.iter().enumerate() {
            if f.is_empty() && i < 5 {
                return Err(DomainError::Invalid(format!(
                    "say how you considered {}",
                    SeriousHarm::FACTORS[i]
                )));
            }
            if f.len() > 1000 || f.chars().any(char::is_control) {
                return Err(DomainError::Invalid(format!(
                    "{} must be one line of at most 1,000 bytes",
                    SeriousHarm::FACTORS[i]
                )));
            }
        }
        Ok(SeriousHarm { likely, factors })
    }

    /// Whether serious harm is likely: a notifiable privacy breach.
    pub fn is_notifiable(&self) -> bool {
        self.likely
    }

    /// The factors with their names, empty ones left out.
    pub fn factors(&self) -> impl Iterator<Item = (&'static str, &str)> {
        SeriousHarm::FACTORS
            .iter()
            .zip(&self.factors)
            .filter(|(_, f)| !f.is_empty())
            .map(|(name, f)| (*name, f.as_str()))
    }

    /// The decision in breachdesk's words.
    pub fn summary(&self) -> &'static str {
        if self.likely {
            "NZ serious-harm test: serious harm likely, a notifiable privacy breach (Privacy Act 2020 s112)"
        } else {
            "NZ serious-harm test: serious harm not likely, not a notifiable privacy breach (Privacy Act 2020 s112)"
        }
    }
}

/// A serious-harm test as recorded on the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriousHarmRecord {
    pub test: SeriousHarm,
    pub reason: String,
    pub by: UserName,
    pub at: DateTime<Utc>,
}
