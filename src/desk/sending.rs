//! Sending the outbox. One sender at a time holds the send lease over the letters it sends
//! ([`crate::notify::SendLease`]); a second one is refused with who is sending and since
//! when. Letters stream from the store to a pool of connections. When the server accepts a
//! letter, its worker notes it in the store's send journal (one write, which outlives a
//! `kill -9`) before taking the next, so a crash resends at most one letter per connection,
//! with the same Message-ID and bytes. Delivery states are committed to the trees every few
//! hundred letters; the journal is emptied once the whole send is committed, and whatever a
//! dead sender left in it is applied when the database is next opened. Marking people
//! notified (which rewrites roster pages) is done in bulk, and redone from the delivery
//! states at the start of the next send if a crash cut it short.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::DeskError;
use super::local::LocalDesk;
use super::notifications::{SendOptions, SendProgress, sender};
use crate::access::{Need, Role};
use crate::domain::{AffectedPerson, AuditAction, EmployeeId, EventDraft, IncidentId, UserName};
use crate::notify::{
    self, Attempt, Delivery, DeliveryState, Finished, LEASE_RENEW, NotificationRef, SendError,
    SendLease, SmtpPool, SmtpTarget, TemplateName, Transport,
};
use crate::store::Changes;

use super::send_lease::{is_mine, release_lease, renew_lease, running, take_lease};

/// How many sent first notices are marked on the roster together.
const MARK_EVERY: usize = 2048;

/// How many letters the feeder reads together (one round trip on a database server).
const FEED_READ: usize = 64;

/// How many outcomes are committed to the trees together (the journal covers them meanwhile).
const COMMIT_EVERY: usize = 128;

/// The longest an outcome waits for its commit.
const COMMIT_AFTER: Duration = Duration::from_millis(100);

type Item = (NotificationRef, Delivery);

/// Runs the outbox (of one incident, or all: admins only) until every queued letter is sent
/// or has failed for good.
pub(super) fn send(
    desk: &LocalDesk,
    actor: &UserName,
    scope: Option<IncidentId>,
    options: &SendOptions,
    progress: &mut dyn FnMut(&SendProgress),
) -> Result<SendProgress, DeskError> {
    match scope {
        Some(id) => {
            let incident = desk.load(id)?;
            desk.guard(actor, &incident, Need::Change, "notify.send")?;
        }
        None => {
            desk.guard_role(actor, Role::Admin, "notify.send")?;
        }
    }
    let smtp = desk.settings.config.smtp.clone();
    let sender = Arc::new(sender(desk)?);
    // Check the configuration and build the TLS trust once, before any thread starts.
    let target = SmtpTarget::new(&smtp).map_err(|e| DeskError::NotConfigured(e.to_string()))?;
    let lease = take_lease(desk, actor, scope)?;
    // Letters an earlier send of this process had delivered but could not record (only
    // when no other send of this process is noting letters in the journal now).
    let alone = running().len() == 1;
    let settled = if alone {
        desk.store
            .settle_journal()
            .map(drop)
            .map_err(DeskError::from)
    } else {
        Ok(())
    };
    let result = settled.and_then(|()| {
        run(
            desk, actor, scope, options, sender, &target, &lease, progress,
        )
    });
    running().retain(|l| !is_mine(l, &lease));
    let released = release_lease(desk, &lease);
    let progress = result?;
    released?;
    Ok(progress)
}

/// One client per connection, all sharing the target's password and TLS trust.
fn transport_maker(
    target: &SmtpTarget,
) -> impl Fn() -> Box<dyn Transport> + Send + Sync + 'static + use<> {
    let target = target.clone();
    move || Box::new(target.client()) as Box<dyn Transport>
}

#[allow(clippy::too_many_arguments)]
fn run(
    desk: &LocalDesk,
    actor: &UserName,
    scope: Option<IncidentId>,
    options: &SendOptions,
    sender: Arc<notify::Sender>,
    target: &SmtpTarget,
    lease: &SendLease,
    progress: &mut dyn FnMut(&SendProgress),
) -> Result<SendProgress, DeskError> {
    let smtp = desk.settings.config.smtp.clone();
    let mut round = desk.store.deliveries(scope)?;
    let mut rec = SendRecorder::new(desk, lease);
    rec.catch_up_notified(&round)?;
    // In roster order (the outbox's key order): letters that sit together are read
    // together, and people are marked on a few roster pages at a time.
    round.retain(|(_, d)| matches!(d.state, DeliveryState::Queued | DeliveryState::Sending));
    round.shrink_to_fit();
    rec.progress.total = round.len();
    let connections = usize::try_from(smtp.connections.clamp(1, 64)).unwrap_or(8);
    let rate = options.rate.unwrap_or(smtp.rate);
    let stop = options.stop.clone();
    let mut result = Ok(());
    while !round.is_empty() {
        result = send_round(
            desk,
            &mut rec,
            &round,
            connections,
            rate,
            &sender,
            target,
            stop.clone(),
            progress,
        );
        if result.is_err() || stopping(stop.as_deref()) {
            break;
        }
        round = rec.due_retries(stop.as_deref());
    }
    let marked = rec.mark_notified();
    let now = desk.now();
    let via = format!("via {}:{}", smtp.host, smtp.port);
    let events = rec
        .per_incident
        .iter()
        .map(|(id, (sent, failed))| {
            let interrupted = if result.is_err() || rec.progress.parked > 0 {
                "; interrupted, the rest stays queued"
            } else {
                ""
            };
            EventDraft::new(
                actor,
                now,
                AuditAction::NotificationsSent,
                format!("{sent} letters sent, {failed} failed ({via}){interrupted}"),
            )
            .on_incident(*id)
        })
        .collect();
    {
        let _guard = desk.lock()?;
        desk.store.commit(&Changes::events(events))?;
    }
    result?;
    marked?;
    // Every worker has ended and every outcome is committed: the journal is spent.
    desk.store.clear_journal(scope)?;
    Ok(rec.progress)
}

fn stopping(stop: Option<&AtomicBool>) -> bool {
    stop.is_some_and(|s| s.load(Ordering::Relaxed))
}

/// Sends one pass over `items`: a feeder thread loads letters and hands them to the pool;
/// this thread records outcomes in group commits and lets each connection go on.
#[allow(clippy::too_many_arguments)]
fn send_round(
    desk: &LocalDesk,
    rec: &mut SendRecorder<'_>,
    items: &[Item],
    connections: usize,
    rate: u32,
    sender: &Arc<notify::Sender>,
    target: &SmtpTarget,
    stop: Option<Arc<AtomicBool>>,
    progress: &mut dyn FnMut(&SendProgress),
) -> Result<(), DeskError> {
    let (results_tx, results) = mpsc::channel::<Finished>();
    let journal = desk.store.send_journal();
    let note: Arc<notify::SentNote> = Arc::new(move |n: &notify::Notification| {
        journal
            .note(&n.target)
            .map(|rest| Box::new(move || rest.wait()) as notify::NoteWait)
            .map_err(|e| e.to_string())
    });
    let mut pool = SmtpPool::start(
        connections,
        Arc::clone(sender),
        stop.clone(),
        results_tx.clone(),
        note,
        transport_maker(target),
    );
    let fed = std::thread::scope(|s| {
        let feeder = s.spawn(|| {
            let fed = feed(desk, items, &pool, &results_tx, rate, stop.as_deref());
            pool.close();
            drop(results_tx);
            fed
        });
        let recorded = rec.record_all(items, &results, progress);
        // Unblock the feeder if recording failed: dropping the receiver ends the workers.
        drop(results);
        let fed = feeder.join().unwrap_or(Ok(items.len()));
        recorded.and(fed)
    });
    drop(pool);
    let fed = fed?;
    rec.progress.parked += items.len().saturating_sub(fed);
    Ok(())
}

/// Hands `items` to the pool in order, at `rate` a second when set; returns how many were
/// handed over (fewer when stopping).
fn feed(
    desk: &LocalDesk,
    items: &[Item],
    pool: &SmtpPool,
    results: &mpsc::Sender<Finished>,
    rate: u32,
    stop: Option<&AtomicBool>,
) -> Result<usize, DeskError> {
    // A reader thread loads the next block while this one hands out the last (on a database
    // server, a block's round trip and unsealing then overlap the sending).
    let (blocks_tx, blocks) = mpsc::sync_channel(0);
    std::thread::scope(|s| {
        s.spawn(move || {
            for block in items.chunks(FEED_READ) {
                let refs: Vec<&NotificationRef> = block.iter().map(|(r, _)| r).collect();
                let read = desk.store.notifications(&refs);
                let failed = read.is_err();
                if blocks_tx.send(read).is_err() || failed {
                    return;
                }
            }
        });
        let handed = hand_out(desk, items, pool, results, rate, stop, &blocks);
        // A reader waiting to hand over a block ends when it finds nobody taking it.
        drop(blocks);
        handed
    })
}

/// The feeder's half of [`feed`]: hands each block's letters to the pool as they come.
fn hand_out(
    desk: &LocalDesk,
    items: &[Item],
    pool: &SmtpPool,
    results: &mpsc::Sender<Finished>,
    rate: u32,
    stop: Option<&AtomicBool>,
    blocks: &mpsc::Receiver<Result<Vec<Option<notify::Notification>>, crate::store::StoreError>>,
) -> Result<usize, DeskError> {
    let interval = (rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(rate)));
    let mut next_slot = Instant::now();
    for (chunk, block) in items.chunks(FEED_READ).enumerate() {
        if stopping(stop) {
            return Ok(chunk * FEED_READ);
        }
        let Ok(letters) = blocks.recv() else {
            return Ok(chunk * FEED_READ);
        };
        let letters = letters?;
        for (at, ((r, _), letter)) in block.iter().zip(letters).enumerate() {
            let index = chunk * FEED_READ + at;
            if stopping(stop) {
                return Ok(index);
            }
            if let Some(interval) = interval {
                let now = Instant::now();
                if next_slot > now {
                    std::thread::sleep(next_slot - now);
                }
                next_slot = next_slot.max(now) + interval;
            }
            let Some(mut notification) = letter else {
                let missing = Err(SendError::Permanent(
                    "the letter is missing from the outbox".into(),
                ));
                let _ = results.send(Finished {
                    index,
                    outcome: missing,
                    unnoted: None,
                });
                continue;
            };
            if notification.message.is_some() {
                // Only the wire message goes out; the rendered parts would only take room
                // while the letter waits for a connection.
                notification.letter.text = String::new();
                notification.letter.html = String::new();
            }
            if !pool.submit(Attempt {
                index,
                notification,
                token: desk.store.bounce_token(r),
            }) {
                return Ok(index);
            }
        }
    }
    Ok(items.len())
}

/// Records outcomes and keeps the counts of one send.
struct SendRecorder<'a> {
    desk: &'a LocalDesk,
    lease: &'a SendLease,
    renewed: DateTime<Utc>,
    progress: SendProgress,
    /// Temporary failures, with when to try them again.
    waiting: Vec<(Instant, Item)>,
    /// First notices sent and not yet marked on the roster, each with the roster position
    /// its letter was queued for.
    told: BTreeMap<IncidentId, Vec<(EmployeeId, u64)>>,
    unmarked: usize,
    /// Where each incident's people are on its roster, loaded only when a letter's
    /// position no longer holds its person (never, as rosters only grow at the end).
    positions: HashMap<IncidentId, HashMap<EmployeeId, (u32, usize)>>,
    /// Sent and failed per incident, for the audit log.
    per_incident: BTreeMap<IncidentId, (usize, usize)>,
    /// Outcomes received but not yet committed (the sent ones are in the journal).
    uncommitted: Vec<Item>,
    committed_at: Instant,
}

impl<'a> SendRecorder<'a> {
    fn new(desk: &'a LocalDesk, lease: &'a SendLease) -> Self {
        SendRecorder {
            desk,
            lease,
            renewed: desk.now(),
            progress: SendProgress::default(),
            waiting: Vec::new(),
            told: BTreeMap::new(),
            unmarked: 0,
            positions: HashMap::new(),
            per_incident: BTreeMap::new(),
            uncommitted: Vec::new(),
            committed_at: Instant::now(),
        }
    }

    /// Receives outcomes until every worker and the feeder are done, committing whatever
    /// has arrived each time, and releasing the connections only after the commit.
    fn record_all(
        &mut self,
        items: &[Item],
        results: &mpsc::Receiver<Finished>,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<(), DeskError> {
        let mut group: Vec<Finished> = Vec::new();
        while let Ok(first) = results.recv() {
            group.push(first);
            while let Ok(more) = results.try_recv() {
                group.push(more);
            }
            let unnoted = group.iter().any(|f| f.unnoted.is_some());
            self.record(items, &group)?;
            group.clear();
            if unnoted
                || self.uncommitted.len() >= COMMIT_EVERY
                || self.committed_at.elapsed() >= COMMIT_AFTER
            {
                self.commit()?;
                progress(&self.progress);
            } else {
                // Let outcomes gather rather than be woken for each one (the journal holds
                // them meanwhile).
                std::thread::sleep(notify::TOP_UP);
            }
        }
        self.commit()?;
        progress(&self.progress);
        Ok(())
    }

    /// Commits the outcomes received so far. The journal is emptied only when the whole send
    /// is committed: workers note letters whose outcomes are still on their way here.
    fn commit(&mut self) -> Result<(), DeskError> {
        let desk = self.desk;
        self.committed_at = Instant::now();
        if !self.uncommitted.is_empty() {
            let _guard = desk.lock()?;
            desk.store.commit(&Changes {
                deliveries: std::mem::take(&mut self.uncommitted),
                ..Changes::default()
            })?;
        }
        if self.unmarked >= MARK_EVERY {
            self.mark_notified()?;
        }
        let now = desk.now();
        if now - self.renewed >= LEASE_RENEW {
            renew_lease(desk, self.lease)?;
            self.renewed = now;
        }
        Ok(())
    }

    fn record(&mut self, items: &[Item], group: &[Finished]) -> Result<(), DeskError> {
        let desk = self.desk;
        let now = desk.now();
        let smtp = &desk.settings.config.smtp;
        let mut deliveries = Vec::with_capacity(group.len());
        for finished in group {
            let Some((r, d)) = items.get(finished.index) else {
                continue;
            };
            let mut d = d.clone();
            d.attempts += 1;
            d.updated_at = now;
            let counts = self.per_incident.entry(r.incident).or_default();
            match &finished.outcome {
                Ok(()) => {
                    d.state = DeliveryState::Sent;
                    d.sent_at = Some(now);
                    d.last_error = None;
                    self.progress.sent += 1;
                    counts.0 += 1;
                    if r.template == TemplateName::Initial
                        && let Ok(e) = EmployeeId::parse(&r.recipient)
                    {
                        self.told.entry(r.incident).or_default().push((e, r.order));
                        self.unmarked += 1;
                    }
                }
                Err(SendError::Parked) => {
                    self.progress.parked += 1;
                    continue;
                }
                Err(SendError::Transient(reason)) if d.attempts < smtp.max_attempts => {
                    d.state = DeliveryState::Queued;
                    d.last_error = Some(reason.clone());
                    let wait = smtp
                        .retry_base_ms
                        .saturating_mul(1 << (d.attempts - 1).min(6))
                        .min(60_000);
                    let due = Instant::now() + Duration::from_millis(wait);
                    self.waiting.push((due, (r.clone(), d.clone())));
                }
                Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
                    d.state = DeliveryState::Failed;
                    d.last_error = Some(reason.clone());
                    self.progress.failed += 1;
                    counts.1 += 1;
                }
            }
            deliveries.push((r.clone(), d));
        }
        self.progress.retrying = self.waiting.len();
        self.uncommitted.extend(deliveries);
        Ok(())
    }

    /// The retries due next, waiting for the earliest when none is due yet.
    fn due_retries(&mut self, stop: Option<&AtomicBool>) -> Vec<Item> {
        let Some(earliest) = self.waiting.iter().map(|(t, _)| *t).min() else {
            return Vec::new();
        };
        let now = Instant::now();
        if earliest > now && !stopping(stop) {
            std::thread::sleep((earliest - now).min(Duration::from_secs(60)));
        }
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(t, _)| *t <= now);
        self.waiting = later;
        due.into_iter().map(|(_, item)| item).collect()
    }

    /// Marks people whose first notice went out in earlier sends but who were not yet
    /// marked (a send cut short between recording a letter and marking its person).
    fn catch_up_notified(&mut self, all: &[Item]) -> Result<(), DeskError> {
        let mut sent: HashMap<IncidentId, Vec<(EmployeeId, u64)>> = HashMap::new();
        for (r, d) in all {
            if d.state == DeliveryState::Sent
                && r.template == TemplateName::Initial
                && let Ok(e) = EmployeeId::parse(&r.recipient)
            {
                sent.entry(r.incident).or_default().push((e, r.order));
            }
        }
        for (id, people) in sent {
            let incident = self.desk.load(id)?;
            if incident.notified < people.len() as u64 {
                self.told.entry(id).or_default().extend(people);
            }
        }
        self.mark_notified()
    }

    /// Sets `notified_at` on each person told, reading their roster pages fresh (an import
    /// may have changed them meanwhile), and counts them on the incident.
    fn mark_notified(&mut self) -> Result<(), DeskError> {
        let desk = self.desk;
        let told = std::mem::take(&mut self.told);
        self.unmarked = 0;
        if told.is_empty() {
            return Ok(());
        }
        let now = desk.now();
        let _guard = desk.lock()?;
        let mut changes = Changes::default();
        for (id, people) in told {
            let mut pages: BTreeMap<u32, Vec<AffectedPerson>> = BTreeMap::new();
            let mut marked = 0;
            for (e, order) in &people {
                // A letter's order is its person's roster position: page and slot.
                let size = crate::store::PAGE_SIZE as u64;
                let mut at = (
                    u32::try_from(order / size).unwrap_or(u32::MAX),
                    usize::try_from(order % size).unwrap_or(usize::MAX),
                );
                if !pages.contains_key(&at.0)
                    && let Some(fresh) = desk.store.roster_page(id, at.0)?
                {
                    pages.insert(at.0, fresh);
                }
                let holds = pages
                    .get(&at.0)
                    .and_then(|p| p.get(at.1))
                    .is_some_and(|p| &p.employee_id == e);
                if !holds {
                    let roster = match self.positions.entry(id) {
                        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(desk.store.roster_positions(id)?)
                        }
                    };
                    let Some(&found) = roster.get(e) else {
                        continue;
                    };
                    at = found;
                }
                let (page, slot) = at;
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
                    marked += 1;
                }
            }
            if marked == 0 {
                continue;
            }
            let mut incident = desk.load(id)?;
            incident.notified += marked;
            changes.incidents.push(incident);
            changes
                .pages
                .extend(
                    pages
                        .into_iter()
                        .map(|(number, people)| crate::store::RosterPage {
                            incident: id,
                            number,
                            people,
                        }),
                );
        }
        desk.store.commit(&changes)?;
        Ok(())
    }
}
