//! Deadlines, exposure evidence and reports through the real binary.

use crate::common;

use common::Sandbox;
use serde_json::Value;

const AWARE: &str = "2026-11-20T09:00:00Z";

/// An incident whose people live in Germany, France, New Zealand, California and Texas.
fn mixed() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Monitoring data readable by all staff",
        "--severity",
        "2",
        "--aware",
        AWARE,
        "--category",
        "keystrokes",
        "--summary",
        "The keystroke store was readable by every employee.",
    ]);
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    let places = [
        ("DE", 40),
        ("FR", 2),
        ("NZ", 7),
        ("US-CA", 3),
        ("US-TX", 250),
        ("", 5),
    ];
    let mut n = 0;
    for (place, count) in places {
        for _ in 0..count {
            csv.push_str(&format!(
                "E{n:04},Person {n},p{n}@corp.example,keystrokes,{place}\n"
            ));
            n += 1;
        }
    }
    sb.import("1", &csv);
    sb
}

fn obligations(sb: &Sandbox) -> Vec<Value> {
    sb.json(&["deadlines", "1", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn by_rule<'a>(list: &'a [Value], rule: &str) -> &'a Value {
    list.iter()
        .find(|o| o["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {list:?}"))
}

#[test]
fn a_mixed_roster_gets_each_jurisdictions_obligations() {
    let sb = mixed();
    let list = obligations(&sb);
    let rules: Vec<&str> = list.iter().map(|o| o["rule"].as_str().unwrap()).collect();
    assert_eq!(
        rules,
        [
            "gdpr-33",
            "us-ca",
            "us-tx-ag",
            "us-tx",
            "gdpr-34",
            "nz-privacy-2020"
        ],
        "soonest first, no fixed time last"
    );
    let gdpr = by_rule(&list, "gdpr-33");
    assert_eq!(gdpr["incident"], "INC-1");
    assert_eq!(gdpr["notify"], "supervisory authority");
    assert_eq!(gdpr["due_at"], "2026-11-23T09:00:00Z");
    assert_eq!(gdpr["state"], "open");
    assert_eq!(gdpr["people"], 42);
    assert_eq!(by_rule(&list, "gdpr-34")["due_at"], Value::Null);
    assert_eq!(by_rule(&list, "us-tx-ag")["people"], 250);
    assert_eq!(by_rule(&list, "nz-privacy-2020")["people"], 7);
    // 3 Californians: no copy to the Attorney General.
    assert!(list.iter().all(|o| o["rule"] != "us-ca-ag"));
    let text = sb.ok(&["deadlines"]);
    assert!(
        text.contains("gdpr-33") && text.contains("OVERDUE") || text.contains("left"),
        "{text}"
    );
}

#[test]
fn moving_the_awareness_time_moves_the_clocks_and_is_recorded() {
    let sb = mixed();
    sb.ok(&[
        "incident",
        "clock",
        "1",
        "--aware",
        "2026-11-21T09:00:00Z",
        "--reason",
        "the alert was first read on the 21st",
    ]);
    let list = obligations(&sb);
    assert_eq!(by_rule(&list, "gdpr-33")["due_at"], "2026-11-24T09:00:00Z");
    let shown = sb.json(&["incident", "show", "1", "--json"]);
    let event = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "incident.clock")
        .expect("recorded");
    assert_eq!(event["detail"], "the alert was first read on the 21st");
    let err = sb.fails(
        &[
            "incident",
            "open",
            "--title",
            "t",
            "--severity",
            "3",
            "--aware",
            "2999-01-01T00:00:00Z",
        ],
        2,
    );
    assert!(err.contains("in the future"), "{err}");
    let err = sb.fails(&["incident", "clock", "1", "--reason", "x"], 2);
    assert!(err.contains("--aware"), "{err}");
    let err = sb.fails(
        &[
            "incident",
            "clock",
            "1",
            "--aware",
            "2999-01-01T00:00:00Z",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(err.contains("in the future"), "{err}");
}

#[test]
fn obligations_are_done_or_waived_and_lateness_is_kept() {
    let sb = mixed();
    sb.ok(&[
        "obligation",
        "done",
        "1",
        "gdpr-33",
        "--at",
        "2026-11-23T10:00:00Z",
        "--reference",
        "DPC-2026-118",
    ]);
    sb.ok(&[
        "obligation",
        "waive",
        "1",
        "nz-privacy-2020",
        "--reason",
        "not a notifiable breach: no serious harm",
    ]);
    let list = obligations(&sb);
    let gdpr = by_rule(&list, "gdpr-33");
    assert_eq!(gdpr["state"], "done");
    assert_eq!(gdpr["reference"], "DPC-2026-118");
    assert_eq!(gdpr["met"], false, "done after the 72 hours");
    let nz = by_rule(&list, "nz-privacy-2020");
    assert_eq!(nz["state"], "waived");
    assert_eq!(
        nz["waived_reason"],
        "not a notifiable breach: no serious harm"
    );
    let err = sb.fails(&["obligation", "done", "1", "us-ca-ag", "--at", AWARE], 2);
    assert!(err.contains("no rule 'us-ca-ag' applies to INC-1"), "{err}");
    let log = sb.json(&["audit", "log", "--incident", "1", "--json"]);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"obligation.done") && actions.contains(&"obligation.waived"));
}

#[test]
fn evidence_is_all_or_nothing_and_names_every_bad_row() {
    let sb = mixed();
    let bad = sb.write(
        "bad.csv",
        "accessed_at,accessor,employee_id,action\n\
         2026-11-19T10:00:00Z,mallory,E0001,read\n\
         last tuesday,mallory,E0001,read\n\
         2026-11-19T10:00:00Z,mallory,E9999,read\n\
         2026-11-19T10:00:00Z,mallory,E0002,rm -rf\n",
    );
    let err = sb.fails(&["evidence", "import", "1", bad.to_str().unwrap()], 2);
    // A person not on the roster is counted as naming nobody, never a bad row (issue 29).
    assert!(err.contains("2 bad rows; nothing was imported"), "{err}");
    assert!(err.contains("line 3: accessed_at 'last tuesday'"), "{err}");
    assert!(!err.contains("line 4"), "{err}");
    assert!(err.contains("line 5: action 'rm -rf'"), "{err}");
    let err = sb.fails(&["evidence", "summary", "1"], 2);
    assert!(err.contains("no exposure evidence yet"), "{err}");
    let err = sb.fails(&["evidence", "import", "1", "/nonexistent.csv"], 2);
    assert!(err.contains("cannot read /nonexistent.csv"), "{err}");
}

#[test]
fn evidence_answers_whether_and_by_whom_and_feeds_the_rules() {
    let sb = mixed();
    let log = sb.write(
        "access.csv",
        "accessed_at,accessor,employee_id,action\n\
         2026-11-19T10:00:00Z,mallory,E0001,read\n\
         2026-11-19T10:01:00Z,mallory,E0001,view\n\
         2026-11-19T10:02:00Z,trent,E0002,read\n\
         2026-11-19T10:03:00Z,backup-bot,E0003,read\n",
    );
    let allow = sb.write("allow.txt", "# service accounts\nbackup-bot\n");
    let out = sb.ok(&[
        "evidence",
        "import",
        "1",
        log.to_str().unwrap(),
        "--authorized",
        allow.to_str().unwrap(),
    ]);
    assert!(out.contains("finding: accessed"), "{out}");
    let s = sb.json(&["evidence", "summary", "1", "--json"]);
    assert_eq!(s["finding"], "accessed");
    assert_eq!(s["rows"], 4);
    assert_eq!(s["people_read"], 2);
    assert_eq!(s["people_acquired"], 0);
    assert_eq!(s["unauthorized_accessors"], 2);
    assert_eq!(s["people_not_read"], 305);
    assert_eq!(s["by_accessor"][0]["accessor"], "mallory");
    assert_eq!(s["by_accessor"][0]["reads"], 2);
    // Read but not copied: the acquisition rules (California, Texas) no longer trigger,
    // and say why (issue 33).
    let list = obligations(&sb);
    let rules: Vec<String> = list
        .iter()
        .filter(|o| o["state"] != "not-triggered")
        .map(|o| o["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rules, ["gdpr-33", "gdpr-34", "nz-privacy-2020"]);
    assert_eq!(by_rule(&list, "us-ca")["state"], "not-triggered");
    assert_eq!(by_rule(&list, "us-tx")["state"], "not-triggered");
    // The evidence read is on the access log.
    let access = sb.json(&["audit", "access", "--json"]);
    assert!(
        access
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "evidence.summary")
    );
}

#[test]
fn reports_cover_every_section_in_each_format() {
    let sb = mixed();
    sb.ok(&[
        "incident",
        "severity",
        "1",
        "1",
        "--reason",
        "transcripts were exposed too",
    ]);
    let md = sb.ok(&["report", "1"]);
    for heading in [
        "# INC-1 SEV1: Monitoring data readable by all staff",
        "## Severity history",
        "## Affected people",
        "| US-TX | 250 |",
        "## Programmes",
        "## Notifications",
        "## Legal obligations",
        "| gdpr-33 | supervisory authority | 2026-11-23T09:00:00Z | 42 | open |",
        "## Exposure evidence",
        "## Timeline",
    ] {
        assert!(md.contains(heading), "{heading}:\n{md}");
    }
    assert!(!md.contains("corp.example"), "no addresses in a report");
    let html = sb.ok(&["report", "1", "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<h2>Legal obligations</h2>"));
    let json = sb.json(&["report", "1", "--format", "json"]);
    assert_eq!(json["severity_history"][0]["to"], "SEV1");
    assert_eq!(json["people_by_location"]["DE"], 40);
    let out = sb.path("report.md");
    sb.ok(&["report", "1", "--out", out.to_str().unwrap()]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let err = sb.fails(&["report", "1", "--out", out.to_str().unwrap()], 2);
    assert!(err.contains("cannot create"), "{err}");
}

#[test]
fn the_gdpr_33_draft_has_what_article_33_3_requires() {
    let sb = mixed();
    sb.write(
        "config.toml",
        "[contact]\nname = \"Data Protection Officer\"\nemail = \"dpo@corp.example\"\n",
    );
    let draft = sb.ok(&["report", "1", "--regulator", "gdpr-33"]);
    for needle in [
        "Notification of a personal data breach (GDPR Art. 33)",
        "(a) Nature of the breach",
        // Counted over the people the regulator covers (the EEA), not the whole roster.
        "keystrokes (42 people)",
        "Approximate number of data subjects concerned: 42 in the EEA (307 in all)",
        "(b) Contact point",
        // Config text, escaped like users' text (the address no autolink, no HTML entity):
        // a viewer shows `<dpo@corp.example>`.
        "Data Protection Officer \\<dpo\\@corp.example\\>",
        "(c) Likely consequences",
        "(d) Measures taken or proposed",
        "The 72-hour deadline is 2026-11-23T09:00:00Z",
    ] {
        assert!(draft.contains(needle), "{needle}:\n{draft}");
    }
    let err = sb.fails(&["report", "1", "--regulator", "us-ca"], 2);
    assert!(err.contains("drafts exist for: gdpr-33"), "{err}");
}

#[test]
fn reports_and_evidence_respect_need_to_know() {
    let sb = mixed();
    let me = breachdesk::identity::current_user().to_string();
    sb.ok(&["incident", "assign", "1", "rita"]);
    sb.write(
        "config.toml",
        &format!("[access]\nresponders = [\"{me}\", \"rita\"]\n"),
    );
    for args in [
        &["report", "1"][..],
        &["report", "1", "--regulator", "gdpr-33"],
        &["evidence", "import", "1", "/dev/null"],
    ] {
        let err = sb.fails(args, 2);
        assert!(err.contains("access denied"), "{args:?}: {err}");
    }
    // Deadlines are summary data: anyone with a role sees them.
    assert_eq!(obligations(&sb).len(), 6);
}

#[test]
fn letters_say_what_the_evidence_shows_about_each_person() {
    let sb = mixed();
    sb.write("config.toml", "[smtp]\nfrom = \"privacy@corp.example\"\n");
    // The preview is the message as sent: undo quoted-printable's soft line breaks.
    let preview = |person: &str| {
        sb.ok(&[
            "notify",
            "preview",
            "1",
            "--template",
            "initial",
            "--person",
            person,
        ])
        .replace("=\r\n", "")
        .replace("=\n", "")
    };
    assert!(preview("E0001").contains("We are investigating whether anyone actually viewed"));
    let log = sb.write(
        "access.csv",
        "accessed_at,accessor,employee_id,action\n\
         2026-11-19T10:00:00Z,mallory,E0001,read\n\
         2026-11-19T10:02:00Z,trent,E0001,export\n",
    );
    sb.ok(&["evidence", "import", "1", log.to_str().unwrap()]);
    let read = preview("E0001");
    assert!(
        read.contains(
            "viewed by 2 people who should not have had access, and that a copy was taken"
        ),
        "{read}"
    );
    let untouched = preview("E0002");
    assert!(
        untouched.contains("we found no record of anyone viewing your data"),
        "{untouched}"
    );
}

/// Issue 27, item 5: every time a user gives is refused before 1970-01-01 and more than a
/// day ahead, saying which and why (`--aware 0001-01-01T00:00:00Z` was accepted and gave one
/// rule a due date in year 1 and another in 1970).
#[test]
fn times_before_1970_or_more_than_a_day_ahead_are_refused_everywhere() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let ahead = (chrono::Utc::now() + chrono::Duration::days(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let log = s.write(
        "access.csv",
        "accessed_at,accessor,employee_id,action\n1900-01-01T00:00:00Z,mallory,E1,read\n",
    );
    for (time, why) in [
        ("0001-01-01T00:00:00Z", "before 1970-01-01"),
        ("1969-12-31T23:59:59Z", "before 1970-01-01"),
        (ahead.as_str(), "more than a day in the future"),
    ] {
        let cases: [Vec<&str>; 5] = [
            vec![
                "incident",
                "open",
                "--title",
                "T",
                "--severity",
                "2",
                "--aware",
                time,
            ],
            vec![
                "incident",
                "open",
                "--title",
                "T",
                "--severity",
                "2",
                "--discovered",
                time,
            ],
            vec!["incident", "clock", "1", "--aware", time, "--reason", "r"],
            vec!["obligation", "done", "1", "gdpr-33", "--at", time],
            vec!["register", "--since", time],
        ];
        for args in cases {
            let err = s.fails(&args, 2);
            assert!(err.contains(why), "{args:?}: {err}");
        }
    }
    s.import(
        "1",
        "employee_id,name,email,categories,location\nE1,A,a@corp.example,keystrokes,DE\n",
    );
    let err = s.fails(&["evidence", "import", "1", log.to_str().unwrap()], 2);
    assert!(
        err.contains("accessed_at 1900-01-01T00:00:00Z is before 1970-01-01"),
        "{err}"
    );
    assert_eq!(
        s.json(&["incident", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Issue 27, item 10: a bare URL or a `www.` name in a note was a live link in the Markdown
/// report (GitHub-flavoured Markdown autolinks them); now neither report links it.
#[test]
fn links_in_notes_are_inert_in_markdown_and_html_reports() {
    let sb = mixed();
    sb.ok(&[
        "incident",
        "note",
        "1",
        "see http://evil.example/x and www.evil.example, or write to a@evil.example",
    ]);
    let md = sb.ok(&["report", "1"]);
    assert!(
        md.contains("http\\://evil.example/x and www\\.evil.example, or write to a\\@evil.example"),
        "{md}"
    );
    assert!(
        !md.contains("http://evil") && !md.contains(" www.evil"),
        "{md}"
    );
    let html = sb.ok(&["report", "1", "--format", "html"]);
    assert!(
        html.contains(
            "http<wbr>://evil.example/x and www<wbr>.evil.example, or write to a<wbr>@evil.example"
        ),
        "{html}"
    );
}

/// Issue 28, item 5 (never silent): people whose location no rule covers, or who have no
/// location, are counted by location in `deadlines`, `incident show` and the report instead
/// of being left out.
#[test]
fn people_under_no_known_rule_are_counted_never_dropped() {
    let sb = Sandbox::new();
    sb.open_incident("Leak", 2);
    sb.import(
        "1",
        "employee_id,name,email,categories,location\n\
         E1,A,a@corp.example,keystrokes,DE\n\
         E2,B,b@corp.example,keystrokes,TV\n\
         E3,C,c@corp.example,keystrokes,\n\
         E4,D,d@corp.example,keystrokes,\n",
    );
    let text = sb.ok(&["deadlines", "1"]);
    assert!(text.contains("gdpr-33"), "{text}");
    assert!(
        text.contains("INC-1: no rule known for TV (1 person): check with counsel"),
        "{text}"
    );
    assert!(text.contains("INC-1: no location for 2 people"), "{text}");
    let list = sb.json(&["deadlines", "1", "--json"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|o| o["rule"].is_string()),
        "{list}"
    );
    let uncovered = sb.json(&["deadlines", "1", "--uncovered", "--json"]);
    assert_eq!(
        uncovered,
        serde_json::json!([
            {"incident": "INC-1", "location": "TV", "people": 1},
            {"incident": "INC-1", "location": null, "people": 2}
        ])
    );
    let all = sb.json(&["deadlines", "--uncovered", "--json"]);
    assert_eq!(all, uncovered);
    let shown = sb.json(&["incident", "show", "1", "--json"]);
    assert_eq!(shown["uncovered"][0]["location"], "TV", "{shown}");
    assert!(
        sb.ok(&["incident", "show", "1"])
            .contains("law:         no rule known for TV")
    );
    let report = sb.ok(&["report", "1"]);
    assert!(
        report.contains("no rule known for TV (1 person): check with counsel"),
        "{report}"
    );
}

/// Issue 33, item 1: closing an incident whose clocks still run is refused, naming each
/// open obligation and its time left, unless the responder says so with a reason; the closed
/// incident's open obligations stay in `deadlines` (with no ID too) until settled.
#[test]
fn closing_with_open_obligations_is_refused_unless_said_and_they_stay_listed() {
    let sb = Sandbox::new();
    sb.open_incident("Leak", 2);
    sb.import(
        "1",
        "employee_id,name,email,categories,location\nE1,A,a@corp.example,keystrokes,DE\n",
    );
    let err = sb.fails(&["incident", "status", "1", "closed"], 2);
    assert!(
        err.contains("not closing INC-1: its legal obligations are still open"),
        "{err}"
    );
    assert!(err.contains("gdpr-33 (2d 23h left)"), "{err}");
    assert!(err.contains("gdpr-34 (without undue delay)"), "{err}");
    assert!(err.contains("--with-open-obligations --reason R"), "{err}");
    let err = sb.fails(
        &[
            "incident",
            "status",
            "1",
            "closed",
            "--with-open-obligations",
        ],
        2,
    );
    assert!(err.contains("--reason"), "{err}");
    sb.ok(&[
        "incident",
        "status",
        "1",
        "closed",
        "--with-open-obligations",
        "--reason",
        "the DPO reports to the authority",
    ]);
    let all = sb.ok(&["deadlines"]);
    assert!(all.contains("gdpr-33"), "{all}");
    assert!(!all.contains("no rule applies"), "{all}");
    let listed = sb.json(&["deadlines", "--json"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["rule"] == "gdpr-33"),
        "{listed}"
    );
    let log = sb.json(&["audit", "log", "--json"]);
    assert!(
        log.as_array().unwrap().iter().any(|e| e["detail"]
            .as_str()
            .unwrap()
            .starts_with("closed with open obligations (gdpr-33")),
        "{log}"
    );
}

/// Issue 28, item 3: state laws apply to the data elements they name. Keystrokes may hold
/// typed passwords or card numbers, so California's notice is `possible` until a responder
/// confirms or rules out; each decision is recorded with its reason.
#[test]
fn elements_a_category_may_contain_are_confirmed_or_ruled_out_and_recorded() {
    let sb = Sandbox::new();
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Keystroke store readable",
        "--severity",
        "2",
        "--aware",
        AWARE,
        "--category",
        "keystrokes",
    ]);
    sb.import(
        "1",
        "employee_id,name,email,categories,location\n\
         E1,Carla,carla@corp.example,keystrokes,US-CA\n\
         E2,Mary,mary@corp.example,keystrokes,US-MA\n",
    );
    let list = obligations(&sb);
    let ca = by_rule(&list, "us-ca");
    let possible: Vec<&str> = ca["possible"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(possible.contains(&"credentials"), "{ca}");
    let text = sb.ok(&["deadlines", "1"]);
    assert!(text.contains("possible"), "{text}");
    assert!(
        text.contains("INC-1: us-ca applies only if government-id or financial-account or payment-card or credentials was exposed: confirm or rule out with breachdesk incident elements INC-1"),
        "{text}"
    );
    let shown = sb.ok(&["incident", "show", "1"]);
    assert!(shown.contains("elements:    possible"), "{shown}");
    // Ruling out needs a reason; an unknown element lists the vocabulary.
    sb.fails(
        &["incident", "elements", "1", "--rule-out", "credentials"],
        2,
    );
    let err = sb.fails(&["incident", "elements", "1", "--confirm", "horoscope"], 2);
    assert!(err.contains("government-id, financial-account"), "{err}");
    let out = sb.ok(&[
        "incident",
        "elements",
        "1",
        "--confirm",
        "credentials",
        "--reason",
        "the capture holds typed passwords",
    ]);
    assert!(
        out.contains("exposed:    credentials, behavioural"),
        "{out}"
    );
    let list = obligations(&sb);
    assert!(
        by_rule(&list, "us-ca").get("possible").is_none(),
        "{list:?}"
    );
    // Massachusetts names no credentials: still possible until the rest is ruled out.
    assert!(by_rule(&list, "us-ma")["possible"].is_array(), "{list:?}");
    for element in ["financial-account", "payment-card", "government-id"] {
        sb.ok(&[
            "incident",
            "elements",
            "1",
            "--rule-out",
            element,
            "--reason",
            "card and id fields are masked at capture",
        ]);
    }
    let list = obligations(&sb);
    let ma = by_rule(&list, "us-ma");
    assert_eq!(ma["state"], "not-triggered", "{ma}");
    assert!(
        ma["not_triggered"]
            .as_str()
            .unwrap()
            .contains("none of the data elements"),
        "{ma}"
    );
    let json = sb.json(&["incident", "elements", "1", "--json"]);
    assert_eq!(json["ruled_out"].as_array().unwrap().len(), 3, "{json}");
    assert!(json["decisions"][0]["by"].as_str().is_some(), "{json}");
    let log = sb.ok(&["audit", "log"]);
    assert!(
        log.contains("incident.element")
            && log.contains("credentials confirmed: the capture holds typed passwords"),
        "{log}"
    );
}

/// Issue 29: the platforms' own logs, as a responder has them: a directory of CloudTrail
/// files (one gzipped), an S3 access log, the people found by a pattern; imports add up,
/// the same file again changes nothing, and the finding is held against the exposure
/// window: "not determinable" while the logs cover only part of it.
#[test]
fn platform_logs_add_up_and_the_finding_is_held_against_the_exposure_window() {
    use std::io::Write as _;
    let sb = Sandbox::new();
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Monitoring bucket readable",
        "--severity",
        "2",
        "--category",
        "keystrokes",
        "--exposed-from",
        "2026-11-20T08:00:00Z",
        "--exposed-until",
        "2026-11-20T12:00:00Z",
    ]);
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 1..=5 {
        csv.push_str(&format!(
            "E000{i},P{i},e000{i}@corp.example,keystrokes,US-CA\n"
        ));
    }
    sb.import("1", &csv);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/evidence");
    let dir = sb.path("trail/2026/11/20");
    std::fs::create_dir_all(&dir).unwrap();
    let plain = std::fs::read(format!("{fixtures}/cloudtrail.json")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    std::fs::write(
        dir.join("111122223333_CloudTrail_part1.json.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("111122223333_CloudTrail_part2.json"),
        std::fs::read(format!("{fixtures}/cloudtrail-management.json")).unwrap(),
    )
    .unwrap();
    sb.write(
        "authorized.txt",
        "# the nightly backup\narn:aws:sts::111122223333:assumed-role/backup/*\n",
    );
    let person = "/(?P<employee_id>E[0-9]{4})/";
    let auth = sb.path("authorized.txt");
    let trail = sb.path("trail");
    let out = sb.ok(&[
        "evidence",
        "import",
        "1",
        trail.to_str().unwrap(),
        "--person-from",
        person,
        "--authorized",
        auth.to_str().unwrap(),
    ]);
    assert!(
        out.contains("part1.json.gz: imported") && out.contains("part2.json: imported"),
        "{out}"
    );
    let s3 = format!("{fixtures}/s3-access.log");
    sb.ok(&[
        "evidence",
        "import",
        "1",
        &s3,
        "--person-from",
        person,
        "--authorized",
        auth.to_str().unwrap(),
    ]);
    let again = sb.ok(&["evidence", "import", "1", &s3, "--person-from", person]);
    assert!(
        again.contains("imported before; nothing changed"),
        "{again}"
    );
    let v = sb.json(&["evidence", "summary", "1", "--json"]);
    assert_eq!(v["finding"], "acquired", "{v}");
    assert_eq!(v["people_read"], 2, "{v}");
    assert_eq!(v["people_acquired"], 1, "{v}");
    assert_eq!(v["unauthorized_accessors"], 1, "{v}");
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3, "{v}");
    assert_eq!(
        sources
            .iter()
            .map(|s| s["format"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["cloudtrail", "cloudtrail", "s3"]
    );
    assert_eq!(sources[0]["gaps"].as_array().unwrap().len(), 1, "{v}");
    assert!(
        sources[1]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("management events only"),
        "{v}"
    );
    assert_eq!(v["denied"], 2, "{v}");
    assert_eq!(v["unmatched"], 2, "{v}");
    assert!(
        v["unmatched_resources"][0]["resource"]
            .as_str()
            .unwrap()
            .contains("E9999"),
        "{v}"
    );
    assert_eq!(v["coverage"], 36, "{v}");
    let by: Vec<&str> = v["by_accessor"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accessor"].as_str().unwrap())
        .collect();
    assert_eq!(
        by.len(),
        2,
        "mallory and the backup role, across formats: {by:?}"
    );
    // Accessed data stays accessed; the obligations that need acquisition apply.
    let list = obligations(&sb);
    assert!(list.iter().any(|o| o["rule"] == "us-ca"), "{list:?}");

    // A log that shows only authorised reads: no access only if the window is covered.
    let sb = Sandbox::new();
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Store readable",
        "--severity",
        "3",
    ]);
    sb.import("1", &csv);
    let log = sb.write(
        "access.csv",
        "accessed_at,accessor,employee_id,action\n2026-11-20T08:00:00Z,backup,E0001,read\n\
         2026-11-20T08:40:00Z,backup,E0001,read\n2026-11-20T09:20:00Z,backup,E0002,read\n",
    );
    sb.write("ok.txt", "backup\n");
    let ok = sb.path("ok.txt");
    sb.ok(&[
        "evidence",
        "import",
        "1",
        log.to_str().unwrap(),
        "--authorized",
        ok.to_str().unwrap(),
    ]);
    let v = sb.json(&["evidence", "summary", "1", "--json"]);
    assert_eq!(v["finding"], "unknown", "no window: nothing concluded: {v}");
    assert!(
        v["statement"]
            .as_str()
            .unwrap()
            .contains("no exposure window"),
        "{v}"
    );
    let out = sb.ok(&[
        "incident",
        "exposure",
        "1",
        "--from",
        "2026-11-20T08:00:00Z",
        "--until",
        "2026-11-20T09:20:00Z",
        "--reason",
        "ACL fixed at 09:20",
    ]);
    assert!(
        out.contains("no access found in logs covering 100% of the exposure window"),
        "{out}"
    );
    let v = sb.json(&["evidence", "summary", "1", "--json"]);
    assert_eq!(v["finding"], "no-access", "{v}");
    sb.ok(&[
        "incident",
        "exposure",
        "1",
        "--from",
        "2026-11-20T06:00:00Z",
        "--until",
        "2026-11-20T09:20:00Z",
        "--reason",
        "the ACL changed at 06:00",
    ]);
    let v = sb.json(&["evidence", "summary", "1", "--json"]);
    assert_eq!(v["finding"], "unknown", "{v}");
    assert!(
        v["statement"]
            .as_str()
            .unwrap()
            .starts_with("not determinable"),
        "{v}"
    );
    assert!(sb.ok(&["audit", "log"]).contains("incident.exposure"));
}

/// Issue 30, item 5: for cron, `deadlines --due-within` lists only what is open and due
/// within the time (overdue included) and exits 4 when there is any, 0 when there is none.
#[test]
fn due_within_lists_what_is_due_soon_and_exits_4_for_cron() {
    let sb = Sandbox::new();
    let aware = (chrono::Utc::now() - chrono::Duration::hours(60))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Store readable",
        "--severity",
        "2",
        "--aware",
        &aware,
    ]);
    sb.import(
        "1",
        "employee_id,name,email,categories,location\nE1,A,a@corp.example,keystrokes,DE\n",
    );
    // GDPR Art. 33: 72 hours from 60 hours ago: 12 hours left.
    let run = |within: &str| {
        sb.cmd()
            .args(["deadlines", "--due-within", within])
            .output()
            .unwrap()
    };
    let soon = run("24h");
    assert_eq!(soon.status.code(), Some(4));
    let text = String::from_utf8(soon.stdout).unwrap();
    assert!(text.contains("INC-1 gdpr-33 due"), "{text}");
    assert!(!text.contains("gdpr-34"), "no due time: {text}");
    let later = run("4h");
    assert_eq!(later.status.code(), Some(0));
    assert!(
        String::from_utf8(later.stdout)
            .unwrap()
            .contains("nothing open is due within 4h")
    );
    let json = sb
        .cmd()
        .args(["deadlines", "--due-within", "2d", "--json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    sb.ok(&[
        "obligation",
        "done",
        "1",
        "gdpr-33",
        "--at",
        &at,
        "--reference",
        "DPC-1",
    ]);
    assert_eq!(run("24h").status.code(), Some(0), "met: nothing due");
    let err = sb.fails(&["deadlines", "--due-within", "soonish"], 2);
    assert!(err.contains("not a duration such as 24h"), "{err}");
}

/// Issue 33, item 2: an obligation the evidence leaves untriggered says why, on screen and
/// in --json, and a responder who judges that viewing was acquisition records it.
#[test]
fn an_untriggered_obligation_says_why_and_can_be_applied_with_a_reason() {
    let sb = Sandbox::new();
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Readable",
        "--severity",
        "2",
        "--category",
        "contact-details",
        "--exposed-from",
        "2026-11-20T08:00:00Z",
        "--exposed-until",
        "2026-11-20T09:00:00Z",
    ]);
    sb.import(
        "1",
        "employee_id,name,email,categories,location\nE1,A,a@corp.example,contact-details,US-CA\n",
    );
    sb.ok(&[
        "incident",
        "elements",
        "1",
        "--confirm",
        "government-id",
        "--reason",
        "payroll ids",
    ]);
    let log = sb.write(
        "access.csv",
        "accessed_at,accessor,employee_id,action\n2026-11-20T08:30:00Z,eve,E1,read\n",
    );
    sb.ok(&["evidence", "import", "1", log.to_str().unwrap()]);
    let list = obligations(&sb);
    let ca = by_rule(&list, "us-ca");
    assert_eq!(ca["state"], "not-triggered", "{ca}");
    assert_eq!(
        ca["not_triggered"],
        "not triggered: reads but no copies found; acquisition not shown"
    );
    let text = sb.ok(&["deadlines", "1"]);
    assert!(text.contains("reads but no copies found"), "{text}");
    sb.fails(&["obligation", "apply", "1", "us-ca", "--reason", " "], 2);
    let out = sb.ok(&[
        "obligation",
        "apply",
        "1",
        "us-ca",
        "--reason",
        "eve opened the files in the store: acquisition",
    ]);
    assert!(out.contains("INC-1 us-ca: applies"), "{out}");
    let list = obligations(&sb);
    assert_eq!(by_rule(&list, "us-ca")["state"], "open");
    let err = sb.fails(
        &["obligation", "apply", "1", "us-ca", "--reason", "again"],
        2,
    );
    assert!(err.contains("applies already"), "{err}");
    assert!(sb.ok(&["audit", "log"]).contains("obligation.applied"));
}

#[test]
fn a_regulators_draft_counts_only_the_people_it_covers_and_no_category_they_lack() {
    let sb = Sandbox::new();
    sb.ok(&[
        "incident",
        "open",
        "--title",
        "Screenshots and keystrokes readable by all staff",
        "--severity",
        "2",
        "--aware",
        AWARE,
        "--category",
        "keystrokes",
        "--category",
        "screenshots",
    ]);
    let roster = sb.write(
        "roster.csv",
        "employee_id,name,email,categories,location\n\
         E1,Ada,ada@corp.example,keystrokes,DE\n\
         E2,Bo,bo@corp.example,keystrokes;screenshots,US-TX\n\
         E3,Cy,cy@corp.example,screenshots,US-TX\n",
    );
    sb.ok(&["people", "import", "1", roster.to_str().unwrap()]);
    let draft = sb.ok(&["report", "1", "--regulator", "gdpr-33"]);
    assert!(
        draft.contains("Categories of personal data concerned: keystrokes (1 person)."),
        "{draft}"
    );
    assert!(
        !draft.contains("screenshots"),
        "nobody in the EEA has it:\n{draft}"
    );
    assert!(
        draft.contains("1 in the EEA (3 in all)")
            && draft.contains("personal data records concerned: 1 (one per person"),
        "{draft}"
    );
}
