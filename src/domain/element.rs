//! Statutory data elements: the kinds of personal information breach laws name. Many US
//! state laws apply only when one of the elements of their definition of "personal
//! information" was exposed (a government id with a name, a financial account with its
//! access code, a login with its password); a category names the elements it contains, and
//! those it may contain until a responder confirms or rules them out.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DomainError, UserName};

/// One statutory data element, from a fixed vocabulary (docs/deadlines.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataElement {
    /// A government identifier with a name: social security, driver's licence, passport,
    /// tax or other government number.
    GovernmentId,
    /// A financial account number (with what gives access to it).
    FinancialAccount,
    /// A payment card number (with its code).
    PaymentCard,
    /// A user name or email address with its password or security answers.
    Credentials,
    /// Medical or health information.
    Health,
    /// A health insurance policy or subscriber number.
    HealthInsurance,
    /// Biometric data.
    Biometric,
    /// A date of birth.
    DateOfBirth,
    /// Contact details only: name, address, email, telephone.
    Contact,
    /// Precise geolocation.
    PreciseLocation,
    /// The content of messages or calls.
    CommunicationsContent,
    /// Activity and behaviour: keystroke timing, mouse movements, productivity measures.
    Behavioural,
}

impl DataElement {
    pub const ALL: [DataElement; 12] = [
        DataElement::GovernmentId,
        DataElement::FinancialAccount,
        DataElement::PaymentCard,
        DataElement::Credentials,
        DataElement::Health,
        DataElement::HealthInsurance,
        DataElement::Biometric,
        DataElement::DateOfBirth,
        DataElement::Contact,
        DataElement::PreciseLocation,
        DataElement::CommunicationsContent,
        DataElement::Behavioural,
    ];

    /// The name used in the config, the rule files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            DataElement::GovernmentId => "government-id",
            DataElement::FinancialAccount => "financial-account",
            DataElement::PaymentCard => "payment-card",
            DataElement::Credentials => "credentials",
            DataElement::Health => "health",
            DataElement::HealthInsurance => "health-insurance",
            DataElement::Biometric => "biometric",
            DataElement::DateOfBirth => "date-of-birth",
            DataElement::Contact => "contact",
            DataElement::PreciseLocation => "precise-location",
            DataElement::CommunicationsContent => "communications-content",
            DataElement::Behavioural => "behavioural",
        }
    }

    /// The element of that name; an unknown name is refused with the known ones.
    pub fn parse(given: &str) -> Result<DataElement, DomainError> {
        let wanted = given.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        DataElement::ALL
            .into_iter()
            .find(|e| e.as_str() == wanted)
            .ok_or_else(|| DomainError::UnknownElement {
                given: given.to_owned(),
                known: DataElement::ALL.map(DataElement::as_str).join(", "),
            })
    }
}

impl fmt::Display for DataElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A responder's decision on an element a category may contain: confirmed exposed, or
/// ruled out with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementDecision {
    pub confirmed: bool,
    pub reason: String,
    pub by: UserName,
    pub at: DateTime<Utc>,
}

/// What an incident's exposed categories and the responders' decisions say of each
/// element: exposed for certain, possibly exposed (awaiting a decision), or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposedElements {
    /// Contained in an exposed category, or confirmed.
    pub certain: BTreeSet<DataElement>,
    /// An exposed category may contain them; nobody has confirmed or ruled them out.
    pub possible: BTreeSet<DataElement>,
    /// Ruled out by a responder.
    pub ruled_out: BTreeSet<DataElement>,
}

impl ExposedElements {
    /// From what the categories contain and may contain, and the decisions taken.
    pub fn decide<'a>(
        contained: impl IntoIterator<Item = DataElement>,
        may_contain: impl IntoIterator<Item = DataElement>,
        decisions: impl IntoIterator<Item = (&'a DataElement, &'a ElementDecision)>,
    ) -> ExposedElements {
        let mut out = ExposedElements {
            certain: contained.into_iter().collect(),
            ..ExposedElements::default()
        };
        out.possible = may_contain
            .into_iter()
            .filter(|e| !out.certain.contains(e))
            .collect();
        for (element, decision) in decisions {
            out.possible.remove(element);
            if decision.confirmed {
                out.certain.insert(*element);
                out.ruled_out.remove(element);
            } else {
                out.certain.remove(element);
                out.ruled_out.insert(*element);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_vocabulary() {
        for e in DataElement::ALL {
            assert_eq!(DataElement::parse(e.as_str()).unwrap(), e);
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{e}\""));
        }
        assert_eq!(
            DataElement::parse("Government_ID").unwrap(),
            DataElement::GovernmentId
        );
        let err = DataElement::parse("horoscope").unwrap_err().to_string();
        assert!(
            err.contains("'horoscope'") && err.contains("payment-card"),
            "{err}"
        );
    }

    #[test]
    fn decisions_confirm_or_rule_out_what_a_category_may_contain() {
        let by = UserName::parse("ada").unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let decision = |confirmed| ElementDecision {
            confirmed,
            reason: "checked the capture".into(),
            by: by.clone(),
            at,
        };
        use DataElement::*;
        let open = ExposedElements::decide([Behavioural], [Credentials, PaymentCard], []);
        assert_eq!(open.certain, BTreeSet::from([Behavioural]));
        assert_eq!(open.possible, BTreeSet::from([Credentials, PaymentCard]));
        let decisions = [
            (Credentials, decision(true)),
            (PaymentCard, decision(false)),
        ];
        let decided = ExposedElements::decide(
            [Behavioural],
            [Credentials, PaymentCard],
            decisions.iter().map(|(e, d)| (e, d)),
        );
        assert_eq!(decided.certain, BTreeSet::from([Behavioural, Credentials]));
        assert!(decided.possible.is_empty());
        assert_eq!(decided.ruled_out, BTreeSet::from([PaymentCard]));
    }
}
