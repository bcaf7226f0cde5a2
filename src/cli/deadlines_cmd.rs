//! `breachdesk deadlines`, `obligation ...` and `evidence ...`: the legal clocks and the
//! evidence of whether the exposed data was read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::args::{EvidenceCommand, ObligationCommand};
use super::output::{self, rfc3339, safe, short_time};
use super::{CliError, Context};
use crate::deadlines::{Obligation, TimeLeft};
use crate::domain::text::display_path;
use crate::domain::{IncidentId, ObligationState};

/// An obligation as scripts see it.
#[derive(Serialize)]
pub struct ObligationView<'a> {
    pub incident: String,
    pub rule: &'a str,
    pub name: &'a str,
    pub notify: &'a str,
    pub clock: &'static str,
    pub started_at: String,
    /// `null` where the law sets no fixed time and no internal target is configured.
    pub due_at: Option<String>,
    pub seconds_left: Option<i64>,
    pub state: &'static str,
    pub done_at: Option<String>,
    pub reference: Option<&'a str>,
    pub waived_reason: Option<&'a str>,
    /// Why the rule does not apply to what happened (`state` "not-triggered"); a responder
    /// who judges otherwise records `obligation apply`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_triggered: Option<&'a str>,
    /// Whether it was done by its due time (`null` unless done).
    pub met: Option<bool>,
    pub people: u64,
    pub citation: &'a str,
    /// Each report of an obligation met in phases.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub submissions: &'a [crate::domain::Submission],
    /// The data elements that would bring the rule in, none of them yet confirmed or ruled
    /// out: the obligation is possible, not certain.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub possible: &'a [crate::domain::DataElement],
    /// What the law attaches besides the deadline (see `Obligation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contents: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub substitute_notice: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_monitoring: Option<&'a crate::deadlines::CreditMonitoring>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
}

impl<'a> ObligationView<'a> {
    pub fn new(o: &'a Obligation, now: DateTime<Utc>) -> Self {
        let (done_at, reference, waived_reason) = match &o.state {
            ObligationState::Done { at, reference, .. } => {
                (Some(rfc3339(*at)), reference.as_deref(), None)
            }
            ObligationState::Waived { reason } => (None, None, Some(reason.as_str())),
            ObligationState::Open | ObligationState::NotTriggered { .. } => (None, None, None),
        };
        let not_triggered = match &o.state {
            ObligationState::NotTriggered { reason } => Some(reason.as_str()),
            _ => None,
        };
        ObligationView {
            incident: o.incident.to_string(),
            rule: &o.rule,
            name: &o.name,
            notify: &o.notify,
            clock: o.clock.as_str(),
            started_at: rfc3339(o.started_at),
            due_at: o.due_at.map(rfc3339),
            seconds_left: o.due_at.map(|d| (d - now).num_seconds()),
            state: o.state.as_str(),
            done_at,
            reference,
            waived_reason,
            not_triggered,
            met: o.met_in_time(),
            people: o.people,
            citation: &o.citation,
            submissions: &o.submissions,
            possible: &o.possible,
            threshold: o.threshold.as_deref(),
            contents: o.contents.as_deref(),
            substitute_notice: o.substitute_notice.as_deref(),
            credit_monitoring: o.credit_monitoring.as_ref(),
            note: o.note.as_deref(),
        }
    }
}

/// One line per location (or none) of people no rule covers: never silent.
fn write_uncovered(
    ctx: &mut Context<'_>,
    found: &[(IncidentId, crate::deadlines::Uncovered)],
) -> Result<(), CliError> {
    for (id, u) in found {
        writeln!(ctx.out, "{id}: {}", safe(&u.to_string()))?;
    }
    Ok(())
}

/// The exit code of `deadlines --due-within` when something open is due within the time.
pub const DUE: u8 = 4;

/// The open obligations due within `within` (overdue ones included), soonest first; exit
/// [`DUE`] when there is any, 0 when there is none, for cron and scripts.
pub fn due_within(
    ctx: &mut Context<'_>,
    id: Option<IncidentId>,
    json: bool,
    within: chrono::Duration,
) -> Result<ExitCode, CliError> {
    let now = Utc::now();
    let list: Vec<Obligation> = ctx
        .desk
        .obligations(id)?
        .into_iter()
        .filter(|o| o.state == ObligationState::Open && o.due_at.is_some_and(|d| d <= now + within))
        .collect();
    if json {
        let views: Vec<_> = list.iter().map(|o| ObligationView::new(o, now)).collect();
        output::json(ctx.out, &views)?;
    } else if list.is_empty() {
        writeln!(
            ctx.out,
            "nothing open is due within {}",
            humantime_text(within)
        )?;
    } else {
        for o in &list {
            writeln!(
                ctx.out,
                "{} {} due {} UTC ({}): {}",
                o.incident,
                safe(&o.rule),
                o.due_at.map_or("-".to_owned(), short_time),
                standing(o, now),
                safe(&o.notify)
            )?;
        }
    }
    Ok(if list.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DUE)
    })
}

/// A duration as a person writes it: `24h`, `2d 4h`.
fn humantime_text(d: chrono::Duration) -> String {
    d.to_std()
        .map(|d| humantime::format_duration(d).to_string())
        .unwrap_or_else(|_| d.to_string())
}

/// What is left of an obligation's time, or what became of it, for tables.
pub fn standing(o: &Obligation, now: DateTime<Utc>) -> String {
    match (&o.state, o.due_at) {
        (
            ObligationState::Done {
                at,
                phase: Some(crate::domain::Phase::Initial),
                ..
            },
            _,
        ) => format!(
            "partly met: initial report {} (follow-up pending)",
            short_time(*at)
        ),
        (ObligationState::Done { at, .. }, _) => match o.met_in_time() {
            Some(false) => format!("done {} (LATE)", short_time(*at)),
            _ => format!("done {}", short_time(*at)),
        },
        (ObligationState::Waived { .. }, _) => "waived".to_owned(),
        (ObligationState::NotTriggered { reason }, _) => reason.clone(),
        (ObligationState::Open, Some(due)) => {
            let left = TimeLeft(due - now).to_string();
            if due < now {
                left
            } else {
                format!("{left} left")
            }
        }
        (ObligationState::Open, None) => "without undue delay".to_owned(),
    }
}

/// Affected people no rule covers, with their incident, as scripts see them.
#[derive(Serialize)]
struct UncoveredView<'a> {
    incident: String,
    /// `null` for people without a location.
    location: Option<&'a str>,
    people: u64,
    /// Set when the location's law sets no statutory duty.
    #[serde(skip_serializing_if = "Option::is_none")]
    no_duty: Option<&'a crate::deadlines::NoDuty>,
}

/// The people no rule covers in incident `id`, or in every incident not closed.
fn uncovered(
    ctx: &mut Context<'_>,
    id: Option<IncidentId>,
) -> Result<Vec<(IncidentId, crate::deadlines::Uncovered)>, CliError> {
    let incidents = match id {
        Some(id) => vec![ctx.desk.incident(id)?],
        None => ctx
            .desk
            .incidents(crate::desk::IncidentFilter::default())?
            .into_iter()
            .filter(|i| i.status != crate::domain::Status::Closed)
            .collect(),
    };
    let rules = ctx.desk.rules();
    Ok(incidents
        .iter()
        .flat_map(|i| rules.uncovered(i).into_iter().map(|u| (i.id, u)))
        .collect())
}

pub fn deadlines(
    ctx: &mut Context<'_>,
    id: Option<IncidentId>,
    json: bool,
    only_uncovered: bool,
) -> Result<ExitCode, CliError> {
    let now = Utc::now();
    if only_uncovered {
        let found = uncovered(ctx, id)?;
        if json {
            let views: Vec<_> = found
                .iter()
                .map(|(i, u)| UncoveredView {
                    incident: i.to_string(),
                    location: u.location.as_deref(),
                    people: u.people,
                    no_duty: u.no_duty.as_ref(),
                })
                .collect();
            output::json(ctx.out, &views)?;
        } else if found.is_empty() {
            writeln!(ctx.out, "every affected person falls under a known rule")?;
        } else {
            write_uncovered(ctx, &found)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let list = ctx.desk.obligations(id)?;
    if json {
        let views: Vec<_> = list.iter().map(|o| ObligationView::new(o, now)).collect();
        output::json(ctx.out, &views)?;
        return Ok(ExitCode::SUCCESS);
    }
    let found = uncovered(ctx, id)?;
    if list.is_empty() {
        if found.is_empty() {
            writeln!(
                ctx.out,
                "no obligations: no rule applies to the affected people's locations yet (import a roster with locations)"
            )?;
        } else {
            writeln!(ctx.out, "no obligations under the known rules")?;
            write_uncovered(ctx, &found)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        ctx.out,
        "{:<7} {:<16} {:<17} {:<22} {:<28} {:>8}  NOTIFY",
        "ID", "RULE", "DUE (UTC)", "STATE", "", "PEOPLE"
    )?;
    for o in &list {
        writeln!(
            ctx.out,
            "{:<7} {:<16} {:<17} {:<22} {:<28} {:>8}  {}",
            o.incident.to_string(),
            safe(&o.rule),
            o.due_at.map_or("-".to_owned(), short_time),
            o.state_word(),
            standing(o, now),
            o.people,
            safe(&o.notify)
        )?;
    }
    for o in list.iter().filter(|o| !o.possible.is_empty()) {
        let elements: Vec<&str> = o.possible.iter().map(|e| e.as_str()).collect();
        writeln!(
            ctx.out,
            "{}: {} applies only if {} was exposed: confirm or rule out with breachdesk incident elements {}",
            o.incident,
            safe(&o.rule),
            elements.join(" or "),
            o.incident
        )?;
    }
    write_uncovered(ctx, &found)?;
    writeln!(
        ctx.err,
        "decision support, not legal advice: check each obligation with counsel"
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn obligation(ctx: &mut Context<'_>, cmd: ObligationCommand) -> Result<ExitCode, CliError> {
    let (id, rule, state) = match cmd {
        ObligationCommand::Done {
            id,
            rule,
            at,
            reference,
            phase,
        } => (
            id,
            rule,
            ObligationState::Done {
                at,
                reference,
                phase: phase.map(|p| match p {
                    super::args::ReportPhase::Initial => crate::domain::Phase::Initial,
                    super::args::ReportPhase::FollowUp => crate::domain::Phase::FollowUp,
                }),
            },
        ),
        ObligationCommand::Waive { id, rule, reason } => {
            (id, rule, ObligationState::Waived { reason })
        }
        ObligationCommand::Apply { id, rule, reason } => {
            let o = ctx.desk.apply_obligation(id, rule, reason)?;
            writeln!(
                ctx.out,
                "{} {}: applies; {}",
                o.incident,
                safe(&o.rule),
                standing(&o, Utc::now())
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        ObligationCommand::Exempt {
            id,
            rule,
            ground,
            reason,
        } => {
            if rule != "gdpr-34" && rule != "uk-gdpr-34" {
                return Err(CliError::User(format!(
                    "the Art. 34(3) exemptions are for gdpr-34 and uk-gdpr-34, not '{}'; use `obligation waive` for other rules",
                    safe(&rule)
                )));
            }
            if reason.trim().is_empty() {
                return Err(CliError::User(
                    "--reason: say why the exemption holds".into(),
                ));
            }
            let reason = format!("{}: {}", ground.describe(), reason.trim());
            (id, rule, ObligationState::Waived { reason })
        }
    };
    let o = ctx.desk.settle_obligation(id, rule, state)?;
    writeln!(
        ctx.out,
        "{} {}: {}",
        o.incident,
        safe(&o.rule),
        standing(&o, Utc::now())
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn evidence(ctx: &mut Context<'_>, cmd: EvidenceCommand) -> Result<ExitCode, CliError> {
    match cmd {
        EvidenceCommand::Import {
            id,
            files,
            format,
            authorized,
            person_from,
            map,
        } => {
            let read = |path: &Path| {
                std::fs::read_to_string(path)
                    .map_err(|e| CliError::User(format!("cannot read {}: {e}", display_path(path))))
            };
            let options = crate::evidence::EvidenceOptions {
                format,
                authorized: match &authorized {
                    Some(path) => crate::evidence::allow_list(&read(path)?),
                    None => Vec::new(),
                },
                person_from,
                map: match &map {
                    Some(path) => crate::evidence::map_file(&read(path)?).map_err(|e| {
                        CliError::User(format!("--map {}: {e}", display_path(path)))
                    })?,
                    None => Vec::new(),
                },
            };
            import(ctx, id, &files, &options)
        }
        EvidenceCommand::Summary { id, json } => summary(ctx, id, json),
    }
}

/// Every file under `paths`: files as given, directories walked in name order (hidden
/// entries skipped).
fn log_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CliError> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| CliError::User(format!("cannot read {}: {e}", display_path(dir))))?
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.is_file() {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    if out.is_empty() {
        return Err(CliError::User(
            "no log files found in the directories given".into(),
        ));
    }
    Ok(out)
}

/// Several log files as one stream (`evidence::BUNDLE`), each opened when its turn comes.
struct Bundle {
    files: std::vec::IntoIter<(PathBuf, u64)>,
    current: Option<(String, std::io::Take<std::fs::File>)>,
    pending: std::io::Cursor<Vec<u8>>,
}

impl Bundle {
    fn new(files: Vec<(PathBuf, u64)>) -> Self {
        Bundle {
            files: files.into_iter(),
            current: None,
            pending: std::io::Cursor::new(crate::evidence::BUNDLE.to_vec()),
        }
    }
}

impl std::io::Read for Bundle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.pending.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if let Some((name, file)) = &mut self.current {
                let n = file.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                if file.limit() > 0 {
                    return Err(std::io::Error::other(format!(
                        "{name} shrank while it was read"
                    )));
                }
                self.current = None;
            }
            let Some((path, len)) = self.files.next() else {
                return Ok(0);
            };
            let name = display_path(&path);
            let file = std::fs::File::open(&path)
                .map_err(|e| std::io::Error::other(format!("cannot read {name}: {e}")))?;
            self.pending = std::io::Cursor::new(crate::evidence::bundle_header(&name, len));
            self.current = Some((name, file.take(len)));
        }
    }
}

fn import(
    ctx: &mut Context<'_>,
    id: IncidentId,
    paths: &[PathBuf],
    options: &crate::evidence::EvidenceOptions,
) -> Result<ExitCode, CliError> {
    let files = log_files(paths)?;
    let mut sized = Vec::with_capacity(files.len());
    for file in files {
        let len = std::fs::metadata(&file)
            .map_err(|e| CliError::User(format!("cannot read {}: {e}", display_path(&file))))?
            .len();
        sized.push((file, len));
    }
    let label = match sized.as_slice() {
        [(one, _)] => display_path(one),
        _ => format!("{} log files", sized.len()),
    };
    let mut bundle = Bundle::new(sized);
    let s = ctx.desk.import_evidence(id, &mut bundle, &label, options)?;
    for name in &s.imported {
        writeln!(ctx.out, "{id}: {}: imported", safe(name))?;
    }
    for name in &s.unchanged {
        writeln!(
            ctx.out,
            "{id}: {}: imported before; nothing changed",
            safe(name)
        )?;
    }
    writeln!(ctx.out, "{id}: {}", s.counts())?;
    if s.unmatched > 0 && options.person_from.is_none() && options.map.is_empty() {
        writeln!(
            ctx.err,
            "{} reads name nobody on the roster: only breachdesk's CSV names people directly; give --person-from REGEX or --map FILE to find them in the resources (`evidence summary {id}` lists the most frequent)",
            s.unmatched
        )?;
    }
    if !s.allow_list {
        writeln!(
            ctx.err,
            "no --authorized list: every accessor counts as unauthorised"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct AccessorView<'a> {
    accessor: &'a str,
    authorized: bool,
    reads: u64,
    copies: u64,
    people: u64,
}

#[derive(Serialize)]
struct SummaryView<'a> {
    incident: String,
    finding: &'static str,
    source: &'a str,
    imported_at: String,
    rows: u64,
    accessors: u64,
    unauthorized_accessors: u64,
    people_read: u64,
    people_acquired: u64,
    people_not_read: u64,
    allow_list: bool,
    by_accessor: Vec<AccessorView<'a>>,
    /// The finding in words, against the exposure window.
    statement: &'a str,
    /// Whole percent of the exposure window covered by logs that can show reads.
    coverage: Option<u8>,
    exposed_from: Option<String>,
    exposed_until: Option<String>,
    denied: u64,
    not_reads: u64,
    /// Reads of resources that name nobody on the roster, and the most frequent of them.
    unmatched: u64,
    unmatched_resources: Vec<UnmatchedView<'a>>,
    sources: Vec<SourceView<'a>>,
}

#[derive(Serialize)]
struct UnmatchedView<'a> {
    resource: &'a str,
    events: u64,
}

#[derive(Serialize)]
struct SourceView<'a> {
    format: &'static str,
    file: &'a str,
    events: u64,
    from: Option<String>,
    to: Option<String>,
    gaps: Vec<[String; 2]>,
    reads: u64,
    copies: u64,
    denied: u64,
    not_reads: u64,
    unmatched: u64,
    shows_reads: bool,
    warnings: &'a [String],
}

fn summary(ctx: &mut Context<'_>, id: IncidentId, json: bool) -> Result<ExitCode, CliError> {
    let incident = ctx.desk.incident(id)?;
    let Some(s) = &incident.evidence else {
        return Err(CliError::User(format!(
            "{id} has no exposure evidence yet; `breachdesk evidence import {id} FILE` loads the exposed store's access log"
        )));
    };
    let detail = ctx.desk.evidence(id)?;
    let view = SummaryView {
        incident: id.to_string(),
        finding: s.finding.as_str(),
        source: &s.source,
        imported_at: rfc3339(s.imported_at),
        rows: s.rows,
        accessors: s.accessors,
        unauthorized_accessors: s.unauthorized_accessors,
        people_read: s.people_read,
        people_acquired: s.people_acquired,
        people_not_read: incident.people.saturating_sub(s.people_read),
        allow_list: s.allow_list,
        statement: &s.statement,
        coverage: s.coverage,
        exposed_from: incident.exposed_from.map(rfc3339),
        exposed_until: incident.exposed_until.map(rfc3339),
        denied: detail.denied,
        not_reads: detail.not_reads,
        unmatched: detail.unmatched,
        unmatched_resources: detail
            .unmatched_resources
            .iter()
            .map(|(resource, events)| UnmatchedView {
                resource,
                events: *events,
            })
            .collect(),
        sources: detail
            .sources
            .iter()
            .map(|src| SourceView {
                format: src.format.as_str(),
                file: &src.file,
                events: src.events,
                from: src.from.map(rfc3339),
                to: src.to.map(rfc3339),
                gaps: src
                    .gaps
                    .iter()
                    .map(|(a, b)| [rfc3339(*a), rfc3339(*b)])
                    .collect(),
                reads: src.reads,
                copies: src.copies,
                denied: src.denied,
                not_reads: src.not_reads,
                unmatched: src.unmatched,
                shows_reads: src.shows_reads,
                warnings: &src.warnings,
            })
            .collect(),
        by_accessor: detail
            .accessors
            .iter()
            .map(|a| AccessorView {
                accessor: &a.accessor,
                authorized: a.authorized,
                reads: a.reads,
                copies: a.copies,
                people: a.people,
            })
            .collect(),
    };
    if json {
        output::json(ctx.out, &view)?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = &mut *ctx.out;
    writeln!(
        out,
        "{id}: finding {}: {}",
        view.finding,
        safe(view.statement)
    )?;
    let window = match (incident.exposed_from, incident.exposed_until) {
        (Some(f), Some(u)) => format!("{} to {} UTC", short_time(f), short_time(u)),
        (Some(f), None) => format!("{} UTC, still exposed", short_time(f)),
        _ => "not set (breachdesk incident exposure ID --from T --until T --reason R)".to_owned(),
    };
    writeln!(out, "exposed:     {window}")?;
    for src in &view.sources {
        let span = match (&src.from, &src.to) {
            (Some(f), Some(t)) => format!("{f} to {t}"),
            _ => "no records".to_owned(),
        };
        writeln!(
            out,
            "log:         {} ({}): {} records, {span}; {} reads, {} copies, {} denied, {} not reads, {} naming nobody",
            safe(src.file),
            src.format,
            src.events,
            src.reads,
            src.copies,
            src.denied,
            src.not_reads,
            src.unmatched
        )?;
        for [a, b] in &src.gaps {
            writeln!(out, "  gap:       no record from {a} to {b}")?;
        }
        for w in src.warnings {
            writeln!(out, "  warning:   {}", safe(w))?;
        }
    }
    if !view.unmatched_resources.is_empty() {
        writeln!(
            out,
            "naming nobody on the roster: {} reads; most frequent resources:",
            view.unmatched
        )?;
        for u in &view.unmatched_resources {
            writeln!(out, "  {:>8}  {}", u.events, safe(u.resource))?;
        }
    }
    writeln!(
        out,
        "accessors:   {} in all, {} not on the allow-list{}",
        view.accessors,
        view.unauthorized_accessors,
        if view.allow_list {
            ""
        } else {
            " (no allow-list given)"
        }
    )?;
    writeln!(
        out,
        "people:      {} of {} had their data read by someone off the allow-list, {} copied; no read found for {}",
        view.people_read, incident.people, view.people_acquired, view.people_not_read
    )?;
    let unauthorised: Vec<&AccessorView> =
        view.by_accessor.iter().filter(|a| !a.authorized).collect();
    if !unauthorised.is_empty() {
        writeln!(out, "not on the allow-list (most active first):")?;
        for a in unauthorised.iter().take(50) {
            writeln!(
                out,
                "  {:<32} {:>8} reads {:>6} copies {:>7} people",
                safe(a.accessor),
                a.reads,
                a.copies,
                a.people
            )?;
        }
        if unauthorised.len() > 50 {
            writeln!(
                out,
                "  ... and {} more (--json lists all)",
                unauthorised.len() - 50
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
