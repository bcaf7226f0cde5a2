//! The two harm assessments as forms on the incident: the ENISA severity (`A`) and New
//! Zealand's serious-harm test (`H`), each filled in with the last one recorded, so that a
//! reassessment changes only what changed. `submit.rs` reads them back with the same checks
//! and messages as `incident assess` and `incident serious-harm`.

use crate::domain::{DataElement, ExposedElements, Incident, SeriousHarm, quarters};
use crate::tui::form::{Choice, Field, FieldName, Form, Purpose};
use crate::tui::strings;

/// The values each ENISA input may take, in quarters, with what each means.
const DPC: [(u8, &str); 4] = [
    (1, "1 simple (contact details, work records)"),
    (2, "2 behavioural (activity, habits, location)"),
    (3, "3 financial"),
    (4, "4 sensitive (health, beliefs, special categories)"),
];
const EI: [(u8, &str); 4] = [
    (1, "negligible"),
    (2, "limited"),
    (3, "significant"),
    (4, "maximum: fully identifiable"),
];
const LOSS: [(u8, &str); 3] = [(0, "none"), (1, "some"), (2, "serious")];
const MALICE: [(u8, &str); 2] = [(0, "none found"), (2, "malicious intent")];

/// A choice over quarter values, labelled with the value and its meaning.
fn quarter_choice(name: FieldName, values: &[(u8, &str)], current: u8) -> Field {
    let options = values
        .iter()
        .map(|(q, label)| Choice::new(quarters(*q), format!("{} {label}", quarters(*q))))
        .collect();
    let index = values.iter().position(|(q, _)| *q == current).unwrap_or(0);
    Field::choice(name, options, index)
}

/// The ENISA form: DPC, its reason, EI, the four circumstances and the reason.
pub(crate) fn harm_form(inc: &Incident) -> Form {
    let last = inc.assessment.as_ref();
    let dpc = last.map_or(2, |a| a.inputs.dpc());
    let ei = last.map_or(4, |a| a.inputs.ei_quarters());
    let [c, i, a, m] = last.map_or([2, 0, 0, 0], |a| a.inputs.circumstances_quarters());
    let dpc_options = DPC
        .iter()
        .map(|(n, label)| Choice::new(n.to_string(), *label))
        .collect();
    let dpc_index = DPC.iter().position(|(n, _)| *n == dpc).unwrap_or(0);
    let mut notes = vec![
        "Severity = DPC x EI + CB: below 2 low, from 2 medium, from 3 high, from 4 very high; GDPR Art. 34 applies from high.".to_owned(),
    ];
    notes.push(match last {
        Some(a) => format!("Last: {}, by {}.", a.inputs.summary(), a.by),
        None => format!("{} has not been assessed.", inc.id),
    });
    Form::new(
        Purpose::Op(
            inc.id,
            crate::tui::form::OpReader(crate::tui::submit::read_assess),
        ),
        strings::FORM_ASSESS,
        vec![
            Field::choice(FieldName::Dpc, dpc_options, dpc_index)
                .with_hint("the data processing context, after any adjustment"),
            Field::text(
                FieldName::DpcReason,
                last.and_then(|a| a.inputs.dpc_reason()).unwrap_or(""),
            )
            .with_hint("optional: why, for an adjusted DPC"),
            quarter_choice(FieldName::Ei, &EI, ei),
            quarter_choice(FieldName::Confidentiality, &LOSS, c),
            quarter_choice(FieldName::Integrity, &LOSS, i),
            quarter_choice(FieldName::Availability, &LOSS, a),
            quarter_choice(FieldName::Malicious, &MALICE, m),
            Field::text(FieldName::Reason, ""),
        ],
    )
    .with_notes(notes)
}

/// The data-element form: an element (the possible ones first), confirmed or ruled out,
/// and why.
pub(crate) fn elements_form(inc: &Incident, exposed: &ExposedElements) -> Form {
    let mut order: Vec<DataElement> = exposed.possible.iter().copied().collect();
    order.extend(
        DataElement::ALL
            .into_iter()
            .filter(|e| !exposed.possible.contains(e)),
    );
    let state = |e: &DataElement| {
        if exposed.possible.contains(e) {
            "possible"
        } else if exposed.certain.contains(e) {
            "exposed"
        } else if exposed.ruled_out.contains(e) {
            "ruled out"
        } else {
            "not exposed"
        }
    };
    let choices = order
        .iter()
        .map(|e| Choice::new(e.as_str(), format!("{e} ({})", state(e))))
        .collect();
    let mut notes =
        vec!["State laws name elements: possible until confirmed or ruled out.".to_owned()];
    if exposed.possible.is_empty() {
        notes.push("No element awaits a decision.".to_owned());
    }
    Form::new(
        Purpose::Op(
            inc.id,
            crate::tui::form::OpReader(crate::tui::submit::read_elements),
        ),
        strings::FORM_ELEMENTS,
        vec![
            Field::choice(FieldName::Element, choices, 0),
            Field::choice(
                FieldName::Decision,
                vec![
                    Choice::new("confirm", "confirm: it was exposed"),
                    Choice::new("rule-out", "rule out: it was not (needs a reason)"),
                ],
                0,
            ),
            Field::text(FieldName::Reason, ""),
        ],
    )
    .with_notes(notes)
}

/// The serious-harm form's factor fields, in the order of `SeriousHarm::FACTORS`.
pub(crate) const SERIOUS_HARM_FIELDS: [FieldName; 6] = [
    FieldName::Mitigation,
    FieldName::Sensitivity,
    FieldName::Harm,
    FieldName::Recipients,
    FieldName::Security,
    FieldName::Other,
];

/// The serious-harm form: likely or not, and how each s113 factor was considered.
pub(crate) fn serious_harm_form(inc: &Incident) -> Form {
    let last = inc.serious_harm.as_ref();
    let factor = |n: usize| {
        last.and_then(|h| h.test.factors().nth(n).map(|(_, f)| f.to_owned()))
            .unwrap_or_default()
    };
    let likely = last.is_none_or(|h| h.test.is_notifiable());
    let names = SERIOUS_HARM_FIELDS;
    let mut fields = vec![Field::choice(
        FieldName::Likely,
        vec![
            Choice::new("likely", "likely: a notifiable privacy breach"),
            Choice::new("unlikely", "not likely: not notifiable"),
        ],
        usize::from(!likely),
    )];
    for (n, name) in names.into_iter().enumerate() {
        fields.push(Field::text(name, &factor(n)).with_hint(SeriousHarm::FACTORS[n]));
    }
    fields.push(Field::text(FieldName::Reason, ""));
    Form::new(
        Purpose::Op(inc.id, crate::tui::form::OpReader(crate::tui::submit::read_serious_harm)),
        strings::FORM_SERIOUS_HARM,
        fields,
    )
    .with_notes(vec![match last {
        Some(h) => format!("Last: {}, by {}.", h.test.summary(), h.by),
        None => "Privacy Act 2020 (NZ) s112-113: say how each factor was considered; (f) may stay empty.".to_owned(),
    }])
}
