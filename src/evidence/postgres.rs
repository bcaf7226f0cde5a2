//! pgaudit entries in PostgreSQL's csvlog (`log_destination = 'csvlog'`).
//!
//! Each csvlog line is a CSV record: `log_time`, `user_name`, ..., `error_severity` (12th),
//! `sql_state_code` (13th), `message` (14th), .... An audit entry's message is
//! `AUDIT: <type>,<statement id>,<substatement id>,<class>,<command>,<object type>,
//! <object name>,<statement>,<parameter>`. Class `READ` is a read (`SELECT`), except a
//! `COPY ... TO` (logged as a `READ` whose statement is the `COPY`), which is a copy
//! (acquisition); `WRITE`, `DDL`, `ROLE`, `FUNCTION`
//! and `MISC` are not reads. pgaudit logs statements that ran; a statement refused for lack
//! of privilege is an `ERROR` line with SQLSTATE `42501`: denied. Other log lines are not
//! accesses and are skipped. The principal is the database role (`user_name`); the person
//! is looked for in the object name, then in the statement (`WHERE employee_id = 'E1'`).
//! Times must be in UTC or carry a numeric offset (`log_timezone`).

use std::io::BufRead;

use super::sink::Sink;
use super::{Event, Kind, time};

const USER: usize = 1;
const SEVERITY: usize = 11;
const SQLSTATE: usize = 12;
const MESSAGE: usize = 13;

pub(super) fn pgaudit(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    sink.can_show_reads();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                n += 1;
                sink.error(n, format!("not a csvlog line: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        n = record.position().map_or(n + 1, |p| p.line());
        if record.len() <= MESSAGE {
            sink.error(
                n,
                format!(
                    "a csvlog line has at least {} fields, this one {}",
                    MESSAGE + 1,
                    record.len()
                ),
            );
            continue;
        }
        let message = &record[MESSAGE];
        let denied = &record[SEVERITY] == "ERROR" && &record[SQLSTATE] == "42501";
        let audit = message.strip_prefix("AUDIT: ");
        if audit.is_none() && !denied {
            continue;
        }
        let time = match time::postgres(&record[0]) {
            Ok(t) => t,
            Err(e) => {
                sink.error(n, e);
                continue;
            }
        };
        let principal = record[USER].to_owned();
        let (kind, object, statement) = match audit {
            Some(entry) => match audit_fields(entry) {
                Some(f) => {
                    // pgaudit logs `COPY ... TO` as a READ of class SELECT: the statement
                    // says it is a copy.
                    let copy = f.command == "COPY"
                        || f.statement
                            .trim_start()
                            .get(..4)
                            .is_some_and(|w| w.eq_ignore_ascii_case("copy"));
                    let kind = match f.class.as_str() {
                        "READ" if copy => Kind::Copy,
                        "READ" => Kind::Read,
                        _ => Kind::NotRead,
                    };
                    (kind, f.object, f.statement)
                }
                None => {
                    sink.error(n, "an AUDIT entry without its fields".into());
                    continue;
                }
            },
            None => {
                // "permission denied for table keystrokes"
                let object = message
                    .rsplit_once(' ')
                    .map_or("", |(_, o)| o)
                    .trim_matches('"')
                    .to_owned();
                (Kind::Denied, object, message.to_owned())
            }
        };
        sink.event(
            n,
            &Event {
                time,
                principal: &principal,
                resource: &object,
                detail: &statement,
                person: None,
                kind,
                unnamed: false,
            },
        );
    }
    Ok(())
}

/// The fields of an `AUDIT:` message that matter here.
struct AuditFields {
    class: String,
    command: String,
    object: String,
    statement: String,
}

fn audit_fields(entry: &str) -> Option<AuditFields> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(entry.as_bytes());
    let record = reader.records().next()?.ok()?;
    if record.len() < 8 {
        return None;
    }
    Some(AuditFields {
        class: record[3].to_owned(),
        command: record[4].to_owned(),
        object: record[6].to_owned(),
        statement: record[7].to_owned(),
    })
}
