//! An incident's roster as stored: people in pages of [`PAGE_SIZE`], in the order they were
//! first imported. Writing a few hundred pages is far cheaper in sled than writing one key
//! per person, and a window of the list is a read of one or two pages. Every page but the
//! last is full, so person `n` is on page `n / PAGE_SIZE`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::codec::page_key;
use super::{Store, StoreError};
use crate::domain::{AffectedPerson, EmployeeId, IncidentId};

/// How many people one page holds.
pub const PAGE_SIZE: usize = 256;

/// What a page's plaintext starts with when it is compressed (LZ4, its size first) JSON;
/// a page of JSON alone starts with `[`.
const COMPRESSED: u8 = 1;

impl Store {
    /// A roster page as stored: its people as JSON, compressed, sealed under the
    /// incident's data key (which must exist).
    pub(super) fn seal_page(
        &self,
        key: &[u8],
        people: &[AffectedPerson],
    ) -> Result<Vec<u8>, StoreError> {
        let json = super::codec::encode(&people)?;
        let mut plain = Vec::with_capacity(json.len() / 3 + 8);
        plain.push(COMPRESSED);
        plain.extend_from_slice(&lz4_flex::block::compress_prepend_size(&json));
        Ok(self
            .data_cipher(key)?
            .seal(&super::codec::aad("people", key), &plain)?)
    }

    /// The people of a stored roster page (compressed or, as older pages are, not).
    pub(super) fn open_page(
        &self,
        key: &[u8],
        raw: &[u8],
    ) -> Result<Vec<AffectedPerson>, StoreError> {
        let plain = self
            .data_cipher(key)?
            .open(&super::codec::aad("people", key), raw)
            .ok_or(StoreError::corrupt("roster page"))?;
        match plain.split_first() {
            Some((&COMPRESSED, packed)) => {
                let json = lz4_flex::block::decompress_size_prepended(packed)
                    .map_err(|_| StoreError::corrupt("roster page"))?;
                super::codec::decode(&json, "roster page")
            }
            _ => super::codec::decode(&plain, "roster page"),
        }
    }

    /// Seals roster pages of incident `id` ahead of their commit, so that an import holds
    /// a page of people at a time instead of the whole file. Makes the incident's data key
    /// if it has none.
    pub fn page_sealer(&self, id: IncidentId) -> Result<PageSealer<'_>, StoreError> {
        self.ensure_data_keys([id])?;
        Ok(PageSealer { store: self, id })
    }
}

/// Seals the pages of one incident's roster (see [`Store::page_sealer`]).
pub struct PageSealer<'a> {
    store: &'a Store,
    id: IncidentId,
}

impl PageSealer<'_> {
    pub fn seal(&self, number: u32, people: &[AffectedPerson]) -> Result<SealedPage, StoreError> {
        let key = page_key(self.id, number).to_vec();
        let value = self.store.seal_page(&key, people)?;
        Ok(SealedPage {
            incident: self.id,
            key,
            value,
        })
    }
}

/// A roster page sealed ahead of its commit ([`super::Changes::sealed_pages`]).
#[derive(Debug)]
pub struct SealedPage {
    pub(super) incident: IncidentId,
    pub(super) key: Vec<u8>,
    pub(super) value: Vec<u8>,
}

/// New people appended past the last page of a roster, sealed a page at a time as each
/// fills: an import of a million people holds one page of them, not a million. Counts what
/// it takes, for the incident's totals.
pub struct Appender<'a> {
    sealer: Option<PageSealer<'a>>,
    next: u32,
    page: Vec<AffectedPerson>,
    sealed: Vec<SealedPage>,
    added: usize,
    counts: RosterCounts,
}

/// People per location, per category, and per category within each location: what the
/// legal rules and the regulators' drafts count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RosterCounts {
    pub by_location: BTreeMap<String, u64>,
    pub by_category: BTreeMap<String, u64>,
    pub by_location_category: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Adds `n` under `key`, allocating the key only the first time.
fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(count) => *count += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

impl RosterCounts {
    /// Counts one person.
    pub fn add(&mut self, person: &AffectedPerson) {
        for c in &person.categories {
            bump(&mut self.by_category, c.as_str(), 1);
        }
        let Some(loc) = &person.location else {
            return;
        };
        bump(&mut self.by_location, loc.as_str(), 1);
        let within = match self.by_location_category.get_mut(loc.as_str()) {
            Some(within) => within,
            None => self
                .by_location_category
                .entry(loc.as_str().to_owned())
                .or_default(),
        };
        for c in &person.categories {
            bump(within, c.as_str(), 1);
        }
    }

    /// Adds another set of counts to these.
    pub fn merge(&mut self, other: &RosterCounts) {
        for (loc, n) in &other.by_location {
            bump(&mut self.by_location, loc, *n);
        }
        for (c, n) in &other.by_category {
            bump(&mut self.by_category, c, *n);
        }
        for (loc, within) in &other.by_location_category {
            let mine = self.by_location_category.entry(loc.clone()).or_default();
            for (c, n) in within {
                bump(mine, c, *n);
            }
        }
    }
}

impl<'a> Appender<'a> {
    /// Appends from page `next` on; without a sealer (a dry run) it only counts.
    pub fn new(sealer: Option<PageSealer<'a>>, next: u32) -> Self {
        Appender {
            sealer,
            next,
            page: Vec::with_capacity(PAGE_SIZE),
            sealed: Vec::new(),
            added: 0,
            counts: RosterCounts::default(),
        }
    }

    pub fn push(&mut self, person: AffectedPerson) -> Result<(), StoreError> {
        self.added += 1;
        self.counts.add(&person);
        if self.sealer.is_none() {
            return Ok(());
        }
        self.page.push(person);
        if self.page.len() == PAGE_SIZE {
            self.seal_page()?;
        }
        Ok(())
    }

    fn seal_page(&mut self) -> Result<(), StoreError> {
        if let Some(sealer) = &self.sealer
            && !self.page.is_empty()
        {
            self.sealed.push(sealer.seal(self.next, &self.page)?);
            self.next += 1;
            self.page.clear();
        }
        Ok(())
    }

    /// How many people it took.
    pub fn added(&self) -> usize {
        self.added
    }

    /// Adds its people's counts to a roster's (see [`Roster::counts`]).
    pub fn add_counts(&self, counts: &mut RosterCounts) {
        counts.merge(&self.counts);
    }

    /// Every page, the last one too, sealed for [`super::Changes::sealed_pages`].
    pub fn finish(mut self) -> Result<Vec<SealedPage>, StoreError> {
        self.seal_page()?;
        Ok(self.sealed)
    }
}

/// One stored page of an incident's roster.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterPage {
    pub incident: IncidentId,
    pub number: u32,
    pub people: Vec<AffectedPerson>,
}

/// A whole roster loaded for changing: find people by employee id, update or append them,
/// then hand back only the pages that changed.
#[derive(Debug)]
pub struct Roster {
    incident: IncidentId,
    pages: Vec<Vec<AffectedPerson>>,
    index: HashMap<EmployeeId, (usize, usize)>,
    dirty: BTreeSet<usize>,
}

impl Roster {
    pub(super) fn from_pages(incident: IncidentId, pages: Vec<Vec<AffectedPerson>>) -> Self {
        let mut index = HashMap::new();
        for (p, page) in pages.iter().enumerate() {
            for (i, person) in page.iter().enumerate() {
                index.insert(person.employee_id.clone(), (p, i));
            }
        }
        Roster {
            incident,
            pages,
            index,
            dirty: BTreeSet::new(),
        }
    }

    /// People per location and per category, for the legal rules and reports.
    pub fn counts(&self) -> RosterCounts {
        let mut counts = RosterCounts::default();
        for person in self.pages.iter().flatten() {
            counts.add(person);
        }
        counts
    }

    /// How many people are on the roster.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the roster is empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The page and slot a person is in; positions never change once a person is on the
    /// roster.
    pub fn position(&self, id: &EmployeeId) -> Option<(u32, usize)> {
        self.index
            .get(id)
            .and_then(|&(p, i)| Some((u32::try_from(p).ok()?, i)))
    }

    /// Looks up a person.
    pub fn get(&self, id: &EmployeeId) -> Option<&AffectedPerson> {
        self.index.get(id).map(|&(p, i)| &self.pages[p][i])
    }

    /// Replaces the record of a person already on the roster; returns false (and changes
    /// nothing) if they are not on it.
    pub fn replace(&mut self, person: AffectedPerson) -> bool {
        let Some(&(p, i)) = self.index.get(&person.employee_id) else {
            return false;
        };
        self.pages[p][i] = person;
        self.dirty.insert(p);
        true
    }

    /// How many pages the roster has.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Adds a person not yet on the roster to its last page if that has room; otherwise
    /// gives the person back (for an [`Appender`] to start the next page).
    pub fn push_onto_last(&mut self, person: AffectedPerson) -> Option<AffectedPerson> {
        if self.pages.last().is_none_or(|page| page.len() >= PAGE_SIZE) {
            return Some(person);
        }
        self.push(person);
        None
    }

    /// Adds a person not yet on the roster at the end.
    pub fn push(&mut self, person: AffectedPerson) {
        if self.pages.last().is_none_or(|page| page.len() >= PAGE_SIZE) {
            self.pages.push(Vec::with_capacity(PAGE_SIZE));
        }
        let p = self.pages.len() - 1;
        let page = &mut self.pages[p];
        self.index
            .insert(person.employee_id.clone(), (p, page.len()));
        page.push(person);
        self.dirty.insert(p);
    }

    /// Copies of the pages changed since the last call, ready for [`super::Changes`]; the
    /// roster stays loaded for further changes.
    pub fn take_changed_pages(&mut self) -> Vec<RosterPage> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .filter_map(|p| {
                Some(RosterPage {
                    incident: self.incident,
                    number: u32::try_from(p).ok()?,
                    people: self.pages.get(p)?.clone(),
                })
            })
            .collect()
    }

    /// The pages that changed, ready for [`super::Changes`].
    pub fn into_changed_pages(self) -> Vec<RosterPage> {
        let incident = self.incident;
        let mut pages: Vec<Option<Vec<AffectedPerson>>> =
            self.pages.into_iter().map(Some).collect();
        self.dirty
            .into_iter()
            .filter_map(|p| {
                let people = pages[p].take()?;
                Some(RosterPage {
                    incident,
                    number: u32::try_from(p).ok()?,
                    people,
                })
            })
            .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::store) fn person(n: usize) -> AffectedPerson {
        AffectedPerson::numbered(n as u64)
    }

    #[test]
    fn pages_fill_in_order_and_only_changed_ones_are_written() {
        let id = IncidentId::new(1);
        let mut roster = Roster::from_pages(id, Vec::new());
        for n in 0..PAGE_SIZE + 3 {
            roster.push(person(n));
        }
        let pages = roster.into_changed_pages();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].people.len(), PAGE_SIZE);
        assert_eq!(pages[1].people[2].name, format!("P{}", PAGE_SIZE + 2));

        let mut roster = Roster::from_pages(id, pages.into_iter().map(|p| p.people).collect());
        let mut changed = person(5);
        changed.name = "Renamed".into();
        assert!(roster.replace(changed));
        assert!(!roster.replace(person(9999)));
        roster.push(person(9999));
        let numbers: Vec<u32> = roster
            .into_changed_pages()
            .iter()
            .map(|p| p.number)
            .collect();
        assert_eq!(numbers, [0, 1]);
    }
}
