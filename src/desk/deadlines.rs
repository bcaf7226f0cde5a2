//! The desk's deadline and evidence actions: the legal obligations of incidents (computed
//! by [`crate::deadlines`] from the jurisdiction rules), settling one, and importing and
//! reading the exposed store's access log (analysed by [`crate::evidence`]).

use super::local::Caller;
use super::local::{LocalDesk, Recorded, reason_text};
use super::{DeskError, ReadPath};
use crate::access::Need;
use crate::deadlines::Obligation;
use crate::domain::text::{Lines, checked};
use crate::domain::{
    AuditAction, EventDraft, EvidenceSummary, Incident, IncidentId, ObligationRecord,
    ObligationState, UserName,
};
use crate::evidence::Evidence;
use crate::store::Changes;

/// The obligations of one incident, or of every unsettled incident, soonest due first.
pub(super) fn obligations(
    desk: &LocalDesk,
    _actor: &UserName,
    id: Option<IncidentId>,
) -> Result<Vec<Obligation>, DeskError> {
    let rules = &desk.settings.rules;
    match id {
        Some(id) => Ok(rules.obligations(&desk.load(id)?)),
        None => {
            let mut all: Vec<Obligation> = desk
                .store
                .incidents()?
                .iter()
                // A settled incident's obligations that are still open keep running: they
                // stay listed until met, waived or exempt.
                .flat_map(|i| {
                    let settled = i.status.is_settled();
                    rules
                        .obligations(i)
                        .into_iter()
                        .filter(move |o| !settled || o.state == ObligationState::Open)
                })
                .collect();
            all.sort_by(|a, b| {
                (a.due_at.is_none(), a.due_at, a.incident, &a.rule).cmp(&(
                    b.due_at.is_none(),
                    b.due_at,
                    b.incident,
                    &b.rule,
                ))
            });
            Ok(all)
        }
    }
}

/// Records an obligation as done (with when and a reference) or waived (with why).
pub(super) fn settle(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    rule: String,
    state: ObligationState,
) -> Result<Obligation, DeskError> {
    let (action, detail) = match &state {
        ObligationState::Open | ObligationState::NotTriggered { .. } => {
            return Err(DeskError::Unchanged(
                "an obligation is settled as done or waived".into(),
            ));
        }
        ObligationState::Done {
            at,
            reference,
            phase,
        } => {
            LocalDesk::not_future(*at, desk.now())?;
            if let Some(r) = reference {
                checked("reference", r, 500, Lines::Single)?;
            }
            let mut d = match phase {
                Some(p) => format!("{rule}: {} report sent at ", p.as_str()),
                None => format!("{rule} done at "),
            };
            d.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            if let Some(r) = reference {
                d.push_str(&format!(" (reference {r})"));
            }
            (AuditAction::ObligationDone, d)
        }
        ObligationState::Waived { reason } => {
            let reason = reason_text(reason)?;
            (
                AuditAction::ObligationWaived,
                format!("{rule} waived: {reason}"),
            )
        }
    };
    let applies = |inc: &Incident| {
        desk.settings
            .rules
            .obligations(inc)
            .into_iter()
            .find(|o| o.rule == rule)
    };
    let no_rule = || DeskError::NoObligation {
        id,
        rule: crate::domain::text::for_terminal(&rule).into_owned(),
    };
    let incident = desk.change_incident(actor, id, |inc| {
        applies(inc).ok_or_else(no_rule)?;
        let before = inc
            .obligations
            .get(rule.as_str())
            .map_or("open", |r| r.state.as_str())
            .to_owned();
        let old = inc.obligations.get(rule.as_str());
        let mut submissions = old.map(|r| r.submissions.clone()).unwrap_or_default();
        // A report in phases: each is kept; the obligation was met when the initial one
        // went, and is partly met until a follow-up has.
        let state = match state {
            ObligationState::Done {
                at,
                reference,
                phase: Some(phase),
            } => {
                submissions.push(crate::domain::Submission {
                    phase,
                    at,
                    reference: reference.clone(),
                    by: actor.user.clone(),
                });
                let initial = submissions
                    .iter()
                    .find(|s| s.phase == crate::domain::Phase::Initial)
                    .cloned()
                    .ok_or_else(|| {
                        DeskError::Unchanged(format!(
                            "{rule} has no initial report yet: record it first with --phase initial"
                        ))
                    })?;
                ObligationState::Done {
                    at: initial.at,
                    reference: initial.reference,
                    phase: Some(phase),
                }
            }
            other => other,
        };
        let after = state.as_str();
        inc.obligations.insert(
            rule.to_owned(),
            ObligationRecord {
                state,
                by: actor.user.clone(),
                submissions,
            },
        );
        Ok(Recorded::new(action, detail, before, after))
    })?;
    applies(&incident).ok_or_else(no_rule)
}

/// Records that rule `rule` applies to the incident although what happened does not
/// trigger it, with the reason; the obligation is open from then on.
pub(super) fn apply(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    rule: String,
    reason: String,
) -> Result<Obligation, DeskError> {
    let reason = reason_text(&reason)?;
    let now = desk.now();
    let rules = &desk.settings.rules;
    let find = |inc: &Incident| rules.obligations(inc).into_iter().find(|o| o.rule == rule);
    let no_rule = || DeskError::NoObligation {
        id,
        rule: crate::domain::text::for_terminal(&rule).into_owned(),
    };
    let incident = desk.change_incident(actor, id, |inc| {
        let o = find(inc).ok_or_else(no_rule)?;
        let ObligationState::NotTriggered { reason: why } = &o.state else {
            return Err(DeskError::Unchanged(format!(
                "{} applies already ({}): nothing to decide",
                o.rule,
                o.state_word()
            )));
        };
        let detail = format!("{rule} applies: {reason} (it was {why})");
        inc.applied.insert(
            rule.clone(),
            crate::domain::ElementDecision {
                confirmed: true,
                reason: reason.clone(),
                by: actor.user.clone(),
                at: now,
            },
        );
        Ok(Recorded::new(
            AuditAction::ObligationApplied,
            detail,
            "not-triggered",
            "open",
        ))
    })?;
    find(&incident).ok_or_else(no_rule)
}

/// A reader that hashes what passes through it: the file's digest, so that the same file
/// imported again changes nothing.
struct Hashing<'a> {
    inner: &'a mut dyn std::io::Read,
    hasher: sha2::Sha256,
}

impl std::io::Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// What the incident shows of its evidence: the counts, and the finding held against its
/// exposure window at `now`.
pub(super) fn summarize(
    evidence: &Evidence,
    incident: &Incident,
    now: chrono::DateTime<chrono::Utc>,
    source: &str,
    allow_list: bool,
) -> EvidenceSummary {
    let (finding, coverage) = evidence.assess(incident.exposure_window(now));
    EvidenceSummary {
        finding,
        rows: evidence.rows,
        source: source.to_owned(),
        imported_at: now,
        accessors: evidence.accessors.len() as u64,
        unauthorized_accessors: evidence.unauthorized_accessors(),
        people_read: evidence.people_read(),
        people_acquired: evidence.people_acquired(),
        allow_list,
        statement: coverage.statement,
        coverage: coverage.percent,
        sources: evidence.sources.len() as u64,
        denied: evidence.denied,
        not_reads: evidence.not_reads,
        unmatched: evidence.unmatched,
        already_imported: false,
        imported: Vec::new(),
        unchanged: Vec::new(),
    }
}

/// One log of an import, analysed, with the digest of its bytes.
struct Read {
    evidence: crate::evidence::Evidence,
    digest: String,
    name: String,
}

/// Analyses one log from `log`, hashing its bytes as they are read (and any the reader left).
fn analyse_one(
    desk: &LocalDesk,
    log: &mut dyn std::io::Read,
    name: &str,
    roster: &crate::evidence::RosterIndex,
    options: &crate::evidence::EvidenceOptions,
) -> Result<Read, DeskError> {
    use sha2::Digest;
    let mut hashing = Hashing {
        inner: log,
        hasher: sha2::Sha256::new(),
    };
    let result = crate::evidence::analyse(&mut hashing, name, roster, options, desk.now());
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| DeskError::Delivery(format!("{name}: {e}")))?;
    let digest = crate::remote::protocol::to_hex(&hashing.hasher.finalize());
    let mut evidence = result?;
    for s in &mut evidence.sources {
        s.digest.clone_from(&digest);
    }
    Ok(Read {
        evidence,
        digest,
        name: name.to_owned(),
    })
}

/// The logs of one import: a single log, or a bundle of several (`evidence::BUNDLE`), each
/// analysed in turn. All or nothing: one log refused refuses them all.
fn analyse_all(
    desk: &LocalDesk,
    log: &mut dyn std::io::Read,
    source_name: &str,
    roster: &crate::evidence::RosterIndex,
    options: &crate::evidence::EvidenceOptions,
) -> Result<Vec<Read>, DeskError> {
    use std::io::{BufRead, Read as _};
    let mut head = Vec::with_capacity(crate::evidence::BUNDLE.len());
    log.take(crate::evidence::BUNDLE.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| DeskError::Delivery(format!("{source_name}: {e}")))?;
    if head != crate::evidence::BUNDLE {
        let mut whole = std::io::Cursor::new(head).chain(log);
        return Ok(vec![analyse_one(
            desk,
            &mut whole,
            source_name,
            roster,
            options,
        )?]);
    }
    let bad = |what: &str| DeskError::Delivery(format!("{source_name}: {what}"));
    let mut stream = std::io::BufReader::with_capacity(1 << 20, log);
    let mut out = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        (&mut stream)
            .take(4096)
            .read_until(b'\n', &mut line)
            .map_err(|e| bad(&e.to_string()))?;
        if line.is_empty() {
            return Ok(out);
        }
        let text = String::from_utf8_lossy(&line);
        let (len, name) = text
            .trim_end_matches('\n')
            .split_once(' ')
            .and_then(|(n, name)| Some((n.parse::<u64>().ok()?, name.to_owned())))
            .ok_or_else(|| bad("a broken bundle of logs"))?;
        let name = crate::domain::text::display_path(&name);
        let mut part = (&mut stream).take(len);
        out.push(analyse_one(desk, &mut part, &name, roster, options)?);
        if part.limit() > 0 {
            return Err(bad(&format!("{name} ended early")));
        }
    }
}

/// Reads access logs (all or nothing) and adds what they show to what was imported before;
/// a file imported before changes nothing.
pub(super) fn import_evidence(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    log: &mut dyn std::io::Read,
    source_name: &str,
    options: &crate::evidence::EvidenceOptions,
) -> Result<EvidenceSummary, DeskError> {
    let incident = desk.load(id)?;
    desk.guard(actor, &incident, Need::Change, "evidence.import")?;
    desk.not_purged(id)?;
    // The name reaches messages, the timeline and reports; a client may have sent any.
    let source_name = &crate::domain::text::display_path(source_name);
    let people: Vec<(String, String)> = desk
        .store
        .people(id)
        .map(|p| p.map(|p| (p.employee_id.to_string(), p.email.to_string())))
        .collect::<Result<_, _>>()?;
    if people.is_empty() {
        return Err(DeskError::EmptyRoster(id));
    }
    let roster =
        crate::evidence::RosterIndex::new(people.iter().map(|(i, e)| (i.as_str(), e.as_str())));
    drop(people);
    let reads = analyse_all(desk, log, source_name, &roster, options)?;
    let now = desk.now();
    let _guard = desk.lock()?;
    let mut incident = desk.load(id)?;
    // Membership may have changed while the logs were read.
    desk.guard(actor, &incident, Need::Change, "evidence.import")?;
    let stored = desk.store.evidence(id)?.unwrap_or_default();
    let mut seen: std::collections::HashSet<String> =
        stored.sources.iter().map(|s| s.digest.clone()).collect();
    let mut fresh = Vec::new();
    let mut unchanged = Vec::new();
    for read in reads {
        if seen.insert(read.digest.clone()) {
            fresh.push(read);
        } else {
            unchanged.push(read.name);
        }
    }
    if fresh.is_empty() {
        let mut summary = incident.evidence.clone().unwrap_or_else(|| {
            summarize(
                &stored,
                &incident,
                now,
                source_name,
                !options.authorized.is_empty(),
            )
        });
        summary.already_imported = true;
        summary.unchanged = unchanged;
        return Ok(summary);
    }
    let names: Vec<String> = fresh.iter().map(|r| r.name.clone()).collect();
    let added: Vec<crate::evidence::SourceSummary> = fresh
        .iter()
        .flat_map(|r| r.evidence.sources.iter().cloned())
        .collect();
    let evidence = stored.merge_all(fresh.into_iter().map(|r| r.evidence));
    let allow_list =
        !options.authorized.is_empty() || incident.evidence.as_ref().is_some_and(|e| e.allow_list);
    let label = if names.len() == 1 {
        names[0].clone()
    } else {
        format!("{source_name} ({} files)", names.len())
    };
    let summary = summarize(&evidence, &incident, now, &label, allow_list);
    let before = incident
        .evidence
        .as_ref()
        .map_or("unknown", |e| e.finding.as_str());
    incident.evidence = Some(summary.clone());
    incident.updated_at = now;
    let sum = |f: fn(&crate::evidence::SourceSummary) -> u64| added.iter().map(f).sum::<u64>();
    let formats: std::collections::BTreeSet<&str> =
        added.iter().map(|s| s.format.as_str()).collect();
    let detail = format!(
        "{label} ({}): {} records ({} reads, {} copies, {} denied, {} not reads, {} naming nobody on the roster); in all {} sources: {} accessors ({} not authorised); data of {} people read, of {} copied; {}",
        formats.into_iter().collect::<Vec<_>>().join(", "),
        sum(|s| s.events),
        sum(|s| s.reads),
        sum(|s| s.copies),
        sum(|s| s.denied),
        sum(|s| s.not_reads),
        sum(|s| s.unmatched),
        summary.sources,
        summary.accessors,
        summary.unauthorized_accessors,
        summary.people_read,
        summary.people_acquired,
        summary.statement
    );
    let event = EventDraft::new(actor, now, AuditAction::EvidenceImported, detail)
        .on_incident(id)
        .changed(before, summary.finding.as_str());
    desk.store.commit(&Changes {
        incidents: vec![incident],
        evidence: Some((id, evidence)),
        events: vec![event],
        ..Changes::default()
    })?;
    let mut summary = summary;
    summary.imported = names;
    summary.unchanged = unchanged;
    Ok(summary)
}

/// Sets the exposure window the access logs are held against, with the reason; the
/// evidence finding follows.
pub(super) fn set_exposure(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    from: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    reason: String,
) -> Result<Incident, DeskError> {
    let reason = super::local::reason_text(&reason)?;
    let now = desk.now();
    for t in [from, until].into_iter().flatten() {
        LocalDesk::not_future(t, now)?;
    }
    if let (Some(f), Some(u)) = (from, until)
        && u <= f
    {
        return Err(DeskError::NotConfigured(
            "the exposure ends before it starts: --until must come after --from".into(),
        ));
    }
    let evidence = if desk.load(id)?.purged.is_some() {
        None
    } else {
        desk.store.evidence(id)?
    };
    let show = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "-".to_owned(), crate::domain::when::rfc3339)
    };
    desk.change_incident(actor, id, |inc| {
        let before = format!("{} to {}", show(inc.exposed_from), show(inc.exposed_until));
        inc.exposed_from = from;
        inc.exposed_until = until;
        let after = format!("{} to {}", show(from), show(until));
        if let (Some(e), Some(summary)) = (&evidence, &inc.evidence) {
            let mut next = summarize(e, inc, now, &summary.source, summary.allow_list);
            next.imported_at = summary.imported_at;
            inc.evidence = Some(next);
        }
        Ok(Recorded::new(
            AuditAction::ExposureChanged,
            format!("exposure window {after}; {reason}"),
            before,
            after,
        ))
    })
}

/// The imported evidence in full: who read whose data (personal data: checked, logged).
pub(super) fn evidence(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
) -> Result<Evidence, DeskError> {
    desk.not_purged(id)?;
    let path = ReadPath::EvidenceSummary;
    let evidence = desk.store.evidence(id)?.unwrap_or_default();
    desk.record_read(actor, id, path, evidence.people.len())?;
    Ok(evidence)
}
