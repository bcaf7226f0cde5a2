//! Reading a roster of affected people from CSV. The whole file is validated before
//! anything is written: either every row is good, or the caller gets every bad row with its
//! line number and reason. Text that could disguise itself (control and bidirectional
//! control characters) is refused in every field; a cell `people export` marked with an
//! apostrophe to keep it inert in a spreadsheet is read without it.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use thiserror::Error;

use crate::domain::inert::csv_cell_restored;
use crate::domain::text::{Lines, checked, refuse_bidi};
use crate::domain::{
    AffectedPerson, CategoryCatalog, DomainError, Email, EmployeeId, Language, Location,
};

/// The longest a single field may be.
pub const MAX_FIELD_CHARS: usize = 1000;
/// The most rows one import may hold.
pub const MAX_ROWS: usize = 2_000_000;

const REQUIRED: [&str; 4] = ["employee_id", "name", "email", "categories"];
const OPTIONAL: [&str; 2] = ["location", "language"];

/// One bad row: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Why a roster was refused. Nothing is imported when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RosterError {
    #[error("{source_name}: {reason}")]
    File { source_name: String, reason: String },
    #[error("{}", bad_rows_message(.source_name, .rows))]
    Rows {
        source_name: String,
        rows: Vec<RowError>,
    },
}

fn bad_rows_message(source: &str, rows: &[RowError]) -> String {
    let plural = if rows.len() == 1 { "" } else { "s" };
    let mut msg = format!(
        "{source}: {} bad row{plural}; nothing was imported",
        rows.len()
    );
    for row in rows {
        msg.push_str(&format!("\n  {row}"));
    }
    msg
}

/// Column positions found in the header.
struct Columns {
    employee_id: usize,
    name: usize,
    email: usize,
    categories: usize,
    location: Option<usize>,
    language: Option<usize>,
    count: usize,
}

/// Reads a whole roster into memory: every row checked as [`read`] checks them.
pub fn parse(
    bytes: &[u8],
    source_name: &str,
    catalog: &CategoryCatalog,
) -> Result<Vec<AffectedPerson>, RosterError> {
    let mut people = Vec::new();
    read(bytes, source_name, catalog, &mut |person| {
        people.push(person);
    })?;
    Ok(people)
}

/// Reads a roster in two passes, holding no person longer than it takes to hand them on:
/// the first checks every row (so that a file with any bad row is refused whole, each bad
/// row named with its line, before anything is handed on); the second hands each person to
/// `each`, in file order. Returns how many people there were.
pub fn read(
    bytes: &[u8],
    source_name: &str,
    catalog: &CategoryCatalog,
    each: &mut dyn FnMut(AffectedPerson),
) -> Result<usize, RosterError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let rows = pass(bytes, source_name, catalog, None)?;
    pass(bytes, source_name, catalog, Some(each))?;
    Ok(rows)
}

/// One pass over the rows: with `each`, hands every person on (the rows were checked
/// already); without, checks every row and keeps only what finds a duplicate.
fn pass(
    bytes: &[u8],
    source_name: &str,
    catalog: &CategoryCatalog,
    mut each: Option<&mut dyn FnMut(AffectedPerson)>,
) -> Result<usize, RosterError> {
    let file_error = |reason: String| RosterError::File {
        source_name: source_name.to_owned(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => {
            return Err(file_error(
                "the file is empty; expected a header line".into(),
            ));
        }
        Some(Err(e)) => return Err(file_error(format!("line 1: {e}"))),
        Some(Ok(h)) => h,
    };
    let columns = read_header(&header).map_err(file_error)?;

    let mut rows = 0usize;
    let mut errors = Vec::new();
    // Each employee id seen, with its line (only while checking).
    let mut first_seen: HashMap<EmployeeId, u64> = HashMap::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    reason: format!("unreadable CSV: {}", csv_reason(&e)),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if rows + errors.len() >= MAX_ROWS {
            return Err(file_error(format!(
                "more than {MAX_ROWS} rows; split the roster"
            )));
        }
        match read_row(&record, &columns, catalog) {
            Ok(person) => {
                if let Some(each) = each.as_mut() {
                    rows += 1;
                    each(person);
                    continue;
                }
                match first_seen.get(&person.employee_id) {
                    Some(first) => errors.push(RowError {
                        line,
                        reason: format!(
                            "duplicate employee_id '{}' (first on line {first})",
                            person.employee_id
                        ),
                    }),
                    None => {
                        rows += 1;
                        first_seen.insert(person.employee_id, line);
                    }
                }
            }
            Err(reasons) => errors.push(RowError {
                line,
                reason: reasons.join("; "),
            }),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(RosterError::Rows {
            source_name: source_name.to_owned(),
            rows: errors,
        })
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields, found {len}")
        }
        _ => e.to_string(),
    }
}

fn read_header(header: &csv::ByteRecord) -> Result<Columns, String> {
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
        .collect();
    let find = |wanted: &str| names.iter().position(|n| n == wanted);
    for (i, name) in names.iter().enumerate() {
        if !REQUIRED.contains(&name.as_str()) && !OPTIONAL.contains(&name.as_str()) {
            return Err(format!(
                "line 1: unknown column '{}'; columns are employee_id, name, email, categories and optional location and language",
                crate::domain::text::for_terminal(name)
            ));
        }
        if names[..i].contains(name) {
            return Err(format!("line 1: column '{name}' appears twice"));
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|r| find(r).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "line 1: the header lacks {}; expected employee_id,name,email,categories[,location][,language]",
            missing.join(", ")
        ));
    }
    let required = |name| find(name).ok_or_else(|| format!("line 1: missing column {name}"));
    Ok(Columns {
        employee_id: required("employee_id")?,
        name: required("name")?,
        email: required("email")?,
        categories: required("categories")?,
        location: find("location"),
        language: find("language"),
        count: names.len(),
    })
}

/// Validates one row, collecting every reason it is bad.
fn read_row(
    record: &csv::ByteRecord,
    columns: &Columns,
    catalog: &CategoryCatalog,
) -> Result<AffectedPerson, Vec<String>> {
    if record.len() != columns.count {
        return Err(vec![format!(
            "expected {} fields, found {}",
            columns.count,
            record.len()
        )]);
    }
    let mut reasons = Vec::new();
    let mut field = |index: usize, name: &'static str| -> Option<&str> {
        let Ok(text) = std::str::from_utf8(&record[index]) else {
            reasons.push(format!("{name} is not valid UTF-8"));
            return None;
        };
        // A file `people export` wrote: take off the apostrophe that kept a cell inert.
        let text = csv_cell_restored(text);
        if text.chars().count() > MAX_FIELD_CHARS {
            reasons.push(
                DomainError::TooLong {
                    field: name,
                    max: MAX_FIELD_CHARS,
                }
                .to_string(),
            );
            return None;
        }
        if text.chars().any(char::is_control) {
            reasons.push(DomainError::ControlCharacter { field: name }.to_string());
            return None;
        }
        if let Err(e) = refuse_bidi(name, text) {
            reasons.push(e.to_string());
            return None;
        }
        Some(text)
    };
    let employee_id = field(columns.employee_id, "employee_id");
    let name = field(columns.name, "name");
    let email = field(columns.email, "email");
    let categories = field(columns.categories, "categories");
    let location = columns.location.and_then(|i| field(i, "location"));
    let language = columns.language.and_then(|i| field(i, "language"));

    let r = &mut reasons;
    let employee_id = employee_id.and_then(|v| keep(r, EmployeeId::parse(v)));
    let name = name.and_then(|v| keep(r, checked("name", v, MAX_FIELD_CHARS, Lines::Single)));
    let email = email.and_then(|v| {
        if v.trim().is_empty() {
            keep(r, Err(DomainError::Missing { field: "email" }))
        } else {
            keep(r, Email::parse(v))
        }
    });
    let location = match location.map(str::trim) {
        Some(v) if !v.is_empty() => keep(r, Location::parse(v)).map(Some),
        _ => Some(None),
    };
    let language = match language.map(str::trim) {
        Some(v) if !v.is_empty() => keep(r, Language::parse(v)).map(Some),
        _ => Some(None),
    };
    let categories = categories.and_then(|v| {
        let parsed: Result<Vec<_>, _> = v
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| catalog.parse(c))
            .collect();
        match parsed {
            Ok(list) if list.is_empty() => keep(
                r,
                Err(DomainError::Missing {
                    field: "categories",
                }),
            ),
            Ok(list) => Some(list.into_iter().collect::<BTreeSet<_>>()),
            Err(e) => keep(r, Err::<BTreeSet<_>, _>(e)),
        }
    });
    match (employee_id, name, email, categories, location, language) {
        (
            Some(employee_id),
            Some(name),
            Some(email),
            Some(categories),
            Some(location),
            Some(language),
        ) if reasons.is_empty() => Ok(AffectedPerson {
            employee_id,
            name,
            email,
            categories,
            location,
            notified_at: None,
            bounced: None,
            language,
        }),
        _ => Err(reasons),
    }
}

/// Keeps a valid value, or notes why it is not.
fn keep<T>(reasons: &mut Vec<String>, result: Result<T, DomainError>) -> Option<T> {
    result.map_err(|e| reasons.push(e.to_string())).ok()
}

/// The roster as CSV in the import format (so the file imports back unchanged), every cell
/// neutralised for spreadsheets; with `undeliverable`, also each person's bounce.
pub fn export_csv(people: &[AffectedPerson], undeliverable: bool) -> Result<Vec<u8>, csv::Error> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "employee_id",
        "name",
        "email",
        "categories",
        "location",
        "language",
    ];
    if undeliverable {
        header.extend(["bounce_status", "bounce_diagnostic", "bounced_at"]);
    }
    csv.write_record(&header)?;
    for p in people {
        let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
        let cats = cats.join(";");
        let bounced_at = p
            .bounced
            .as_ref()
            .map(|b| {
                b.recorded_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
            .unwrap_or_default();
        let mut cells = vec![
            p.employee_id.as_str(),
            &p.name,
            p.email.as_str(),
            &cats,
            p.location.as_ref().map_or("", |l| l.as_str()),
            p.language.as_ref().map_or("", |l| l.as_str()),
        ];
        if undeliverable {
            let b = p.bounced.as_ref();
            cells.extend([
                b.map_or("", |b| b.status.as_str()),
                b.map_or("", |b| b.diagnostic.as_str()),
                &bounced_at,
            ]);
        }
        // Every column came from the imported roster or a remote server, so none may run
        // in a spreadsheet.
        let cells: Vec<_> = cells
            .into_iter()
            .map(crate::domain::inert::csv_cell)
            .collect();
        csv.write_record(cells.iter().map(|c| c.as_bytes()))?;
    }
    csv.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<AffectedPerson>, RosterError> {
        parse(text.as_bytes(), "roster.csv", &CategoryCatalog::default())
    }

    fn bad_lines(text: &str) -> Vec<(u64, String)> {
        match parse_str(text) {
            Err(RosterError::Rows { rows, .. }) => {
                rows.into_iter().map(|r| (r.line, r.reason)).collect()
            }
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_good_roster() {
        let people = parse_str(
            "employee_id,name,email,categories,location\n\
             E1,Ana Díaz,ana@corp.example,keystrokes;chat-messages,us-ca\n\
             E2,Bo,bo@corp.example,screenshots,\n",
        )
        .unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].categories.len(), 2);
        assert_eq!(people[0].location.as_ref().unwrap().as_str(), "US-CA");
        assert!(people[1].location.is_none());
    }

    #[test]
    fn columns_may_come_in_any_order_without_location() {
        let people =
            parse_str("email,categories,name,employee_id\nx@y.de,keystrokes,X,7\n").unwrap();
        assert_eq!(people[0].employee_id.as_str(), "7");
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let text = "employee_id,name,email,categories\n\
                    E1,Ana,ana@corp.example,keystrokes\n\
                    E2,Bob,bob@,keystrokes\n\
                    E3,Cy,cy@corp.example,dna\n\
                    E1,Dup,dup@corp.example,keystrokes\n\
                    ,Nobody,n@corp.example,keystrokes\n\
                    E6,Short\n\
                    E7,\"Evil\u{1b}[2J\",e@corp.example,keystrokes\n";
        let lines = bad_lines(text);
        let numbers: Vec<u64> = lines.iter().map(|(l, _)| *l).collect();
        assert_eq!(numbers, vec![3, 4, 5, 6, 7, 8]);
        assert!(
            lines[0].1.contains("'bob@' is not an email address"),
            "{lines:?}"
        );
        assert!(lines[1].1.contains("unknown category 'dna'"), "{lines:?}");
        assert!(
            lines[2]
                .1
                .contains("duplicate employee_id 'E1' (first on line 2)"),
            "{lines:?}"
        );
        assert!(lines[3].1.contains("employee_id is missing"), "{lines:?}");
        assert!(
            lines[4].1.contains("expected 4 fields, found 2"),
            "{lines:?}"
        );
        assert!(
            lines[5].1.contains("name contains a control character"),
            "{lines:?}"
        );
    }

    #[test]
    fn bidirectional_controls_are_refused_in_every_field() {
        let text = "employee_id,name,email,categories,location\n\
                    E1,Ana,ana@corp.example,keystrokes,DE\n\
                    E2,Eve\u{202e}gnp.exe,eve@corp.example,keystrokes,DE\n\
                    E3,Cy,cy\u{200f}@corp.example,keystrokes,DE\n\
                    E4\u{2066},Di,di@corp.example,keystrokes,DE\n\
                    E5,Ed,ed@corp.example,keystrokes\u{61c},DE\n\
                    E6,Flo,flo@corp.example,keystrokes,D\u{200e}E\n";
        let lines = bad_lines(text);
        let want = [
            (
                3,
                "the name holds a bidirectional control character (U+202E)",
            ),
            (
                4,
                "the email holds a bidirectional control character (U+200F)",
            ),
            (
                5,
                "the employee_id holds a bidirectional control character (U+2066)",
            ),
            (
                6,
                "the categories holds a bidirectional control character (U+061C)",
            ),
            (
                7,
                "the location holds a bidirectional control character (U+200E)",
            ),
        ];
        assert_eq!(lines.len(), want.len(), "{lines:?}");
        for ((line, reason), (want_line, want_reason)) in lines.iter().zip(want) {
            assert_eq!(*line, want_line);
            assert!(reason.starts_with(want_reason), "{reason}");
            assert!(!reason.chars().any(crate::domain::text::is_bidi_control));
        }
    }

    #[test]
    fn apostrophes_that_kept_an_export_inert_are_taken_off() {
        let people = parse_str(
            "employee_id,name,email,categories\n\
             '-7,'=HYPERLINK(\"http://x\"),'+a@corp.example,keystrokes\n\
             E2,'Quoted',''=b@corp.example,keystrokes\n",
        )
        .unwrap();
        assert_eq!(people[0].employee_id.as_str(), "-7");
        assert_eq!(people[0].name, "=HYPERLINK(\"http://x\")");
        assert_eq!(people[0].email.as_str(), "+a@corp.example");
        assert_eq!(people[1].name, "'Quoted'");
        assert_eq!(people[1].email.as_str(), "'=b@corp.example");
    }

    #[test]
    fn long_fields_are_refused() {
        let text = format!(
            "employee_id,name,email,categories\nE1,{},a@b.de,keystrokes\n",
            "n".repeat(1001)
        );
        let lines = bad_lines(&text);
        assert!(
            lines[0].1.contains("name is longer than 1000 characters"),
            "{lines:?}"
        );
    }

    #[test]
    fn header_problems_are_file_errors() {
        for (text, want) in [
            ("", "empty"),
            ("employee_id,name,email\n", "lacks categories"),
            (
                "employee_id,name,email,categories,shoe_size\n",
                "unknown column 'shoe_size'",
            ),
        ] {
            let err = parse_str(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn message_lists_rows() {
        let err =
            parse_str("employee_id,name,email,categories\nE1,A,bad,keystrokes\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "roster.csv: 1 bad row; nothing was imported\n  line 2: 'bad' is not an email address"
        );
    }
}
