//! Azure Storage resource logs (diagnostic settings, categories `StorageRead`,
//! `StorageWrite`, `StorageDelete`), JSON lines as archived to a storage account or
//! streamed out of an event hub.
//!
//! `GetBlob`, `GetFile` and `QueryBlobContents` in `StorageRead` are reads; every other
//! operation (`GetBlobProperties`, listings, puts, deletes, and `CopyBlob`, which is logged
//! on its destination) is not a read: the log does not tell a download from a read. A `statusCode` of 400 or more is denied. The principal is the
//! OAuth caller (`identity.requester.upn`, else its `objectId` or `appId`); a request signed
//! with the account key or a SAS token names no person (`identity.type` `AccountKey` or
//! `SAS`): its reads are counted under "shared key" or "SAS token" and the import says so.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;

use super::google::json_lines;
use super::sink::Sink;
use super::{Event, Kind, time};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(default, borrow)]
    category: Cow<'a, str>,
    #[serde(default, borrow)]
    operation_name: Cow<'a, str>,
    #[serde(default)]
    status_code: Option<serde_json::Value>,
    #[serde(default, borrow)]
    identity: Option<Identity<'a>>,
    #[serde(default, borrow)]
    properties: Option<Properties<'a>>,
    #[serde(default, borrow)]
    uri: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Identity<'a> {
    #[serde(default, borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    requester: Option<Requester<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Requester<'a> {
    #[serde(default, borrow)]
    upn: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    object_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    app_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    #[serde(default, borrow)]
    object_key: Option<Cow<'a, str>>,
}

/// The status code as a number, whether the log wrote it as one or as text.
fn status(value: Option<&serde_json::Value>) -> u16 {
    match value {
        Some(serde_json::Value::Number(n)) => n.as_u64().map_or(0, |n| n.min(999) as u16),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

pub(super) fn storage(input: &mut dyn BufRead, sink: &mut Sink<'_>) -> Result<(), String> {
    json_lines(input, sink, |sink, n, line| {
        let r: Record<'_> = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => {
                sink.error(n, format!("not an Azure Storage log record: {e}"));
                return;
            }
        };
        let Some(time) = time::iso(&r.time) else {
            sink.error(n, format!("time '{}' is not a time", r.time));
            return;
        };
        if r.category == "StorageRead" {
            sink.can_show_reads();
        }
        let code = status(r.status_code.as_ref());
        let kind = if code >= 400 {
            Kind::Denied
        } else if r.category == "StorageRead"
            && matches!(
                r.operation_name.as_ref(),
                "GetBlob" | "GetFile" | "QueryBlobContents"
            )
        {
            Kind::Read
        } else {
            Kind::NotRead
        };
        let identity = r.identity.as_ref();
        let kind_of_key: String = identity
            .and_then(|i| i.kind.as_deref())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let (principal, unnamed) = match kind_of_key.as_str() {
            "accountkey" => ("shared key (AccountKey)", true),
            "sas" => ("SAS token", true),
            "anonymous" => ("anonymous", false),
            _ => (
                identity
                    .and_then(|i| i.requester.as_ref())
                    .and_then(|q| {
                        q.upn
                            .as_deref()
                            .or(q.object_id.as_deref())
                            .or(q.app_id.as_deref())
                    })
                    .unwrap_or("(no principal)"),
                false,
            ),
        };
        let resource = r
            .properties
            .as_ref()
            .and_then(|p| p.object_key.as_deref())
            .or(r.uri.as_deref())
            .unwrap_or("");
        sink.event(
            n,
            &Event {
                time,
                principal,
                resource,
                detail: r.uri.as_deref().unwrap_or(""),
                person: None,
                kind,
                unnamed,
            },
        );
    })?;
    if !sink.shows() {
        sink.warn(
            "no StorageRead records: reads are logged only when the storage account's diagnostic setting includes the StorageRead category",
        );
    }
    Ok(())
}
