//! An incident: one privacy breach being handled, with its severity, status and owner.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::text::{Lines, checked, optional};
use super::{
    CategoryName, DomainError, EvidenceSummary, IncidentId, ObligationRecord, ProgramSlug,
    Severity, Status, UserName,
};

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub summary: String,
    pub categories: BTreeSet<CategoryName>,
    pub programs: BTreeSet<ProgramSlug>,
    pub owner: UserName,
    pub opened_at: DateTime<Utc>,
    pub discovered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many affected people are on the roster.
    pub people: u64,
    /// How many of them have been notified.
    #[serde(default)]
    pub notified: u64,
    /// Who besides the owner may see the incident's personal data and act on it.
    #[serde(default)]
    pub members: BTreeSet<UserName>,
    /// When the organisation became aware of the breach (most legal clocks start here);
    /// `None`: when the incident was opened.
    #[serde(default)]
    pub aware_at: Option<DateTime<Utc>>,
    /// When the data became exposed, and when the exposure ended (`None`: still exposed,
    /// or not known): the window access logs are held against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_until: Option<DateTime<Utc>>,
    /// When it was determined that a breach occurred; `None`: the awareness time.
    #[serde(default)]
    pub determined_at: Option<DateTime<Utc>>,
    /// Affected people per location on the roster (people without one are not counted).
    #[serde(default)]
    pub people_by_location: BTreeMap<String, u64>,
    /// Affected people per exposed data category.
    #[serde(default)]
    pub people_by_category: BTreeMap<String, u64>,
    /// Affected people per data category within each location: a regulator's draft counts
    /// only the people of the locations its rule covers. Empty for rosters imported before
    /// it was kept (the next import fills it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub people_by_location_category: BTreeMap<String, BTreeMap<String, u64>>,
    /// Obligations met or waived, by rule id.
    #[serde(default)]
    pub obligations: BTreeMap<String, ObligationRecord>,
    /// What the exposure evidence showed, once imported.
    #[serde(default)]
    pub evidence: Option<EvidenceSummary>,
    /// The latest harm assessment (ENISA), once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<super::Assessment>,
    /// The latest New Zealand serious-harm test, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serious_harm: Option<super::SeriousHarmRecord>,
    /// Rules a responder decided apply although what happened does not trigger them (viewing
    /// counted as acquisition), by rule id, with why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub applied: BTreeMap<String, super::ElementDecision>,
    /// Responders' decisions on data elements the exposed categories may contain.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub elements: BTreeMap<super::DataElement, super::ElementDecision>,
    /// When the incident was last closed: where the retention period starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// When and why its personal data (roster, letters, evidence) was destroyed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged: Option<Purge>,
}

/// The destruction of an incident's personal data: its data key and every record sealed
/// under it. Counts, obligations, the assessment and the audit trail remain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purge {
    pub at: DateTime<Utc>,
    pub by: UserName,
    pub reason: String,
}

/// What a responder gives to open an incident, already validated (also when decoded from a
/// request: the title and summary are checked as [`NewIncident::new`] checks them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NewIncidentFields")]
pub struct NewIncident {
    pub title: String,
    pub severity: Severity,
    pub summary: String,
    pub categories: BTreeSet<CategoryName>,
    pub programs: BTreeSet<ProgramSlug>,
    pub discovered_at: Option<DateTime<Utc>>,
    /// When the organisation became aware [default: the opening time].
    pub aware_at: Option<DateTime<Utc>>,
    /// The exposure window, when known.
    pub exposed_from: Option<DateTime<Utc>>,
    pub exposed_until: Option<DateTime<Utc>>,
}

/// A [`NewIncident`] as it arrives, before its text is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewIncidentFields {
    title: String,
    severity: Severity,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    categories: BTreeSet<CategoryName>,
    #[serde(default)]
    programs: BTreeSet<ProgramSlug>,
    #[serde(default)]
    discovered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    aware_at: Option<DateTime<Utc>>,
    #[serde(default)]
    exposed_from: Option<DateTime<Utc>>,
    #[serde(default)]
    exposed_until: Option<DateTime<Utc>>,
}

impl TryFrom<NewIncidentFields> for NewIncident {
    type Error = DomainError;
    fn try_from(f: NewIncidentFields) -> Result<Self, Self::Error> {
        let mut new = NewIncident::new(&f.title, f.severity, &f.summary)?;
        new.categories = f.categories;
        new.programs = f.programs;
        new.discovered_at = f.discovered_at;
        new.aware_at = f.aware_at;
        new.exposed_from = f.exposed_from;
        new.exposed_until = f.exposed_until;
        Ok(new)
    }
}

impl NewIncident {
    /// Checks the title (required, one line, up to 200 characters) and the summary
    /// (optional, up to 10,000 characters).
    pub fn new(title: &str, severity: Severity, summary: &str) -> Result<Self, DomainError> {
        Ok(NewIncident {
            title: checked("title", title, 200, Lines::Single)?,
            severity,
            summary: optional("summary", summary, 10_000, Lines::Multi)?,
            categories: BTreeSet::new(),
            programs: BTreeSet::new(),
            discovered_at: None,
            aware_at: None,
            exposed_from: None,
            exposed_until: None,
        })
    }
}

impl Incident {
    /// Builds the stored incident; discovery defaults to the opening time.
    pub fn open(id: IncidentId, new: NewIncident, owner: UserName, now: DateTime<Utc>) -> Self {
        Incident {
            id,
            title: new.title,
            severity: new.severity,
            status: Status::Open,
            summary: new.summary,
            categories: new.categories,
            programs: new.programs,
            owner,
            opened_at: now,
            discovered_at: new.discovered_at.or(new.aware_at).unwrap_or(now),
            updated_at: now,
            people: 0,
            notified: 0,
            members: BTreeSet::new(),
            aware_at: new.aware_at,
            exposed_from: new.exposed_from,
            exposed_until: new.exposed_until,
            determined_at: None,
            people_by_location: BTreeMap::new(),
            people_by_category: BTreeMap::new(),
            people_by_location_category: BTreeMap::new(),
            obligations: BTreeMap::new(),
            evidence: None,
            assessment: None,
            serious_harm: None,
            elements: BTreeMap::new(),
            applied: BTreeMap::new(),
            closed_at: None,
            purged: None,
        }
    }

    /// The share of affected people already notified, in whole percent; `None` with no
    /// people on the roster.
    pub fn notified_percent(&self) -> Option<u64> {
        (self.notified * 100).checked_div(self.people)
    }

    /// The exposure window access logs are held against: from `exposed_from` to
    /// `exposed_until`, or to `now` while the exposure has no end recorded; `None` without
    /// a start.
    pub fn exposure_window(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.exposed_from
            .map(|from| (from, self.exposed_until.unwrap_or(now)))
    }

    /// When the organisation became aware: the awareness clock's start.
    pub fn aware_time(&self) -> DateTime<Utc> {
        self.aware_at.unwrap_or(self.opened_at)
    }

    /// When the breach was determined: the determination clock's start.
    pub fn determined_time(&self) -> DateTime<Utc> {
        self.determined_at.unwrap_or_else(|| self.aware_time())
    }

    /// Whether the incident holds personal data, which restricts it to its owner, its
    /// members and admins.
    pub fn is_restricted(&self) -> bool {
        self.people > 0
    }

    /// When the incident was closed, if it is: the recorded time, else (an incident closed
    /// before that was recorded) its last change.
    pub fn closed_time(&self) -> Option<DateTime<Utc>> {
        (self.status == Status::Closed).then(|| self.closed_at.unwrap_or(self.updated_at))
    }

    /// Why the incident's personal data cannot be purged as it stands (already purged, or
    /// not closed); `None` when it can.
    pub fn purge_refusal(&self) -> Option<String> {
        if let Some(p) = &self.purged {
            return Some(format!(
                "{}'s personal data was already purged on {} by {}",
                self.id,
                p.at.format("%Y-%m-%d %H:%M UTC"),
                p.by
            ));
        }
        (self.status != Status::Closed).then(|| {
            format!(
                "{} is {}; only a closed incident is purged (`breachdesk incident status {} closed`)",
                self.id,
                self.status,
                self.id.number()
            )
        })
    }

    /// Moves to `next` if the lifecycle allows it.
    pub fn move_to(&mut self, next: Status) -> Result<(), DomainError> {
        if !self.status.can_move_to(next) {
            let allowed: Vec<&str> = self
                .status
                .allowed_next()
                .iter()
                .map(|s| s.as_str())
                .collect();
            return Err(DomainError::IllegalTransition {
                id: self.id.to_string(),
                from: self.status.to_string(),
                to: next.to_string(),
                allowed: allowed.join(", "),
            });
        }
        self.status = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Incident {
        let new =
            NewIncident::new("Staff data readable by all", Severity::new(2).unwrap(), "").unwrap();
        Incident::open(
            IncidentId::new(1),
            new,
            UserName::parse("alice").unwrap(),
            Utc::now(),
        )
    }

    #[test]
    fn illegal_move_names_the_allowed_ones() {
        let mut inc = sample();
        let err = inc.move_to(Status::Resolved).unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot move INC-1 from open to resolved; allowed from open: investigating, contained, closed"
        );
        inc.move_to(Status::Investigating).unwrap();
        assert_eq!(inc.status, Status::Investigating);
    }

    #[test]
    fn title_is_required_and_single_line() {
        let sev = Severity::LEAST;
        assert!(NewIncident::new("", sev, "").is_err());
        assert!(NewIncident::new("a\u{1b}[2J", sev, "").is_err());
        assert!(NewIncident::new(&"x".repeat(201), sev, "").is_err());
        assert!(NewIncident::new("ok", sev, "line one\nline two").is_ok());
    }
}
