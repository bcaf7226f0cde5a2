//! The incident's Notifications tab: how many people have their first notice, the outbox
//! by state and template, letters sent to a previous address, the running send's gauge, and
//! the failures with the server's reply.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table};

use super::detail::field;
use super::{count, safe};
use crate::tui::app::{App, Detail};
use crate::tui::strings;

pub(super) fn render(app: &App, detail: &Detail, frame: &mut Frame<'_>, area: Rect) {
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
    match &detail.outbox {
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
        None if detail.outbox_loading => lines.push(Line::raw(format!(" {}", strings::LOADING))),
        _ => lines.push(Line::raw(format!(" {}", strings::NO_LETTERS))),
    }
    let previous = detail
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
        .outbox
        .as_ref()
        .map_or(&[][..], |o| o.failures.as_slice());
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
