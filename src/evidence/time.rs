//! The time formats the logs write.

use chrono::{DateTime, NaiveDateTime, Utc};

/// RFC 3339 (`2026-11-20T08:05:01Z`, `...+00:00`), also with a comma before the fraction
/// and a `+0000` offset as Elasticsearch writes it (`2026-11-20T08:05:01,123+0000`).
pub(super) fn iso(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    let dotted = text.replace(',', ".");
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(&dotted, format) {
            return Some(t.to_utc());
        }
    }
    None
}

/// The S3 server access log's `06/Feb/2019:00:00:38 +0000` (without the brackets).
pub(super) fn s3(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text.trim(), "%d/%b/%Y:%H:%M:%S %z")
        .ok()
        .map(|t| t.to_utc())
}

/// PostgreSQL's csvlog `2026-11-20 08:05:01.123 UTC`: the zone must be UTC (or GMT) or a
/// numeric offset; a zone abbreviation such as `CET` names no unique offset.
pub(super) fn postgres(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    let (stamp, zone) = text
        .rsplit_once(' ')
        .ok_or_else(|| format!("log_time '{text}' is not a PostgreSQL time"))?;
    let naive = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f")
        .map_err(|_| format!("log_time '{text}' is not a PostgreSQL time"))?;
    match zone {
        "UTC" | "GMT" | "Z" => Ok(naive.and_utc()),
        offset if offset.starts_with(['+', '-']) => {
            let padded = if offset.len() == 3 {
                format!("{offset}00")
            } else {
                offset.replace(':', "")
            };
            DateTime::parse_from_str(&format!("{stamp} {padded}"), "%Y-%m-%d %H:%M:%S%.f %z")
                .map(|t| t.to_utc())
                .map_err(|_| format!("log_time '{text}' has an offset breachdesk cannot read"))
        }
        other => Err(format!(
            "log_time '{text}' is in the zone '{other}', which names no unique offset: set log_timezone = 'UTC' in postgresql.conf"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_logs_time_format_is_read() {
        let want = DateTime::parse_from_rfc3339("2026-11-20T08:05:01.123Z")
            .unwrap()
            .to_utc();
        assert_eq!(iso("2026-11-20T08:05:01.123Z"), Some(want));
        assert_eq!(iso("2026-11-20T08:05:01,123+0000"), Some(want));
        assert_eq!(postgres("2026-11-20 08:05:01.123 UTC"), Ok(want));
        assert_eq!(postgres("2026-11-20 09:05:01.123 +01"), Ok(want));
        assert!(
            postgres("2026-11-20 09:05:01.123 CET")
                .unwrap_err()
                .contains("log_timezone")
        );
        assert_eq!(
            s3("20/Nov/2026:08:05:01 +0000"),
            Some(want - chrono::Duration::milliseconds(123))
        );
    }
}
