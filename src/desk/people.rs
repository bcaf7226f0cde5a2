//! The desk's people actions: importing a roster (all or nothing), listing and browsing the
//! affected people. Each read of their data is recorded in the access log (`audit.rs`).
//! The roster's storage in pages is [`crate::store::Roster`]'s.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::local::Caller;
use super::local::LocalDesk;
use super::{DeskError, ReadPath, notifications};

use crate::domain::{AffectedPerson, AuditAction, CategoryName, EventDraft, IncidentId, UserName};
use crate::roster;
use crate::store::{Appender, Changes};

/// Which people to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeopleFilter {
    pub category: Option<CategoryName>,
    /// Only people not yet notified.
    pub pending: bool,
    /// Only people whose letter bounced and whom nothing has reached since.
    pub undeliverable: bool,
    /// Only people whose employee id, name or email contains this, ignoring case.
    pub text: Option<String>,
}

impl PeopleFilter {
    /// Whether the filter lets everyone through.
    pub fn is_empty(&self) -> bool {
        self.category.is_none()
            && !self.pending
            && !self.undeliverable
            && self.text.as_deref().is_none_or(str::is_empty)
    }

    /// Whether `person` passes. `needle` is the search text in lower case.
    pub(super) fn admits(&self, person: &AffectedPerson, needle: Option<&str>) -> bool {
        let category_ok = self
            .category
            .as_ref()
            .is_none_or(|c| person.categories.contains(c));
        let pending_ok = !(self.pending && person.is_notified());
        let undeliverable_ok = !self.undeliverable || person.is_undeliverable();
        let text_ok = needle.is_none_or(|n| {
            person.employee_id.as_str().to_lowercase().contains(n)
                || person.name.to_lowercase().contains(n)
                || person.email.as_str().to_lowercase().contains(n)
        });
        category_ok && pending_ok && undeliverable_ok && text_ok
    }
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub dry_run: bool,
}

/// Validates a CSV roster and, unless `dry_run`, merges it into the incident's people; a
/// re-import rebuilds the queued letters of people whose details changed, in the same commit.
pub(super) fn import(
    desk: &LocalDesk,
    actor: &Caller<'_>,
    id: IncidentId,
    csv: Vec<u8>,
    source_name: String,
    dry_run: bool,
) -> Result<ImportReport, DeskError> {
    let source_name = &crate::domain::text::display_path(&source_name);
    // Every row is checked before the lock is taken, and the file refused whole if one is
    // bad; the second reading, under the lock, hands the people on one at a time.
    let catalog = &desk.settings.catalog;
    roster::read(&csv, source_name, catalog, &mut |_| {})?;
    let _guard = desk.lock()?;
    let mut incident = desk.load(id)?;
    // Membership may have changed while the file was read.
    desk.recheck(actor, &incident)?;
    let mut roster = desk.store.roster(id)?;
    let mut report = ImportReport {
        rows: 0,
        added: 0,
        updated: 0,
        unchanged: 0,
        dry_run,
    };
    // New people past the roster's last page are sealed a page at a time as they come.
    let sealer = if dry_run {
        None
    } else {
        Some(desk.store.page_sealer(id)?)
    };
    let next_page = u32::try_from(roster.page_count())
        .map_err(|_| DeskError::Internal("more roster pages than a u32 counts".into()))?;
    let mut appender = Appender::new(sealer, next_page);
    let mut categories = BTreeSet::new();
    let mut changed = Vec::new();
    let mut failed = None;
    let rows = roster::read(&csv, source_name, catalog, &mut |person| {
        if failed.is_some() {
            return;
        }
        categories.extend(person.categories.iter().cloned());
        let Some(old) = roster.get(&person.employee_id) else {
            report.added += 1;
            if let Some(person) = roster.push_onto_last(person)
                && let Err(e) = appender.push(person)
            {
                failed = Some(e);
            }
            return;
        };
        let mut merged = old.clone();
        merged.merge(person);
        if merged == *old {
            report.unchanged += 1;
        } else {
            report.updated += 1;
            if let Some(position) = roster.position(&merged.employee_id) {
                changed.push((old.clone(), merged.clone(), position));
            }
            roster.replace(merged);
        }
    })?;
    report.rows = rows;
    if let Some(e) = failed {
        return Err(e.into());
    }
    if dry_run {
        return Ok(report);
    }
    let now = desk.now();
    let new_categories: Vec<String> = categories
        .difference(&incident.categories)
        .map(ToString::to_string)
        .collect();
    incident.categories.extend(categories);
    incident.people = (roster.len() + appender.added()) as u64;
    let mut counts = roster.counts();
    appender.add_counts(&mut counts);
    incident.people_by_location = counts.by_location;
    incident.people_by_category = counts.by_category;
    incident.people_by_location_category = counts.by_location_category;
    incident.updated_at = now;
    let mut detail = format!(
        "{source_name}: {} rows; {} added, {} updated, {} unchanged",
        report.rows, report.added, report.updated, report.unchanged
    );
    if !new_categories.is_empty() {
        detail.push_str(&format!(
            "; categories added to the incident: {}",
            new_categories.join(", ")
        ));
    }
    let stale = notifications::restale(desk, actor, &incident, &changed)?;
    if stale.rebuilt > 0 || !stale.previous.is_empty() {
        detail.push_str(&format!(
            "; {} queued letters rebuilt for the new details, {} already sent to a previous address",
            stale.rebuilt,
            stale.previous.len()
        ));
    }
    let event = EventDraft::new(actor, now, AuditAction::PeopleImported, detail).on_incident(id);
    desk.store.commit(&Changes {
        incidents: vec![incident],
        pages: roster.into_changed_pages(),
        sealed_pages: appender.finish()?,
        letters: stale.letters,
        deliveries: stale.previous,
        events: vec![event],
        ..Changes::default()
    })?;
    Ok(report)
}

/// The matching people; `path` names the read in the access log.
pub(super) fn list(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    filter: PeopleFilter,
    path: ReadPath,
) -> Result<Vec<AffectedPerson>, DeskError> {
    desk.not_purged(id)?;
    if let Some(category) = &filter.category {
        desk.settings.catalog.check(category)?;
    }
    let needle = filter
        .text
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase);
    let mut list = Vec::new();
    for person in desk.store.people(id) {
        let person = person?;
        if filter.admits(&person, needle.as_deref()) {
            list.push(person);
        }
    }
    desk.record_read(actor, id, path, list.len())?;
    Ok(list)
}

/// The most people one window returns (a screenful is far fewer; a request for more is
/// cut to this, so that one call cannot read a 100,000-row roster at once).
const WINDOW_LIMIT: usize = 10_000;

/// People `offset..offset + limit` in import order; one access-log entry per browsing.
pub(super) fn window(
    desk: &LocalDesk,
    actor: &UserName,
    id: IncidentId,
    offset: usize,
    limit: usize,
) -> Result<Vec<AffectedPerson>, DeskError> {
    desk.not_purged(id)?;
    desk.record_browse(actor, &desk.load(id)?)?;
    let limit = limit.min(WINDOW_LIMIT);
    Ok(desk.store.people_window(id, offset, limit)?)
}
