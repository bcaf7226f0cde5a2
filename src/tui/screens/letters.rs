//! The Letters tab of an incident: how many people have their first notice, the outbox by
//! state and template, letters sent to a previous address, the running send's gauge, and the
//! failures with the server's reply. Owns the outbox read on demand, the queue, preview and
//! send forms, what a finished queue or send tells the user, and the drawing.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table};

use super::incident::Detail;
use crate::desk::{OutboxStatus, QueueReport, SendProgress};
use crate::domain::{CategoryCatalog, IncidentId};
use crate::notify::TemplateName;
use crate::tui::action::Action;
use crate::tui::app::{App, Feedback};
use crate::tui::form::{Choice, Field, FieldName, Form, Purpose};
use crate::tui::strings;
use crate::tui::view::{count, field, safe};

/// The letters of one incident, read each time the tab is shown.
#[derive(Debug, Default)]
pub struct LettersTab {
    /// The outbox by state and template; `None` until first read.
    pub outbox: Option<OutboxStatus>,
    /// Whether a read is under way.
    pub loading: bool,
}

impl LettersTab {
    /// How many letters wait to be sent.
    fn queued(&self) -> usize {
        self.outbox
            .as_ref()
            .and_then(|o| o.counts.get("queued").copied())
            .unwrap_or(0)
    }

    /// The queue, preview or send form for `id`; `Err` says why there is none.
    pub fn form(
        &self,
        action: Action,
        id: IncidentId,
        catalog: &CategoryCatalog,
    ) -> Result<Form, String> {
        let templates = || {
            TemplateName::ALL
                .into_iter()
                .filter(|t| t.is_for_people())
                .map(|t| Choice::new(t.as_str(), format!("{t}: {}", t.purpose())))
                .collect::<Vec<_>>()
        };
        Ok(match action {
            Action::QueueLetters => {
                let mut audience = vec![
                    Choice::new("everyone", "everyone on the roster"),
                    Choice::new("pending", "only people not yet notified"),
                ];
                audience.extend(catalog.names().map(|c| {
                    Choice::new(
                        format!("category:{c}"),
                        format!("people whose {c} was exposed"),
                    )
                }));
                Form::new(
                    Purpose::Queue(id),
                    strings::FORM_QUEUE,
                    vec![
                        Field::choice(FieldName::Template, templates(), 0),
                        Field::choice(FieldName::Audience, audience, 0),
                        Field::text(FieldName::Incomplete, "").with_hint(
                            "empty: a letter lacking what the law requires is refused; a reason here queues it anyway (recorded)",
                        ),
                    ],
                )
                .with_notes(vec![
                    "A person already sent (or queued) this template is skipped.".into(),
                ])
            }
            Action::PreviewLetter => Form::new(
                Purpose::Op(
                    id,
                    crate::tui::form::OpReader(crate::tui::submit::read_preview),
                ),
                strings::FORM_PREVIEW,
                vec![
                    Field::choice(FieldName::Template, templates(), 0),
                    Field::text(FieldName::Person, "")
                        .with_hint("employee id; empty = the first on the roster"),
                ],
            ),
            _ => {
                let queued = self.queued();
                if queued == 0 {
                    return Err("nothing is queued: press m to queue letters first".into());
                }
                Form::new(Purpose::Send(id), strings::FORM_SEND, vec![]).with_notes(vec![
                    format!("Send {queued} emails for {id} now?"),
                    "Enter sends in the background; Esc cancels.".into(),
                ])
            }
        })
    }
}

/// What a finished send tells the user.
pub fn sent(result: Result<SendProgress, String>) -> Feedback {
    match result {
        Ok(p) if p.failed > 0 => Feedback::Error(format!(
            "{} sent, {} failed: see the failures below; R retries them",
            p.sent, p.failed
        )),
        Ok(p) => Feedback::Info(format!("{} of {} letters sent", p.sent, p.total)),
        Err(e) => Feedback::Error(e),
    }
}

/// What a finished queuing tells the user.
pub fn queued(result: Result<QueueReport, String>) -> Feedback {
    match result {
        Ok(r) => Feedback::Info(format!(
            "queued {} letters ({} already in the outbox); S sends them",
            r.queued, r.already
        )),
        Err(e) => Feedback::Error(e),
    }
}

pub fn render(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
    let inc = &detail.incident;
    let mut lines = vec![field(
        app,
        "Notified",
        vec![Span::raw(format!(
            "{} of {} people ({}%) have their first notice",
            count(inc.notified),
            count(inc.people),
            inc.notified_percent().unwrap_or(0)
        ))],
    )];
    match &detail.letters.outbox {
        Some(outbox) if outbox.counts.values().any(|n| *n > 0) => {
            let counts: Vec<String> = outbox
                .counts
                .iter()
                .map(|(k, v)| format!("{k} {}", count(*v as u64)))
                .collect();
            lines.push(field(app, "Outbox", vec![Span::raw(counts.join(" · "))]));
            for (template, states) in &outbox.by_template {
                let parts: Vec<String> = states
                    .iter()
                    .map(|(k, v)| format!("{k} {}", count(*v as u64)))
                    .collect();
                lines.push(field(
                    app,
                    "",
                    vec![Span::raw(format!("{template}: {}", parts.join(", ")))],
                ));
            }
        }
        None if detail.letters.loading => lines.push(Line::raw(format!(" {}", strings::LOADING))),
        _ => lines.push(Line::raw(format!(" {}", strings::NO_LETTERS))),
    }
    let previous = detail
        .letters
        .outbox
        .as_ref()
        .map_or(&[][..], |o| o.sent_to_previous.as_slice());
    if !previous.is_empty() {
        let who: Vec<String> = previous
            .iter()
            .take(3)
            .map(|p| format!("{} ({})", safe(&p.recipient), safe(&p.sent_to)))
            .collect();
        lines.push(field(
            app,
            "Old address",
            vec![Span::styled(
                format!(
                    "{} sent to a previous address: {}{}",
                    previous.len(),
                    who.join(", "),
                    if previous.len() > 3 { ", ..." } else { "" }
                ),
                app.theme.warning(),
            )],
        ));
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX).max(6);
    let [summary, gauge, failures] = Layout::vertical([
        Constraint::Length(height),
        Constraint::Length(u16::from(app.sending.is_some()) * 3),
        Constraint::Min(3),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered()), summary);
    if let Some(p) = &app.sending {
        let done = p.sent + p.failed;
        let ratio = if p.total == 0 {
            0.0
        } else {
            done as f64 / p.total as f64
        };
        let label = format!(
            "{done}/{} · sent {} · failed {} · retrying {}",
            p.total, p.sent, p.failed, p.retrying
        );
        frame.render_widget(
            Gauge::default()
                .block(Block::bordered().title(" sending "))
                .ratio(ratio.clamp(0.0, 1.0))
                .label(label),
            gauge,
        );
    }
    let failed = detail
        .letters
        .outbox
        .as_ref()
        .map_or(&[][..], |o| o.failures.as_slice());
    let bounced = detail
        .letters
        .outbox
        .as_ref()
        .map_or(&[][..], |o| o.bounced.as_slice());
    let (failures, undeliverable) = if bounced.is_empty() {
        (failures, None)
    } else {
        let [f, u] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(failures);
        (f, Some(u))
    };
    if let Some(area) = undeliverable {
        render_bounced(app, bounced, frame, area);
    }
    let height = usize::from(failures.height.saturating_sub(3));
    let rows = failed.iter().take(height).map(|f| {
        Row::new(vec![
            Cell::from(f.template.clone()),
            Cell::from(safe(&f.recipient).into_owned()),
            Cell::from(f.attempts.to_string()),
            Cell::from(safe(&f.error).into_owned()),
        ])
    });
    let widths = [
        Constraint::Length(12),
        Constraint::Length(14),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    let title = format!(" failures ({}) ", failed.len());
    frame.render_widget(
        Table::new(rows, widths)
            .header(
                Row::new(["TEMPLATE", "RECIPIENT", "TRIES", "SERVER REPLY"])
                    .style(app.theme.header()),
            )
            .block(Block::bordered().title(title)),
        failures,
    );
}

/// The letters that bounced: their people were not told, and need another way.
fn render_bounced(
    app: &App,
    bounced: &[crate::desk::BouncedView],
    frame: &mut Frame<'_>,
    area: Rect,
) {
    let height = usize::from(area.height.saturating_sub(3));
    let rows = bounced.iter().take(height).map(|b| {
        Row::new(vec![
            Cell::from(b.template.clone()),
            Cell::from(safe(&b.recipient).into_owned()),
            Cell::from(safe(&b.status).into_owned()),
            Cell::from(safe(&b.diagnostic).into_owned()),
        ])
    });
    let widths = [
        Constraint::Length(12),
        Constraint::Length(14),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    let title = format!(" undeliverable: bounced, not told ({}) ", bounced.len());
    frame.render_widget(
        Table::new(rows, widths)
            .header(
                Row::new(["TEMPLATE", "RECIPIENT", "STATUS", "DIAGNOSTIC"])
                    .style(app.theme.header()),
            )
            .block(
                Block::bordered()
                    .title(title)
                    .border_style(app.theme.warning()),
            ),
        area,
    );
}
