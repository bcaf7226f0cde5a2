//! `breachdesk notify bounces`: read the bounce mailbox here, hand the reports to the desk
//! (which matches them to letters), and say what happened to every message.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::output::{self, safe};
use super::{CliError, Context};
use crate::desk::{BounceOutcome, BounceRecorder};
use crate::domain::IncidentId;
use crate::notify::bounce::{self, Mailbox};

#[derive(Serialize)]
struct Summary<'a> {
    messages: usize,
    bounces: usize,
    not_failures: usize,
    not_reports: usize,
    unreadable: Vec<UnreadableShown<'a>>,
    recorded: &'a BounceOutcome,
}

#[derive(Serialize)]
struct UnreadableShown<'a> {
    source: &'a str,
    why: &'a str,
}

pub fn run(
    ctx: &mut Context<'_>,
    id: Option<IncidentId>,
    maildir: Option<&Path>,
    mbox: Option<&Path>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let mut recorder = BounceRecorder::new(ctx.desk, id);
    let mut sink = |report| recorder.add(report);
    let mailbox = match (maildir, mbox) {
        (Some(dir), _) => bounce::read_maildir(dir, &mut sink),
        (None, Some(file)) => bounce::read_mbox(file, &mut sink),
        (None, None) => Err("give --maildir DIR or --mbox FILE".into()),
    }
    .map_err(CliError::User)?;
    let Mailbox {
        messages,
        bounces: found,
        not_failed,
        not_reports,
        unreadable,
    } = mailbox;
    let recorded = recorder.finish()?;
    if json {
        output::json(
            ctx.out,
            &Summary {
                messages,
                bounces: found,
                not_failures: not_failed,
                not_reports,
                unreadable: unreadable
                    .iter()
                    .map(|u| UnreadableShown {
                        source: &u.source,
                        why: &u.why,
                    })
                    .collect(),
                recorded: &recorded,
            },
        )?;
    } else {
        writeln!(
            ctx.out,
            "read {messages} messages: {found} bounces, {not_failed} reports of no failure (delays, deliveries), {not_reports} not delivery reports (auto-replies, other mail), {} unreadable",
            unreadable.len()
        )?;
        writeln!(
            ctx.out,
            "marked {} letters bounced ({} already recorded); {} people no longer count as notified",
            recorded.bounced, recorded.already, recorded.people
        )?;
        if recorded.unmatched_count() > 0 {
            writeln!(
                ctx.out,
                "{} bounces matched no letter{} and were left alone:",
                recorded.unmatched_count(),
                id.map(|i| format!(" of {i}")).unwrap_or_default()
            )?;
            for source in &recorded.unmatched {
                writeln!(ctx.out, "  {}", safe(source))?;
            }
            if recorded.unmatched_more > 0 {
                writeln!(ctx.out, "  and {} more", recorded.unmatched_more)?;
            }
        }
        if recorded.people > 0 || recorded.bounced > 0 {
            let which = id.map_or_else(|| "ID".to_owned(), |i| i.to_string());
            writeln!(
                ctx.out,
                "who needs another way to be told: `breachdesk people list {which} --undeliverable`"
            )?;
        }
    }
    for u in &unreadable {
        writeln!(ctx.err, "unreadable: {}: {}", safe(&u.source), safe(&u.why))?;
    }
    Ok(if unreadable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
