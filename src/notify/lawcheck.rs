//! Whether a rendered first notice gives what the rules covering its person require
//! (`deadlines/letter.rs`). An element counts as given when both body parts declare it with
//! `{{ element("...") }}` inside the section that gives it, and, for the elements whose
//! content can be seen in the text, when that content is there too: the title as the first
//! line, the five headings as lines in order, the contact details from `[contact]`, the
//! dates, each exposed category's description.

use super::context::LetterContext;
use super::template::Letter;
use crate::deadlines::{LetterElement, RuleBook};

/// The five headings, in the order California requires them.
pub const BREACH_HEADINGS: [&str; 5] = [
    "What Happened",
    "What Information Was Involved",
    "What We Are Doing",
    "What You Can Do",
    "For More Information",
];

/// What a letter gives that a law forbidding content (`omit-breach-nature`,
/// `omit-people-count`) does not allow, or `None`.
fn forbidden(letter: &Letter, ctx: &LetterContext, element: LetterElement) -> Option<String> {
    let describes = letter.marks.text.contains(&LetterElement::WhatHappened)
        || letter.marks.html.contains(&LetterElement::WhatHappened);
    if element == LetterElement::OmitBreachNature && describes {
        return Some(
            "the letter describes the nature of the breach, which this law forbids".into(),
        );
    }
    let count = ctx.shared.stats.people.to_string();
    let counts = ctx.shared.stats.people > 9
        && letter
            .text
            .split(|c: char| !c.is_ascii_digit() && c != ',')
            .any(|word| word.replace(',', "") == count);
    counts.then(|| {
        format!(
            "the text part gives the number of people affected ({count}), which this law forbids"
        )
    })
}

/// The three nationwide consumer reporting agencies, as letters name them.
pub const CREDIT_BUREAUS: [&str; 3] = ["Equifax", "Experian", "TransUnion"];

/// An element a rule requires that a letter does not give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub rule: String,
    pub element: LetterElement,
    pub citation: String,
    /// What is wrong, in a few words.
    pub why: String,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} lacks {}: {} ({})",
            self.rule, self.element, self.why, self.citation
        )
    }
}

/// What `letter`, rendered from `ctx`, lacks of what `ctx.law`'s rules require.
pub fn check(letter: &Letter, ctx: &LetterContext, rules: &RuleBook) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let required_here = |e: LetterElement| ctx.law.elements.contains(&e.as_str());
    for id in &ctx.law.rules {
        let Some(rule) = rules.rule(id) else { continue };
        // The credit-monitoring offer is required when an element its rule names was
        // exposed: its citation is the rule's `credit_monitoring`.
        let offer = rule
            .credit_monitoring
            .as_ref()
            .map(|m| (LetterElement::CreditMonitoringOffer, m.citation.clone()));
        let has_offer = offer.is_some();
        let listed = rule
            .letter
            .iter()
            .filter(|r| r.element != LetterElement::CreditMonitoringOffer || !has_offer)
            .map(|r| (r.element, r.citation.clone()));
        for (element, citation) in listed.chain(offer) {
            if !required_here(element) {
                continue;
            }
            if let Some(why) = lacks(letter, ctx, element) {
                gaps.push(Gap {
                    rule: id.clone(),
                    element,
                    citation,
                    why,
                });
            }
        }
    }
    gaps
}

/// Why `letter` does not give `element`, or `None` when it does.
fn lacks(letter: &Letter, ctx: &LetterContext, element: LetterElement) -> Option<String> {
    if let Some(field) = element.needs_contact()
        && element.contact_stand_in().is_none()
        && !ctx.shared.contact.has(field)
    {
        return Some(format!("[contact] {field} is not set"));
    }
    if element == LetterElement::AttorneyGeneralContact && ctx.law.attorney_general.is_none() {
        return Some(format!(
            "[contact.attorney_general] has no entry for {}",
            ctx.person
                .location
                .as_deref()
                .unwrap_or("the person's location")
        ));
    }
    // A law that forbids content: what is checked is that the letter does not give it.
    if matches!(
        element,
        LetterElement::OmitBreachNature | LetterElement::OmitPeopleCount
    ) {
        return forbidden(letter, ctx, element);
    }
    for (part, marks) in [("text", &letter.marks.text), ("HTML", &letter.marks.html)] {
        if !marks.contains(&element) {
            return Some(format!("the {part} part does not declare it"));
        }
    }
    let text = &letter.text;
    let needs = |what: &str, value: &str| -> Option<String> {
        if value.trim().is_empty() {
            Some(format!("[contact] {what} is not set"))
        } else if !text.contains(value.trim()) {
            Some(format!(
                "the text part does not give the {what} '{}'",
                value.trim()
            ))
        } else {
            None
        }
    };
    // A translation gives the title, the headings and the advice in its own words: what
    // its template declares is what is checked of those.
    let english = letter.language.as_deref().is_none_or(|l| l == "en");
    match element {
        LetterElement::NoticeTitle
        | LetterElement::BreachHeadings
        | LetterElement::SecurityFreeze
        | LetterElement::PoliceReport
            if !english =>
        {
            None
        }
        LetterElement::NoticeTitle => {
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            (first.trim() != "Notice of Data Breach").then(|| {
                "the text part does not begin with the title \"Notice of Data Breach\"".into()
            })
        }
        LetterElement::BreachHeadings => {
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            let mut from = 0;
            for heading in BREACH_HEADINGS {
                match lines[from..].iter().position(|l| *l == heading) {
                    Some(at) => from += at + 1,
                    None => {
                        return Some(format!(
                            "the heading \"{heading}\" is missing or out of order in the text part"
                        ));
                    }
                }
            }
            BREACH_HEADINGS
                .iter()
                .find(|h| !letter.html.contains(**h))
                .map(|h| format!("the heading \"{h}\" is missing from the HTML part"))
        }
        LetterElement::Contact => needs("email", &ctx.shared.contact.email),
        // The GDPR accepts "the data protection officer or other contact point".
        LetterElement::DpoContact if ctx.shared.contact.dpo.trim().is_empty() => {
            needs("email", &ctx.shared.contact.email)
        }
        LetterElement::DpoContact => needs("dpo", &ctx.shared.contact.dpo),
        LetterElement::TollFreeContact => needs("toll_free", &ctx.shared.contact.toll_free),
        LetterElement::NoticeDate => (!text.contains(&ctx.law.notice_date)).then(|| {
            format!(
                "the text part does not give the date {}",
                ctx.law.notice_date
            )
        }),
        LetterElement::DiscoveryDate => {
            (!text.contains(&ctx.shared.incident.discovered)).then(|| {
                format!(
                    "the text part does not give the discovery date {}",
                    ctx.shared.incident.discovered
                )
            })
        }
        LetterElement::CreditMonitoringOffer => {
            needs("credit_monitoring", &ctx.shared.contact.credit_monitoring)
        }
        LetterElement::AttorneyGeneralContact => match &ctx.law.attorney_general {
            None => Some(format!(
                "[contact.attorney_general] has no entry for {}",
                ctx.person
                    .location
                    .as_deref()
                    .unwrap_or("the person's location")
            )),
            Some(details) => needs("attorney_general", details),
        },
        LetterElement::CreditBureaus => CREDIT_BUREAUS
            .iter()
            .find(|b| !text.contains(**b))
            .map(|b| format!("the text part does not name the consumer reporting agency {b}")),
        LetterElement::FtcContact => ((english && !text.contains("Federal Trade Commission"))
            || !text.contains("identitytheft.gov"))
        .then(|| {
            "the text part does not give the Federal Trade Commission and identitytheft.gov".into()
        }),
        LetterElement::SecurityFreeze => (!text.to_lowercase().contains("security freeze"))
            .then(|| "the text part does not explain the security freeze".into()),
        LetterElement::PoliceReport => (!text.to_lowercase().contains("police report"))
            .then(|| "the text part does not mention the right to a police report".into()),
        LetterElement::InformationInvolved => ctx
            .person
            .categories
            .iter()
            .find(|c| !text.contains(&c.description))
            .map(|c| format!("the text part does not describe the category {}", c.name)),
        _ => None,
    }
}
