//! Forms: named, labelled text fields and choices with inline errors. A form only edits its
//! own values; what a submitted form asks for is read back by field name in `submit.rs`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::{IncidentId, ProgramSlug};

/// Reads a filled form into the operation it asks for: the field values by name, a message
/// under each wrong one (see [`crate::tui::submit::FormReader`]).
#[derive(Clone, Copy)]
pub struct OpReader(
    pub fn(&mut crate::tui::submit::FormReader<'_>, IncidentId) -> Option<crate::tui::call::Call>,
);

impl std::fmt::Debug for OpReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpReader")
    }
}

impl PartialEq for OpReader {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for OpReader {}

/// The most characters a text field takes.
pub const MAX_INPUT: usize = 10_000;

/// What a form is for, with what it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// One operation of the table on the incident, read by the function its form was built
    /// with (beside the form, in the screen that builds it): a new operation's form needs
    /// no variant here and no arm in `submit/`.
    Op(IncidentId, OpReader),
    NewIncident,
    Import(IncidentId),
    Clock(IncidentId),
    Report(IncidentId),
    AddMember(IncidentId),
    RemoveMember(IncidentId),
    Evidence(IncidentId),
    Export(IncidentId),
    Bounces(IncidentId),
    /// A programme to register, or (with its slug) to change.
    Program(IncidentId, Option<ProgramSlug>),
    /// The second step of [`Purpose::Program`]: the hooks shown, saved on Enter.
    /// With the incident it was added from (linked to it once registered).
    ConfirmProgram(Box<crate::domain::NewProgram>, bool, IncidentId),
    Unlink(IncidentId, ProgramSlug),
    Contain(IncidentId),
    ExportLetters(IncidentId),
    Pause(IncidentId, ProgramSlug),
    Resume(ProgramSlug),
    Queue(IncidentId),
    Send(IncidentId),
}

/// The name of a form field. Forms are built and read back by name, never by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    Title,
    Severity,
    Summary,
    Categories,
    Programmes,
    Discovered,
    Reason,
    Status,
    Note,
    Owner,
    File,
    Mode,
    Programme,
    Force,
    Template,
    Audience,
    Person,
    Dpc,
    DpcReason,
    Ei,
    Confidentiality,
    Integrity,
    Availability,
    Malicious,
    Likely,
    Mitigation,
    Sensitivity,
    Harm,
    Recipients,
    Security,
    Other,
    Aware,
    Determined,
    Member,
    Rule,
    At,
    Reference,
    Phase,
    Ground,
    Kind,
    Authorized,
    Slug,
    Name,
    PauseHook,
    ResumeHook,
    Steps,
    Incomplete,
    Element,
    Decision,
    PersonFrom,
    Map,
    ExposedFrom,
    ExposedUntil,
}

impl FieldName {
    /// The label shown before the field.
    pub fn label(self) -> &'static str {
        match self {
            FieldName::Title => "Title",
            FieldName::Severity => "Severity",
            FieldName::Summary => "Summary",
            FieldName::Categories => "Categories",
            FieldName::Programmes => "Programmes",
            FieldName::Discovered => "Discovered",
            FieldName::Reason => "Reason",
            FieldName::Status => "New status",
            FieldName::Note => "Note",
            FieldName::Owner => "Owner",
            FieldName::File => "File",
            FieldName::Mode => "Mode",
            FieldName::Programme => "Programme",
            FieldName::Force => "Force",
            FieldName::Template => "Template",
            FieldName::Audience => "Audience",
            FieldName::Person => "Person",
            FieldName::Dpc => "Data context",
            FieldName::DpcReason => "Why that DPC",
            FieldName::Ei => "Identifiable",
            FieldName::Confidentiality => "Confidential.",
            FieldName::Integrity => "Integrity",
            FieldName::Availability => "Availability",
            FieldName::Malicious => "Malice",
            FieldName::Likely => "Serious harm",
            FieldName::Mitigation => "(a) Mitigation",
            FieldName::Sensitivity => "(b) Sensitive",
            FieldName::Harm => "(c) Harm",
            FieldName::Recipients => "(d) Who has it",
            FieldName::Security => "(e) Security",
            FieldName::Other => "(f) Other",
            FieldName::Aware => "Aware since",
            FieldName::Determined => "Determined at",
            FieldName::Member => "Member",
            FieldName::Rule => "Obligation",
            FieldName::At => "When",
            FieldName::Reference => "Reference",
            FieldName::Phase => "Phase",
            FieldName::Ground => "Ground",
            FieldName::Kind => "What",
            FieldName::Authorized => "Allow-list",
            FieldName::Slug => "Slug",
            FieldName::Name => "Name",
            FieldName::PauseHook => "Pause hook",
            FieldName::ResumeHook => "Resume hook",
            FieldName::Steps => "Steps",
            FieldName::Incomplete => "Queue although incomplete",
            FieldName::Element => "Data element",
            FieldName::Decision => "Decision",
            FieldName::PersonFrom => "Person from",
            FieldName::Map => "Map file",
            FieldName::ExposedFrom => "Exposed from",
            FieldName::ExposedUntil => "Exposed until",
        }
    }
}

/// One option of a choice field: the value submitted and the label shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text; `cursor` counts characters. With `paths`, Tab completes a file path.
    Text {
        value: String,
        cursor: usize,
        paths: bool,
    },
    Choice {
        options: Vec<Choice>,
        index: usize,
    },
    /// Several of the options: ←→ move, Space ticks the one under the cursor.
    Multi {
        options: Vec<Choice>,
        ticked: Vec<bool>,
        index: usize,
        /// The ticked values, comma-separated (what the form submits).
        joined: String,
    },
}

/// One named field, with the error found in it on the last submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: FieldName,
    pub label: &'static str,
    pub kind: FieldKind,
    pub hint: Option<String>,
    pub error: Option<String>,
}

impl Field {
    pub fn text(name: FieldName, value: &str) -> Self {
        Field {
            name,
            label: name.label(),
            kind: FieldKind::Text {
                value: value.to_owned(),
                cursor: value.chars().count(),
                paths: false,
            },
            hint: None,
            error: None,
        }
    }

    /// A text field for a file path: Tab completes it.
    pub fn path(name: FieldName, value: &str) -> Self {
        let mut field = Field::text(name, value);
        if let FieldKind::Text { paths, .. } = &mut field.kind {
            *paths = true;
        }
        field
    }

    /// A multiple choice; `ticked` says which values start ticked.
    pub fn multi(name: FieldName, options: Vec<Choice>, ticked: &[&str]) -> Self {
        let ticked: Vec<bool> = options
            .iter()
            .map(|o| ticked.contains(&o.value.as_str()))
            .collect();
        let mut field = Field {
            name,
            label: name.label(),
            kind: FieldKind::Multi {
                options,
                ticked,
                index: 0,
                joined: String::new(),
            },
            hint: Some("←→ move · Space ticks or unticks".into()),
            error: None,
        };
        field.rejoin();
        field
    }

    /// Keeps a multiple choice's submitted value in step with its ticks.
    fn rejoin(&mut self) {
        if let FieldKind::Multi {
            options,
            ticked,
            joined,
            ..
        } = &mut self.kind
        {
            *joined = options
                .iter()
                .zip(ticked.iter())
                .filter(|(_, t)| **t)
                .map(|(o, _)| o.value.as_str())
                .collect::<Vec<_>>()
                .join(",");
        }
    }

    pub fn choice(name: FieldName, options: Vec<Choice>, index: usize) -> Self {
        Field {
            name,
            label: name.label(),
            kind: FieldKind::Choice { options, index },
            hint: None,
            error: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The text, or the chosen value.
    pub fn value(&self) -> &str {
        match &self.kind {
            FieldKind::Text { value, .. } => value,
            FieldKind::Choice { options, index } => {
                options.get(*index).map_or("", |c| c.value.as_str())
            }
            FieldKind::Multi { joined, .. } => joined,
        }
    }
}

/// What a key did to the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormInput {
    Submit,
    Cancel,
    Edited,
}

/// A dialog form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub purpose: Purpose,
    pub title: &'static str,
    /// Lines shown above the fields, e.g. the hook command a pause will run.
    pub notes: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// An error for the whole form, e.g. the desk refused.
    pub error: Option<String>,
    /// Submitted, and waiting for the desk's answer.
    pub pending: bool,
}

impl Form {
    pub fn new(purpose: Purpose, title: &'static str, fields: Vec<Field>) -> Self {
        Form {
            purpose,
            title,
            notes: Vec::new(),
            fields,
            focus: 0,
            error: None,
            pending: false,
        }
    }

    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }

    /// The value of the field called `name`; empty if the form has none.
    pub fn value(&self, name: FieldName) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map_or("", Field::value)
    }

    /// Puts `error` under the field called `name`, or on the whole form if it has none.
    pub fn set_error(&mut self, name: FieldName, error: String) {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => f.error = Some(error),
            None => self.error = Some(error),
        }
    }

    /// Forgets the errors of the last submit.
    pub fn clear_errors(&mut self) {
        self.error = None;
        for f in &mut self.fields {
            f.error = None;
        }
    }

    /// Edits the form with one key.
    pub fn handle_key(&mut self, event: &KeyEvent) -> FormInput {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        match event.code {
            KeyCode::Esc => return FormInput::Cancel,
            KeyCode::Enter => return FormInput::Submit,
            KeyCode::Tab if self.complete_path() => {}
            KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % self.fields.len().max(1);
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + self.fields.len().max(1) - 1) % self.fields.len().max(1);
            }
            _ => {
                if let Some(field) = self.fields.get_mut(self.focus) {
                    edit(field, event.code, ctrl);
                }
            }
        }
        FormInput::Edited
    }
}

impl Form {
    /// Tab in a path field: completes what was typed as far as the files allow, listing
    /// the candidates when there are several. `false` when there is nothing to complete
    /// (Tab then moves on).
    fn complete_path(&mut self) -> bool {
        let Some(field) = self.fields.get_mut(self.focus) else {
            return false;
        };
        let FieldKind::Text {
            value,
            cursor,
            paths: true,
        } = &mut field.kind
        else {
            return false;
        };
        let done = super::paths::complete(value);
        if let Some(longer) = done.value {
            *cursor = longer.chars().count();
            *value = longer;
            field.hint = (done.candidates.len() > 1).then(|| done.candidates.join("  "));
            return true;
        }
        if done.candidates.len() > 1 {
            field.hint = Some(done.candidates.join("  "));
            return true;
        }
        false
    }
}

fn edit(field: &mut Field, code: KeyCode, ctrl: bool) {
    match &mut field.kind {
        FieldKind::Choice { options, index } => {
            let n = options.len().max(1);
            match code {
                KeyCode::Right | KeyCode::Char(' ') => *index = (*index + 1) % n,
                KeyCode::Left => *index = (*index + n - 1) % n,
                _ => {}
            }
        }
        FieldKind::Multi {
            options,
            ticked,
            index,
            ..
        } => {
            let n = options.len().max(1);
            match code {
                KeyCode::Right => *index = (*index + 1) % n,
                KeyCode::Left => *index = (*index + n - 1) % n,
                KeyCode::Char(' ') => {
                    if let Some(t) = ticked.get_mut(*index) {
                        *t = !*t;
                    }
                }
                _ => {}
            }
            field.rejoin();
        }
        FieldKind::Text { value, cursor, .. } => edit_text(value, cursor, code, ctrl),
    }
}

fn edit_text(value: &mut String, cursor: &mut usize, code: KeyCode, ctrl: bool) {
    let len = value.chars().count();
    let byte = |s: &str, at: usize| s.char_indices().nth(at).map_or(s.len(), |(b, _)| b);
    match code {
        KeyCode::Char('u') if ctrl => {
            value.clear();
            *cursor = 0;
        }
        KeyCode::Char(_) if ctrl => {}
        KeyCode::Char(c) if len < MAX_INPUT && !c.is_control() => {
            value.insert(byte(value, *cursor), c);
            *cursor += 1;
        }
        KeyCode::Backspace if *cursor > 0 => {
            *cursor -= 1;
            value.remove(byte(value, *cursor));
        }
        KeyCode::Delete if *cursor < len => {
            value.remove(byte(value, *cursor));
        }
        KeyCode::Left => *cursor = cursor.saturating_sub(1),
        KeyCode::Right => *cursor = (*cursor + 1).min(len),
        KeyCode::Home => *cursor = 0,
        KeyCode::End => *cursor = len,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(form: &mut Form, code: KeyCode) -> FormInput {
        form.handle_key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn typing_edits_at_the_cursor_and_choices_cycle() {
        let mut form = Form::new(
            Purpose::NewIncident,
            "t",
            vec![
                Field::text(FieldName::Title, ""),
                Field::choice(
                    FieldName::Severity,
                    vec![Choice::new("0", "SEV0"), Choice::new("1", "SEV1")],
                    0,
                ),
            ],
        );
        for c in "Lek".chars() {
            press(&mut form, KeyCode::Char(c));
        }
        press(&mut form, KeyCode::Left);
        press(&mut form, KeyCode::Char('a'));
        assert_eq!(form.value(FieldName::Title), "Leak");
        press(&mut form, KeyCode::Backspace);
        press(&mut form, KeyCode::Char('a'));
        assert_eq!(form.value(FieldName::Title), "Leak");
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Right);
        assert_eq!(form.value(FieldName::Severity), "1");
        press(&mut form, KeyCode::Right);
        assert_eq!(form.value(FieldName::Severity), "0");
        assert_eq!(press(&mut form, KeyCode::Enter), FormInput::Submit);
        assert_eq!(press(&mut form, KeyCode::Esc), FormInput::Cancel);
    }

    #[test]
    fn multibyte_text_is_edited_by_character() {
        let mut form = Form::new(
            Purpose::NewIncident,
            "t",
            vec![Field::text(FieldName::Title, "Zoë")],
        );
        press(&mut form, KeyCode::Backspace);
        press(&mut form, KeyCode::Char('é'));
        assert_eq!(form.value(FieldName::Title), "Zoé");
    }
}
