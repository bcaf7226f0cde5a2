//! The formats of access log breachdesk reads, and telling them apart by content: a gzip
//! file is opened first, then the first record decides.

use std::io::{BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

/// How much of a log is looked at to tell its format.
const SNIFF: usize = 64 * 1024;

/// An access log's format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Detect the format from the content.
    #[default]
    Auto,
    /// breachdesk's CSV: accessed_at,accessor,employee_id,action.
    Csv,
    /// AWS CloudTrail: delivered files ({"Records": [...]}) or one event per line.
    Cloudtrail,
    /// Amazon S3 server access logs.
    S3,
    /// Google Cloud audit log entries, JSON lines as exported.
    Gcp,
    /// Google Workspace Drive activities (Reports API), JSON lines.
    Workspace,
    /// Azure Storage resource logs (StorageRead ...), JSON lines.
    Azure,
    /// pgaudit entries in PostgreSQL's csvlog.
    Pgaudit,
    /// Elasticsearch audit log, JSON lines.
    Elasticsearch,
}

impl LogFormat {
    pub const KNOWN: [LogFormat; 8] = [
        LogFormat::Csv,
        LogFormat::Cloudtrail,
        LogFormat::S3,
        LogFormat::Gcp,
        LogFormat::Workspace,
        LogFormat::Azure,
        LogFormat::Pgaudit,
        LogFormat::Elasticsearch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Auto => "auto",
            LogFormat::Csv => "csv",
            LogFormat::Cloudtrail => "cloudtrail",
            LogFormat::S3 => "s3",
            LogFormat::Gcp => "gcp",
            LogFormat::Workspace => "workspace",
            LogFormat::Azure => "azure",
            LogFormat::Pgaudit => "pgaudit",
            LogFormat::Elasticsearch => "elasticsearch",
        }
    }

    /// What each format is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            LogFormat::Auto => "detected from the content",
            LogFormat::Csv => "breachdesk CSV (accessed_at,accessor,employee_id,action)",
            LogFormat::Cloudtrail => "AWS CloudTrail ({\"Records\": [...]} or one event per line)",
            LogFormat::S3 => "Amazon S3 server access log",
            LogFormat::Gcp => "Google Cloud audit log entries (JSON lines)",
            LogFormat::Workspace => "Google Workspace Drive activities (Reports API, JSON lines)",
            LogFormat::Azure => "Azure Storage resource logs (JSON lines)",
            LogFormat::Pgaudit => "pgaudit in PostgreSQL csvlog",
            LogFormat::Elasticsearch => "Elasticsearch audit log (JSON lines)",
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The log, unzipped if it is gzip, as a buffered reader, with its format: `given`, or
/// detected from its first record. A log no reader knows is refused with the formats
/// breachdesk reads.
pub(super) fn open<'a>(
    input: &'a mut dyn Read,
    given: LogFormat,
) -> Result<(LogFormat, Box<dyn BufRead + 'a>), String> {
    let mut raw = BufReader::with_capacity(1 << 20, input);
    let gzip = raw
        .fill_buf()
        .map_err(|e| format!("cannot read: {e}"))?
        .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead + 'a> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    if given != LogFormat::Auto {
        return Ok((given, reader));
    }
    // Enough of the start to see a whole first record.
    let mut head = Vec::with_capacity(SNIFF);
    (&mut reader)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot read: {e}"))?;
    let format = sniff(&head).ok_or_else(|| {
        let known: Vec<String> = LogFormat::KNOWN
            .iter()
            .map(|f| format!("{} ({})", f.as_str(), f.describe()))
            .collect();
        format!(
            "not a log format breachdesk knows; it reads: {}. Name the format with --format if it is one of these",
            known.join("; ")
        )
    })?;
    Ok((format, Box::new(std::io::Cursor::new(head).chain(reader))))
}

/// The format whose first record `head` starts with.
fn sniff(head: &[u8]) -> Option<LogFormat> {
    let text = String::from_utf8_lossy(head);
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with('{') {
        return sniff_json(start);
    }
    let first = start.lines().next().unwrap_or("");
    if first.trim_end() == "accessed_at,accessor,employee_id,action" {
        return Some(LogFormat::Csv);
    }
    if first.contains("AUDIT: ") || first.contains(",\"AUDIT: ") {
        return Some(LogFormat::Pgaudit);
    }
    if looks_like_csvlog(first) && start.contains("AUDIT: ") {
        return Some(LogFormat::Pgaudit);
    }
    if looks_like_s3_access(first) {
        return Some(LogFormat::S3);
    }
    None
}

/// A JSON log: a CloudTrail file, or JSON lines of one of the services.
fn sniff_json(start: &str) -> Option<LogFormat> {
    let prefix = start.trim_start_matches('{').trim_start();
    if prefix.starts_with("\"Records\"") {
        return Some(LogFormat::Cloudtrail);
    }
    let line = start.lines().next().unwrap_or("");
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let has = |key: &str| value.get(key).is_some();
    if value
        .get("Records")
        .is_some_and(serde_json::Value::is_array)
    {
        return Some(LogFormat::Cloudtrail);
    }
    if has("eventVersion") && has("eventSource") && has("eventName") {
        return Some(LogFormat::Cloudtrail);
    }
    let audit_type = value
        .pointer("/protoPayload/@type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    if audit_type.ends_with("google.cloud.audit.AuditLog") {
        return Some(LogFormat::Gcp);
    }
    if value.get("kind").and_then(serde_json::Value::as_str) == Some("admin#reports#activity") {
        return Some(LogFormat::Workspace);
    }
    if has("operationName") && has("category") && (has("time") || has("properties")) {
        return Some(LogFormat::Azure);
    }
    if value.get("type").and_then(serde_json::Value::as_str) == Some("audit")
        && (has("event.action") || has("event.type"))
    {
        return Some(LogFormat::Elasticsearch);
    }
    None
}

/// A PostgreSQL csvlog line starts with its time: `2026-11-20 08:05:01.123 UTC,`.
fn looks_like_csvlog(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && line.contains(',')
}

/// An S3 server access log line: a 64-hex-digit bucket owner, a bucket, then `[time]`.
fn looks_like_s3_access(line: &str) -> bool {
    let mut parts = line.splitn(3, ' ');
    let owner = parts.next().unwrap_or("");
    let _bucket = parts.next();
    let rest = parts.next().unwrap_or("");
    owner.len() == 64 && owner.bytes().all(|b| b.is_ascii_hexdigit()) && rest.starts_with('[')
}
