//! Report snapshots: the Markdown and HTML reports and the GDPR Art. 33 draft of one
//! incident with a fixed clock, drawn from a real store; and an incident whose text holds
//! HTML and Markdown, which both formats must show as text.

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk, Session};
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

/// A session of "responder" on a new database in `dir`, its clock fixed at `t0`.
fn responder_at_t0(dir: &tempfile::TempDir, settings: &Settings) -> (Session, UserName) {
    let actor = UserName::parse("responder").unwrap();
    let desk = LocalDesk::for_local_user(
        Store::open(dir.path(), &Key::generate().unwrap()).unwrap(),
        settings.clone(),
        actor.clone(),
    )
    .with_clock(Box::new(t0));
    (std::sync::Arc::new(desk).session(actor.clone()), actor)
}

fn report_of_a_breach() -> (tempfile::TempDir, report::Report, Settings) {
    let (dir, desk, actor, settings) = breach_desk();
    let r = report::gather(&desk, &actor, IncidentId::new(1), t0()).unwrap();
    (dir, r, settings)
}

/// The database of one breach, as `report_of_a_breach` reports it.
fn breach_desk() -> (tempfile::TempDir, Session, UserName, Settings) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::parse(
        "[contact]\nname = \"Data Protection Officer\"\nemail = \"dpo@corp.example\"\n",
        std::path::Path::new("config.toml"),
    )
    .unwrap();
    let (desk, actor) = responder_at_t0(&dir, &settings);
    let catalog = desk.catalog();
    let program = NewProgram::new(
        "staff-monitoring".parse().unwrap(),
        "Staff activity monitoring",
        None,
        None,
    )
    .unwrap();
    desk.add_program(program).unwrap();
    let mut new = NewIncident::new(
        "Monitoring data readable company-wide",
        Severity::new(2).unwrap(),
        "The store of keystrokes and chat transcripts was readable by every employee.",
    )
    .unwrap();
    new.categories.insert(catalog.parse("keystrokes").unwrap());
    new.programs.insert("staff-monitoring".parse().unwrap());
    new.aware_at = Some(t("2026-11-20T09:00:00Z"));
    let id = desk.open_incident(new).unwrap().id;
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..12 {
        let place = ["DE", "FR", "US-CA", "NZ"][i % 4];
        csv.push_str(&format!(
            "E{i:03},Person {i},p{i}@corp.example,keystrokes;chat-messages,{place}\n"
        ));
    }
    desk.import_roster(id, csv.as_bytes().to_vec(), "roster.csv".to_owned(), false)
        .unwrap();
    desk.set_severity(
        id,
        Severity::new(1).unwrap(),
        "transcripts exposed too".to_owned(),
    )
    .unwrap();
    desk.set_status(id, Status::Investigating, None, false)
        .unwrap();
    desk.pause_program(
        "staff-monitoring".parse().unwrap(),
        id,
        "exposure".to_owned(),
    )
    .unwrap();
    let log = "accessed_at,accessor,employee_id,action\n\
               2026-11-19T10:00:00Z,mallory,E001,read\n\
               2026-11-19T10:05:00Z,mallory,E002,download\n";
    desk.import_evidence(
        id,
        &mut log.as_bytes(),
        "access.csv",
        &breachdesk::evidence::EvidenceOptions::default(),
    )
    .unwrap();
    desk.settle_obligation(
        id,
        "gdpr-33".to_owned(),
        ObligationState::Done {
            at: t("2026-11-20T14:00:00Z"),
            reference: Some("DPC-2026-118".into()),
            phase: None,
        },
    )
    .unwrap();
    (dir, desk, actor, settings)
}

/// The register of the breach above, a second incident assessed as not a high risk (so
/// nobody is told under GDPR Art. 34, and the register says why) and a third with a
/// spreadsheet formula for a title.
fn register_of_three() -> (tempfile::TempDir, Vec<report::register::Entry>) {
    let (dir, desk, _, _) = breach_desk();
    let id = desk
        .open_incident(
            NewIncident::new(
                "Badge photos shared with a vendor",
                Severity::new(3).unwrap(),
                "Badge photos of the Berlin office went to the wrong vendor, who deleted them.",
            )
            .unwrap(),
        )
        .unwrap()
        .id;
    desk.import_roster(
        id,
        b"employee_id,name,email,categories,location\nB1,Berta,berta@corp.example,keystrokes,DE\n"
            .to_vec(),
        "badges.csv".to_owned(),
        false,
    )
    .unwrap();
    desk.assess_harm(
        id,
        breachdesk::domain::HarmInputs::from_quarters(1, None, 4, [1, 0, 0, 0]).unwrap(),
        "one known recipient, who confirmed deletion".to_owned(),
    )
    .unwrap();
    desk.open_incident(
        NewIncident::new("=HYPERLINK(\"x\")", Severity::new(5).unwrap(), "").unwrap(),
    )
    .unwrap();
    let entries = report::register::gather(&desk, None).unwrap();
    (dir, entries)
}

#[test]
fn register_markdown() {
    let (_dir, entries) = register_of_three();
    let md = report::register::markdown(&entries, t0());
    for name in [
        "Person 1",
        "p1@corp.example",
        "E001",
        "Berta",
        "berta@",
        "mallory",
    ] {
        assert!(!md.contains(name), "no personal data ({name}): {md}");
    }
    insta::assert_snapshot!("register_md", md);
}

#[test]
fn register_csv_is_inert_and_json_has_every_decision() {
    let (_dir, entries) = register_of_three();
    let csv = report::register::csv(&entries);
    insta::assert_snapshot!("register_csv", csv);
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    let json = serde_json::to_value(&entries).unwrap();
    let badges = &json[1];
    let art34 = badges["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["rule"] == "gdpr-34")
        .unwrap();
    assert_eq!(art34["decision"], "waived");
    assert!(
        badges["not_notified_because"][0]
            .as_str()
            .unwrap()
            .starts_with("gdpr-34: not required: not a high risk"),
        "{badges}"
    );
    let first = &json[0];
    let art33 = first["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["rule"] == "gdpr-33")
        .unwrap();
    assert_eq!(art33["decision"], "done");
    assert_eq!(art33["reference"], "DPC-2026-118");
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

/// Markup an insider could type into the fields a report shows.
const SCRIPT: &str = "<script>alert(1)</script>";
const LINK: &str = "[click](http://evil)";
const PIXEL: &str = "![seen](http://tracker.example/p.png)";

/// An incident whose title, summary, note, severity reason, programme name and evidence file
/// name all hold HTML and Markdown.
fn report_of_hostile_text() -> (tempfile::TempDir, report::Report, Settings) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::defaults();
    let (desk, actor) = responder_at_t0(&dir, &settings);
    let program = NewProgram::new(
        "monitoring".parse().unwrap(),
        &format!("Monitor {SCRIPT} {LINK}"),
        None,
        None,
    )
    .unwrap();
    desk.add_program(program).unwrap();
    let summary = format!("Summary {PIXEL}\n# Legal obligations\n- all met | none *due*");
    let mut new = NewIncident::new(
        &format!("{SCRIPT} {LINK}"),
        Severity::new(2).unwrap(),
        &summary,
    )
    .unwrap();
    new.programs.insert("monitoring".parse().unwrap());
    let id = desk.open_incident(new).unwrap().id;
    desk.add_note(id, format!("note {LINK} <img src=x onerror=alert(1)>"))
        .unwrap();
    desk.set_severity(id, Severity::new(1).unwrap(), format!("why {SCRIPT}"))
        .unwrap();
    desk.import_roster(
        id,
        b"employee_id,name,email,categories\nE1,Ana,ana@corp.example,keystrokes\n".to_vec(),
        "roster.csv".to_owned(),
        false,
    )
    .unwrap();
    let log = "accessed_at,accessor,employee_id,action\n2026-11-19T10:00:00Z,mallory,E1,read\n";
    desk.import_evidence(
        id,
        &mut log.as_bytes(),
        &format!("{LINK}.csv"),
        &breachdesk::evidence::EvidenceOptions::default(),
    )
    .unwrap();
    let r = report::gather(&desk, &actor, id, t0()).unwrap();
    (dir, r, settings)
}

#[test]
fn markdown_report_renders_users_markup_as_text() {
    let (_dir, r, settings) = report_of_hostile_text();
    let contact = &settings.config.contact;
    for (name, md) in [
        ("report", report::markdown(&r)),
        ("gdpr-33", report::gdpr33_markdown(&r, contact)),
    ] {
        // What Markdown would read as markup: the text with every backslash escape taken
        // out (an escaped `\<` is a literal `<`, no tag).
        let mut markup = String::new();
        let mut chars = md.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                chars.next();
            } else {
                markup.push(c);
            }
        }
        for raw in ["<script>", "<img", LINK, "](", "![", "*due*"] {
            assert!(!markup.contains(raw), "{name} holds raw {raw:?}:\n{md}");
        }
        assert!(
            !md.contains("&lt;"),
            "{name}: no HTML entities in Markdown:\n{md}"
        );
        assert!(
            md.contains("\\<script\\>alert\\(1\\)\\</script\\> \\[click\\]\\(http\\://evil\\)"),
            "{name}: the title is shown as text:\n{md}"
        );
        assert!(
            !md.lines()
                .any(|l| l == "# Legal obligations" || l.starts_with("- all met")),
            "{name}: the summary cannot add a heading or a list:\n{md}"
        );
    }
    let md = report::markdown(&r);
    assert!(md.contains("\\- all met \\| none \\*due\\*"), "{md}");
    assert!(
        md.contains("| why \\<script\\>"),
        "the severity reason cell: {md}"
    );
}

#[test]
fn html_report_renders_users_markup_as_text() {
    let (_dir, r, settings) = report_of_hostile_text();
    for (name, page) in [
        ("report", report::html_page(&r)),
        ("gdpr-33", report::gdpr33_html(&r, &settings.config.contact)),
    ] {
        for raw in ["<script>", "<img"] {
            assert!(!page.contains(raw), "{name} holds raw {raw:?}:\n{page}");
        }
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{name}:\n{page}"
        );
    }
}

#[test]
fn hhs_draft() {
    let (_dir, r, _) = report_of_a_breach();
    let draft = report::drafts::hhs(&r);
    assert!(
        draft.fields.iter().any(|f| f.to_complete),
        "placeholders are marked"
    );
    insta::assert_snapshot!("hhs_md", report::drafts::markdown(&draft));
}

#[test]
fn nz_notifyus_draft() {
    let (_dir, r, settings) = report_of_a_breach();
    let draft = report::drafts::nz_notifyus(&r, &settings.config.contact);
    let md = report::drafts::markdown(&draft);
    assert!(!md.contains("Person "), "no one's name in a draft:\n{md}");
    assert!(
        draft
            .fields
            .iter()
            .any(|f| f.value == "3 in New Zealand (12 in all)"),
        "{md}"
    );
    insta::assert_snapshot!("nz_notifyus_md", md);
}

#[test]
fn ico_draft_counts_the_uk_and_says_initial_or_follow_up() {
    let (_dir, desk, actor, settings) = breach_desk();
    let id = IncidentId::new(1);
    let csv = "employee_id,name,email,categories,location\n\
               G001,Gwen Uk,gwen@corp.example,keystrokes,GB\n\
               G002,Gil Uk,gil@corp.example,chat-messages,GB\n";
    desk.import_roster(id, csv.as_bytes().to_vec(), "uk.csv".to_owned(), false)
        .unwrap();
    let r = report::gather(&desk, &actor, id, t0()).unwrap();
    let draft = report::drafts::ico(&r, &settings.config.contact);
    let md = report::drafts::markdown(&draft);
    assert!(!md.contains("Gwen") && !md.contains("Person "), "{md}");
    assert!(
        draft
            .fields
            .iter()
            .any(|f| f.value == "2 in the United Kingdom (14 in all)"),
        "{md}"
    );
    assert!(md.contains("Initial report"), "{md}");
    insta::assert_snapshot!("ico_md", md);

    desk.settle_obligation(
        id,
        "uk-gdpr-33".to_owned(),
        ObligationState::Done {
            at: t0(),
            reference: Some("ICO-123".to_owned()),
            phase: Some(breachdesk::domain::Phase::Initial),
        },
    )
    .unwrap();
    let r = report::gather(&desk, &actor, id, t0()).unwrap();
    let draft = report::drafts::ico(&r, &settings.config.contact);
    assert_eq!(
        draft.fields[0].value,
        "Follow-up report (the initial report went on 2026-11-20T14:30:00Z, reference ICO-123)"
    );
}
