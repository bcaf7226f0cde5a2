//! Reading incidents, rosters, programmes and evidence back.

use super::codec::{decode, incident_key, incident_page_key, page_key};
use super::{PAGE_SIZE, Roster, Store, StoreError, Tree};
use crate::domain::{AffectedPerson, Incident, IncidentId, Program, ProgramSlug};

impl Store {
    /// One incident, if it exists.
    pub fn incident(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        let Some(raw) = self.engine.get(Tree::Incidents, &incident_page_key(id))? else {
            return Ok(None);
        };
        let page: Vec<Incident> = decode(&raw, "incident page")?;
        Ok(page.into_iter().find(|i| i.id == id))
    }

    /// Every incident, in id order.
    pub fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let mut all = Vec::new();
        for kv in self.engine.iter(Tree::Incidents) {
            let page: Vec<Incident> = decode(&kv?.1, "incident page")?;
            all.extend(page);
        }
        Ok(all)
    }

    /// The highest incident number in use, 0 when there is none.
    pub fn last_incident_number(&self) -> Result<u64, StoreError> {
        match self.engine.last(Tree::Incidents)? {
            Some((_, raw)) => {
                let page: Vec<Incident> = decode(&raw, "incident page")?;
                Ok(page.last().map_or(0, |i| i.id.number()))
            }
            None => Ok(0),
        }
    }

    /// An incident's whole roster, loaded for changing.
    pub fn roster(&self, id: IncidentId) -> Result<Roster, StoreError> {
        let pages = self
            .engine
            .scan_prefix(Tree::People, &incident_key(id))
            .map(|kv| {
                let (key, value) = kv?;
                self.open_page(&key, &value)
            })
            .collect::<Result<_, _>>()?;
        Ok(Roster::from_pages(id, pages))
    }

    /// Everyone on an incident's roster, in the order they were first imported, read a page
    /// at a time.
    pub fn people(
        &self,
        id: IncidentId,
    ) -> impl Iterator<Item = Result<AffectedPerson, StoreError>> + use<'_> {
        self.engine
            .scan_prefix(Tree::People, &incident_key(id))
            .flat_map(|kv| match kv.and_then(|(k, v)| self.open_page(&k, &v)) {
                Ok(page) => page.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
    }

    /// Where each person is on an incident's roster (page, slot), without keeping the
    /// people: positions never change once a person is on the roster.
    pub fn roster_positions(
        &self,
        id: IncidentId,
    ) -> Result<std::collections::HashMap<crate::domain::EmployeeId, (u32, usize)>, StoreError>
    {
        let mut positions = std::collections::HashMap::new();
        for (p, kv) in self
            .engine
            .scan_prefix(Tree::People, &incident_key(id))
            .enumerate()
        {
            let (key, value) = kv?;
            let page: Vec<AffectedPerson> = self.open_page(&key, &value)?;
            let p = u32::try_from(p).map_err(|_| StoreError::corrupt("roster page number"))?;
            for (slot, person) in page.into_iter().enumerate() {
                positions.insert(person.employee_id, (p, slot));
            }
        }
        Ok(positions)
    }

    /// One page of an incident's roster.
    pub fn roster_page(
        &self,
        id: IncidentId,
        number: u32,
    ) -> Result<Option<Vec<AffectedPerson>>, StoreError> {
        let key = page_key(id, number);
        self.engine
            .get(Tree::People, &key)?
            .map(|raw| self.open_page(&key, &raw))
            .transpose()
    }

    /// People `offset..offset + limit` of an incident's roster, reading only their pages.
    pub fn people_window(
        &self,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, StoreError> {
        let first = u32::try_from(offset / PAGE_SIZE).unwrap_or(u32::MAX);
        let mut skip = offset % PAGE_SIZE;
        let mut out = Vec::with_capacity(limit);
        let end = super::engine::prefix_end(&incident_key(id));
        for kv in self
            .engine
            .range(Tree::People, &page_key(id, first), end.as_deref())
        {
            if out.len() >= limit {
                break;
            }
            let (key, value) = kv?;
            let page: Vec<AffectedPerson> = self.open_page(&key, &value)?;
            out.extend(page.into_iter().skip(skip).take(limit - out.len()));
            skip = 0;
        }
        Ok(out)
    }

    /// One programme, if it exists.
    pub fn program(&self, slug: &ProgramSlug) -> Result<Option<Program>, StoreError> {
        self.engine
            .get(Tree::Programs, slug.as_str().as_bytes())?
            .map(|raw| decode(&raw, "programme"))
            .transpose()
    }

    /// Every programme, in slug order.
    pub fn programs(&self) -> Result<Vec<Program>, StoreError> {
        self.engine
            .iter(Tree::Programs)
            .map(|kv| decode(&kv?.1, "programme"))
            .collect()
    }

    /// An incident's exposure evidence, if imported.
    pub fn evidence(
        &self,
        id: IncidentId,
    ) -> Result<Option<crate::evidence::Evidence>, StoreError> {
        let key = incident_key(id);
        self.engine
            .get(Tree::Evidence, &key)?
            .map(|raw| self.unseal("evidence", &key, &raw, "exposure evidence"))
            .transpose()
    }
}
