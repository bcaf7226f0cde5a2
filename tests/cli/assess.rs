//! The harm assessment (issue 13, item 4): `incident assess` records an ENISA severity with
//! its inputs, who and when; the timeline keeps it; GDPR Art. 34 shows as not required below
//! a high risk, with the assessment as the reason, and is required again when a later
//! assessment finds a high risk.

use crate::common;

use common::Sandbox;
use serde_json::Value;

fn desk() -> Sandbox {
    let s = Sandbox::new();
    s.open_incident("Monitoring data readable by all", 2);
    s.import(
        "1",
        "employee_id,name,email,categories,location\n\
         E1,Dieter,dieter@corp.example,keystrokes;chat-messages,DE\n",
    );
    s
}

/// INC-1's obligation under `rule`, as `deadlines --json` gives it.
fn obligation(s: &Sandbox, rule: &str) -> Value {
    s.json(&["deadlines", "1", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["rule"] == rule)
        .cloned()
        .unwrap()
}

fn art34(s: &Sandbox) -> Value {
    obligation(s, "gdpr-34")
}

/// `incident assess 1` with these inputs (DPC, EI, and the four circumstances).
fn assess_args<'a>(dpc: &'a str, ei: &'a str, cb: [&'a str; 4], reason: &'a str) -> Vec<&'a str> {
    vec![
        "incident",
        "assess",
        "1",
        "--dpc",
        dpc,
        "--ei",
        ei,
        "--cb-confidentiality",
        cb[0],
        "--cb-integrity",
        cb[1],
        "--cb-availability",
        cb[2],
        "--cb-malicious",
        cb[3],
        "--reason",
        reason,
    ]
}

/// The staff-monitoring exposure's inputs with this DPC: fully identifiable, readable by
/// every employee, nothing altered or lost, no malice.
fn assess(s: &Sandbox, dpc: &str, reason: &str) -> Value {
    let mut args = assess_args(dpc, "1", ["0.5", "0", "0", "0"], reason);
    args.push("--json");
    s.json(&args)
}

#[test]
fn the_staff_monitoring_exposure_assessed_two_ways() {
    let s = desk();
    assert_eq!(art34(&s)["state"], "open", "required until assessed");

    // Behavioural data, fully identifiable, readable by every employee, no malice found.
    let medium = assess(&s, "2", "behavioural data; no sign of malice");
    assert_eq!(medium["score"], 2.5);
    assert_eq!(medium["band"], "medium");
    assert_eq!(medium["high_risk"], false);
    assert_eq!(
        medium["by"],
        s.json(&["incident", "show", "1", "--json"])["owner"]
    );
    let o = art34(&s);
    assert_eq!(o["state"], "waived", "{o}");
    let why = o["waived_reason"].as_str().unwrap();
    assert!(
        why.starts_with("not required: not a high risk by the harm assessment"),
        "{why}"
    );
    assert!(
        why.contains("ENISA severity 2.5 (medium): DPC 2 x EI 1 + CB 0.5"),
        "{why}"
    );

    // Chat transcripts raise the context: a high risk, and Art. 34 applies again.
    let high = assess(&s, "3", "private chat messages raise the context");
    assert_eq!(high["score"], 3.5);
    assert_eq!(high["band"], "high");
    assert_eq!(art34(&s)["state"], "open");

    // Both are in the timeline, with their inputs.
    let log = s.json(&["audit", "log", "--incident", "1", "--json"]);
    let assessed: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "incident.assessed")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert_eq!(assessed.len(), 2, "{assessed:?}");
    assert!(
        assessed[1].starts_with("ENISA severity 3.5 (high): DPC 3 x EI 1 + CB 0.5 (confidentiality 0.5, integrity 0, availability 0, malicious intent 0); private chat messages"),
        "{assessed:?}"
    );
    // Art. 33 (the authority) does not depend on the assessment.
    let gdpr33 = s.json(&["deadlines", "1", "--json"]);
    let gdpr33 = gdpr33
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["rule"] == "gdpr-33")
        .unwrap();
    assert_eq!(gdpr33["state"], "open");

    // The report says it, the reason as text, never as markup.
    assess(&s, "3", "chat <b>transcripts</b>");
    let md = s.ok(&["report", "1", "--format", "md"]);
    assert!(md.contains("## Harm assessment"), "{md}");
    assert!(
        md.contains("ENISA severity 3.5 (high): DPC 3 x EI 1 + CB 0.5"),
        "{md}"
    );
    assert!(md.contains("a high risk to the people affected"), "{md}");
    assert!(!md.contains("<b>transcripts</b>"), "escaped: {md}");
    let json = s.json(&["report", "1", "--format", "json"]);
    assert_eq!(json["incident"]["assessment"]["inputs"]["dpc"], 3, "{json}");
}

#[test]
fn values_outside_the_methodology_are_refused_naming_the_flag() {
    let s = desk();
    let err = s.fails(&assess_args("2", "0.3", ["0.5", "0", "0", "0"], "x"), 2);
    assert!(
        err.contains("--ei must be one of 0.25, 0.5, 0.75, 1, not '0.3'"),
        "{err}"
    );
    let err = s.fails(&assess_args("7", "1", ["0", "0", "0", "0.25"], "x"), 2);
    assert!(
        err.contains("--cb-malicious must be one of 0, 0.5"),
        "{err}"
    );
    assert_eq!(art34(&s)["state"], "open", "nothing recorded");
}

#[test]
fn the_register_lists_every_incident_since_a_date_in_each_format() {
    let s = desk();
    let md = s.ok(&["register"]);
    assert!(
        md.contains("## INC-1 SEV2: Monitoring data readable by all"),
        "{md}"
    );
    assert!(
        !md.contains("Dieter") && !md.contains("dieter@"),
        "no personal data: {md}"
    );
    let json = s.json(&["register", "--format", "json", "--since", "2000-01-01"]);
    assert_eq!(json.as_array().unwrap().len(), 1, "{json}");
    // The latest --since a user may give is a day ahead (issue 27, item 5).
    let tomorrow = (chrono::Utc::now() + chrono::Duration::hours(23))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let later = s.json(&["register", "--format", "json", "--since", &tomorrow]);
    assert_eq!(later, serde_json::json!([]));
    let err = s.fails(&["register", "--since", "2999-01-01"], 2);
    assert!(err.contains("more than a day in the future"), "{err}");
    let csv = s.ok(&["register", "--format", "csv"]);
    assert!(csv.starts_with("incident,title,severity"), "{csv}");
    let err = s.fails(&["register", "--since", "last week"], 2);
    assert!(
        err.contains("neither a date such as 2026-01-01 nor an RFC 3339 time"),
        "{err}"
    );
}

#[test]
fn regulator_drafts_for_hhs_and_the_california_attorney_general_hold_counts_only() {
    let s = Sandbox::new();
    s.open_incident("Health notes readable by all", 1);
    s.import(
        "1",
        "employee_id,name,email,categories,location\n\
         C1,Carla,carla@corp.example,health-data,US-CA\n\
         C2,Carlos,carlos@corp.example,health-data;keystrokes,US-CA\n",
    );
    let ag = s.ok(&["report", "1", "--regulator", "us-ca-ag"]);
    assert!(ag.contains("## California residents affected\n\n2"), "{ag}");
    assert!(ag.contains("Dear \\[Name\\]"), "a placeholder person: {ag}");
    assert!(
        !ag.contains("Carla") && !ag.contains("carlos@"),
        "no personal data: {ag}"
    );
    let hhs = s.json(&["report", "1", "--regulator", "hhs", "--format", "json"]);
    let field = |label: &str| {
        hhs["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["label"] == label)
            .cloned()
            .unwrap_or_else(|| panic!("{label} in {hhs}"))
    };
    assert_eq!(
        field("Approximate number of individuals affected")["value"],
        "2"
    );
    assert_eq!(field("Breach start date")["to_complete"], true);
    assert!(
        hhs["note"]
            .as_str()
            .unwrap()
            .contains("fewer than 500 individuals"),
        "{hhs}"
    );
    let err = s.fails(
        &["report", "1", "--regulator", "hhs", "--format", "html"],
        2,
    );
    assert!(err.contains("use --format md or --format json"), "{err}");
}

#[test]
fn an_art_34_3_exemption_settles_telling_the_people_with_its_ground() {
    let s = desk();
    let err = s.fails(
        &[
            "obligation",
            "exempt",
            "1",
            "gdpr-33",
            "--ground",
            "unintelligible",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(
        err.contains("the Art. 34(3) exemptions are for gdpr-34"),
        "{err}"
    );
    s.ok(&[
        "obligation",
        "exempt",
        "1",
        "gdpr-34",
        "--ground",
        "unintelligible",
        "--reason",
        "the store held only AES-256 ciphertext; the key was not exposed",
    ]);
    let o = art34(&s);
    assert_eq!(o["state"], "waived");
    assert_eq!(
        o["waived_reason"],
        "exempt under GDPR Art. 34(3)(a): the data is unintelligible to any person not authorised to access it: the store held only AES-256 ciphertext; the key was not exposed"
    );
    // A recorded decision outranks a later assessment.
    assess(&s, "3", "chat transcripts");
    assert_eq!(art34(&s)["state"], "waived");
}

#[test]
fn a_report_in_phases_is_partly_met_until_the_follow_up_and_keeps_each_submission() {
    let s = desk();
    let rule = |name: &str| {
        s.json(&["deadlines", "1", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["rule"] == name)
            .cloned()
            .unwrap()
    };
    let at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let err = s.fails(
        &[
            "obligation",
            "done",
            "1",
            "gdpr-33",
            "--at",
            &at,
            "--phase",
            "follow-up",
        ],
        2,
    );
    assert!(err.contains("no initial report yet"), "{err}");
    let out = s.ok(&[
        "obligation",
        "done",
        "1",
        "gdpr-33",
        "--at",
        &at,
        "--reference",
        "DPC-1",
        "--phase",
        "initial",
    ]);
    assert!(out.contains("partly met: initial report"), "{out}");
    let o = rule("gdpr-33");
    assert_eq!(o["state"], "partly-met", "{o}");
    assert_eq!(o["met"], true, "the initial report met the 72 hours: {o}");
    let later = chrono::Utc::now().to_rfc3339();
    s.ok(&[
        "obligation",
        "done",
        "1",
        "gdpr-33",
        "--at",
        &later,
        "--reference",
        "DPC-1b",
        "--phase",
        "follow-up",
    ]);
    let o = rule("gdpr-33");
    assert_eq!(o["state"], "done", "{o}");
    assert_eq!(o["reference"], "DPC-1", "met by the initial report: {o}");
    let phases: Vec<&str> = o["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["initial", "follow-up"], "{o}");
    assert_eq!(o["submissions"][1]["reference"], "DPC-1b");
}

#[test]
fn the_nz_serious_harm_test_decides_whether_the_breach_is_notifiable() {
    let s = Sandbox::new();
    s.open_incident("Roster readable by all", 3);
    s.import(
        "1",
        "employee_id,name,email,categories,location\nN1,Nikau,nikau@corp.example,keystrokes,NZ\n",
    );
    let nz = |s: &Sandbox| obligation(s, "nz-privacy-2020");
    assert_eq!(nz(&s)["state"], "open");
    let factors = [
        "--mitigation",
        "access closed within an hour",
        "--sensitivity",
        "work rosters, not sensitive",
        "--harm",
        "none foreseeable",
        "--recipients",
        "two colleagues, who deleted their copies",
        "--security",
        "none",
    ];
    let mut args = vec!["incident", "serious-harm", "1", "--unlikely"];
    args.extend(factors);
    args.extend(["--reason", "low sensitivity, known recipients"]);
    let out = s.ok(&args);
    assert!(
        out.contains("serious harm not likely, not a notifiable privacy breach"),
        "{out}"
    );
    let o = nz(&s);
    assert_eq!(o["state"], "waived");
    assert!(
        o["waived_reason"]
            .as_str()
            .unwrap()
            .starts_with("not required: not a notifiable privacy breach by the serious-harm test"),
        "{o}"
    );
    let log = s.json(&["audit", "log", "--incident", "1", "--json"]);
    let detail = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "incident.assessed")
        .and_then(|e| e["detail"].as_str())
        .unwrap()
        .to_owned();
    assert!(
        detail.contains(
            "whether the information is sensitive (s113(b)): work rosters, not sensitive"
        ),
        "{detail}"
    );
    // Each factor must be considered.
    let err = s.fails(
        &[
            "incident",
            "serious-harm",
            "1",
            "--likely",
            "--mitigation",
            "",
            "--sensitivity",
            "x",
            "--harm",
            "x",
            "--recipients",
            "x",
            "--security",
            "x",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(
        err.contains("say how you considered action taken to reduce the risk of harm"),
        "{err}"
    );
    let mut args = vec!["incident", "serious-harm", "1", "--likely"];
    args.extend(factors);
    args.extend(["--reason", "copies were not deleted after all"]);
    s.ok(&args);
    assert_eq!(nz(&s)["state"], "open", "notifiable again");
}
