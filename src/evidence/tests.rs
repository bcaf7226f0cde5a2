//! The readers against fixtures written from each service's documentation
//! (`tests/fixtures/evidence/`, described in its README), and the sink's rules.

use std::io::Write as _;

use chrono::{DateTime, Utc};

use super::*;

fn roster() -> RosterIndex {
    RosterIndex::new(
        (1..=5)
            .map(|i| (format!("E000{i}"), format!("e000{i}@corp.example")))
            .collect::<Vec<_>>()
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str())),
    )
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn options() -> EvidenceOptions {
    EvidenceOptions {
        format: LogFormat::Auto,
        authorized: vec![
            "arn:aws:sts::111122223333:assumed-role/backup/*".into(),
            "backup*".into(),
        ],
        person_from: Some("(?i)(?P<employee_id>E[0-9]{4})".into()),
        map: map_file(include_str!(
            "../../tests/fixtures/evidence/elasticsearch-map.csv"
        ))
        .unwrap(),
    }
}

fn run_with(bytes: &[u8], options: &EvidenceOptions) -> Result<Evidence, EvidenceError> {
    let mut e = analyse(&mut &bytes[..], "log", &roster(), options, now())?;
    for s in &mut e.sources {
        s.digest = "digest".into();
    }
    Ok(e)
}

fn run(bytes: &[u8]) -> Evidence {
    run_with(bytes, &options()).unwrap()
}

const FIXTURES: [(&str, &[u8], LogFormat); 8] = [
    (
        "cloudtrail.json",
        include_bytes!("../../tests/fixtures/evidence/cloudtrail.json"),
        LogFormat::Cloudtrail,
    ),
    (
        "cloudtrail.jsonl",
        include_bytes!("../../tests/fixtures/evidence/cloudtrail.jsonl"),
        LogFormat::Cloudtrail,
    ),
    (
        "s3-access.log",
        include_bytes!("../../tests/fixtures/evidence/s3-access.log"),
        LogFormat::S3,
    ),
    (
        "gcp-data-access.jsonl",
        include_bytes!("../../tests/fixtures/evidence/gcp-data-access.jsonl"),
        LogFormat::Gcp,
    ),
    (
        "workspace-drive.jsonl",
        include_bytes!("../../tests/fixtures/evidence/workspace-drive.jsonl"),
        LogFormat::Workspace,
    ),
    (
        "azure-storage.jsonl",
        include_bytes!("../../tests/fixtures/evidence/azure-storage.jsonl"),
        LogFormat::Azure,
    ),
    (
        "pgaudit.csv",
        include_bytes!("../../tests/fixtures/evidence/pgaudit.csv"),
        LogFormat::Pgaudit,
    ),
    (
        "elasticsearch-audit.jsonl",
        include_bytes!("../../tests/fixtures/evidence/elasticsearch-audit.jsonl"),
        LogFormat::Elasticsearch,
    ),
];

/// Issue 29, items 1 to 4: each format is detected by content and read as its service
/// documents it. In every fixture mallory read E0001 and E0002 (and, where the service says
/// so, copied E0002's), the backup principal's read is authorised, eve was refused, a
/// write and a listing are not reads, and a read of E9999 names nobody on the roster.
#[test]
fn every_format_is_detected_and_tells_reads_from_the_rest() {
    for (name, bytes, format) in FIXTURES {
        let e = run(bytes);
        let s = &e.sources[0];
        assert_eq!(s.format, format, "{name}");
        assert!(s.shows_reads, "{name}");
        let mallory = e
            .accessors
            .iter()
            .find(|a| a.accessor.contains("mallory"))
            .unwrap_or_else(|| panic!("{name}: {:?}", e.accessors));
        assert!(!mallory.authorized, "{name}");
        assert_eq!(mallory.people, 2, "{name}");
        assert!(
            e.accessors
                .iter()
                .filter(|a| a.accessor.contains("backup"))
                .all(|a| a.authorized),
            "{name}: {:?}",
            e.accessors
        );
        assert!(
            !e.people.contains_key("E0003") || name == "azure-storage.jsonl",
            "{name}"
        );
        assert!(
            !e.people.contains_key("E0004") && !e.people.contains_key("E0005"),
            "{name}"
        );
        assert_eq!(
            e.people.len(),
            if name == "azure-storage.jsonl" { 3 } else { 2 },
            "{name}"
        );
        let denied = if name == "workspace-drive.jsonl" {
            0
        } else {
            1
        };
        assert_eq!(e.denied, denied, "{name}: Drive logs no refused view");
        assert!(e.not_reads >= 1, "{name}");
        assert!(e.unmatched >= 1, "{name}");
        assert!(
            e.unmatched_resources
                .iter()
                .any(|(r, _)| r.contains("E9999")
                    || r.contains("e9999")
                    || r == "monitoring.keystrokes"),
            "{name}: {:?}",
            e.unmatched_resources
        );
        let copied = matches!(
            name,
            "cloudtrail.json"
                | "cloudtrail.jsonl"
                | "s3-access.log"
                | "workspace-drive.jsonl"
                | "pgaudit.csv"
        );
        assert_eq!(e.people_acquired(), u64::from(copied), "{name}");
        let from = s.from.unwrap().timestamp();
        assert_eq!(from, t("2026-11-20T08:05:13Z").timestamp(), "{name}");
        assert_eq!(s.gaps.len(), 1, "{name}: the gap from 09:30 to 11:45");
    }
}

/// Item 5: a CloudTrail set of management events, a Google Cloud export of Admin Activity
/// entries and Azure reads signed with the account key cannot show who read; each says so,
/// and "no access" is never concluded from them.
#[test]
fn logs_that_cannot_show_reads_say_so_and_prove_nothing() {
    for bytes in [
        &include_bytes!("../../tests/fixtures/evidence/cloudtrail-management.json")[..],
        &include_bytes!("../../tests/fixtures/evidence/gcp-activity.jsonl")[..],
    ] {
        let e = run(bytes);
        assert!(!e.sources[0].shows_reads);
        assert!(!e.sources[0].warnings.is_empty());
        let (finding, coverage) =
            e.assess(Some((t("2026-11-20T08:00:00Z"), t("2026-11-20T12:00:00Z"))));
        assert_eq!(finding, Finding::Unknown);
        assert!(
            coverage
                .statement
                .starts_with("not determinable: none of the logs can show reads"),
            "{}",
            coverage.statement
        );
    }
    let azure = run(include_bytes!(
        "../../tests/fixtures/evidence/azure-storage.jsonl"
    ));
    assert!(
        azure.sources[0]
            .warnings
            .iter()
            .any(|w| w.contains("shared key")),
        "{:?}",
        azure.sources[0].warnings
    );
}

/// Item 5: "no access" needs logs covering the whole exposure window; less is "not
/// determinable", with the share covered; without a window nothing is concluded.
#[test]
fn no_access_needs_logs_covering_the_whole_window() {
    let csv = "accessed_at,accessor,employee_id,action\n\
               2026-11-20T08:00:00Z,backup,E0001,read\n\
               2026-11-20T08:50:00Z,backup,E0001,read\n\
               2026-11-20T09:40:00Z,backup,E0002,read\n";
    let e = run(csv.as_bytes());
    assert_eq!(e.finding, Finding::NoAccess);
    let whole = e.assess(Some((t("2026-11-20T08:00:00Z"), t("2026-11-20T09:40:00Z"))));
    assert_eq!(whole.0, Finding::NoAccess);
    assert_eq!(
        whole.1.statement,
        "no access found in logs covering 100% of the exposure window"
    );
    let longer = e.assess(Some((t("2026-11-20T08:00:00Z"), t("2026-11-20T11:20:00Z"))));
    assert_eq!(longer.0, Finding::Unknown);
    assert_eq!(longer.1.percent, Some(51));
    assert!(
        longer.1.statement.contains("cover only 51%"),
        "{}",
        longer.1.statement
    );
    let none = e.assess(None);
    assert_eq!(none.0, Finding::Unknown);
    assert!(
        none.1.statement.contains("no exposure window"),
        "{}",
        none.1.statement
    );
    // A read found stands whatever the coverage.
    let read =
        run(b"accessed_at,accessor,employee_id,action\n2026-11-20T08:00:00Z,eve,E0001,read\n");
    assert_eq!(read.assess(None).0, Finding::Accessed);
}

/// Item 6: imports add up, accessors matched by name and people's distinct accessors
/// united; the same file is known by its digest.
#[test]
fn imports_add_up_and_the_same_file_is_known() {
    let a = run(b"accessed_at,accessor,employee_id,action\n2026-11-20T08:00:00Z,eve,E0001,read\n2026-11-20T08:01:00Z,mallory,E0002,read\n");
    let b = run(
        b"accessed_at,accessor,employee_id,action\n2026-11-20T09:00:00Z,mallory,E0001,download\n",
    );
    let mut b = b;
    b.sources[0].digest = "other".into();
    let both = a.clone().merge(b);
    assert_eq!(both.rows, 3);
    assert_eq!(both.sources.len(), 2);
    assert_eq!(both.people["E0001"].accessors, 2, "eve and mallory");
    assert_eq!(both.people["E0001"].copies, 1);
    assert_eq!(both.finding, Finding::Acquired);
    let mallory = both
        .accessors
        .iter()
        .find(|x| x.accessor == "mallory")
        .unwrap();
    assert_eq!((mallory.reads, mallory.copies, mallory.people), (1, 1, 2));
    assert_eq!(both.accessors[0].accessor, "mallory", "most active first");
    assert!(both.has_source("digest") && both.has_source("other"));
}

/// Items 1 and 2: gzip is opened; a log no reader knows is refused with the formats known;
/// a pattern without its named group is refused; a bad record names its line; a resource
/// naming nobody is counted, never a refusal.
#[test]
fn gzip_unknown_formats_bad_patterns_and_bad_records() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(include_bytes!(
        "../../tests/fixtures/evidence/cloudtrail.json"
    ))
    .unwrap();
    let e = run(&gz.finish().unwrap());
    assert_eq!(e.sources[0].format, LogFormat::Cloudtrail);
    assert_eq!(e.people.len(), 2);

    let err = run_with(b"hello world\nthis is no log\n", &options()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not a log format breachdesk knows"), "{text}");
    for f in [
        "cloudtrail",
        "s3",
        "gcp",
        "workspace",
        "azure",
        "pgaudit",
        "elasticsearch",
        "csv",
    ] {
        assert!(text.contains(f), "{f}: {text}");
    }

    let mut bad = options();
    bad.person_from = Some("E[0-9]+".into());
    let err = run_with(b"accessed_at,accessor,employee_id,action\n", &bad).unwrap_err();
    assert!(
        err.to_string().contains("no named group employee_id"),
        "{err}"
    );

    let lines = "{\"eventVersion\":\"1.09\",\"eventTime\":\"2026-11-20T08:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"}\n{\"eventVersion\":\"1.09\",\"eventTime\":\"yesterday\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"}\nnot json\n";
    let err = run_with(lines.as_bytes(), &options()).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.total, 2, "{text}");
    assert!(text.contains("line 2: eventTime 'yesterday'"), "{text}");
    assert!(text.contains("line 3: not a CloudTrail record"), "{text}");

    let csv = "accessed_at,accessor,employee_id,action\n2026-11-20T08:00:00Z,eve,E9,read\n";
    let e = run(csv.as_bytes());
    assert_eq!(
        (e.unmatched, e.people.len()),
        (1, 0),
        "not on the roster: counted"
    );
}

const HEADER: &str = "accessed_at,accessor,employee_id,action\n";

fn csv(text: &str, allowed: &[&str]) -> Result<Evidence, EvidenceError> {
    let options = EvidenceOptions {
        authorized: allowed.iter().map(|s| (*s).to_owned()).collect(),
        ..EvidenceOptions::default()
    };
    run_with(text.as_bytes(), &options)
}

#[test]
fn the_csv_counts_reads_copies_and_distinct_accessors_off_the_allow_list() {
    let text = format!(
        "{HEADER}2026-10-01T09:00:00Z,mallory,E0001,read\n2026-10-01T09:01:00Z,mallory,E0001,view\n\
         2026-10-01T09:02:00Z,trent,E0001,download\n2026-10-01T09:03:00Z,ops-bot,E0002,read\n"
    );
    let e = csv(&text, &["ops-bot"]).unwrap();
    assert_eq!(e.rows, 4);
    assert_eq!(e.finding, Finding::Acquired);
    let p = &e.people["E0001"];
    assert_eq!((p.reads, p.copies, p.accessors), (2, 1, 2));
    assert!(
        !e.people.contains_key("E0002"),
        "allow-listed reads do not count"
    );
    assert_eq!(e.unauthorized_accessors(), 2);
    assert_eq!(e.accessors[0].accessor, "mallory");
}

#[test]
fn every_bad_csv_row_is_named_by_line_and_nothing_is_kept() {
    let text = format!(
        "{HEADER}yesterday,eve,E0001,read\n2026-10-01T09:00:00Z,,E0001,read\n\
         2026-10-01T09:00:00Z,eve,E0001,delete\n\
         2026-10-01T09:00:00Z,eve,E0001\n2026-10-01T09:00:00Z,eve,E0002,read\n"
    );
    let err = csv(&text, &[]).unwrap_err();
    assert_eq!(err.total, 4);
    let text = err.to_string();
    for needle in [
        "line 2: accessed_at 'yesterday'",
        "line 3: accessor",
        "line 4: action 'delete'",
        "line 5: expected 4 fields",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let named = EvidenceOptions {
        format: LogFormat::Csv,
        ..EvidenceOptions::default()
    };
    let err = run_with(b"when,who,id,what\n", &named).unwrap_err();
    assert!(err.to_string().contains("the header must be"), "{err}");
    let err = csv(HEADER, &[]).unwrap_err().to_string();
    assert!(err.contains("the log has no records"), "{err}");
}

#[test]
fn control_characters_never_reach_a_message_or_an_accessor() {
    for name in ["ev\u{1b}e", "ev\u{9b}e"] {
        let text = format!("{HEADER}2026-10-01T09:00:00Z,{name},E0001,read\n");
        let err = csv(&text, &[]).unwrap_err().to_string();
        assert!(err.contains("line 2: accessor"), "{err}");
    }
    let text = format!("{HEADER}2026-10-01T09:00:00Z,eve,E\u{1b}[2J,read\n");
    let e = csv(&text, &[]).unwrap();
    assert_eq!(e.unmatched, 1);
    assert!(
        e.unmatched_resources
            .iter()
            .all(|(r, _)| !r.contains('\u{1b}'))
    );
    let lines = "{\"eventVersion\":\"1.09\",\"eventTime\":\"2026-11-20T08:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"userIdentity\":{\"arn\":\"evil\\u001b[2J\"},\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"E0001\"}}\n";
    let e = run(lines.as_bytes());
    assert!(
        e.accessors.iter().all(|a| !a.accessor.contains('\u{1b}')),
        "{:?}",
        e.accessors
    );
}

#[test]
fn accessor_lists_are_stored_packed_and_read_back() {
    let p = PersonEvidence {
        reads: 3,
        copies: 1,
        accessors: 4,
        by: vec![0, 1, 127, 128, 70_000],
    };
    let json = serde_json::to_string(&p).unwrap();
    assert!(!json.contains('['), "{json}");
    let back: PersonEvidence = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let plain: PersonEvidence =
        serde_json::from_str(r#"{"reads":1,"copies":0,"accessors":2,"by":[3,9]}"#).unwrap();
    assert_eq!(plain.by, [3, 9]);
}
