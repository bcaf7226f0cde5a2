//! breachdesk's own CSV: `accessed_at,accessor,employee_id,action`, for a store whose log
//! a responder has converted. The person is named directly; an id not on the roster is
//! counted as naming nobody.
//!
//! Actions: `read`, `view`, `open`, `query`, `search`, `list` are reads; `download`,
//! `export`, `copy`, `print`, `share` are copies (acquisition).

use std::io::BufRead;

use super::sink::Sink;
use super::{Event, Kind, MAX_ACCESSOR};
use crate::domain::text::for_terminal;

fn action_kind(action: &[u8]) -> Option<Kind> {
    match action {
        b"read" | b"view" | b"open" | b"query" | b"search" | b"list" => Some(Kind::Read),
        b"download" | b"export" | b"copy" | b"print" | b"share" => Some(Kind::Copy),
        _ => None,
    }
}

pub(super) fn read(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    match reader.byte_headers() {
        Ok(h)
            if h.iter()
                .eq([&b"accessed_at"[..], b"accessor", b"employee_id", b"action"]) => {}
        Ok(h) => {
            let got: Vec<String> = h
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            sink.error(
                1,
                format!(
                    "the header must be accessed_at,accessor,employee_id,action (got {})",
                    for_terminal(&got.join(","))
                ),
            );
        }
        Err(e) => sink.error(1, format!("unreadable CSV: {e}")),
    }
    let mut rows = 0u64;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(rows + 2, |p| p.line());
                sink.error(line, format!("unreadable CSV: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        rows += 1;
        let line = record.position().map_or(rows + 1, |p| p.line());
        if record.len() != 4 {
            sink.error(line, format!("expected 4 fields, found {}", record.len()));
            continue;
        }
        let text = |i: usize| std::str::from_utf8(&record[i]).ok();
        let Some(at) = text(0) else {
            sink.error(line, "accessed_at is not UTF-8".into());
            continue;
        };
        let Ok(time) = chrono::DateTime::parse_from_rfc3339(at.trim()) else {
            sink.error(
                line,
                format!("accessed_at '{}' is not an RFC 3339 time", for_terminal(at)),
            );
            continue;
        };
        if let Some(why) = crate::domain::when::insane(time.to_utc(), sink.now()) {
            sink.error(line, format!("accessed_at {why}"));
            continue;
        }
        let accessor = record[1].trim_ascii();
        let principal = std::str::from_utf8(accessor)
            .ok()
            .filter(|a| !a.chars().any(char::is_control));
        let Some(principal) = principal.filter(|a| !a.is_empty() && a.len() <= MAX_ACCESSOR) else {
            sink.error(
                line,
                "accessor must be 1-200 characters of UTF-8 text without control characters".into(),
            );
            continue;
        };
        let Some(kind) = action_kind(record[3].trim_ascii()) else {
            sink.error(
                line,
                format!(
                    "action '{}' is not one of read, view, open, query, search, list, download, export, copy, print, share",
                    for_terminal(&String::from_utf8_lossy(&record[3]))
                ),
            );
            continue;
        };
        let person = String::from_utf8_lossy(record[2].trim_ascii());
        sink.event(
            line,
            &Event {
                time: time.to_utc(),
                principal,
                resource: &person,
                detail: "",
                person: Some(&person),
                kind,
                unnamed: false,
            },
        );
    }
    // The CSV names each access as it happened: it can show reads.
    sink.can_show_reads();
    Ok(())
}
