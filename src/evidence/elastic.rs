//! The Elasticsearch audit log (the `logfile` output: one JSON object per line, keys such
//! as `event.action` written flat with their dots).
//!
//! Only `access_granted`, `access_denied` and `anonymous_access_denied` entries are
//! accesses; other entries (authentication, connections) are skipped. A granted action
//! under `indices:data/read/` (search, get, multi-get, scroll) is a read of each index it
//! names; other granted actions are not reads; the denied ones are denied. Elasticsearch
//! does not tell a download from a read. The principal is `user.name`. Granted access is
//! logged only when `xpack.security.audit.logfile.events.include` lists `access_granted`
//! (it is not logged by default): without any, the import says the log cannot show reads.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;

use super::google::json_lines;
use super::sink::Sink;
use super::{Event, Kind, time};

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(default, borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(default, borrow, rename = "@timestamp")]
    at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "event.action")]
    action_taken: Cow<'a, str>,
    #[serde(default, borrow, rename = "user.name")]
    user: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    action: Cow<'a, str>,
    #[serde(default, borrow)]
    indices: Vec<Cow<'a, str>>,
}

pub(super) fn audit(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    json_lines(input, sink, |sink, n, line| {
        let e: Entry<'_> = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(err) => {
                sink.error(n, format!("not an Elasticsearch audit entry: {err}"));
                return;
            }
        };
        if e.kind != "audit" {
            sink.error(n, "not an audit entry (\"type\" is not \"audit\")".into());
            return;
        }
        let kind = match e.action_taken.as_ref() {
            "access_granted" => {
                sink.can_show_reads();
                if e.action.starts_with("indices:data/read/") {
                    Kind::Read
                } else {
                    Kind::NotRead
                }
            }
            "access_denied" | "anonymous_access_denied" => Kind::Denied,
            _ => return,
        };
        let stamp = e.timestamp.as_deref().or(e.at.as_deref()).unwrap_or("");
        let Some(time) = time::iso(stamp) else {
            sink.error(n, format!("timestamp '{stamp}' is not a time"));
            return;
        };
        let principal = e.user.as_deref().unwrap_or("anonymous");
        let indices: Vec<&str> = if e.indices.is_empty() {
            vec![""]
        } else {
            e.indices.iter().map(AsRef::as_ref).collect()
        };
        for index in indices {
            sink.event(
                n,
                &Event {
                    time,
                    principal,
                    resource: index,
                    detail: "",
                    person: None,
                    kind,
                    unnamed: false,
                },
            );
        }
    })?;
    if !sink.shows() {
        sink.warn(
            "no access_granted entries: Elasticsearch logs granted access only when xpack.security.audit.logfile.events.include lists access_granted",
        );
    }
    Ok(())
}
