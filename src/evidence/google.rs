//! Google: Cloud Audit Logs entries (JSON lines as exported) and Google Workspace Drive
//! activities (Reports API `activities.list` items, JSON lines).
//!
//! Cloud Audit Logs: `storage.objects.get` (Cloud Storage), and BigQuery's
//! `google.cloud.bigquery.v2.TableDataService.List`, `tabledata.list` and jobs whose
//! metadata has `tableDataRead`, are reads; a method named `...copy` or `...rewrite` on an
//! object is a copy; everything else (listings, `storage.objects.create`/`delete`/`update`,
//! IAM and bucket calls, Admin Activity entries) is not a read. A `status` with a non-zero
//! `code`, or an `authorizationInfo` entry whose `granted` is false (or left out, as JSON
//! from protocol buffers leaves a false value out), is denied. The principal is
//! `authenticationInfo.principalEmail`. Reads are logged only in the *Data Access* log
//! (`.../logs/cloudaudit.googleapis.com%2Fdata_access`), which is off by default for most
//! services: an export of Admin Activity entries alone cannot show reads, and says so.
//!
//! Drive: an `access` event named `view` or `preview` is a read; `download`, `print` and
//! `copy` are copies (acquisition); every other event (edit, upload, delete, sharing
//! changes) is not a read. The resource is the `doc_title` parameter (a `--map` entry may
//! name the `doc_id` instead); the principal is `actor.email` (a viewer outside the domain
//! who is not signed in has none: "anonymous").

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;

use super::sink::Sink;
use super::{Event, Kind, time};

/// Each non-blank line of `input`, numbered, handed to `each`.
pub(super) fn json_lines(
    input: &mut dyn BufRead,
    sink: &mut Sink<'_>,
    mut each: impl FnMut(&mut Sink<'_>, u64, &[u8]),
) -> Result<(), String> {
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read: {e}"))?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        each(sink, n, &line);
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntry<'a> {
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    #[serde(default, borrow)]
    log_name: Cow<'a, str>,
    #[serde(borrow)]
    proto_payload: AuditLog<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditLog<'a> {
    #[serde(default, borrow)]
    method_name: Cow<'a, str>,
    #[serde(default, borrow)]
    resource_name: Cow<'a, str>,
    #[serde(default, borrow)]
    authentication_info: Option<Authentication<'a>>,
    #[serde(default)]
    status: Option<RpcStatus>,
    #[serde(default)]
    authorization_info: Vec<Authorization>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Authentication<'a> {
    #[serde(default, borrow)]
    principal_email: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RpcStatus {
    #[serde(default)]
    code: i64,
}

/// An authorisation check; JSON from protocol buffers leaves a false `granted` out, so a
/// missing one is a refusal.
#[derive(Deserialize)]
struct Authorization {
    #[serde(default)]
    granted: bool,
}

/// Google Cloud audit log entries.
pub(super) fn cloud_audit(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    json_lines(input, sink, |sink, n, line| {
        let entry: LogEntry<'_> = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(e) => {
                sink.error(n, format!("not a Cloud Audit Logs entry: {e}"));
                return;
            }
        };
        let Some(time) = time::iso(&entry.timestamp) else {
            sink.error(n, format!("timestamp '{}' is not a time", entry.timestamp));
            return;
        };
        let data_access = entry.log_name.contains("data_access");
        if data_access {
            sink.can_show_reads();
        }
        let p = &entry.proto_payload;
        let method = p.method_name.as_ref();
        let reads_table = p
            .metadata
            .as_ref()
            .is_some_and(|m| m.get("tableDataRead").is_some());
        let kind = if !data_access {
            Kind::NotRead
        } else if method == "storage.objects.get"
            || method == "google.cloud.bigquery.v2.TableDataService.List"
            || method == "tabledata.list"
            || reads_table
        {
            Kind::Read
        } else if method.starts_with("storage.objects.")
            && (method.ends_with(".copy") || method.ends_with(".rewrite"))
        {
            Kind::Copy
        } else {
            Kind::NotRead
        };
        let refused = p.status.as_ref().is_some_and(|s| s.code != 0)
            || p.authorization_info.iter().any(|a| !a.granted);
        let kind = if refused { Kind::Denied } else { kind };
        let principal = p
            .authentication_info
            .as_ref()
            .and_then(|a| a.principal_email.as_deref())
            .unwrap_or("anonymous");
        sink.event(
            n,
            &Event {
                time,
                principal,
                resource: &p.resource_name,
                detail: "",
                person: None,
                kind,
                unnamed: false,
            },
        );
    })?;
    if !sink.shows() {
        sink.warn(
            "Google Cloud Admin Activity entries only: reads are logged in the Data Access audit log, which is off by default and must be enabled for the service",
        );
    }
    Ok(())
}

#[derive(Deserialize)]
struct Activity<'a> {
    #[serde(borrow)]
    id: ActivityId<'a>,
    #[serde(default, borrow)]
    actor: Option<Actor<'a>>,
    #[serde(default, borrow)]
    events: Vec<DriveEvent<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityId<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(default, borrow)]
    application_name: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Actor<'a> {
    #[serde(default, borrow)]
    email: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct DriveEvent<'a> {
    #[serde(default, borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    parameters: Vec<Parameter<'a>>,
}

#[derive(Deserialize)]
struct Parameter<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    value: Option<Cow<'a, str>>,
}

/// Google Workspace Drive activities.
pub(super) fn drive_activity(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    sink.can_show_reads();
    json_lines(input, sink, |sink, n, line| {
        let activity: Activity<'_> = match serde_json::from_slice(line) {
            Ok(a) => a,
            Err(e) => {
                sink.error(n, format!("not a Reports API activity: {e}"));
                return;
            }
        };
        if !activity.id.application_name.is_empty() && activity.id.application_name != "drive" {
            sink.error(
                n,
                format!(
                    "an activity of '{}', not of Drive",
                    activity.id.application_name
                ),
            );
            return;
        }
        let Some(time) = time::iso(&activity.id.time) else {
            sink.error(n, format!("id.time '{}' is not a time", activity.id.time));
            return;
        };
        let principal = activity
            .actor
            .as_ref()
            .and_then(|a| a.email.as_deref())
            .unwrap_or("anonymous");
        for event in &activity.events {
            let kind = match event.name.as_ref() {
                "view" | "preview" => Kind::Read,
                "download" | "print" | "copy" => Kind::Copy,
                _ => Kind::NotRead,
            };
            let param = |name: &str| {
                event
                    .parameters
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.as_deref())
                    .unwrap_or("")
            };
            let (title, id) = (param("doc_title"), param("doc_id"));
            sink.event(
                n,
                &Event {
                    time,
                    principal,
                    resource: if title.is_empty() { id } else { title },
                    detail: id,
                    person: None,
                    kind,
                    unnamed: false,
                },
            );
        }
    })
}
