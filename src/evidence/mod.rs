//! Exposure evidence: who read whose data, from the logs the exposed store's platform keeps.
//!
//! A log is read in one streaming pass by the reader of its format (detected by content:
//! `detect.rs`), each turning its records into [`Event`]s: when, who (the principal as the
//! log names it), which resource, and what kind of access (a granted read, a copy, a denied
//! request, or something that is not a read). The [`Sink`](sink::Sink) finds the person in
//! each resource, counts, and notes what the log could have seen: the time it covers, its
//! gaps, and whether it can show reads at all. Memory grows with distinct people, accessors
//! and minutes, never with the number of records. All or nothing: a record that cannot be
//! read refuses the file, naming it; a resource that names nobody on the roster is counted
//! and listed, never a reason to refuse.
//!
//! Each import is one *source*; several add up ([`Evidence::merge`]), and the same file
//! imported again (same bytes) changes nothing. Whether anyone read the data is decided
//! against the incident's exposure window ([`Evidence::assess`]): "no access" needs logs
//! that can show reads covering all of it.
//!
//! The readers' tables of actions are written down in docs/deadlines.md ("Evidence from the
//! platform's logs").

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Finding;

mod aws;
mod azure;
mod csv_log;
mod detect;
mod elastic;
mod google;
mod postgres;
mod sink;
mod time;

pub use detect::LogFormat;
use sink::Sink;

/// How many bad records are listed; the rest are counted.
const LISTED_ERRORS: usize = 50;
/// The longest accessor name kept.
const MAX_ACCESSOR: usize = 200;
/// The longest resource name looked at.
const MAX_RESOURCE: usize = 2048;
/// How many resources that named nobody are listed.
const LISTED_UNMATCHED: usize = 10;
/// A stretch without any record longer than this is a gap in a log's coverage.
const GAP_MINUTES: i64 = 60;

/// Why an access log was refused, with every bad record up to [`LISTED_ERRORS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceError {
    pub source: String,
    pub errors: Vec<String>,
    pub total: usize,
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} bad row{}; nothing was imported",
            self.source,
            self.total,
            if self.total == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        if self.total > self.errors.len() {
            write!(f, "\n  ... and {} more", self.total - self.errors.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for EvidenceError {}

/// What kind of access a record shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A granted read of the resource's content.
    Read,
    /// A granted download or copy: acquisition, where the service says so.
    Copy,
    /// A request the service refused (an error code, `granted: false`, HTTP 4xx).
    Denied,
    /// A write, delete, listing or metadata call: not a read of the content.
    NotRead,
}

/// One access a log records, as its reader understood it.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub time: DateTime<Utc>,
    /// The principal as the log names it (an IAM ARN, an email, a database role).
    pub principal: &'a str,
    /// The object key, resource name, table or document title.
    pub resource: &'a str,
    /// More text to find the person in when the resource names nobody (a statement).
    pub detail: &'a str,
    /// The employee id, when the log names it directly (breachdesk's own CSV).
    pub person: Option<&'a str>,
    pub kind: Kind,
    /// The request was signed with a shared key or token that names no person.
    pub unnamed: bool,
}

/// How to read a log: its format, whose reads were authorised, and how to find the person
/// whose data a resource holds. Checked when decoded (a bad pattern is refused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OptionFields")]
pub struct EvidenceOptions {
    pub format: LogFormat,
    /// Principals whose reads were authorised: exact names, or globs with `*` and `?`.
    pub authorized: Vec<String>,
    /// A regular expression with a named group `employee_id` or `email`, matched against
    /// each resource.
    pub person_from: Option<String>,
    /// Resources named one by one: `(resource, employee_id)`.
    pub map: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionFields {
    #[serde(default)]
    format: LogFormat,
    #[serde(default)]
    authorized: Vec<String>,
    #[serde(default)]
    person_from: Option<String>,
    #[serde(default)]
    map: Vec<(String, String)>,
}

impl TryFrom<OptionFields> for EvidenceOptions {
    type Error = String;
    fn try_from(f: OptionFields) -> Result<Self, String> {
        let options = EvidenceOptions {
            format: f.format,
            authorized: f.authorized,
            person_from: f.person_from,
            map: f.map,
        };
        options.matching()?;
        Ok(options)
    }
}

impl EvidenceOptions {
    /// Why the options cannot be used (a bad `--person-from`), if they cannot.
    pub fn check(&self) -> Result<(), String> {
        self.matching().map(|_| ())
    }

    /// The compiled form of the options, or why they cannot be used.
    fn matching(&self) -> Result<Matching, String> {
        let person_from = match &self.person_from {
            None => None,
            Some(text) => {
                let re = regex_lite::RegexBuilder::new(text)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("--person-from: {e}"))?;
                let names: Vec<&str> = re.capture_names().flatten().collect();
                let group = if names.contains(&"employee_id") {
                    PersonGroup::EmployeeId
                } else if names.contains(&"email") {
                    PersonGroup::Email
                } else {
                    return Err(format!(
                        "--person-from '{}' has no named group employee_id or email, e.g. 'monitoring/(?P<employee_id>E[0-9]+)/'",
                        crate::domain::text::for_terminal(text)
                    ));
                };
                Some((re, group))
            }
        };
        let authorized = self
            .authorized
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|p| {
                if p.contains(['*', '?']) {
                    Allowed::Glob(wildmatch::WildMatch::new(p))
                } else {
                    Allowed::Exact(p.to_owned())
                }
            })
            .collect();
        Ok(Matching {
            person_from,
            map: self.map.iter().cloned().collect(),
            authorized,
        })
    }
}

/// Which named group of `--person-from` names the person.
#[derive(Debug, Clone, Copy)]
enum PersonGroup {
    EmployeeId,
    Email,
}

/// One entry of the list of authorised principals.
#[derive(Debug)]
enum Allowed {
    Exact(String),
    Glob(wildmatch::WildMatch),
}

/// [`EvidenceOptions`], compiled.
#[derive(Debug)]
struct Matching {
    person_from: Option<(regex_lite::Regex, PersonGroup)>,
    map: HashMap<String, String>,
    authorized: Vec<Allowed>,
}

impl Matching {
    fn authorized(&self, principal: &str) -> bool {
        self.authorized.iter().any(|a| match a {
            Allowed::Exact(name) => name == principal,
            Allowed::Glob(glob) => glob.matches(principal),
        })
    }
}

/// The affected people a log's resources are matched against.
#[derive(Debug, Default)]
pub struct RosterIndex {
    ids: Vec<String>,
    by_id: HashMap<String, u32>,
    by_email: HashMap<String, u32>,
}

impl RosterIndex {
    /// From each person's employee id and email address.
    pub fn new<'a>(people: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut index = RosterIndex::default();
        for (id, email) in people {
            let n = index.ids.len() as u32;
            index.ids.push(id.to_owned());
            index.by_id.insert(id.to_owned(), n);
            if !email.is_empty() {
                index.by_email.insert(email.to_ascii_lowercase(), n);
            }
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// What the log says about one affected person (reads by accessors not authorised).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonEvidence {
    pub reads: u64,
    pub copies: u64,
    /// Distinct accessors not authorised who read or copied their data.
    pub accessors: u64,
    /// Those accessors, by their place in [`Evidence::accessors`] (so that several
    /// imports add up to distinct accessors). Stored packed (`packed`): a roster of 100,000
    /// read by a hundred accessors each is 10 MB so, 50 MB as a JSON list.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "packed")]
    pub by: Vec<u32>,
}

/// A sorted list of small numbers as text: each gap from the one before as a LEB128
/// varint, the bytes in hex. Reads a plain JSON list too.
mod packed {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(list: &[u32], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(list.len() * 2);
        let mut last = 0u32;
        for &n in list {
            let mut gap = n.wrapping_sub(last);
            last = n;
            loop {
                let low = (gap & 0x7f) as u8;
                gap >>= 7;
                if gap == 0 {
                    bytes.push(low);
                    break;
                }
                bytes.push(low | 0x80);
            }
        }
        s.serialize_str(&crate::remote::protocol::to_hex(&bytes))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Packed(String),
        List(Vec<u32>),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        let text = match Either::deserialize(d)? {
            Either::List(list) => return Ok(list),
            Either::Packed(text) => text,
        };
        let bad = || serde::de::Error::custom("a packed list of accessors is damaged");
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        let mut out = Vec::new();
        let (mut last, mut gap, mut shift) = (0u32, 0u32, 0u32);
        for b in bytes {
            gap |= u32::from(b & 0x7f).checked_shl(shift).ok_or_else(bad)?;
            if b & 0x80 == 0 {
                last = last.wrapping_add(gap);
                out.push(last);
                gap = 0;
                shift = 0;
            } else {
                shift += 7;
            }
        }
        Ok(out)
    }
}

/// What one accessor did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessorEvidence {
    pub accessor: String,
    pub authorized: bool,
    pub reads: u64,
    pub copies: u64,
    /// Distinct affected people whose data they read or copied.
    pub people: u64,
}

/// One imported log: what it is, what it held, what it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    pub format: LogFormat,
    /// The file as named at import.
    pub file: String,
    /// SHA-256 of the file's bytes: the same file imported again changes nothing.
    pub digest: String,
    pub events: u64,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Stretches of more than an hour without a record, within `from..to`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub reads: u64,
    pub copies: u64,
    pub denied: u64,
    pub not_reads: u64,
    /// Granted reads and copies of resources that name nobody on the roster.
    pub unmatched: u64,
    /// Whether this log can show a read of the data at all (data events logged).
    pub shows_reads: bool,
    /// Why it may not show everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// How much of the exposure window the logs that can show reads cover.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Whole percent of the window covered, when there is a window and a log that can
    /// show reads.
    pub percent: Option<u8>,
    /// The finding in words: "no access found in logs covering 100% of the window",
    /// "not determinable: ...", "accessed: ...".
    pub statement: String,
}

/// Everything imported for one incident: sealed with its data key, purged with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Records read, in every source.
    pub rows: u64,
    /// What the logs show by themselves (before the exposure window is considered).
    pub finding: Finding,
    /// By employee id; only people someone not authorised read.
    pub people: BTreeMap<String, PersonEvidence>,
    /// Most active first.
    pub accessors: Vec<AccessorEvidence>,
    #[serde(default)]
    pub sources: Vec<SourceSummary>,
    #[serde(default)]
    pub denied: u64,
    #[serde(default)]
    pub not_reads: u64,
    #[serde(default)]
    pub unmatched: u64,
    /// The resources that named nobody, most events first (at most ten).
    #[serde(default)]
    pub unmatched_resources: Vec<(String, u64)>,
}

impl Evidence {
    pub fn unauthorized_accessors(&self) -> u64 {
        self.accessors.iter().filter(|a| !a.authorized).count() as u64
    }

    pub fn people_read(&self) -> u64 {
        self.people.len() as u64
    }

    pub fn people_acquired(&self) -> u64 {
        self.people.values().filter(|p| p.copies > 0).count() as u64
    }

    /// Whether a file with this digest was imported already.
    pub fn has_source(&self, digest: &str) -> bool {
        self.sources.iter().any(|s| s.digest == digest)
    }

    /// `self` with `other` (a new source) added: counts add up, accessors are matched by
    /// name, each person's distinct accessors are the union of both.
    #[must_use]
    pub fn merge(mut self, other: Evidence) -> Evidence {
        self.add(other);
        self.settle();
        self
    }

    /// Adds every one of `others` and puts the result in order once.
    #[must_use]
    pub fn merge_all(mut self, others: impl IntoIterator<Item = Evidence>) -> Evidence {
        for other in others {
            self.add(other);
        }
        self.settle();
        self
    }

    /// Adds `other` without putting the result in order (see [`Evidence::settle`]).
    fn add(&mut self, other: Evidence) {
        let mut index: HashMap<String, u32> = self
            .accessors
            .iter()
            .enumerate()
            .map(|(i, a)| (a.accessor.clone(), i as u32))
            .collect();
        let mut renumber = Vec::with_capacity(other.accessors.len());
        for a in other.accessors {
            let n = match index.get(&a.accessor) {
                Some(n) => {
                    let mine = &mut self.accessors[*n as usize];
                    mine.reads += a.reads;
                    mine.copies += a.copies;
                    mine.authorized |= a.authorized;
                    *n
                }
                None => {
                    let n = self.accessors.len() as u32;
                    index.insert(a.accessor.clone(), n);
                    self.accessors.push(a);
                    n
                }
            };
            renumber.push(n);
        }
        for (id, p) in other.people {
            let mine = self.people.entry(id).or_default();
            mine.reads += p.reads;
            mine.copies += p.copies;
            for b in p.by {
                let n = renumber[b as usize];
                if let Err(at) = mine.by.binary_search(&n) {
                    mine.by.insert(at, n);
                }
            }
            mine.accessors = mine.accessors.max(mine.by.len() as u64);
        }
        self.rows += other.rows;
        self.denied += other.denied;
        self.not_reads += other.not_reads;
        self.unmatched += other.unmatched;
        let mut unmatched: HashMap<String, u64> = self.unmatched_resources.drain(..).collect();
        for (r, n) in other.unmatched_resources {
            *unmatched.entry(r).or_default() += n;
        }
        self.unmatched_resources = top(unmatched);
        self.sources.extend(other.sources);
    }

    /// Puts the derived parts in order: people per accessor, the ordering of accessors
    /// (renumbering what people point at), the finding of the logs by themselves.
    fn settle(&mut self) {
        let mut people = vec![0u64; self.accessors.len()];
        for p in self.people.values() {
            for b in &p.by {
                people[*b as usize] += 1;
            }
        }
        for (a, n) in self.accessors.iter_mut().zip(&people) {
            a.people = (*n).max(a.people);
        }
        let mut order: Vec<usize> = (0..self.accessors.len()).collect();
        order.sort_by(|x, y| {
            let (a, b) = (&self.accessors[*x], &self.accessors[*y]);
            (b.copies + b.reads, &a.accessor).cmp(&(a.copies + a.reads, &b.accessor))
        });
        let mut new_place = vec![0u32; order.len()];
        for (place, old) in order.iter().enumerate() {
            new_place[*old] = place as u32;
        }
        let mut accessors: Vec<Option<AccessorEvidence>> =
            self.accessors.drain(..).map(Some).collect();
        self.accessors = order.iter().filter_map(|i| accessors[*i].take()).collect();
        for p in self.people.values_mut() {
            for b in &mut p.by {
                *b = new_place[*b as usize];
            }
            p.by.sort_unstable();
        }
        self.finding = if self.people.values().any(|p| p.copies > 0) {
            Finding::Acquired
        } else if self.people.is_empty() {
            Finding::NoAccess
        } else {
            Finding::Accessed
        };
    }

    /// What the evidence says, against the exposure window `from..until`: a read or copy
    /// found stands; "no access" needs logs that can show reads covering the whole window,
    /// otherwise the finding is not determinable, and says why.
    pub fn assess(&self, window: Option<(DateTime<Utc>, DateTime<Utc>)>) -> (Finding, Coverage) {
        let able: Vec<&SourceSummary> = self.sources.iter().filter(|s| s.shows_reads).collect();
        let percent = window.and_then(|(from, until)| {
            (!able.is_empty() && until > from).then(|| covered_percent(&able, from, until))
        });
        let people = |n: u64| {
            if n == 1 {
                "1 affected person".to_owned()
            } else {
                format!("{n} affected people")
            }
        };
        let cover = match percent {
            Some(p) => format!(" (the logs that can show reads cover {p}% of the exposure window)"),
            None => String::new(),
        };
        let (finding, statement) = match self.finding {
            Finding::Acquired => (
                Finding::Acquired,
                format!(
                    "acquired: someone not authorised copied the data of {} and read that of {}{cover}",
                    people(self.people_acquired()),
                    people(self.people_read())
                ),
            ),
            Finding::Accessed => (
                Finding::Accessed,
                format!(
                    "accessed: someone not authorised read the data of {}; no copy found{cover}",
                    people(self.people_read())
                ),
            ),
            _ if self.sources.is_empty() => (
                Finding::Unknown,
                "not determinable: no log imported".to_owned(),
            ),
            _ if able.is_empty() => (
                Finding::Unknown,
                format!(
                    "not determinable: none of the logs can show reads ({})",
                    self.sources
                        .iter()
                        .flat_map(|s| s.warnings.iter())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ),
            _ => match percent {
                None if window.is_none() => (
                    Finding::Unknown,
                    "not determinable: no exposure window to hold the logs against (set it with `breachdesk incident exposure ID --from T --until T --reason R`)".to_owned(),
                ),
                Some(100) => (
                    Finding::NoAccess,
                    "no access found in logs covering 100% of the exposure window".to_owned(),
                ),
                Some(p) => (
                    Finding::Unknown,
                    format!(
                        "not determinable: no access found, but the logs that can show reads cover only {p}% of the exposure window"
                    ),
                ),
                None => (
                    Finding::Unknown,
                    "not determinable: the exposure window is empty".to_owned(),
                ),
            },
        };
        (finding, Coverage { percent, statement })
    }
}

/// The whole percent of `from..until` that the sources cover (their spans less their gaps).
fn covered_percent(sources: &[&SourceSummary], from: DateTime<Utc>, until: DateTime<Utc>) -> u8 {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for s in sources {
        let (Some(start), Some(end)) = (s.from, s.to) else {
            continue;
        };
        // The span less its gaps, as pieces.
        let mut at = start;
        for (gap_from, gap_to) in &s.gaps {
            spans.push((at, *gap_from));
            at = *gap_to;
        }
        spans.push((at, end));
    }
    spans.sort();
    let mut covered = chrono::Duration::zero();
    let mut reach = from;
    for (a, b) in spans {
        let (a, b) = (a.max(reach), b.min(until));
        if b > a {
            covered += b - a;
            reach = b;
        }
    }
    let whole = (until - from).num_seconds().max(1);
    // A log's first and last records rarely fall on the window's edges: a minute either
    // side is taken as covered.
    let slack = chrono::Duration::minutes(1).num_seconds();
    let seconds = (covered.num_seconds() + 2 * slack).min(whole);
    (seconds * 100 / whole) as u8
}

/// The `LISTED_UNMATCHED` resources with the most events.
fn top(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(LISTED_UNMATCHED);
    list
}

/// Reads one log (`format`, or detected) into the evidence of one source named `source`
/// (its digest is the caller's to set, once every byte has been read). `now` bounds the
/// times a record may carry.
pub fn analyse(
    input: &mut dyn Read,
    source: &str,
    roster: &RosterIndex,
    options: &EvidenceOptions,
    now: DateTime<Utc>,
) -> Result<Evidence, EvidenceError> {
    let refuse = |message: String| EvidenceError {
        source: source.to_owned(),
        errors: vec![message],
        total: 1,
    };
    let matching = options.matching().map_err(refuse)?;
    let (format, mut input) = detect::open(input, options.format).map_err(refuse)?;
    let mut sink = Sink::new(roster, &matching, now);
    let read = match format {
        LogFormat::Auto => Err("the format was not detected".to_owned()),
        LogFormat::Csv => csv_log::read(&mut input, &mut sink),
        LogFormat::Cloudtrail => aws::cloudtrail(&mut input, &mut sink),
        LogFormat::S3 => aws::s3_access(&mut input, &mut sink),
        LogFormat::Gcp => google::cloud_audit(&mut input, &mut sink),
        LogFormat::Workspace => google::drive_activity(&mut input, &mut sink),
        LogFormat::Azure => azure::storage(&mut input, &mut sink),
        LogFormat::Pgaudit => postgres::pgaudit(&mut input, &mut sink),
        LogFormat::Elasticsearch => elastic::audit(&mut input, &mut sink),
    };
    if let Err(e) = read {
        sink.error(0, e);
    }
    sink.finish(format, source)
}

/// The first line of several logs sent as one stream: then, for each file, a line
/// `<length> <name>` and that many bytes.
pub const BUNDLE: &[u8] = b"breachdesk-logs 1\n";

/// The line that introduces one file of a bundle.
pub fn bundle_header(name: &str, len: u64) -> Vec<u8> {
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{len} {name}\n").into_bytes()
}

/// Parses an allow-list: one principal (or glob) per line; blank lines and `#` comments
/// ignored.
pub fn allow_list(text: &str) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    set.into_iter().collect()
}

/// Parses a map file: CSV `resource,employee_id` (a header line with those names is
/// skipped); a malformed line is named.
pub fn map_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 1;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let cells: Vec<&str> = record.iter().map(str::trim).collect();
        if line == 1 && cells == ["resource", "employee_id"] {
            continue;
        }
        match cells.as_slice() {
            [resource, id] if !resource.is_empty() && !id.is_empty() => {
                out.push(((*resource).to_owned(), (*id).to_owned()));
            }
            _ => {
                return Err(format!(
                    "line {line}: expected resource,employee_id (got {} field{})",
                    cells.len(),
                    if cells.len() == 1 { "" } else { "s" }
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
