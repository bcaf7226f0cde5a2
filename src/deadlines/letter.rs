//! What a letter to an affected person must contain, per rule: each rule that requires
//! notice to individuals lists its elements in `rules/*.toml` (`[[rule.letter]]`), each
//! with the citation it comes from. A person's letter must carry the union of the elements
//! of every such rule that covers them (where they live, and for rules limited to some
//! data categories, what of theirs was exposed).
//!
//! The elements are a fixed vocabulary, so that templates can render a section for each and
//! a check can say which is missing. Decision support, not legal advice.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::RuleBook;

/// One thing a notice to a person must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LetterElement {
    /// Titled "Notice of Data Breach".
    NoticeTitle,
    /// The headings "What Happened", "What Information Was Involved", "What We Are Doing",
    /// "What You Can Do" and "For More Information", in that order.
    BreachHeadings,
    /// A description of what happened.
    WhatHappened,
    /// The types of personal information involved.
    InformationInvolved,
    /// The date, estimated date or date range of the breach, when it can be determined.
    BreachDate,
    /// The date the breach was discovered.
    DiscoveryDate,
    /// The date of the notice.
    NoticeDate,
    /// Whether the notice was delayed by a law-enforcement investigation.
    LawEnforcementDelay,
    /// What the organisation is doing (investigating, mitigating, preventing).
    WhatWeAreDoing,
    /// Steps the person may take to protect themselves.
    WhatYouCanDo,
    /// The likely consequences of the breach.
    LikelyConsequences,
    /// Whether anyone suspected of holding the information has been identified (without
    /// naming them).
    SuspectedHolder,
    /// Name and contact details of the organisation or a contact person.
    Contact,
    /// Name and contact details of the data protection officer or other contact point.
    DpoContact,
    /// Contact procedures including a toll-free telephone number, and an email address, web
    /// site or postal address.
    TollFreeContact,
    /// That the regulator (the Privacy Commissioner) has been notified.
    RegulatorNotified,
    /// That the person may complain to the regulator.
    RightToComplain,
    /// Toll-free numbers and addresses of the major consumer reporting agencies.
    CreditBureaus,
    /// The Federal Trade Commission's contact details and its advice on identity theft.
    FtcContact,
    /// The contact details of the person's state attorney general (`[contact.attorney_general]`).
    AttorneyGeneralContact,
    /// How to place a security freeze, free of charge.
    SecurityFreeze,
    /// The right to obtain a police report.
    PoliceReport,
    /// Advice to remain vigilant: review account statements and credit reports.
    RemainVigilant,
    /// The offer of free credit monitoring or identity protection and how to enrol
    /// (`[contact] credit_monitoring`).
    CreditMonitoringOffer,
    /// The letter must NOT describe the nature of the breach or the number of people
    /// affected (Mass. Gen. Laws ch. 93H s3(b)).
    OmitBreachNature,
    /// The letter must NOT give the number of people affected (815 ILCS 530/10(a)).
    OmitPeopleCount,
}

impl LetterElement {
    pub const ALL: [LetterElement; 26] = [
        LetterElement::NoticeTitle,
        LetterElement::BreachHeadings,
        LetterElement::WhatHappened,
        LetterElement::InformationInvolved,
        LetterElement::BreachDate,
        LetterElement::DiscoveryDate,
        LetterElement::NoticeDate,
        LetterElement::LawEnforcementDelay,
        LetterElement::WhatWeAreDoing,
        LetterElement::WhatYouCanDo,
        LetterElement::LikelyConsequences,
        LetterElement::SuspectedHolder,
        LetterElement::Contact,
        LetterElement::DpoContact,
        LetterElement::TollFreeContact,
        LetterElement::RegulatorNotified,
        LetterElement::RightToComplain,
        LetterElement::CreditBureaus,
        LetterElement::FtcContact,
        LetterElement::AttorneyGeneralContact,
        LetterElement::SecurityFreeze,
        LetterElement::PoliceReport,
        LetterElement::RemainVigilant,
        LetterElement::CreditMonitoringOffer,
        LetterElement::OmitBreachNature,
        LetterElement::OmitPeopleCount,
    ];

    /// The name used in the rule file, templates and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            LetterElement::NoticeTitle => "notice-title",
            LetterElement::BreachHeadings => "breach-headings",
            LetterElement::WhatHappened => "what-happened",
            LetterElement::InformationInvolved => "information-involved",
            LetterElement::BreachDate => "breach-date",
            LetterElement::DiscoveryDate => "discovery-date",
            LetterElement::NoticeDate => "notice-date",
            LetterElement::LawEnforcementDelay => "law-enforcement-delay",
            LetterElement::WhatWeAreDoing => "what-we-are-doing",
            LetterElement::WhatYouCanDo => "what-you-can-do",
            LetterElement::LikelyConsequences => "likely-consequences",
            LetterElement::SuspectedHolder => "suspected-holder",
            LetterElement::Contact => "contact",
            LetterElement::DpoContact => "dpo-contact",
            LetterElement::TollFreeContact => "toll-free-contact",
            LetterElement::RegulatorNotified => "regulator-notified",
            LetterElement::RightToComplain => "right-to-complain",
            LetterElement::CreditBureaus => "credit-bureaus",
            LetterElement::FtcContact => "ftc-contact",
            LetterElement::AttorneyGeneralContact => "attorney-general-contact",
            LetterElement::SecurityFreeze => "security-freeze",
            LetterElement::PoliceReport => "police-report",
            LetterElement::RemainVigilant => "remain-vigilant",
            LetterElement::CreditMonitoringOffer => "credit-monitoring-offer",
            LetterElement::OmitBreachNature => "omit-breach-nature",
            LetterElement::OmitPeopleCount => "omit-people-count",
        }
    }

    /// The element of that name.
    pub fn parse(name: &str) -> Option<LetterElement> {
        LetterElement::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The `[contact]` field this element cannot be written without, if any.
    pub fn needs_contact(self) -> Option<&'static str> {
        match self {
            LetterElement::DpoContact => Some("dpo"),
            LetterElement::TollFreeContact => Some("toll_free"),
            LetterElement::CreditMonitoringOffer => Some("credit_monitoring"),
            _ => None,
        }
    }
}

impl LetterElement {
    /// What the law accepts instead of this element's `[contact]` field, if anything: the
    /// GDPR asks for the DPO "or other contact point".
    pub fn contact_stand_in(self) -> Option<&'static str> {
        match self {
            LetterElement::DpoContact => Some("email"),
            _ => None,
        }
    }
}

impl std::fmt::Display for LetterElement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `[contact]` field a rule's letters need that is not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingContact {
    pub rule: String,
    pub element: LetterElement,
    /// As written under `[contact]`: `toll_free`, or `attorney_general.US-MD` for one
    /// state's entry.
    pub field: String,
    /// What the letter gives instead, when the law accepts something else.
    pub stand_in: Option<&'static str>,
    /// Set when only some letters need it: the data elements whose exposure does.
    pub only_when: Option<String>,
}

/// One element a rule requires, and where the requirement comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Required {
    pub element: LetterElement,
    pub citation: String,
}

/// What the law asks of one person's letter: the rules that require it and their elements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LetterLaw {
    /// Ids of the rules requiring notice to this person that list letter elements.
    pub rules: Vec<String>,
    /// The union of their elements.
    pub elements: BTreeSet<LetterElement>,
}

impl LetterLaw {
    pub fn requires(&self, element: LetterElement) -> bool {
        self.elements.contains(&element)
    }
}

impl RuleBook {
    /// What the letter to a person living at `location` (if known) with `categories`
    /// exposed must contain.
    ///
    /// A rule limited to data elements counts when the person's categories contain or may
    /// contain one of them: a letter that may have to meet a law is written to meet it.
    /// A rule that requires offering credit monitoring for an element the categories
    /// contain adds the offer.
    pub fn letter_law<'a>(
        &self,
        location: Option<&str>,
        categories: impl IntoIterator<Item = &'a str> + Clone,
    ) -> LetterLaw {
        let mut law = LetterLaw::default();
        let Some(location) = location else {
            return law;
        };
        let (contained, may) = self.catalog.elements(categories.clone());
        // Letters are written now: the versions in force today.
        for rule in self
            .rules()
            .filter(|r| !r.letter.is_empty() && r.is_current())
        {
            let category_ok = rule.categories.is_empty()
                || categories
                    .clone()
                    .into_iter()
                    .any(|c| rule.categories.iter().any(|r| r == c));
            let element_ok = rule.elements.is_empty()
                || rule
                    .elements
                    .iter()
                    .any(|e| contained.contains(e) || may.contains(e));
            if rule.covers(location) && category_ok && element_ok {
                law.rules.push(rule.id.clone());
                // The offer of credit monitoring follows the rule's `credit_monitoring`
                // (an exposed element it names), when the rule has one.
                law.elements
                    .extend(
                        rule.letter
                            .iter()
                            .map(|required| required.element)
                            .filter(|e| {
                                *e != LetterElement::CreditMonitoringOffer
                                    || rule.credit_monitoring.is_none()
                            }),
                    );
                if rule
                    .credit_monitoring
                    .as_ref()
                    .is_some_and(|m| m.elements.iter().any(|e| contained.contains(e)))
                {
                    law.elements.insert(LetterElement::CreditMonitoringOffer);
                }
            }
        }
        law
    }

    /// Every `[contact]` field that some rule's letter elements need and `filled` says is
    /// empty, with the rule and element that need it.
    ///
    /// The attorney general's details are per state (`attorney_general.US-MD`); the offer
    /// of credit monitoring is needed only when the elements its rule names are exposed.
    pub fn missing_contact(&self, filled: impl Fn(&str) -> bool) -> Vec<MissingContact> {
        let mut missing = Vec::new();
        for rule in self.rules().filter(|r| r.is_current()) {
            let mut need = |element: LetterElement, field: String, only_when: Option<String>| {
                if !filled(&field) {
                    missing.push(MissingContact {
                        rule: rule.id.clone(),
                        element,
                        field,
                        stand_in: element.contact_stand_in(),
                        only_when,
                    });
                }
            };
            for required in &rule.letter {
                match required.element {
                    LetterElement::AttorneyGeneralContact => {
                        for at in rule.locations.iter().filter(|l| !l.contains('*')) {
                            need(required.element, format!("attorney_general.{at}"), None);
                        }
                    }
                    LetterElement::CreditMonitoringOffer if rule.credit_monitoring.is_some() => {}
                    element => {
                        if let Some(field) = element.needs_contact() {
                            need(element, field.to_owned(), None);
                        }
                    }
                }
            }
            if let Some(m) = &rule.credit_monitoring {
                let names: Vec<&str> = m.elements.iter().map(|e| e.as_str()).collect();
                need(
                    LetterElement::CreditMonitoringOffer,
                    "credit_monitoring".to_owned(),
                    Some(names.join(" or ")),
                );
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_person_gets_the_elements_of_the_rules_that_cover_them() {
        let book = RuleBook::default();
        let ca = book.letter_law(Some("US-CA"), ["keystrokes"]);
        assert_eq!(ca.rules, ["us-ca"]);
        assert!(ca.requires(LetterElement::NoticeTitle));
        assert!(ca.requires(LetterElement::BreachHeadings));
        assert!(ca.requires(LetterElement::LawEnforcementDelay));
        assert!(!ca.requires(LetterElement::TollFreeContact));

        let health = book.letter_law(Some("US-CA"), ["keystrokes", "health-data"]);
        assert_eq!(health.rules, ["us-ca", "hipaa"]);
        assert!(health.requires(LetterElement::TollFreeContact));
        assert!(health.requires(LetterElement::DiscoveryDate));

        let nz = book.letter_law(Some("NZ"), ["chat-messages"]);
        assert_eq!(nz.rules, ["nz-privacy-2020"]);
        assert!(nz.requires(LetterElement::RegulatorNotified));
        assert!(nz.requires(LetterElement::RightToComplain));
        assert!(nz.requires(LetterElement::SuspectedHolder));

        let de = book.letter_law(Some("DE"), ["keystrokes"]);
        assert_eq!(de.rules, ["gdpr-34"]);
        assert!(de.requires(LetterElement::DpoContact));
        assert!(de.requires(LetterElement::LikelyConsequences));

        assert_eq!(book.letter_law(None, ["keystrokes"]), LetterLaw::default());
        assert_eq!(
            book.letter_law(Some("TV"), ["keystrokes"]),
            LetterLaw::default()
        );
    }

    #[test]
    fn every_listed_element_has_a_citation_and_names_round_trip() {
        let book = RuleBook::default();
        for rule in book.rules() {
            for required in &rule.letter {
                assert!(
                    !required.citation.trim().is_empty(),
                    "{}: {}",
                    rule.id,
                    required.element
                );
            }
        }
        for element in LetterElement::ALL {
            let json = serde_json::to_string(&element).unwrap();
            assert_eq!(json, format!("\"{element}\""));
        }
    }

    #[test]
    fn contact_fields_the_elements_need_are_named_when_empty() {
        let book = RuleBook::default();
        let missing = book.missing_contact(|_| false);
        let named = |rule: &str, field: &str| {
            missing
                .iter()
                .find(|m| m.rule == rule && m.field == field)
                .map(|m| m.stand_in)
        };
        assert_eq!(
            named("gdpr-34", "dpo"),
            Some(Some("email")),
            "the contact point may stand in"
        );
        assert_eq!(named("hipaa", "toll_free"), Some(None));
        assert!(book.missing_contact(|_| true).is_empty());
    }
}
