//! An incident's roster as stored: people in pages of [`PAGE_SIZE`], in the order they were
//! first imported. Writing a few hundred pages is far cheaper in sled than writing one key
//! per person, and a window of the list is a read of one or two pages. Every page but the
//! last is full, so person `n` is on page `n / PAGE_SIZE`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::domain::{AffectedPerson, EmployeeId, IncidentId};

/// How many people one page holds.
pub const PAGE_SIZE: usize = 256;

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
    pub fn counts(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let mut locations = BTreeMap::new();
        let mut categories = BTreeMap::new();
        for person in self.pages.iter().flatten() {
            if let Some(loc) = &person.location {
                *locations.entry(loc.as_str().to_owned()).or_insert(0) += 1;
            }
            for c in &person.categories {
                *categories.entry(c.as_str().to_owned()).or_insert(0) += 1;
            }
        }
        (locations, categories)
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
