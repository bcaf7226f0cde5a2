//! One incident opened: its title line, the tab bar, which tab is open, what each tab holds
//! (`Detail`, one field per tab, each tab's own type in its file beside this one), the forms
//! that act on the incident as a whole, and what a finished roster import tells the user.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Tabs, Wrap};

use super::access::{self, AccessTab};
use super::deadlines::{self, DeadlinesTab};
use super::letters::{self, LettersTab};
use super::overview;
use super::people::{self, PeopleTab};
use super::programmes::{self, ProgrammesTab};
use super::timeline::{self, TimelineTab};
use crate::deadlines::RuleBook;
use crate::desk::{DeskError, ImportReport};
use crate::domain::{Incident, Severity};
use crate::tui::action::Action;
use crate::tui::app::{App, Feedback, Panel};
use crate::tui::form::{Choice, Field, FieldName, Form, OpReader, Purpose};
use crate::tui::strings;
use crate::tui::view::{count, safe};
use crate::tui::worker::{ImportFailure, IncidentLoad};

/// The tabs of the incident view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Timeline,
    People,
    Programs,
    /// The legal obligations and how long each has left.
    Deadlines,
    Notifications,
    /// Who read this incident's personal data, and who was refused.
    Access,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Timeline,
        Tab::People,
        Tab::Programs,
        Tab::Deadlines,
        Tab::Notifications,
        Tab::Access,
    ];

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// One incident opened, and what each of its tabs holds.
#[derive(Debug)]
pub struct Detail {
    pub incident: Incident,
    pub tab: Tab,
    pub timeline: TimelineTab,
    pub programs: ProgrammesTab,
    pub people: PeopleTab,
    pub deadlines: DeadlinesTab,
    /// The Letters tab (the outbox), read when it is shown.
    pub letters: LettersTab,
    /// The access log, read when the Access tab is shown.
    pub access: AccessTab,
    /// Tabs the user may not see, with the reason the desk gave.
    pub refused: Vec<(Tab, String)>,
    /// Whether the incident, its timeline and programmes are being read.
    pub loading: bool,
    pub(crate) generation: u64,
    /// The roster file last checked or imported here, offered again by the import form
    /// (after a dry run, the import itself is one Enter away).
    pub last_roster: Option<std::path::PathBuf>,
}

impl Detail {
    /// Why the open tab is refused, if it is.
    pub fn refusal(&self, tab: Tab) -> Option<&str> {
        self.refused
            .iter()
            .find(|(t, _)| *t == tab)
            .map(|(_, why)| why.as_str())
    }

    /// A detail for `incident` as the board knows it, before its tabs are read.
    pub(crate) fn opening(incident: Incident) -> Self {
        let mut detail = Detail {
            people: PeopleTab::default(),
            letters: LettersTab::default(),
            access: AccessTab::default(),
            refused: Vec::new(),
            deadlines: DeadlinesTab::default(),
            tab: Tab::Overview,
            timeline: TimelineTab::default(),
            programs: ProgrammesTab::default(),
            loading: true,
            generation: 0,
            last_roster: None,
            incident,
        };
        detail.people.total = usize::try_from(detail.incident.people).unwrap_or(usize::MAX);
        detail
    }

    /// Takes in what the worker read, keeping the selections.
    pub(crate) fn loaded(&mut self, load: IncidentLoad, rules: &RuleBook) -> Result<(), DeskError> {
        self.loading = false;
        self.refused.retain(|(t, _)| *t != Tab::Timeline);
        let events = match load.timeline {
            Ok(mut timeline) => {
                timeline.reverse();
                timeline
            }
            Err(e) if e.is_denied() => {
                self.refused.push((Tab::Timeline, e.to_string()));
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        self.timeline.show(events);
        self.incident = load.incident;
        self.programs.show(load.programs, &self.incident);
        self.people.total = usize::try_from(self.incident.people).unwrap_or(usize::MAX);
        self.deadlines.show(&self.incident, rules);
        Ok(())
    }

    pub(crate) fn refuse(&mut self, tab: Tab, error: &DeskError) {
        self.refused.retain(|(t, _)| *t != tab);
        self.refused.push((tab, error.to_string()));
    }

    /// Moves the open tab's selection; the People tab's window is the app's to reread.
    pub(crate) fn move_by(&mut self, delta: isize) {
        match self.tab {
            Tab::Overview | Tab::Notifications | Tab::Access => {}
            Tab::Deadlines => self.deadlines.move_by(delta),
            Tab::Timeline => self.timeline.move_by(delta),
            Tab::Programs => self.programs.move_by(delta),
            Tab::People => self.people.move_by(delta),
        }
    }

    /// The form `action` opens on this incident; `Err` says why there is none.
    pub(crate) fn form(
        &self,
        action: Action,
        catalog: &crate::domain::CategoryCatalog,
        users: &[crate::domain::UserName],
    ) -> Result<Option<Form>, String> {
        let inc = &self.incident;
        let id = inc.id;
        let form = match action {
            Action::Describe => Form::new(
                Purpose::Op(id, OpReader(crate::tui::submit::read_describe)),
                strings::FORM_DESCRIBE,
                vec![
                    Field::text(FieldName::Title, &inc.title),
                    Field::text(FieldName::Summary, &inc.summary),
                    Field::text(FieldName::Reason, "")
                        .with_hint("why, e.g. the logs show the store was public, not company-wide"),
                ],
            )
            .with_notes(vec![
                "Rewrite either or both; the timeline keeps the reason and the old title.".into(),
            ]),
            Action::Severity => Form::new(
                Purpose::Op(id, OpReader(crate::tui::submit::read_severity)),
                strings::FORM_SEVERITY,
                vec![
                    severity_field(usize::from(inc.severity.level())),
                    Field::text(FieldName::Reason, ""),
                ],
            )
            .with_notes(vec![format!("{id} is {} now.", inc.severity)]),
            Action::Status => {
                let options = inc
                    .status
                    .allowed_next()
                    .iter()
                    .map(|s| Choice::new(s.as_str(), s.as_str()))
                    .collect();
                let mut fields = vec![
                    Field::choice(FieldName::Status, options, 0),
                    Field::text(FieldName::Reason, ""),
                ];
                let notes = vec![format!(
                    "{id} is {} now; only allowed moves are offered.",
                    inc.status
                )];
                // Closing would hide clocks that still run: the form names them and asks.
                let open: Vec<&str> = self
                    .deadlines
                    .obligations
                    .iter()
                    .filter(|o| o.state == crate::domain::ObligationState::Open)
                    .map(|o| o.rule.as_str())
                    .collect();
                if inc
                    .status
                    .allowed_next()
                    .contains(&crate::domain::Status::Closed)
                    && !open.is_empty()
                {
                    let names = open.join(", ");
                    fields.push(Field::choice(
                        FieldName::Force,
                        vec![
                            Choice::new("no", format!("no: do not close while {names} are open")),
                            Choice::new(
                                "yes",
                                format!("yes: close with {names} open (give the reason)"),
                            ),
                        ],
                        0,
                    ));
                }
                Form::new(Purpose::Op(id, OpReader(crate::tui::submit::read_status)), strings::FORM_STATUS, fields).with_notes(notes)
            }
            Action::Note => Form::new(
                Purpose::Op(id, OpReader(crate::tui::submit::read_note)),
                strings::FORM_NOTE,
                vec![Field::text(FieldName::Note, "")],
            ),
            Action::Assign => Form::new(
                Purpose::Op(id, OpReader(crate::tui::submit::read_assign)),
                strings::FORM_ASSIGN,
                vec![Field::text(FieldName::Owner, inc.owner.as_str()).with_hint(
                    "the new owner's user name on this machine (their login, as `whoami` prints it)",
                )],
            ),
            Action::Import => Form::new(
                Purpose::Import(id),
                strings::FORM_IMPORT,
                vec![
                    Field::path(
                        FieldName::File,
                        &self
                            .last_roster
                            .as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                    )
                    .with_hint("path to the CSV file; Tab completes"),
                    Field::choice(
                        FieldName::Mode,
                        vec![
                            Choice::new("import", "import"),
                            Choice::new("dry-run", "dry run: check only"),
                        ],
                        0,
                    ),
                ],
            )
            .with_notes(vec![
                "All or nothing: if any row is bad, nothing is written.".into(),
            ]),
            Action::Link => {
                if self.loading {
                    return Err(strings::STILL_LOADING.into());
                }
                self.programs.link_form(inc)?
            }
            Action::Assess => super::assess::harm_form(inc),
            Action::SeriousHarm => super::assess::serious_harm_form(inc),
            Action::Elements => super::assess::elements_form(inc, &self.deadlines.exposed),
            Action::ObligationApply => super::actions::apply_form(inc, &self.deadlines.obligations, self.deadlines.selected_rule())?,
            Action::Clock => super::actions::clock_form(inc),
            Action::WriteReport => super::actions::report_form(inc),
            Action::AddMember => super::actions::add_member_form(inc, users)?,
            Action::RemoveMember => super::actions::remove_member_form(inc)?,
            Action::ObligationDone => super::actions::done_form(inc, &self.deadlines.obligations, self.deadlines.selected_rule())?,
            Action::ObligationWaive => {
                super::actions::waive_form(inc, &self.deadlines.obligations, self.deadlines.selected_rule())?
            }
            Action::ObligationExempt => {
                super::actions::exempt_form(inc, &self.deadlines.obligations, self.deadlines.selected_rule())?
            }
            Action::ImportEvidence => super::actions::evidence_form(inc),
            Action::ExportPeople => super::actions::export_form(inc),
            Action::ReadBounces => super::actions::bounces_form(inc),
            Action::Purge => super::actions::purge_form(inc)?,
            Action::ExportLetters => super::actions::export_letters_form(inc),
            Action::Contain => {
                if self.loading {
                    return Err(strings::STILL_LOADING.into());
                }
                crate::tui::contain::form(inc, &self.programs.all)?
            }
            Action::AddProgram => super::actions::program_form(inc, None, &catalog_names(catalog))?,
            Action::EditProgram => {
                let program = self.programs.selected().ok_or(strings::NO_PROGRAMS)?;
                super::actions::program_form(inc, Some(program), &catalog_names(catalog))?
            }
            Action::UnlinkProgram => {
                let program = self.programs.selected().ok_or(strings::NO_PROGRAMS)?;
                super::actions::unlink_form(inc, program)?
            }
            _ => return Ok(None),
        };
        Ok(Some(form))
    }
}

fn catalog_names(catalog: &crate::domain::CategoryCatalog) -> Vec<String> {
    catalog.names().map(str::to_owned).collect()
}

/// A severity choice; the guidance of every level is in the hint.
pub(crate) fn severity_field(index: usize) -> Field {
    let options = Severity::all()
        .map(|s| Choice::new(s.level().to_string(), format!("{s} {}", s.guidance())))
        .collect();
    Field::choice(FieldName::Severity, options, index)
        .with_hint("←→ to choose; 0 is the most critical")
}

/// What a finished roster import tells the user; bad rows open a panel, one line each.
pub fn imported(path: &std::path::Path, result: Result<ImportReport, ImportFailure>) -> Feedback {
    match result {
        Ok(r) => {
            let verb = if r.dry_run {
                "checked (dry run, nothing written)"
            } else {
                "imported"
            };
            Feedback::Info(format!(
                "{} {verb}: {} rows, {} added, {} updated, {} unchanged",
                crate::domain::text::display_path(path),
                r.rows,
                r.added,
                r.updated,
                r.unchanged
            ))
        }
        Err(ImportFailure::Rows { heading, lines }) => Feedback::Panel(Panel {
            title: format!(" {heading} "),
            lines,
            scroll: 0,
        }),
        Err(ImportFailure::Other(e)) => Feedback::Error(e),
    }
}

/// Draws the title line, the tab bar and the open tab (or why it is refused).
pub fn render(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    let [title, tabs, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let inc = &detail.incident;
    let mut spans = vec![
        Span::styled(format!(" {} ", inc.id), app.theme.title()),
        Span::styled(inc.severity.to_string(), app.theme.severity(inc.severity)),
        Span::raw(format!(" {} ", inc.status)),
        Span::styled(safe(&inc.title).into_owned(), app.theme.title()),
    ];
    if detail.loading {
        spans.push(Span::styled(
            format!("  {}", strings::LOADING),
            app.theme.dim(),
        ));
    }
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line), title);
    let tab_titles: Vec<String> = strings::TABS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let n = match Tab::ALL[i] {
                Tab::People => format!(" ({})", count(inc.people)),
                Tab::Programs => format!(" ({})", detail.programs.linked.len()),
                _ => String::new(),
            };
            format!("{t}{n}")
        })
        .collect();
    // Each title is drawn after a space of padding and before a one-column divider.
    let mut x = tabs.x;
    for (i, title) in tab_titles.iter().enumerate() {
        let width = u16::try_from(title.chars().count() + 1).unwrap_or(u16::MAX);
        app.hits.add(
            Rect {
                x,
                y: tabs.y,
                width: width.min(tabs.right().saturating_sub(x)),
                height: 1,
            },
            crate::tui::mouse::Hit::Tab(Tab::ALL[i]),
        );
        x = x.saturating_add(width + 1);
    }
    frame.render_widget(
        Tabs::new(tab_titles)
            .padding(" ", "")
            .select(detail.tab.index())
            .highlight_style(app.theme.selected()),
        tabs,
    );
    if let Some(why) = detail.refusal(detail.tab) {
        frame.render_widget(
            Paragraph::new(safe(why).into_owned())
                .block(Block::bordered().title(" need-to-know "))
                .wrap(Wrap { trim: false }),
            body,
        );
        return;
    }
    match detail.tab {
        Tab::Overview => overview::render(app, detail, frame, body),
        Tab::Timeline => timeline::render(app, &detail.timeline, detail.loading, frame, body),
        Tab::People => people::render(app, &detail.people, frame, body),
        Tab::Programs => programmes::render(app, &detail.programs, detail.loading, frame, body),
        Tab::Notifications => letters::render(app, detail, frame, body),
        Tab::Access => access::render(app, &detail.access, frame, body),
        Tab::Deadlines => deadlines::render(app, &detail.deadlines, frame, body),
    }
}
