//! The desk's notification actions: preview, queue, send, status and retry. Sending runs the
//! outbox through a pool of connections in batches: each batch is marked `sending` before it
//! goes and recorded after, so a crash loses nobody, and a message sent again carries the
//! same Message-ID and content.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{DeskError, LocalDesk, PeopleFilter};
use crate::domain::text::display_path;
use crate::domain::{
    AffectedPerson, AuditAction, Email, EmployeeId, EventDraft, IncidentId, UserName,
};
use crate::notify::{
    self, Delivery, DeliveryState, DirTransport, IncidentContext, Notification, NotificationRef,
    Pool, SendError, Sender, SmtpClient, TemplateName, Transport,
};
use crate::store::Changes;

/// How many messages are marked, sent and recorded together.
const BATCH: usize = 512;
/// How many queued letters are written together.
const QUEUE_CHUNK: usize = 2000;

/// What queuing did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueReport {
    pub queued: usize,
    pub already: usize,
}

/// How to send.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// Messages per second; `None` takes the configured rate.
    pub rate: Option<u32>,
    /// Write `.eml` files here instead of sending.
    pub to_dir: Option<PathBuf>,
    /// When set, no new letters are started; those in flight finish and are recorded, the
    /// rest stay queued for the next run (the daemon sets it on SIGTERM).
    pub stop: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Where a send run stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendProgress {
    pub total: usize,
    pub sent: usize,
    pub failed: usize,
    /// Waiting to be tried again after a temporary failure.
    pub retrying: usize,
    /// Left queued, untried, because the sender was stopping.
    #[serde(default)]
    pub parked: usize,
}

/// A notification that failed, with the server's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureView {
    pub template: String,
    pub recipient: String,
    pub attempts: u32,
    pub error: String,
}

/// Counts per state and the failures of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxStatus {
    pub incident: String,
    pub counts: BTreeMap<String, usize>,
    pub by_template: BTreeMap<String, BTreeMap<String, usize>>,
    pub failures: Vec<FailureView>,
}

fn sender(desk: &LocalDesk) -> Result<Sender, DeskError> {
    let smtp = &desk.settings.config.smtp;
    let from = smtp.from.as_deref().ok_or_else(|| {
        DeskError::NotConfigured(
            "no sender address: set `from` under [smtp] in the config file".into(),
        )
    })?;
    Ok(Sender::new(from, smtp.reply_to.as_deref())?)
}

/// The context shared by all letters of an incident, and the roster.
fn incident_context(
    desk: &LocalDesk,
    id: IncidentId,
) -> Result<(IncidentContext, Vec<AffectedPerson>), DeskError> {
    let incident = desk.load(id)?;
    let programs = desk.store.programs()?;
    let people: Vec<AffectedPerson> = desk.store.people(id).collect::<Result<_, _>>()?;
    let stats = notify::stats(&people, &desk.settings.catalog);
    let ctx = IncidentContext::new(&incident, &programs, &desk.settings.config.contact, stats)
        .with_evidence(desk.store.evidence(id)?);
    Ok((ctx, people))
}

/// A stand-in person for letters to staff (the stakeholder brief).
fn staff(address: &Email) -> AffectedPerson {
    AffectedPerson {
        employee_id: EmployeeId::parse(&format!("brief:{address}"))
            .expect("an address has no spaces"),
        name: String::new(),
        email: address.clone(),
        categories: Default::default(),
        location: None,
        notified_at: None,
    }
}

pub(super) fn preview(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    template: TemplateName,
    person: Option<&EmployeeId>,
) -> Result<String, DeskError> {
    let (ctx, people) = incident_context(desk, id)?;
    let person = match person {
        Some(wanted) => people
            .iter()
            .find(|p| &p.employee_id == wanted)
            .cloned()
            .ok_or_else(|| DeskError::NoPerson(wanted.clone(), id))?,
        None if template.is_for_people() => {
            people.first().cloned().ok_or(DeskError::EmptyRoster(id))?
        }
        None => {
            staff(&Email::parse(&desk.settings.config.contact.email).map_err(DeskError::Invalid)?)
        }
    };
    let letter = desk
        .settings
        .templates
        .render(template, &ctx.for_person(&person, &desk.settings.catalog))?;
    let sender = sender(desk).or_else(|_| Sender::new("breachdesk@localhost.invalid", None))?;
    let n = Notification::new(
        target(id, template, &person, 0),
        person.email.to_string(),
        person.name.clone(),
        letter,
        sender.domain(),
        desk.now(),
        actor,
    );
    let message = notify::build(&n, &sender)?;
    Ok(String::from_utf8_lossy(&message.formatted()).into_owned())
}

fn target(
    id: IncidentId,
    template: TemplateName,
    person: &AffectedPerson,
    order: u64,
) -> NotificationRef {
    NotificationRef {
        incident: id,
        template,
        recipient: person.employee_id.to_string(),
        order,
    }
}

pub(super) fn queue(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    template: TemplateName,
    filter: &PeopleFilter,
    recipients: &[Email],
) -> Result<QueueReport, DeskError> {
    let sender = sender(desk)?;
    let _guard = desk.lock();
    let (ctx, people) = incident_context(desk, id)?;
    let targets: Vec<(u64, AffectedPerson)> = if template.is_for_people() {
        if !recipients.is_empty() {
            return Err(DeskError::NotConfigured(format!(
                "'{template}' goes to the affected people; --recipient is for stakeholder-brief"
            )));
        }
        let needle = filter.text.as_deref().map(str::to_lowercase);
        people
            .iter()
            .enumerate()
            .filter(|(_, p)| filter.admits(p, needle.as_deref()))
            .map(|(at, p)| (at as u64, p.clone()))
            .collect()
    } else {
        if recipients.is_empty() {
            return Err(DeskError::NotConfigured(
                "stakeholder-brief goes to staff: name them with --recipient ADDRESS".into(),
            ));
        }
        recipients
            .iter()
            .map(|r| (NotificationRef::STAFF, staff(r)))
            .collect()
    };
    let now = desk.now();
    let mut report = QueueReport {
        queued: 0,
        already: 0,
    };
    // Letters are written a chunk at a time so memory stays bounded on a 100,000-person
    // roster. Queuing is idempotent, so a run cut short is finished by queuing again.
    let mut letters = Vec::with_capacity(QUEUE_CHUNK);
    for (order, person) in &targets {
        let target = target(id, template, person, *order);
        if desk.store.has_notification(&target)? {
            report.already += 1;
            continue;
        }
        let letter = match desk
            .settings
            .templates
            .render(template, &ctx.for_person(person, &desk.settings.catalog))
        {
            Ok(letter) => letter,
            Err(e) => {
                desk.store.commit(&Changes {
                    letters: std::mem::take(&mut letters),
                    ..Changes::default()
                })?;
                return Err(DeskError::RenderFor(
                    e,
                    person.employee_id.to_string(),
                    report.queued,
                ));
            }
        };
        let mut n = Notification::new(
            target,
            person.email.to_string(),
            person.name.clone(),
            letter,
            sender.domain(),
            now,
            actor,
        );
        n.message = Some(notify::wire_text(&n, &sender)?);
        letters.push(n);
        report.queued += 1;
        if letters.len() >= QUEUE_CHUNK {
            desk.store.commit(&Changes {
                letters: std::mem::take(&mut letters),
                ..Changes::default()
            })?;
        }
    }
    if report.queued > 0 {
        let detail = format!(
            "queued {} '{template}' letters ({} already in the outbox)",
            report.queued, report.already
        );
        desk.store.commit(&Changes {
            letters,
            events: vec![
                EventDraft::new(actor, now, AuditAction::NotificationsQueued, detail)
                    .on_incident(id),
            ],
            ..Changes::default()
        })?;
    }
    Ok(report)
}

pub(super) fn status(desk: &LocalDesk, id: IncidentId) -> Result<OutboxStatus, DeskError> {
    desk.load(id)?;
    let mut counts: BTreeMap<String, usize> = DeliveryState::ALL
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let mut by_template: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (r, d) in desk.store.deliveries(Some(id))? {
        *counts.entry(d.state.to_string()).or_default() += 1;
        *by_template
            .entry(r.template.to_string())
            .or_default()
            .entry(d.state.to_string())
            .or_default() += 1;
        if d.state == DeliveryState::Failed {
            failures.push(FailureView {
                template: r.template.to_string(),
                recipient: r.recipient,
                attempts: d.attempts,
                error: d.last_error.unwrap_or_default(),
            });
        }
    }
    Ok(OutboxStatus {
        incident: id.to_string(),
        counts,
        by_template,
        failures,
    })
}

pub(super) fn retry(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
) -> Result<usize, DeskError> {
    let _guard = desk.lock();
    desk.load(id)?;
    let now = desk.now();
    let failed: Vec<(NotificationRef, Delivery)> = desk
        .store
        .deliveries(Some(id))?
        .into_iter()
        .filter(|(_, d)| d.state == DeliveryState::Failed)
        .map(|(r, d)| {
            let requeued = Delivery {
                state: DeliveryState::Queued,
                attempts: 0,
                updated_at: now,
                ..d
            };
            (r, requeued)
        })
        .collect();
    let count = failed.len();
    if count > 0 {
        let detail = format!("requeued {count} failed letters");
        desk.store.commit(&Changes {
            deliveries: failed,
            events: vec![
                EventDraft::new(actor, now, AuditAction::NotificationsRetried, detail)
                    .on_incident(id),
            ],
            ..Changes::default()
        })?;
    }
    Ok(count)
}

pub(super) fn test_smtp(desk: &LocalDesk) -> Result<String, DeskError> {
    let mut client = SmtpClient::new(&desk.settings.config.smtp)
        .map_err(|e| DeskError::NotConfigured(e.to_string()))?;
    client
        .check()
        .map_err(|e| DeskError::Delivery(e.to_string()))
}

/// Runs the outbox until every queued letter is sent or has failed for good.
pub(super) fn send(
    desk: &LocalDesk,
    actor: &UserName,
    scope: Option<IncidentId>,
    options: &SendOptions,
    progress: &mut dyn FnMut(&SendProgress),
) -> Result<SendProgress, DeskError> {
    if let Some(id) = scope {
        desk.load(id)?;
    }
    let smtp = desk.settings.config.smtp.clone();
    let sender = Arc::new(sender(desk)?);
    let (connections, connect): (usize, Box<dyn Fn() -> Box<dyn Transport> + Send + Sync>) =
        match &options.to_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DeskError::NotConfigured(format!("cannot create {}: {e}", display_path(dir)))
                })?;
                let dir = dir.clone();
                (
                    1,
                    Box::new(move || Box::new(DirTransport { dir: dir.clone() })),
                )
            }
            None => {
                // Check the configuration once, before any thread starts.
                SmtpClient::new(&smtp).map_err(|e| DeskError::NotConfigured(e.to_string()))?;
                let settings = smtp.clone();
                let n = usize::try_from(smtp.connections.clamp(1, 64)).unwrap_or(8);
                (
                    n,
                    Box::new(move || match SmtpClient::new(&settings) {
                        Ok(client) => Box::new(client) as Box<dyn Transport>,
                        Err(e) => Box::new(Broken(e.to_string())),
                    }),
                )
            }
        };
    // In roster order (the outbox's key order), so each batch marks people notified on a
    // few roster pages and reads letters that sit together.
    let pending: Vec<(NotificationRef, Delivery)> = desk
        .store
        .deliveries(scope)?
        .into_iter()
        .filter(|(_, d)| matches!(d.state, DeliveryState::Queued | DeliveryState::Sending))
        .collect();
    let pending = VecDeque::from(pending);
    let mut state = Run {
        progress: SendProgress {
            total: pending.len(),
            ..SendProgress::default()
        },
        pending,
        waiting: Vec::new(),
        positions: HashMap::new(),
        per_incident: BTreeMap::new(),
    };
    if state.progress.total == 0 {
        return Ok(state.progress);
    }
    let mut pool = Pool::start(
        connections,
        sender,
        options.rate.unwrap_or(smtp.rate),
        options.stop.clone(),
        connect,
    );
    // Two batches overlap: while the pool sends one, the next is loaded and handed over,
    // and the one before is recorded.
    let mut in_flight: Option<InFlight> = None;
    loop {
        let stopping = options
            .stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed));
        let batch = if stopping {
            None
        } else if in_flight.is_some() {
            state.try_batch()
        } else {
            state.next_batch()
        };
        let submitted = match batch {
            Some(batch) => Some(submit(desk, &mut pool, batch)?),
            None => None,
        };
        let idle = submitted.is_none() && in_flight.is_none();
        if let Some(previous) = in_flight.take() {
            let outcomes = pool.wait(previous.ticket);
            let mut results: Vec<(NotificationRef, Delivery, Result<(), SendError>)> = previous
                .kept
                .into_iter()
                .zip(outcomes)
                .map(|((r, d), o)| (r, d, o))
                .collect();
            results.extend(previous.missing.into_iter().map(|(r, d)| {
                (
                    r,
                    d,
                    Err(SendError::Permanent(
                        "the letter is missing from the outbox".into(),
                    )),
                )
            }));
            state.record(desk, results, &smtp)?;
            progress(&state.progress);
        }
        in_flight = submitted;
        if idle {
            break;
        }
    }
    let now = desk.now();
    let events = state
        .per_incident
        .iter()
        .map(|(id, (sent, failed))| {
            let via = options
                .to_dir
                .as_ref()
                .map_or(format!("via {}:{}", smtp.host, smtp.port), |d| {
                    format!("to files in {}", display_path(d))
                });
            EventDraft::new(
                actor,
                now,
                AuditAction::NotificationsSent,
                format!("{sent} letters sent, {failed} failed ({via})"),
            )
            .on_incident(*id)
        })
        .collect();
    let _guard = desk.lock();
    desk.store.commit(&Changes::events(events))?;
    Ok(state.progress)
}

/// A batch handed to the pool and not yet recorded.
struct InFlight {
    ticket: notify::Ticket,
    kept: Vec<(NotificationRef, Delivery)>,
    missing: Vec<(NotificationRef, Delivery)>,
}

/// Loads a batch's letters, marks them `sending` and hands them to the pool.
fn submit(
    desk: &LocalDesk,
    pool: &mut Pool,
    batch: Vec<(NotificationRef, Delivery)>,
) -> Result<InFlight, DeskError> {
    let mut letters = Vec::with_capacity(batch.len());
    let mut kept = Vec::with_capacity(batch.len());
    let mut missing = Vec::new();
    for (r, d) in batch {
        match desk.store.notification(&r)? {
            Some(n) => {
                letters.push(n);
                kept.push((r, d));
            }
            None => missing.push((r, d)),
        }
    }
    let now = desk.now();
    let sending = kept
        .iter()
        .map(|(r, d)| {
            let mut d = d.clone();
            d.state = DeliveryState::Sending;
            d.updated_at = now;
            (r.clone(), d)
        })
        .collect();
    {
        let _guard = desk.lock();
        desk.store.commit_unflushed(&Changes {
            deliveries: sending,
            ..Changes::default()
        })?;
    }
    let ticket = pool.submit(letters);
    Ok(InFlight {
        ticket,
        kept,
        missing,
    })
}

/// A transport that could not be set up: every message fails temporarily with the reason.
struct Broken(String);

impl Transport for Broken {
    fn send(&mut self, _: &notify::Outgoing<'_>) -> Result<(), SendError> {
        Err(SendError::Transient(self.0.clone()))
    }
}

/// The state of one send run.
struct Run {
    progress: SendProgress,
    pending: VecDeque<(NotificationRef, Delivery)>,
    /// Temporary failures, with when to try them again.
    waiting: Vec<(Instant, NotificationRef, Delivery)>,
    /// Where each incident's people are on its roster, loaded on first use.
    positions: HashMap<IncidentId, HashMap<EmployeeId, (u32, usize)>>,
    /// Sent and failed per incident, for the audit log.
    per_incident: BTreeMap<IncidentId, (usize, usize)>,
}

impl Run {
    /// The next batch: queued letters first, then retries that are due; waits for the
    /// earliest retry when nothing else is left.
    fn next_batch(&mut self) -> Option<Vec<(NotificationRef, Delivery)>> {
        loop {
            if let Some(batch) = self.try_batch() {
                return Some(batch);
            }
            let now = Instant::now();
            let next = self.waiting.iter().map(|(t, _, _)| *t).min()?;
            std::thread::sleep(
                next.saturating_duration_since(now)
                    .min(Duration::from_secs(60)),
            );
        }
    }

    /// The next batch if one is ready now.
    fn try_batch(&mut self) -> Option<Vec<(NotificationRef, Delivery)>> {
        {
            let now = Instant::now();
            let mut batch: Vec<_> = Vec::with_capacity(BATCH);
            while batch.len() < BATCH {
                match self.pending.pop_front() {
                    Some(item) => batch.push(item),
                    None => break,
                }
            }
            let mut i = 0;
            while i < self.waiting.len() && batch.len() < BATCH {
                if self.waiting[i].0 <= now {
                    let (_, r, d) = self.waiting.swap_remove(i);
                    batch.push((r, d));
                } else {
                    i += 1;
                }
            }
            self.progress.retrying = self.waiting.len();
            (!batch.is_empty()).then_some(batch)
        }
    }

    /// Records a batch's outcomes, and marks people notified once their first notice is sent.
    fn record(
        &mut self,
        desk: &LocalDesk,
        results: Vec<(NotificationRef, Delivery, Result<(), SendError>)>,
        smtp: &notify::SmtpSettings,
    ) -> Result<(), DeskError> {
        let now = desk.now();
        let mut deliveries = Vec::with_capacity(results.len());
        let mut newly_told: BTreeMap<IncidentId, Vec<EmployeeId>> = BTreeMap::new();
        for (r, mut d, outcome) in results {
            d.attempts += 1;
            d.updated_at = now;
            let counts = self.per_incident.entry(r.incident).or_default();
            match outcome {
                Ok(()) => {
                    d.state = DeliveryState::Sent;
                    d.sent_at = Some(now);
                    d.last_error = None;
                    self.progress.sent += 1;
                    counts.0 += 1;
                    if r.template == TemplateName::Initial
                        && let Ok(e) = EmployeeId::parse(&r.recipient)
                    {
                        newly_told.entry(r.incident).or_default().push(e);
                    }
                }
                Err(SendError::Parked) => {
                    d.attempts -= 1;
                    d.state = DeliveryState::Queued;
                    self.progress.parked += 1;
                }
                Err(SendError::Transient(reason)) if d.attempts < smtp.max_attempts => {
                    d.state = DeliveryState::Queued;
                    d.last_error = Some(reason);
                    let wait = smtp
                        .retry_base_ms
                        .saturating_mul(1 << (d.attempts - 1).min(6))
                        .min(60_000);
                    self.waiting.push((
                        Instant::now() + Duration::from_millis(wait),
                        r.clone(),
                        d.clone(),
                    ));
                }
                Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
                    d.state = DeliveryState::Failed;
                    d.last_error = Some(reason);
                    self.progress.failed += 1;
                    counts.1 += 1;
                }
            }
            deliveries.push((r, d));
        }
        self.progress.retrying = self.waiting.len();
        let _guard = desk.lock();
        let mut changes = Changes {
            deliveries,
            ..Changes::default()
        };
        for (id, people) in newly_told {
            self.mark_notified(desk, id, &people, now, &mut changes)?;
        }
        desk.store.commit(&changes)?;
        Ok(())
    }

    /// Sets `notified_at` on each person, reading their roster pages fresh (an import may
    /// have changed them meanwhile), and counts them on the incident.
    fn mark_notified(
        &mut self,
        desk: &LocalDesk,
        id: IncidentId,
        people: &[EmployeeId],
        now: chrono::DateTime<chrono::Utc>,
        changes: &mut Changes,
    ) -> Result<(), DeskError> {
        let roster = match self.positions.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(desk.store.roster_positions(id)?)
            }
        };
        let mut pages: BTreeMap<u32, Vec<AffectedPerson>> = BTreeMap::new();
        let mut told = 0;
        for e in people {
            let Some(&(page, slot)) = roster.get(e) else {
                continue;
            };
            if !pages.contains_key(&page)
                && let Some(fresh) = desk.store.roster_page(id, page)?
            {
                pages.insert(page, fresh);
            }
            if let Some(person) = pages.get_mut(&page).and_then(|p| p.get_mut(slot))
                && &person.employee_id == e
                && person.notified_at.is_none()
            {
                person.notified_at = Some(now);
                told += 1;
            }
        }
        if told == 0 {
            return Ok(());
        }
        let mut incident = desk.load(id)?;
        incident.notified += told;
        changes.incidents.push(incident);
        changes.pages.extend(
            pages
                .into_iter()
                .map(|(number, people)| crate::store::RosterPage {
                    incident: id,
                    number,
                    people,
                }),
        );
        Ok(())
    }
}
