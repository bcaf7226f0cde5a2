//! Where every reader puts its events: finds the person in each resource, counts by person
//! and by accessor, and notes what the log covers (its first and last record, the minutes it
//! has records in, whether it can show reads, why it may not show everything).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::{
    AccessorEvidence, Event, Evidence, EvidenceError, GAP_MINUTES, Kind, LISTED_ERRORS, LogFormat,
    MAX_ACCESSOR, MAX_RESOURCE, Matching, PersonEvidence, PersonGroup, RosterIndex, SourceSummary,
    top,
};
use crate::domain::text::for_terminal;

/// How many distinct unmatched resources are counted one by one; the rest together.
const TRACKED_UNMATCHED: usize = 10_000;

#[derive(Default)]
struct Accessor {
    name: String,
    authorized: bool,
    reads: u64,
    copies: u64,
}

#[derive(Default)]
struct Touched {
    reads: u64,
    copies: u64,
    /// Sorted accessor numbers.
    by: Vec<u32>,
}

/// The running analysis of one log.
pub(super) struct Sink<'r> {
    roster: &'r RosterIndex,
    matching: &'r Matching,
    now: DateTime<Utc>,
    errors: Vec<String>,
    error_total: usize,
    accessor_index: HashMap<String, u32>,
    accessors: Vec<Accessor>,
    touched: HashMap<u32, Touched>,
    events: u64,
    reads: u64,
    copies: u64,
    denied: u64,
    not_reads: u64,
    unmatched: u64,
    unmatched_resources: HashMap<String, u64>,
    minutes: BTreeSet<i64>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    shows_reads: bool,
    unnamed_reads: u64,
    warnings: BTreeSet<String>,
}

impl<'r> Sink<'r> {
    pub(super) fn new(roster: &'r RosterIndex, matching: &'r Matching, now: DateTime<Utc>) -> Self {
        Sink {
            roster,
            matching,
            now,
            errors: Vec::new(),
            error_total: 0,
            accessor_index: HashMap::new(),
            accessors: Vec::new(),
            touched: HashMap::new(),
            events: 0,
            reads: 0,
            copies: 0,
            denied: 0,
            not_reads: 0,
            unmatched: 0,
            unmatched_resources: HashMap::new(),
            minutes: BTreeSet::new(),
            from: None,
            to: None,
            shows_reads: false,
            unnamed_reads: 0,
            warnings: BTreeSet::new(),
        }
    }

    /// A record that cannot be read; `line` 0 for the file as a whole.
    pub(super) fn error(&mut self, line: u64, message: String) {
        self.error_total += 1;
        if self.errors.len() < LISTED_ERRORS {
            let message = for_terminal(&message).into_owned();
            self.errors.push(if line == 0 {
                message
            } else {
                format!("line {line}: {message}")
            });
        }
    }

    /// Whether a record has been refused: the rest is still read, to name every bad one,
    /// but nothing more is counted.
    pub(super) fn failed(&self) -> bool {
        self.error_total > 0
    }

    /// Something the log cannot show, said once.
    pub(super) fn warn(&mut self, message: impl Into<String>) {
        self.warnings.insert(message.into());
    }

    /// The log records reads of the data when they happen (data events, a data-access log).
    pub(super) fn can_show_reads(&mut self) {
        self.shows_reads = true;
    }

    /// The time records are checked against.
    pub(super) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Whether the log was seen to record reads.
    pub(super) fn shows(&self) -> bool {
        self.shows_reads
    }

    /// One record's access.
    pub(super) fn event(&mut self, line: u64, e: &Event<'_>) {
        if let Some(why) = crate::domain::when::insane(e.time, self.now) {
            self.error(line, format!("time {why}"));
            return;
        }
        if self.failed() {
            return;
        }
        self.events += 1;
        let minute = e.time.timestamp().div_euclid(60);
        self.minutes.insert(minute);
        self.from = Some(self.from.map_or(e.time, |t| t.min(e.time)));
        self.to = Some(self.to.map_or(e.time, |t| t.max(e.time)));
        let copy = match e.kind {
            Kind::Denied => {
                self.denied += 1;
                return;
            }
            Kind::NotRead => {
                self.not_reads += 1;
                return;
            }
            Kind::Read => false,
            Kind::Copy => true,
        };
        if copy {
            self.copies += 1;
        } else {
            self.reads += 1;
        }
        if e.unnamed {
            self.unnamed_reads += 1;
        }
        let Some(person) = self.person(e) else {
            self.unmatched += 1;
            let resource = for_terminal(clip(e.resource, 200));
            if let Some(n) = self.unmatched_resources.get_mut(resource.as_ref()) {
                *n += 1;
            } else if self.unmatched_resources.len() < TRACKED_UNMATCHED {
                self.unmatched_resources.insert(resource.into_owned(), 1);
            } else {
                *self
                    .unmatched_resources
                    .entry("(other resources)".to_owned())
                    .or_default() += 1;
            }
            return;
        };
        let number = self.accessor(e.principal);
        let who = &mut self.accessors[number as usize];
        if copy {
            who.copies += 1;
        } else {
            who.reads += 1;
        }
        if who.authorized {
            return;
        }
        let t = self.touched.entry(person).or_default();
        if copy {
            t.copies += 1;
        } else {
            t.reads += 1;
        }
        if let Err(at) = t.by.binary_search(&number) {
            t.by.insert(at, number);
        }
    }

    /// The number of the accessor named `principal` (cleaned of control characters and
    /// bounded), adding it when new.
    fn accessor(&mut self, principal: &str) -> u32 {
        if let Some(n) = self.accessor_index.get(principal) {
            return *n;
        }
        let name = clip(&for_terminal(principal.trim()), MAX_ACCESSOR).to_owned();
        let name = if name.is_empty() {
            "(no principal)".to_owned()
        } else {
            name
        };
        let n = self.accessors.len() as u32;
        self.accessors.push(Accessor {
            authorized: self.matching.authorized(&name),
            name,
            ..Accessor::default()
        });
        self.accessor_index.insert(principal.to_owned(), n);
        n
    }

    /// The person whose data the event touched: named directly, by the map, or found by
    /// `--person-from` in the resource (then in the detail).
    fn person(&self, e: &Event<'_>) -> Option<u32> {
        if let Some(id) = e.person {
            return self.roster.by_id.get(id.trim()).copied();
        }
        let mapped = self.matching.map.get(e.resource).or_else(|| {
            (!e.detail.is_empty())
                .then(|| self.matching.map.get(e.detail))
                .flatten()
        });
        if let Some(id) = mapped {
            return self.roster.by_id.get(id).copied();
        }
        let (re, group) = self.matching.person_from.as_ref()?;
        for text in [e.resource, e.detail] {
            let Some(caps) = re.captures(clip(text, MAX_RESOURCE)) else {
                continue;
            };
            let found = match group {
                PersonGroup::EmployeeId => caps
                    .name("employee_id")
                    .and_then(|m| self.roster.by_id.get(m.as_str()).copied()),
                PersonGroup::Email => caps.name("email").and_then(|m| {
                    self.roster
                        .by_email
                        .get(&m.as_str().to_ascii_lowercase())
                        .copied()
                }),
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// The evidence of this source, or every bad record.
    pub(super) fn finish(
        mut self,
        format: LogFormat,
        source: &str,
    ) -> Result<Evidence, EvidenceError> {
        if self.events == 0 && self.error_total == 0 {
            self.error(
                0,
                "the log has no records: an empty log cannot show that nobody read the data".into(),
            );
        }
        if self.error_total > 0 {
            return Err(EvidenceError {
                source: source.to_owned(),
                errors: self.errors,
                total: self.error_total,
            });
        }
        if self.unnamed_reads > 0 {
            self.warn(if self.unnamed_reads == 1 {
                "1 read was signed with a shared key or token that names no person".to_owned()
            } else {
                format!(
                    "{} reads were signed with a shared key or token that names no person",
                    self.unnamed_reads
                )
            });
        }
        let mut gaps = Vec::new();
        let mut last: Option<i64> = None;
        for m in &self.minutes {
            if let Some(prev) = last
                && m - prev > GAP_MINUTES
            {
                let at = |minute: i64| DateTime::from_timestamp(minute * 60, 0).unwrap_or_default();
                gaps.push((at(prev + 1), at(*m)));
            }
            last = Some(*m);
        }
        let people = self
            .touched
            .into_iter()
            .map(|(i, t)| {
                (
                    self.roster.ids[i as usize].clone(),
                    PersonEvidence {
                        reads: t.reads,
                        copies: t.copies,
                        accessors: t.by.len() as u64,
                        by: t.by,
                    },
                )
            })
            .collect();
        let accessors = self
            .accessors
            .into_iter()
            .map(|a| AccessorEvidence {
                accessor: a.name,
                authorized: a.authorized,
                reads: a.reads,
                copies: a.copies,
                people: 0,
            })
            .collect();
        let mut evidence = Evidence {
            rows: self.events,
            people,
            accessors,
            denied: self.denied,
            not_reads: self.not_reads,
            unmatched: self.unmatched,
            unmatched_resources: top(self.unmatched_resources),
            sources: vec![SourceSummary {
                format,
                file: source.to_owned(),
                digest: String::new(),
                events: self.events,
                from: self.from,
                to: self.to,
                gaps,
                reads: self.reads,
                copies: self.copies,
                denied: self.denied,
                not_reads: self.not_reads,
                unmatched: self.unmatched,
                shows_reads: self.shows_reads,
                warnings: self.warnings.into_iter().collect(),
            }],
            ..Evidence::default()
        };
        evidence.settle();
        Ok(evidence)
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub(super) fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
