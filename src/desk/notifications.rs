//! The desk's notification actions: preview, queue, export, and rebuilding letters after a
//! re-import. Status and retry are in [`super::outbox`], sending in [`super::sending`],
//! bounces in [`super::bounces`].

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::local::Caller;
use super::local::LocalDesk;
use super::{DeskError, PeopleFilter, ReadPath};
use super::{letter_check, queue_pipeline};
use crate::access::Need;
use crate::domain::{
    AffectedPerson, AuditAction, Email, EmployeeId, EventDraft, IncidentId, UserName,
};
use crate::notify::{
    self, Delivery, DeliveryState, IncidentContext, Notification, NotificationRef, Sender,
    SmtpClient, TemplateName,
};
use crate::store::{Changes, SealedNew};

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

pub(super) fn sender(desk: &LocalDesk) -> Result<Sender, DeskError> {
    let smtp = &desk.settings.config.smtp;
    let from = smtp.from.as_deref().ok_or_else(|| {
        DeskError::NotConfigured(
            "no sender address: set `from` under [smtp] in the config file".into(),
        )
    })?;
    Ok(Sender::new(
        from,
        smtp.reply_to.as_deref(),
        smtp.bounce_address.as_deref(),
    )?)
}

/// The context shared by all letters of an incident, and how many people on its roster
/// `admit` lets through. The roster is read a page at a time and not kept: 100,000 people
/// held at once are about 60 MB.
fn incident_context(
    desk: &LocalDesk,
    id: IncidentId,
    mut admit: impl FnMut(&AffectedPerson) -> bool,
) -> Result<(IncidentContext, usize), DeskError> {
    let incident = desk.load(id)?;
    let programs = desk.store.programs()?;
    let mut failed = None;
    let mut admitted = 0;
    let people = desk.store.people(id).map_while(|p| match p {
        Ok(p) => Some(p),
        Err(e) => {
            failed = Some(e);
            None
        }
    });
    let stats = notify::stats(
        people.inspect(|p| admitted += usize::from(admit(p))),
        &desk.settings.catalog,
    );
    if let Some(e) = failed {
        return Err(e.into());
    }
    let ctx = IncidentContext::new(&incident, &programs, &desk.settings.config.contact, stats)
        .with_evidence(desk.store.evidence(id)?)
        .with_law(&desk.settings.rules, desk.now());
    Ok((ctx, admitted))
}

/// A stand-in person for letters to staff (the stakeholder brief).
fn staff(address: &Email) -> Result<AffectedPerson, DeskError> {
    // An address may be up to 254 characters and an employee id 128: a long one is named by
    // its digest instead (it only tells the stand-ins apart).
    let text = format!("brief:{address}");
    let id = if text.len() <= 128 {
        text
    } else {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(address.as_str().as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("brief:sha256-{hex}")
    };
    Ok(AffectedPerson {
        employee_id: EmployeeId::parse(&id).map_err(|e| DeskError::Internal(e.to_string()))?,
        name: String::new(),
        email: address.clone(),
        categories: Default::default(),
        location: None,
        notified_at: None,
        bounced: None,
        language: None,
    })
}

/// The exact message one person would get (the first on the roster by default): a read
/// of personal data, so checked and logged.
pub(super) fn preview(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    template: TemplateName,
    person: Option<EmployeeId>,
) -> Result<String, DeskError> {
    desk.not_purged(id)?;
    let path = ReadPath::LetterPreview;
    let letter = render_preview(desk, actor, id, template, person.as_ref())?;
    desk.record_read(actor, id, path, 1)?;
    Ok(letter)
}

fn render_preview(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    template: TemplateName,
    person: Option<&EmployeeId>,
) -> Result<String, DeskError> {
    let (ctx, _) = incident_context(desk, id, |_| false)?;
    let mut people = desk.store.people(id);
    let person = match person {
        Some(wanted) => people
            .find(|p| p.as_ref().map_or(true, |p| &p.employee_id == wanted))
            .transpose()?
            .ok_or_else(|| DeskError::NoPerson(wanted.clone(), id))?,
        None if template.is_for_people() => people
            .next()
            .transpose()?
            .ok_or(DeskError::EmptyRoster(id))?,
        None => {
            staff(&Email::parse(&desk.settings.config.contact.email).map_err(DeskError::Invalid)?)?
        }
    };
    let letter = desk
        .settings
        .templates
        .render(template, &ctx.for_person(&person, &desk.settings.catalog))?;
    let sender =
        sender(desk).or_else(|_| Sender::new("breachdesk@localhost.invalid", None, None))?;
    let n = Notification::new(
        target(id, template, &person, 0),
        person.email.to_string(),
        person.name.clone(),
        letter,
        sender.domain(),
        desk.now(),
        actor,
    );
    Ok(notify::wire_text(&n, &sender)?)
}

/// A letter for the outbox, its wire message built once so that every attempt sends the
/// same bytes.
fn queued_letter(
    target: NotificationRef,
    person: &AffectedPerson,
    letter: notify::Letter,
    sender: &Sender,
    now: chrono::DateTime<chrono::Utc>,
    actor: &UserName,
) -> Result<Notification, DeskError> {
    let mut n = Notification::new(
        target,
        person.email.to_string(),
        person.name.clone(),
        letter,
        sender.domain(),
        now,
        actor,
    );
    n.message = Some(notify::wire_text(&n, sender)?);
    // The message holds both parts; the store keeps only it (`store/letters.rs`), so the
    // parts are let go here rather than carried to the commit.
    n.letter.text = String::new();
    n.letter.html = String::new();
    Ok(n)
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
    actor: &Caller<'_>,
    id: IncidentId,
    template: TemplateName,
    filter: PeopleFilter,
    recipients: Vec<Email>,
    incomplete: Option<String>,
) -> Result<QueueReport, DeskError> {
    if let Some(category) = &filter.category {
        desk.settings.catalog.check(category)?;
    }
    if let Some(reason) = &incomplete
        && (reason.trim().is_empty() || reason.len() > 1000 || reason.chars().any(char::is_control))
    {
        return Err(DeskError::NotConfigured(
            "the reason for queuing an incomplete letter must be one line of text (at most 1,000 bytes)".into(),
        ));
    }
    let sender = sender(desk)?;
    if template.is_for_people()
        && let Some(problem) = desk.settings.config.contact.problem()
    {
        return Err(DeskError::NotConfigured(format!("not queuing: {problem}")));
    }
    let _guard = desk.lock()?;
    // Membership may have changed since the session admitted the call.
    desk.recheck(actor, &desk.load(id)?)?;
    let for_people = template.is_for_people();
    let needle = filter.text.as_deref().map(str::to_lowercase);
    let admits = |p: &AffectedPerson| filter.admits(p, needle.as_deref());
    // The first notice is checked against what each person's law requires, on one letter
    // per distinct set of rules, before anything is written.
    let check_law = template == TemplateName::Initial;
    let mut samples = letter_check::Samples::new();
    let (ctx, admitted) = incident_context(desk, id, |p| {
        let admitted = admits(p);
        if admitted && check_law {
            letter_check::sample(desk, &mut samples, p);
        }
        admitted
    })?;
    let incomplete_note =
        letter_check::gate(desk, &ctx, template, &samples, incomplete.as_deref())?;
    let incomplete_note = std::cell::Cell::new(incomplete_note);
    // Stakeholder briefs go to the named staff, letters to people to those the filter admits.
    let staff_people: Vec<AffectedPerson> = if for_people {
        if !recipients.is_empty() {
            return Err(DeskError::NotConfigured(format!(
                "'{template}' goes to the affected people; --recipient is for stakeholder-brief"
            )));
        }
        Vec::new()
    } else {
        if recipients.is_empty() {
            return Err(DeskError::NotConfigured(
                "stakeholder-brief goes to staff: name them with --recipient ADDRESS".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        recipients
            .iter()
            .filter(|r| seen.insert(r.to_string()))
            .map(staff)
            .collect::<Result<_, _>>()?
    };
    let total = if for_people {
        admitted
    } else {
        staff_people.len()
    };
    // Each target with its order: its roster position, streamed from the store (under the
    // writer lock, so the roster is the one the context was counted from).
    let targets = || -> queue_pipeline::Targets<'_> {
        if for_people {
            Box::new(
                desk.store
                    .people(id)
                    .enumerate()
                    .map(|(at, p)| p.map(|p| (at as u64, p)).map_err(DeskError::from))
                    .filter(|p| p.as_ref().map_or(true, |(_, p)| admits(p))),
            )
        } else {
            Box::new(
                staff_people
                    .iter()
                    .map(|p| Ok((NotificationRef::STAFF, p.clone()))),
            )
        }
    };
    let now = desk.now();
    let mut report = QueueReport {
        queued: 0,
        already: 0,
    };
    // Letters are written a chunk at a time so memory stays bounded on a 100,000-person
    // roster, each chunk with the audit event that describes it, so that the log matches
    // the outbox however the run ends. Queuing is idempotent: a run cut short is finished
    // by queuing again.
    let event = |count: usize, upto: usize| {
        let mut detail =
            format!("queued {count} '{template}' letters ({upto} of {total} so far in this run)");
        // The first chunk's event says why an incomplete letter was queued.
        if let Some(note) = incomplete_note.take() {
            detail.push_str("; ");
            detail.push_str(&note);
        }
        EventDraft::new(actor, now, AuditAction::NotificationsQueued, detail).on_incident(id)
    };
    let commit = |sealed: Vec<SealedNew>, upto: usize| -> Result<(), DeskError> {
        if sealed.is_empty() {
            return Ok(());
        }
        let events = vec![event(sealed.len(), upto)];
        desk.store.commit(&Changes {
            sealed,
            events,
            ..Changes::default()
        })?;
        Ok(())
    };
    let make = |order: u64, person: &AffectedPerson| -> Result<Notification, DeskError> {
        let letter = desk
            .settings
            .templates
            .render(template, &ctx.for_person(person, &desk.settings.catalog))
            .map_err(|e| DeskError::RenderFor(e, person.employee_id.to_string(), 0))?;
        queued_letter(
            target(id, template, person, order),
            person,
            letter,
            &sender,
            now,
            actor,
        )
    };
    // The letters are sealed on the threads that build them, against the dictionary of
    // this incident and template (made from the first letter when there is none yet).
    let Some(first) = targets().next().transpose()? else {
        return Ok(report);
    };
    let sealer = desk.store.letter_sealer(&make(first.0, &first.1)?)?;
    // Under the writer lock, only this run adds letters of this template, and never twice
    // to one target (roster positions are unique; staff addresses are deduplicated).
    let queued_before = desk.store.queued_letters(id, template)?;
    let build = |order: u64, person: &AffectedPerson| -> Result<Option<SealedNew>, DeskError> {
        if desk
            .store
            .is_queued(&queued_before, &target(id, template, person, order))
        {
            return Ok(None);
        }
        let letter = make(order, person)?;
        Ok(Some(sealer.seal(&letter)?))
    };
    let mut written = 0;
    let (queued, already) = queue_pipeline::run(targets(), &build, |letters, upto| {
        written += letters.len();
        commit(letters, upto)
    })
    .map_err(|e| match e {
        // The letters written before the one that failed.
        DeskError::RenderFor(e, who, _) => DeskError::RenderFor(e, who, written),
        e => e,
    })?;
    report.queued = queued;
    report.already = already;
    Ok(report)
}

/// Connects and logs in to the configured mail server.
/// What stops letters going out as configured: no sender, no contact. (Whether the mail
/// server answers is `test_smtp`'s to say.)
pub(super) fn readiness(desk: &LocalDesk, _actor: &UserName) -> Result<Vec<String>, DeskError> {
    let config = &desk.settings.config;
    let mut problems = Vec::new();
    // The same check and words as queuing and sending use.
    if let Err(e) = sender(desk) {
        problems.push(e.to_string());
    }
    if let Some(problem) = config.contact.problem() {
        problems.push(problem.to_owned());
    }
    Ok(problems)
}

pub(super) fn test_smtp(desk: &LocalDesk, _actor: &UserName) -> Result<String, DeskError> {
    let mut client = SmtpClient::new(&desk.settings.config.smtp)
        .map_err(|e| DeskError::NotConfigured(e.to_string()))?;
    client
        .check()
        .map_err(|e| DeskError::Delivery(e.to_string()))
}

/// Writes the incident's queued letters as `.eml` files named after each person's roster
/// position (`000042-initial.eml`), each created new with mode 0600 and never through a
/// symbolic link. It reads the outbox and writes nothing to it.
pub(super) fn export(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    dir: &Path,
) -> Result<usize, DeskError> {
    desk.not_purged(id)?;
    let incident = desk.load(id)?;
    let path = ReadPath::LetterExport;
    desk.guard(actor, &incident, Need::PersonalData, path.as_str())?;
    let written = write_letters(desk, id, dir)?;
    desk.record_read(actor, id, path, written)?;
    Ok(written)
}

fn write_letters(desk: &LocalDesk, id: IncidentId, dir: &Path) -> Result<usize, DeskError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let shown = crate::domain::text::display_path(dir);
    let io = |what: &str, e: std::io::Error| {
        DeskError::NotConfigured(format!("cannot {what} {shown}: {e}"))
    };
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => {
            return Err(DeskError::NotConfigured(format!(
                "{shown} is not a directory (a symbolic link is not followed); give a directory"
            )));
        }
        Ok(_) => {}
        Err(_) => std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(|e| io("create", e))?,
    }
    let sender = sender(desk)?;
    let mut written = 0;
    for (n, (r, d)) in desk.store.deliveries(Some(id))?.into_iter().enumerate() {
        if !matches!(d.state, DeliveryState::Queued | DeliveryState::Sending) {
            continue;
        }
        let Some(letter) = desk.store.notification(&r)? else {
            continue;
        };
        let message = match &letter.message {
            Some(m) => m.clone(),
            None => notify::wire_text(&letter, &sender)?,
        };
        let name = if r.order == NotificationRef::STAFF {
            format!("staff-{:06}-{}.eml", n + 1, r.template)
        } else {
            format!("{:06}-{}.eml", r.order + 1, r.template)
        };
        let path = dir.join(&name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| io(&format!("create {name} in"), e))?;
        file.write_all(message.as_bytes())
            .map_err(|e| io(&format!("write {name} in"), e))?;
        written += 1;
    }
    Ok(written)
}

/// What a re-import did to letters of people whose details changed.
pub(super) struct Restaled {
    /// Queued letters built again for the new address, name or categories.
    pub letters: Vec<Notification>,
    pub rebuilt: usize,
    /// Sent letters whose address is no longer the person's, marked as such.
    pub previous: Vec<(NotificationRef, Delivery)>,
}

/// For each person whose address, name or categories changed (old, new, roster position),
/// rebuilds their letters that are still queued, so that no stale letter goes out, and
/// marks those already sent to an address that is no longer theirs.
pub(super) fn restale(
    desk: &LocalDesk,
    actor: &UserName,
    incident: &crate::domain::Incident,
    changed: &[(AffectedPerson, AffectedPerson, (u32, usize))],
) -> Result<Restaled, DeskError> {
    let mut out = Restaled {
        letters: Vec::new(),
        rebuilt: 0,
        previous: Vec::new(),
    };
    let relevant = |old: &AffectedPerson, new: &AffectedPerson| {
        old.email != new.email || old.name != new.name || old.categories != new.categories
    };
    if !changed.iter().any(|(o, n, _)| relevant(o, n)) {
        return Ok(out);
    }
    let mut context: Option<(IncidentContext, Sender)> = None;
    for (old, new, (page, slot)) in changed.iter().filter(|(o, n, _)| relevant(o, n)) {
        let order = u64::from(*page) * crate::store::PAGE_SIZE as u64 + *slot as u64;
        for template in TemplateName::ALL
            .iter()
            .copied()
            .filter(|t| t.is_for_people())
        {
            let target = target(incident.id, template, new, order);
            let Some(delivery) = desk.store.delivery(&target)? else {
                continue;
            };
            let moved = old.email != new.email;
            match delivery.state {
                // Not yet sent, or bounced at the old address (it never reached anyone):
                // rebuilt for the new details, and a bounced one queued again.
                DeliveryState::Queued | DeliveryState::Sending | DeliveryState::Bounced
                    if delivery.state != DeliveryState::Bounced || moved =>
                {
                    if context.is_none() {
                        let (ctx, _) = incident_context(desk, incident.id, |_| false)?;
                        context = Some((ctx, sender(desk)?));
                    }
                    let Some((ctx, sender)) = context.as_ref() else {
                        continue;
                    };
                    let letter = desk
                        .settings
                        .templates
                        .render(template, &ctx.for_person(new, &desk.settings.catalog))
                        .map_err(|e| {
                            DeskError::RenderFor(e, new.employee_id.to_string(), out.rebuilt)
                        })?;
                    let now = desk.now();
                    out.letters.push(queued_letter(
                        target.clone(),
                        new,
                        letter,
                        sender,
                        now,
                        actor,
                    )?);
                    if delivery.state == DeliveryState::Bounced {
                        let mut requeued = Delivery::queued(now);
                        requeued.bounce = delivery.bounce.clone();
                        out.previous.push((target, requeued));
                    }
                    out.rebuilt += 1;
                }
                DeliveryState::Sent if moved => {
                    let mut marked = delivery.clone();
                    marked.sent_to_previous = Some(old.email.to_string());
                    out.previous.push((target, marked));
                }
                _ => {}
            }
        }
    }
    Ok(out)
}
