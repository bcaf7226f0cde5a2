//! Tests of reading forms back (`submit.rs`).
use super::*;
use crate::domain::IncidentId;
use crate::tui::form::Field;
use crate::tui::screens::board::new_incident_form;

/// Values typed, the field that is wrong, and what its message says.
type Case<'a> = (&'a [(FieldName, &'a str)], FieldName, &'a str);

fn filled(mut form: Form, values: &[(FieldName, &str)]) -> Form {
    for (name, value) in values {
        if let Some(f) = form.fields.iter_mut().find(|f| f.name == *name) {
            *f = Field::text(*name, value);
        }
    }
    form
}

fn errors(form: &Form) -> Vec<(FieldName, String)> {
    match read(
        form,
        &CategoryCatalog::default(),
        Utc::now(),
        &Arc::new(Settings::defaults()),
    ) {
        Err(FieldErrors(e)) => e,
        Ok(s) => panic!("read as {s:?}"),
    }
}

#[test]
fn new_incident_form_puts_each_message_under_its_field() {
    let form = new_incident_form(&CategoryCatalog::default(), &[]);
    let cases: &[Case] = &[
        (&[(FieldName::Title, "")], FieldName::Title, "title"),
        (
            &[(FieldName::Title, "Leak"), (FieldName::Categories, "dna")],
            FieldName::Categories,
            "dna",
        ),
        (
            &[
                (FieldName::Title, "Leak"),
                (FieldName::Programmes, "Bad Slug"),
            ],
            FieldName::Programmes,
            "Bad Slug",
        ),
        (
            &[
                (FieldName::Title, "Leak"),
                (FieldName::Discovered, "yesterday"),
            ],
            FieldName::Discovered,
            "'yesterday' is not a time: use now, -2h",
        ),
        (
            &[
                (FieldName::Title, "Leak"),
                (FieldName::Summary, "a\u{1b}[2J"),
            ],
            FieldName::Summary,
            "summary",
        ),
    ];
    for (values, field, says) in cases {
        let found = errors(&filled(form.clone(), values));
        assert_eq!(found.len(), 1, "{values:?}: {found:?}");
        assert_eq!(found[0].0, *field, "{values:?}");
        assert!(found[0].1.contains(says), "{values:?}: {}", found[0].1);
    }
}

#[test]
fn a_filled_new_incident_form_reads_as_its_request() {
    let form = filled(
        new_incident_form(&CategoryCatalog::default(), &[]),
        &[
            (FieldName::Title, "Leak"),
            (FieldName::Categories, "keystrokes; screenshots"),
            (FieldName::Discovered, "2026-11-20T14:30:00Z"),
        ],
    );
    let Ok(Submitted::Call(Call::Op(crate::remote::protocol::Request::OpenIncident { new }))) =
        read(
            &form,
            &CategoryCatalog::default(),
            Utc::now(),
            &Arc::new(Settings::defaults()),
        )
    else {
        panic!("not an open-incident request");
    };
    assert_eq!(new.title, "Leak");
    assert_eq!(new.categories.len(), 2);
    assert!(new.discovered_at.is_some());
}

#[test]
fn hook_and_import_forms_need_a_reason_and_a_file() {
    let id = IncidentId::new(3);
    let slug: ProgramSlug = "keylogger".parse().unwrap();
    let pause = Form::new(
        Purpose::Pause(id, slug),
        "t",
        vec![Field::text(FieldName::Reason, "  ")],
    );
    assert_eq!(
        errors(&pause),
        [(FieldName::Reason, "a reason is required".to_owned())]
    );
    let import = Form::new(
        Purpose::Import(id),
        "t",
        vec![Field::text(FieldName::File, "")],
    );
    assert_eq!(
        errors(&import),
        [(FieldName::File, "give the path of a CSV file".to_owned())]
    );
    let missing = filled(import, &[(FieldName::File, "/no/such/roster.csv")]);
    assert_eq!(
        errors(&missing),
        [(FieldName::File, "no file at /no/such/roster.csv".to_owned())]
    );
}
