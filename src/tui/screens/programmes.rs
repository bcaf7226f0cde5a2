//! The Programmes tab of an incident: the programmes it links, their state and hooks. Owns
//! the list and its selection, the pause, resume and link forms, what a finished pause or
//! resume tells the user, and the drawing; the hooks run on the worker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::desk::{PauseOutcome, ResumeOutcome};
use crate::domain::{Incident, Program, ProgramSlug};
use crate::tui::action::Action;
use crate::tui::app::{App, Feedback, Panel};
use crate::tui::form::{Choice, Field, FieldName, Form, Purpose};
use crate::tui::strings;
use crate::tui::view::{field, safe};

/// The programmes of one incident.
#[derive(Debug, Default)]
pub struct ProgrammesTab {
    /// The programmes the incident links.
    pub linked: Vec<Program>,
    /// Every programme, for offering those not linked yet.
    pub all: Vec<Program>,
    pub selected: usize,
}

impl ProgrammesTab {
    /// Takes in every programme as read; the incident's own are those it links.
    pub fn show(&mut self, all: Vec<Program>, incident: &Incident) {
        self.linked = all
            .iter()
            .filter(|p| incident.programs.contains(&p.slug))
            .cloned()
            .collect();
        self.all = all;
        self.selected = self.selected.min(self.linked.len().saturating_sub(1));
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = super::step(self.selected, self.linked.len(), delta);
    }

    /// The pause or resume form for the selected programme; `Err` says why there is none.
    pub fn hook_form(&self, action: Action, incident: &Incident) -> Result<Form, String> {
        let Some(program) = self.linked.get(self.selected) else {
            return Err(strings::NO_PROGRAMS.into());
        };
        let slug = program.slug.clone();
        let hook_line = |hook: &Option<String>, what: &str| match hook {
            Some(h) => format!("Will run the {what} hook: {h}"),
            None => {
                format!("No {what} hook: this is only recorded. Make sure it is actually done.")
            }
        };
        let form = if action == Action::Pause {
            Form::new(
                Purpose::Pause(incident.id, slug.clone()),
                strings::FORM_PAUSE,
                vec![Field::text(FieldName::Reason, "")],
            )
            .with_notes(vec![
                format!("Pause {slug} ({}) for {}?", program.name, incident.id),
                hook_line(&program.pause_hook, "pause"),
            ])
        } else {
            Form::new(
                Purpose::Resume(slug.clone()),
                strings::FORM_RESUME,
                vec![
                    Field::text(FieldName::Reason, ""),
                    Field::choice(
                        FieldName::Force,
                        vec![
                            Choice::new("no", "no"),
                            Choice::new(
                                "yes",
                                "yes: resume over open SEV 0-2 incidents (recorded)",
                            ),
                        ],
                        0,
                    ),
                ],
            )
            .with_notes(vec![
                format!("Resume {slug} ({})?", program.name),
                hook_line(&program.resume_hook, "resume"),
            ])
        };
        Ok(form)
    }

    /// The form offering the programmes `incident` does not link yet; `Err` says why there
    /// is none.
    /// The programme under the cursor.
    pub fn selected(&self) -> Option<&Program> {
        self.linked.get(self.selected)
    }

    pub fn link_form(&self, incident: &Incident) -> Result<Form, String> {
        let options: Vec<Choice> = self
            .all
            .iter()
            .filter(|p| !incident.programs.contains(&p.slug))
            .map(|p| {
                Choice::new(
                    p.slug.as_str(),
                    format!("{} ({}) {}", p.slug, p.state, p.name),
                )
            })
            .collect();
        if options.is_empty() {
            return Err(
                "no registered programme is left to link: press a to register one (it is linked to this incident)".into(),
            );
        }
        Ok(Form::new(
            Purpose::Op(
                incident.id,
                crate::tui::form::OpReader(crate::tui::submit::read_link),
            ),
            strings::FORM_LINK,
            vec![Field::choice(FieldName::Programme, options, 0)],
        ))
    }
}

/// What a finished pause tells the user; a failed hook opens a panel with its output.
pub fn paused(slug: &ProgramSlug, result: Result<PauseOutcome, String>) -> Feedback {
    match result {
        Ok(PauseOutcome::AlreadyPaused { .. }) => {
            Feedback::Info(format!("{slug} was already paused; nothing ran"))
        }
        Ok(PauseOutcome::InProgress { by, since }) => Feedback::Info(format!(
            "a pause of {slug} by {by} is running since {} UTC; its hook runs once",
            since.format("%H:%M:%S")
        )),
        Ok(PauseOutcome::Paused { hook: Some(h) }) => {
            Feedback::Info(format!("{slug} paused; pause hook {}", h.end))
        }
        Ok(PauseOutcome::Paused { hook: None }) => Feedback::Error(format!(
            "{slug} recorded as paused, but it has no pause hook: make sure it is stopped"
        )),
        Ok(PauseOutcome::Failed { hook }) => {
            let mut lines = vec![
                format!("{slug} may still be collecting data. It is marked pause-failed."),
                format!(
                    "The pause hook {} after {:.1} s.",
                    hook.end,
                    hook.elapsed.as_secs_f64()
                ),
                "Fix the hook or stop it by hand, then pause again.".into(),
                String::new(),
            ];
            lines.extend(hook.output.lines().map(str::to_owned));
            Feedback::Panel(Panel {
                title: format!(" PAUSE FAILED: {slug} "),
                lines,
                scroll: 0,
            })
        }
        Err(e) => Feedback::Error(e),
    }
}

/// What a finished resume tells the user; a failed hook or a refusal opens a panel.
pub fn resumed(slug: &ProgramSlug, result: Result<ResumeOutcome, String>) -> Feedback {
    match result {
        Ok(ResumeOutcome::AlreadyActive) => Feedback::Info(format!("{slug} was already active")),
        Ok(ResumeOutcome::Resumed { forced_over, .. }) if !forced_over.is_empty() => {
            let ids: Vec<String> = forced_over.iter().map(ToString::to_string).collect();
            Feedback::Error(format!(
                "{slug} resumed, forced over {} (recorded)",
                ids.join(", ")
            ))
        }
        Ok(ResumeOutcome::Resumed { .. }) => Feedback::Info(format!("{slug} resumed")),
        Ok(ResumeOutcome::InProgress { by, .. }) => {
            Feedback::Info(format!("a resume of {slug} by {by} is already running"))
        }
        Ok(ResumeOutcome::PausedAgain { by, .. }) => Feedback::Error(format!(
            "{slug} was not resumed: {by} paused it while the resume hook ran (a pause wins)"
        )),
        Ok(ResumeOutcome::HookFailed { hook }) => Feedback::Panel(Panel {
            title: format!(" RESUME FAILED: {slug} stays paused "),
            lines: std::iter::once(format!("The resume hook {}.", hook.end))
                .chain(hook.output.lines().map(str::to_owned))
                .collect(),
            scroll: 0,
        }),
        Err(e) => Feedback::Panel(Panel {
            title: format!(" Not resumed: {slug} "),
            lines: vec![e],
            scroll: 0,
        }),
    }
}

pub fn render(app: &App, tab: &ProgrammesTab, loading: bool, frame: &mut Frame<'_>, area: Rect) {
    if tab.linked.is_empty() {
        let text = if loading {
            strings::LOADING
        } else {
            strings::NO_PROGRAMS
        };
        frame.render_widget(
            Paragraph::new(format!(" {text}")).block(Block::bordered()),
            area,
        );
        return;
    }
    let [list, info] = Layout::vertical([Constraint::Min(3), Constraint::Length(6)]).areas(area);
    let rows = tab.linked.iter().enumerate().map(|(i, p)| {
        let since = p
            .paused_at
            .map(|t| t.format("%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into());
        let row = Row::new(vec![
            Cell::from(p.slug.to_string()),
            Cell::from(Span::styled(
                p.state.as_str(),
                app.theme.program_state(p.state),
            )),
            Cell::from(since),
            Cell::from(safe(&p.name).into_owned()),
        ]);
        if i == tab.selected {
            row.style(app.theme.selected())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(20),
        Constraint::Length(13),
        Constraint::Length(12),
        Constraint::Fill(1),
    ];
    let header = Row::new(strings::PROGRAM_HEADERS).style(app.theme.header());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered()),
        list,
    );
    app.hits.table(list, true, 0, tab.linked.len());
    if let Some(p) = tab.linked.get(tab.selected) {
        let hook = |h: &Option<String>| {
            h.as_deref()
                .map_or("(none: only recorded)".to_owned(), |h| safe(h).into_owned())
        };
        let incidents: Vec<String> = p.incidents.iter().map(ToString::to_string).collect();
        let lines = vec![
            field(app, "Pause hook", vec![Span::raw(hook(&p.pause_hook))]),
            field(app, "Resume hook", vec![Span::raw(hook(&p.resume_hook))]),
            field(
                app,
                "Owner",
                vec![Span::raw(safe(p.owner.as_str()).into_owned())],
            ),
            field(app, "Incidents", vec![Span::raw(incidents.join(", "))]),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(format!(" {} ", p.slug)))
                .wrap(Wrap { trim: false }),
            info,
        );
    }
}
