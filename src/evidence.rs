//! Exposure evidence: the exposed store's own access log (CSV
//! `accessed_at,accessor,employee_id,action`), read in one streaming pass into per-person
//! and per-accessor counts. Memory grows with distinct people and accessor pairs, never with
//! the number of rows. All or nothing: any bad row means nothing is kept.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::domain::Finding;
use crate::domain::text::for_terminal;

/// How many bad rows are listed; the rest are counted.
const LISTED_ERRORS: usize = 50;
/// The longest accessor name kept.
const MAX_ACCESSOR: usize = 200;

/// Why an access log was refused, with every bad row up to [`LISTED_ERRORS`].
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

/// What the log says about one affected person (reads by accessors off the allow-list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonEvidence {
    pub reads: u64,
    pub copies: u64,
    /// Distinct accessors off the allow-list who read or copied their data.
    pub accessors: u64,
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

/// The analysis of one access log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub rows: u64,
    pub finding: Finding,
    /// By employee id; only people someone off the allow-list touched.
    pub people: BTreeMap<String, PersonEvidence>,
    /// Most active first.
    pub accessors: Vec<AccessorEvidence>,
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
}

/// Bad rows seen so far.
#[derive(Default)]
struct Errors {
    list: Vec<String>,
    total: usize,
}

impl Errors {
    fn add(&mut self, line: u64, message: String) {
        self.total += 1;
        if self.list.len() < LISTED_ERRORS {
            self.list.push(format!("line {line}: {message}"));
        }
    }
}

#[derive(Default)]
struct Accessor {
    name: String,
    authorized: bool,
    reads: u64,
    copies: u64,
    people: u64,
}

#[derive(Default)]
struct Touched {
    reads: u64,
    copies: u64,
    /// Sorted accessor numbers.
    by: Vec<u32>,
}

/// Which actions count as a copy; every other known action is a read.
fn action_kind(action: &[u8]) -> Option<bool> {
    match action {
        b"read" | b"view" | b"open" | b"query" | b"search" | b"list" => Some(false),
        b"download" | b"export" | b"copy" | b"print" | b"share" => Some(true),
        _ => None,
    }
}

/// Reads an access log. `roster` holds the affected people's employee ids; `allowed` the
/// accessors whose reads are authorised (empty: nobody's). A row's time must be sane at
/// `now` (not before 1970, at most a day ahead).
pub fn analyse(
    input: &mut dyn Read,
    source: &str,
    roster: &HashSet<String>,
    allowed: &HashSet<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Evidence, EvidenceError> {
    let mut errs = Errors::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, input));
    match reader.byte_headers() {
        Ok(h)
            if h.iter()
                .eq([&b"accessed_at"[..], b"accessor", b"employee_id", b"action"]) => {}
        Ok(h) => {
            let got: Vec<String> = h
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            errs.add(
                1,
                format!(
                    "the header must be accessed_at,accessor,employee_id,action (got {})",
                    for_terminal(&got.join(","))
                ),
            );
        }
        Err(e) => errs.add(1, format!("unreadable CSV: {e}")),
    }
    let people_index: HashMap<&[u8], u32> = roster
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_bytes(), i as u32))
        .collect();
    let mut accessor_index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut accessors: Vec<Accessor> = Vec::new();
    let mut touched: HashMap<u32, Touched> = HashMap::new();
    let mut rows = 0u64;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(rows + 2, |p| p.line());
                errs.add(line, format!("unreadable CSV: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        rows += 1;
        let line = record.position().map_or(rows + 1, |p| p.line());
        if record.len() != 4 {
            errs.add(line, format!("expected 4 fields, found {}", record.len()));
            continue;
        }
        let text = |i: usize| std::str::from_utf8(&record[i]).ok();
        let Some(at) = text(0) else {
            errs.add(line, "accessed_at is not UTF-8".into());
            continue;
        };
        let Ok(when) = chrono::DateTime::parse_from_rfc3339(at.trim()) else {
            errs.add(
                line,
                format!("accessed_at '{}' is not an RFC 3339 time", for_terminal(at)),
            );
            continue;
        };
        if let Some(why) = crate::domain::when::insane(when.to_utc(), now) {
            errs.add(line, format!("accessed_at {why}"));
            continue;
        }
        let accessor = record[1].trim_ascii();
        let clean = std::str::from_utf8(accessor).is_ok_and(|a| !a.chars().any(char::is_control));
        if accessor.is_empty() || accessor.len() > MAX_ACCESSOR || !clean {
            errs.add(
                line,
                "accessor must be 1-200 characters of UTF-8 text without control characters".into(),
            );
            continue;
        }
        let Some(&person) = people_index.get(record[2].trim_ascii()) else {
            errs.add(
                line,
                format!(
                    "employee_id '{}' is not on the incident's roster",
                    for_terminal(&String::from_utf8_lossy(&record[2]))
                ),
            );
            continue;
        };
        let Some(copy) = action_kind(record[3].trim_ascii()) else {
            errs.add(
                line,
                format!(
                    "action '{}' is not one of read, view, open, query, search, list, download, export, copy, print, share",
                    for_terminal(&String::from_utf8_lossy(&record[3]))
                ),
            );
            continue;
        };
        if errs.total > 0 {
            continue;
        }
        let number = match accessor_index.get(accessor) {
            Some(n) => *n,
            None => {
                let name = String::from_utf8_lossy(accessor).into_owned();
                let n = accessors.len() as u32;
                accessors.push(Accessor {
                    authorized: allowed.contains(&name),
                    name,
                    ..Accessor::default()
                });
                accessor_index.insert(accessor.to_vec(), n);
                n
            }
        };
        let who = &mut accessors[number as usize];
        if copy {
            who.copies += 1;
        } else {
            who.reads += 1;
        }
        if who.authorized {
            continue;
        }
        let t = touched.entry(person).or_default();
        if copy {
            t.copies += 1;
        } else {
            t.reads += 1;
        }
        if let Err(at) = t.by.binary_search(&number) {
            t.by.insert(at, number);
            accessors[number as usize].people += 1;
        }
    }
    if rows == 0 && errs.total == 0 {
        errs.add(
            2,
            "the log has no rows: an empty log cannot show that nobody read the data".into(),
        );
    }
    if errs.total > 0 {
        return Err(EvidenceError {
            source: source.to_owned(),
            errors: errs.list,
            total: errs.total,
        });
    }
    let ids: Vec<&String> = roster.iter().collect();
    let people: BTreeMap<String, PersonEvidence> = touched
        .into_iter()
        .map(|(i, t)| {
            (
                ids[i as usize].clone(),
                PersonEvidence {
                    reads: t.reads,
                    copies: t.copies,
                    accessors: t.by.len() as u64,
                },
            )
        })
        .collect();
    let finding = if people.values().any(|p| p.copies > 0) {
        Finding::Acquired
    } else if people.is_empty() {
        Finding::NoAccess
    } else {
        Finding::Accessed
    };
    let mut accessors: Vec<AccessorEvidence> = accessors
        .into_iter()
        .map(|a| AccessorEvidence {
            accessor: a.name,
            authorized: a.authorized,
            reads: a.reads,
            copies: a.copies,
            people: a.people,
        })
        .collect();
    accessors
        .sort_by(|a, b| (b.copies + b.reads, &a.accessor).cmp(&(a.copies + a.reads, &b.accessor)));
    Ok(Evidence {
        rows,
        finding,
        people,
        accessors,
    })
}

/// Parses an allow-list: one accessor per line; blank lines and `#` comments ignored.
pub fn allow_list(text: &str) -> HashSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> HashSet<String> {
        ["E1", "E2", "E3"].iter().map(|s| s.to_string()).collect()
    }

    fn run(csv: &str, allowed: &[&str]) -> Result<Evidence, EvidenceError> {
        let allowed = allowed.iter().map(|s| s.to_string()).collect();
        analyse(
            &mut csv.as_bytes(),
            "log.csv",
            &roster(),
            &allowed,
            chrono::Utc::now(),
        )
    }

    const HEADER: &str = "accessed_at,accessor,employee_id,action\n";

    #[test]
    fn counts_reads_copies_and_distinct_accessors_off_the_allow_list() {
        let csv = format!(
            "{HEADER}2026-10-01T09:00:00Z,mallory,E1,read\n2026-10-01T09:01:00Z,mallory,E1,view\n\
             2026-10-01T09:02:00Z,trent,E1,download\n2026-10-01T09:03:00Z,ops-bot,E2,read\n"
        );
        let e = run(&csv, &["ops-bot"]).unwrap();
        assert_eq!(e.rows, 4);
        assert_eq!(e.finding, Finding::Acquired);
        assert_eq!(
            e.people["E1"],
            PersonEvidence {
                reads: 2,
                copies: 1,
                accessors: 2
            }
        );
        assert!(
            !e.people.contains_key("E2"),
            "allow-listed reads do not count"
        );
        assert_eq!(e.unauthorized_accessors(), 2);
        assert_eq!(e.accessors[0].accessor, "mallory");
    }

    #[test]
    fn only_allow_listed_reads_is_no_access() {
        let csv = format!("{HEADER}2026-10-01T09:00:00Z,ops-bot,E2,read\n");
        assert_eq!(run(&csv, &["ops-bot"]).unwrap().finding, Finding::NoAccess);
        let csv = format!("{HEADER}2026-10-01T09:00:00Z,eve,E2,read\n");
        assert_eq!(run(&csv, &[]).unwrap().finding, Finding::Accessed);
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_nothing_is_kept() {
        let csv = format!(
            "{HEADER}yesterday,eve,E1,read\n2026-10-01T09:00:00Z,,E1,read\n\
             2026-10-01T09:00:00Z,eve,E9,read\n2026-10-01T09:00:00Z,eve,E1,delete\n\
             2026-10-01T09:00:00Z,eve,E1\n2026-10-01T09:00:00Z,eve,E2,read\n"
        );
        let err = run(&csv, &[]).unwrap_err();
        assert_eq!(err.total, 5);
        let text = err.to_string();
        for needle in [
            "line 2: accessed_at 'yesterday'",
            "line 3: accessor",
            "line 4: employee_id 'E9' is not on the incident's roster",
            "line 5: action 'delete'",
            "line 6: expected 4 fields",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        let err = run("when,who,id,what\n", &[]).unwrap_err();
        assert!(err.to_string().contains("the header must be"), "{err}");
    }

    #[test]
    fn an_empty_log_proves_nothing_and_is_refused() {
        let err = run(HEADER, &[]).unwrap_err().to_string();
        assert!(err.contains("the log has no rows"), "{err}");
    }

    #[test]
    fn accessors_with_control_characters_are_refused_c1_included() {
        for name in ["ev\u{1b}e", "ev\u{9b}e"] {
            let csv = format!("{HEADER}2026-10-01T09:00:00Z,{name},E1,read\n");
            let err = run(&csv, &[]).unwrap_err().to_string();
            assert!(err.contains("line 2: accessor"), "{err}");
        }
    }

    #[test]
    fn control_characters_in_cells_do_not_reach_the_message() {
        let csv = format!("{HEADER}2026-10-01T09:00:00Z,eve,E\u{1b}[2J,read\n");
        let err = run(&csv, &[]).unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err:?}");
    }
}
