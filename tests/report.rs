//! Report snapshots: the Markdown and HTML reports and the GDPR Art. 33 draft of one
//! incident with a fixed clock, drawn from a real store.

use std::collections::HashSet;

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk};
use breachdesk::domain::{
    IncidentId, NewIncident, NewProgram, ObligationState, Severity, Status, UserName,
};
use breachdesk::report;
use breachdesk::store::Store;
use chrono::{DateTime, Utc};

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn t0() -> DateTime<Utc> {
    t("2026-11-20T14:30:00Z")
}

fn report_of_a_breach() -> (tempfile::TempDir, report::Report, Settings) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::parse(
        "[contact]\nname = \"Data Protection Officer\"\nemail = \"dpo@corp.example\"\n",
        std::path::Path::new("config.toml"),
    )
    .unwrap();
    let actor = UserName::parse("responder").unwrap();
    let desk = LocalDesk::for_local_user(
        Store::open(dir.path(), &Key::generate().unwrap()).unwrap(),
        settings.clone(),
        actor.clone(),
    )
    .with_clock(Box::new(t0));
    let catalog = desk.catalog();
    let program = NewProgram::new(
        "staff-monitoring".parse().unwrap(),
        "Staff activity monitoring",
        None,
        None,
    )
    .unwrap();
    desk.add_program(&actor, program).unwrap();
    let mut new = NewIncident::new(
        "Monitoring data readable company-wide",
        Severity::new(2).unwrap(),
        "The store of keystrokes and chat transcripts was readable by every employee.",
    )
    .unwrap();
    new.categories.insert(catalog.parse("keystrokes").unwrap());
    new.programs.insert("staff-monitoring".parse().unwrap());
    new.aware_at = Some(t("2026-11-20T09:00:00Z"));
    let id = desk.open_incident(&actor, new).unwrap().id;
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..12 {
        let place = ["DE", "FR", "US-CA", "NZ"][i % 4];
        csv.push_str(&format!(
            "E{i:03},Person {i},p{i}@corp.example,keystrokes;chat-messages,{place}\n"
        ));
    }
    desk.import_roster(&actor, id, csv.as_bytes(), "roster.csv", false)
        .unwrap();
    desk.set_severity(
        &actor,
        id,
        Severity::new(1).unwrap(),
        "transcripts exposed too",
    )
    .unwrap();
    desk.set_status(&actor, id, Status::Investigating, None)
        .unwrap();
    desk.pause_program(&actor, &"staff-monitoring".parse().unwrap(), id, "exposure")
        .unwrap();
    let log = "accessed_at,accessor,employee_id,action\n\
               2026-11-19T10:00:00Z,mallory,E001,read\n\
               2026-11-19T10:05:00Z,mallory,E002,download\n";
    desk.import_evidence(
        &actor,
        id,
        &mut log.as_bytes(),
        "access.csv",
        &HashSet::new(),
    )
    .unwrap();
    desk.settle_obligation(
        &actor,
        id,
        "gdpr-33",
        ObligationState::Done {
            at: t("2026-11-20T14:00:00Z"),
            reference: Some("DPC-2026-118".into()),
        },
    )
    .unwrap();
    let r = report::gather(&desk, &actor, IncidentId::new(1), t0()).unwrap();
    (dir, r, settings)
}

#[test]
fn markdown_report() {
    let (_dir, r, _) = report_of_a_breach();
    insta::assert_snapshot!("report_md", report::markdown(&r));
}

#[test]
fn html_report() {
    let (_dir, r, _) = report_of_a_breach();
    insta::assert_snapshot!("report_html", report::html_page(&r));
}

#[test]
fn gdpr_33_draft() {
    let (_dir, r, settings) = report_of_a_breach();
    insta::assert_snapshot!(
        "report_gdpr_33",
        report::gdpr33_markdown(&r, &settings.config.contact)
    );
}
