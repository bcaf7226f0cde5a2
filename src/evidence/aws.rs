//! AWS: CloudTrail records (delivered files `{"Records": [...]}`, or one event per line as
//! exported) and Amazon S3 server access logs.
//!
//! CloudTrail, S3 data events (`eventSource` `s3.amazonaws.com`): `GetObject` and
//! `SelectObjectContent` are reads of the object; `CopyObject` and `UploadPartCopy` are
//! copies of their source (`x-amz-copy-source`); every other event (puts, deletes, `HeadObject`,
//! listings, ACL and tag calls, management events) is not a read. An `errorCode` makes any
//! of them denied. The principal is `userIdentity.arn` (else its `principalId`, else the
//! service that invoked it). Object reads are logged only as *data events*: a set of
//! management events alone cannot show them, and says so.
//!
//! S3 server access logs: `REST.GET.OBJECT` is a read, `REST.COPY.OBJECT_GET` (the read of a
//! copy's source) a copy; other operations are not reads; an HTTP status of 400 or more is
//! denied. The principal is the requester (an IAM ARN or canonical id; `-` is anonymous);
//! the resource is `bucket/key`, the key URL-decoded.

use std::borrow::Cow;
use std::io::{BufRead, Read};

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::sink::Sink;
use super::{Event, Kind, time};

/// The largest delivered file read whole (a larger one is streamed).
const WHOLE: u64 = 256 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow)]
    event_time: Cow<'a, str>,
    #[serde(borrow)]
    event_source: Cow<'a, str>,
    #[serde(borrow)]
    event_name: Cow<'a, str>,
    #[serde(default, borrow)]
    user_identity: Option<Identity<'a>>,
    #[serde(default, borrow)]
    request_parameters: Option<Parameters<'a>>,
    #[serde(default, borrow)]
    error_code: Option<Cow<'a, str>>,
    #[serde(default)]
    management_event: Option<bool>,
    #[serde(default, borrow)]
    event_category: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(default, borrow)]
    arn: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    principal_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    invoked_by: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameters<'a> {
    #[serde(default, borrow)]
    bucket_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "x-amz-copy-source")]
    copy_source: Option<Cow<'a, str>>,
}

/// One CloudTrail record into the sink.
fn record(sink: &mut Sink<'_>, line: u64, r: &Record<'_>) {
    let Some(time) = time::iso(&r.event_time) else {
        sink.error(line, format!("eventTime '{}' is not a time", r.event_time));
        return;
    };
    let management =
        r.management_event == Some(true) || r.event_category.as_deref() == Some("Management");
    if !management && r.event_source == "s3.amazonaws.com" {
        sink.can_show_reads();
    }
    let kind = if management || r.event_source != "s3.amazonaws.com" {
        Kind::NotRead
    } else {
        match r.event_name.as_ref() {
            "GetObject" | "SelectObjectContent" => Kind::Read,
            "CopyObject" | "UploadPartCopy" => Kind::Copy,
            _ => Kind::NotRead,
        }
    };
    let kind = if r.error_code.as_deref().is_some_and(|c| !c.is_empty()) {
        Kind::Denied
    } else {
        kind
    };
    let params = r.request_parameters.as_ref();
    let resource = match (kind, params.and_then(|p| p.copy_source.as_deref())) {
        (Kind::Copy, Some(source)) => {
            let source = source.split('?').next().unwrap_or(source);
            percent_encoding::percent_decode_str(source.trim_start_matches('/'))
                .decode_utf8_lossy()
                .into_owned()
        }
        _ => match params {
            Some(p) => format!(
                "{}/{}",
                p.bucket_name.as_deref().unwrap_or(""),
                p.key.as_deref().unwrap_or("")
            ),
            None => String::new(),
        },
    };
    let identity = r.user_identity.as_ref();
    let principal = identity
        .and_then(|i| {
            i.arn
                .as_deref()
                .or(i.principal_id.as_deref())
                .or(i.invoked_by.as_deref())
                .or(i.kind.as_deref())
        })
        .unwrap_or("anonymous");
    sink.event(
        line,
        &Event {
            time,
            principal,
            resource: &resource,
            detail: "",
            person: None,
            kind,
            unnamed: false,
        },
    );
}

/// Warns when a CloudTrail set has no S3 data event.
fn management_only(sink: &mut Sink<'_>, data_events: bool) {
    if !data_events {
        sink.warn(
            "CloudTrail management events only: S3 object reads are logged only as data events, which the trail must be configured to record",
        );
    }
}

/// A CloudTrail file or export: `{"Records": [...]}` streamed record by record, or one
/// record per line.
pub(super) fn cloudtrail(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    let first = loop {
        let buf = input.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => {
                let rest = &buf[at..];
                break rest.to_vec();
            }
            None if buf.is_empty() => break Vec::new(),
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    // A delivered file: one object whose "Records" is the array.
    let delivered = first.starts_with(b"{") && {
        let after = first[1..].iter().position(|b| !b.is_ascii_whitespace());
        after.is_some_and(|i| first[1 + i..].starts_with(b"\"Records\""))
    };
    if delivered {
        // Delivered files are small (CloudTrail writes one about every five minutes): read
        // whole, their strings are borrowed rather than copied; a very large one is
        // streamed.
        let mut whole = Vec::new();
        (&mut *input)
            .take(WHOLE + 1)
            .read_to_end(&mut whole)
            .map_err(|e| format!("cannot read: {e}"))?;
        let result = if whole.len() as u64 <= WHOLE {
            let mut de = serde_json::Deserializer::from_slice(&whole);
            RecordsFile { sink: &mut *sink }
                .deserialize(&mut de)
                .and_then(|()| de.end())
        } else {
            let mut de =
                serde_json::Deserializer::from_reader(std::io::Cursor::new(whole).chain(input));
            RecordsFile { sink: &mut *sink }
                .deserialize(&mut de)
                .and_then(|()| de.end())
        };
        result.map_err(|e| format!("not a CloudTrail log file: {e}"))?;
    } else {
        super::google::json_lines(input, sink, |sink, n, line| {
            match serde_json::from_slice::<Record<'_>>(line) {
                Ok(r) => record(sink, n, &r),
                Err(e) => sink.error(n, format!("not a CloudTrail record: {e}")),
            }
        })?;
    }
    let data_events = sink.shows();
    management_only(sink, data_events);
    Ok(())
}

/// The top-level object of a delivered file.
struct RecordsFile<'s, 'r> {
    sink: &'s mut Sink<'r>,
}

impl<'de> DeserializeSeed<'de> for RecordsFile<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordsFile<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with Records")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "Records" {
                map.next_value_seed(Records {
                    sink: &mut *self.sink,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The array of records, each handed to the sink as it is read.
struct Records<'s, 'r> {
    sink: &'s mut Sink<'r>,
}

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of CloudTrail records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0u64;
        while let Some(r) = seq.next_element::<Record<'de>>()? {
            n += 1;
            record(self.sink, n, &r);
        }
        Ok(())
    }
}

/// The fields of one S3 server access log line, in order; `[time]` and quoted fields are
/// one field each.
fn fields(line: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(26);
    let mut rest = line.trim_end_matches(['\r', '\n']);
    while !rest.is_empty() {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        let (field, next) = match rest.as_bytes()[0] {
            b'[' => match rest.find(']') {
                Some(end) => (&rest[1..end], &rest[end + 1..]),
                None => (rest, ""),
            },
            b'"' => match rest[1..].find('"') {
                Some(end) => (&rest[1..=end], &rest[end + 2..]),
                None => (rest, ""),
            },
            _ => match rest.find(' ') {
                Some(end) => (&rest[..end], &rest[end..]),
                None => (rest, ""),
            },
        };
        out.push(field);
        rest = next;
    }
    out
}

/// Amazon S3 server access logs, one request per line.
pub(super) fn s3_access(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    let mut raw = Vec::new();
    let mut n = 0u64;
    sink.can_show_reads();
    loop {
        raw.clear();
        let read = input
            .read_until(b'\n', &mut raw)
            .map_err(|e| format!("cannot read: {e}"))?;
        if read == 0 {
            break;
        }
        n += 1;
        let Ok(line) = std::str::from_utf8(&raw) else {
            sink.error(n, "not UTF-8".into());
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let f = fields(line);
        if f.len() < 10 {
            sink.error(
                n,
                format!(
                    "expected the S3 server access log fields, found {}",
                    f.len()
                ),
            );
            continue;
        }
        let Some(time) = time::s3(f[2]) else {
            sink.error(n, format!("time '{}' is not an S3 log time", f[2]));
            continue;
        };
        let status: u16 = f[9].parse().unwrap_or(0);
        let kind = if status >= 400 || status == 0 {
            Kind::Denied
        } else {
            match f[6] {
                "REST.GET.OBJECT" => Kind::Read,
                "REST.COPY.OBJECT_GET" => Kind::Copy,
                _ => Kind::NotRead,
            }
        };
        let key = if f[7] == "-" {
            Cow::Borrowed("")
        } else {
            percent_encoding::percent_decode_str(f[7]).decode_utf8_lossy()
        };
        let resource = format!("{}/{key}", f[1]);
        let principal = if f[4] == "-" { "anonymous" } else { f[4] };
        sink.event(
            n,
            &Event {
                time,
                principal,
                resource: &resource,
                detail: "",
                person: None,
                kind,
                unnamed: false,
            },
        );
    }
    Ok(())
}
