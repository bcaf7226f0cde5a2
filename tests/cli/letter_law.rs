//! The first notice carries what each person's jurisdictions require (issue 13, item 1):
//! letters rendered by the real binary for people in California, New Zealand, Germany and
//! (with health data) anywhere in the US, read back as the text and HTML parts a mail client
//! shows, and `template check` naming the contact details the rules need.

use crate::common;

use common::Sandbox;

const CONTACT: &str = "[smtp]\nfrom = \"privacy@corp.example\"\n\
    [contact]\nname = \"Privacy Team\"\nemail = \"privacy@corp.example\"\n\
    dpo = \"Dana Ortiz, dpo@corp.example\"\ntoll_free = \"+1 800 555 0100\"\n\
    postal_address = \"1 Example Way, Springfield\"\nweb = \"https://corp.example/privacy\"\n\
    credit_monitoring = \"24 months of identity monitoring: enrol at https://monitor.example with code BD-1\"\n\
    [contact.attorney_general]\n\
    US-DC = \"Office of the Attorney General for the District of Columbia (test entry)\"\n\
    US-MD = \"Office of the Attorney General of Maryland (test entry)\"\n\
    US-NC = \"North Carolina Attorney General's Office (test entry)\"\n\
    US-RI = \"Rhode Island Attorney General (test entry)\"\n";

/// A database with the full `[contact]` and one incident, no roster yet.
fn incident() -> Sandbox {
    let s = Sandbox::new();
    s.write("config.toml", CONTACT);
    s.open_incident("Monitoring data readable by all", 2);
    s
}

fn desk() -> Sandbox {
    let s = incident();
    s.import(
        "1",
        "employee_id,name,email,categories,location\n\
         CA1,Carla,carla@corp.example,keystrokes,US-CA\n\
         NZ1,Nikau,nikau@corp.example,chat-messages,NZ\n\
         DE1,Dieter,dieter@corp.example,keystrokes;chat-messages,DE\n\
         TX1,Tomas,tomas@corp.example,health-data,US-TX\n\
         JP1,Junko,junko@corp.example,keystrokes,JP\n",
    );
    s
}

/// A person's first notice exactly as it would be sent.
fn preview(s: &Sandbox, person: &str) -> String {
    s.ok(&[
        "notify",
        "preview",
        "1",
        "--template",
        "initial",
        "--person",
        person,
        "--raw",
    ])
}

/// The text and HTML parts of a person's first notice, as a mail client decodes them.
fn letter(s: &Sandbox, person: &str) -> (String, String) {
    let raw = preview(s, person);
    let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
    let mail = mailparse::parse_mail(raw.as_bytes()).expect("the preview is a message");
    let part = |kind: &str| {
        mail.subparts
            .iter()
            .find(|p| p.ctype.mimetype == kind)
            .unwrap_or_else(|| panic!("no {kind} part"))
            .get_body()
            .unwrap()
            .replace("\r\n", "\n")
    };
    (part("text/plain"), part("text/html"))
}

const HEADINGS: [&str; 5] = [
    "What Happened",
    "What Information Was Involved",
    "What We Are Doing",
    "What You Can Do",
    "For More Information",
];

#[test]
fn a_californians_letter_is_titled_and_uses_the_five_headings_in_order() {
    let s = desk();
    let (text, html) = letter(&s, "CA1");
    assert!(text.starts_with("Notice of Data Breach\n"), "{text}");
    assert!(
        html.contains("<h1 style=\"font-size: 16pt\">Notice of Data Breach</h1>"),
        "{html}"
    );
    for body in [&text, &html] {
        let at: Vec<usize> = HEADINGS
            .iter()
            .map(|h| {
                body.find(h)
                    .unwrap_or_else(|| panic!("{h} missing: {body}"))
            })
            .collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "headings in order: {body}"
        );
        assert!(body.contains("Date of this notice: "), "{body}");
        assert!(
            body.contains("not delayed by a law enforcement investigation"),
            "{body}"
        );
        assert!(
            body.contains("still establishing when the exposure began"),
            "{body}"
        );
        assert!(body.contains("privacy@corp.example"), "{body}");
    }
    // Nothing another law asks for.
    assert!(!text.contains("Privacy Commissioner"), "{text}");
    assert!(!text.contains("data protection officer"), "{text}");
}

#[test]
fn a_new_zealanders_letter_says_the_commissioner_was_told_and_that_they_may_complain() {
    let s = desk();
    let (text, html) = letter(&s, "NZ1");
    for body in [&text, &html] {
        assert!(
            body.contains("We have notified the Office of the Privacy Commissioner"),
            "{body}"
        );
        assert!(
            body.contains("right to complain to the Privacy Commissioner"),
            "{body}"
        );
        assert!(
            body.contains("identified no one we suspect")
                || body.contains("not yet identified anyone"),
            "{body}"
        );
    }
    assert!(!text.starts_with("Notice of Data Breach"), "{text}");
    // No particulars of any other affected person (s117(2)).
    for other in ["Carla", "Dieter", "Tomas", "Junko"] {
        assert!(
            !text.contains(other) && !html.contains(other),
            "{other} in {text}"
        );
    }
}

#[test]
fn a_gdpr_letter_names_the_dpo_and_the_likely_consequences() {
    let s = desk();
    let (text, html) = letter(&s, "DE1");
    for body in [&text, &html] {
        assert!(
            body.contains("Our data protection officer: Dana Ortiz, dpo@corp.example."),
            "{body}"
        );
        assert!(body.contains("What this could mean for you"), "{body}");
    }
    assert!(!text.contains("free of charge"), "{text}");
}

#[test]
fn a_hipaa_letter_gives_the_toll_free_number_and_the_other_channels() {
    let s = desk();
    let (text, html) = letter(&s, "TX1");
    assert!(
        text.contains("Call us free of charge on +1 800 555 0100, see https://corp.example/privacy, or write to 1 Example Way, Springfield."),
        "{text}"
    );
    // The HTML part escapes what it quotes from the config (the slashes of the address too).
    assert!(
        html.contains("Call us free of charge on +1 800 555 0100, see https:"),
        "{html}"
    );
    for body in [&text, &html] {
        assert!(body.contains("We discovered it on"), "{body}");
    }
}

#[test]
fn a_person_no_rule_covers_still_gets_the_plain_letter() {
    let s = desk();
    let (text, _) = letter(&s, "JP1");
    assert!(text.starts_with("Dear Junko,"), "{text}");
    assert!(text.contains("What You Can Do"), "{text}");
    assert!(
        !text.contains("Privacy Commissioner") && !text.contains("free of charge"),
        "{text}"
    );
}

#[test]
fn template_check_names_the_contact_details_the_rules_need() {
    let s = Sandbox::new();
    s.write(
        "config.toml",
        "[contact]\nname = \"Privacy Team\"\nemail = \"privacy@corp.example\"\n",
    );
    let run = s.cmd().args(["template", "check"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let out = String::from_utf8(run.stdout).unwrap();
    let err = String::from_utf8(run.stderr).unwrap();
    assert!(
        err.contains("contact detail(s) the letters must give are missing"),
        "{err}"
    );
    // The GDPR accepts another contact point: named, not a failure.
    assert!(
        out.contains(
            "NOTE   [contact] dpo is not set: rule gdpr-34 letters give the contact email"
        ),
        "{out}"
    );
    assert!(
        out.contains("LACKS  initial for hipaa (US): hipaa lacks toll-free-contact: [contact] toll_free is not set"),
        "{out}"
    );
    assert!(
        out.contains("MISSING [contact] toll_free: rule hipaa"),
        "{out}"
    );
    assert!(
        out.contains("ok     initial for nz-privacy-2020 (NZ)"),
        "{out}"
    );
    s.write("config.toml", CONTACT);
    let out = s.ok(&["template", "check"]);
    assert!(!out.contains("MISSING"), "{out}");
}

/// The built-in first notice as a user would copy it to override it, without its "What You
/// Can Do" section.
fn override_without_what_you_can_do(s: &Sandbox) {
    let text = include_str!("../../templates/initial.txt");
    let start = text.find("What You Can Do").unwrap();
    let end = text.find("For More Information").unwrap();
    std::fs::create_dir_all(s.path("templates")).unwrap();
    s.write(
        "templates/initial.txt",
        &format!("{}{}", &text[..start], &text[end..]),
    );
}

#[test]
fn an_override_that_drops_a_required_heading_fails_the_check_by_rule_and_element() {
    let s = Sandbox::new();
    s.write("config.toml", CONTACT);
    override_without_what_you_can_do(&s);
    let run = s.cmd().args(["template", "check"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let out = String::from_utf8(run.stdout).unwrap();
    assert!(
        out.contains("LACKS  initial for us-ca (US-CA): us-ca lacks breach-headings: the heading \"What You Can Do\" is missing or out of order in the text part"),
        "{out}"
    );
    assert!(
        out.contains("LACKS  initial for nz-privacy-2020 (NZ): nz-privacy-2020 lacks what-you-can-do: the text part does not declare it (Privacy Act 2020 (NZ), s117(1)(c)"),
        "{out}"
    );
    assert!(
        out.contains("LACKS  initial for hipaa (US): hipaa lacks what-you-can-do"),
        "{out}"
    );
    assert!(out.contains("ok     initial for gdpr-34 (AT)"), "{out}");
}

#[test]
fn queue_refuses_an_incomplete_first_notice_unless_given_a_reason_which_is_recorded() {
    let s = desk();
    override_without_what_you_can_do(&s);
    let err = s.fails(&["notify", "queue", "1", "--template", "initial"], 2);
    assert!(
        err.contains("lacks what the law requires, so nothing was queued"),
        "{err}"
    );
    assert!(
        err.contains("people under us-ca (US-CA): us-ca lacks breach-headings"),
        "{err}"
    );
    assert!(
        err.contains("people under nz-privacy-2020 (NZ): nz-privacy-2020 lacks what-you-can-do"),
        "{err}"
    );
    assert!(
        !err.contains("Carla") && !err.contains("Nikau"),
        "no names in errors: {err}"
    );
    let status = s.json(&["notify", "status", "1", "--json"]);
    assert_eq!(status["counts"]["queued"], 0, "{status}");

    // A reason is required with --allow-incomplete, and the other way round.
    s.fails(
        &[
            "notify",
            "queue",
            "1",
            "--template",
            "initial",
            "--allow-incomplete",
        ],
        2,
    );
    s.fails(
        &[
            "notify",
            "queue",
            "1",
            "--template",
            "initial",
            "--reason",
            "x",
        ],
        2,
    );

    let out = s.ok(&[
        "notify",
        "queue",
        "1",
        "--template",
        "initial",
        "--allow-incomplete",
        "--reason",
        "counsel approved the short form for the first wave",
    ]);
    assert!(out.contains("queued 5 'initial' letters"), "{out}");
    let log = s.json(&["audit", "log", "--incident", "1", "--json"]);
    let queued: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "notify.queued")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(
        queued[0].starts_with("queued 5 'initial' letters"),
        "{queued:?}"
    );
    assert!(
        queued[0].contains("queued although incomplete")
            && queued[0].contains("reason: counsel approved the short form for the first wave"),
        "{queued:?}"
    );
}

#[test]
fn the_complete_default_letter_queues_without_a_reason() {
    let s = desk();
    let out = s.ok(&["notify", "queue", "1", "--template", "initial"]);
    assert!(out.contains("queued 5 'initial' letters"), "{out}");
}

#[test]
fn each_person_gets_their_language_when_a_translation_exists_and_english_otherwise() {
    let s = incident();
    s.import(
        "1",
        "employee_id,name,email,categories,location,language\n\
         DE1,Dieter,dieter@corp.example,keystrokes,DE,de-DE\n\
         FR1,Fanny,fanny@corp.example,keystrokes,FR,fr\n\
         IT1,Ilaria,ilaria@corp.example,keystrokes,IT,it\n\
         XX1,Xavier,xavier@corp.example,keystrokes,DE,\n",
    );
    let headers = |person: &str| {
        let raw = preview(&s, person);
        raw.split("\r\n\r\n").next().unwrap_or(&raw).to_owned()
    };
    let (text, html) = letter(&s, "DE1");
    assert!(text.starts_with("Guten Tag Dieter,"), "{text}");
    assert!(text.contains("Was Sie tun können"), "{text}");
    assert!(
        text.contains("Unser Datenschutzbeauftragter: Dana Ortiz"),
        "{text}"
    );
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    assert!(
        headers("DE1").contains("Content-Language: de"),
        "{}",
        headers("DE1")
    );
    let (french, _) = letter(&s, "FR1");
    assert!(french.starts_with("Bonjour Fanny,"), "{french}");
    assert!(headers("FR1").contains("Content-Language: fr"));
    let (italian, _) = letter(&s, "IT1");
    assert!(
        italian.starts_with("Dear Ilaria,"),
        "no Italian: English: {italian}"
    );
    assert!(headers("IT1").contains("Content-Language: en"));
    assert!(letter(&s, "XX1").0.starts_with("Dear Xavier,"));
    // The translated letters give what the GDPR asks: they queue without a reason.
    let out = s.ok(&["notify", "queue", "1", "--template", "initial"]);
    assert!(out.contains("queued 4 'initial' letters"), "{out}");
}

#[test]
fn a_bad_language_tag_or_an_incomplete_translation_is_a_clear_error() {
    let s = incident();
    let bad = s.write(
        "bad.csv",
        "employee_id,name,email,categories,language\nE1,Ana,ana@corp.example,keystrokes,en_GB\n",
    );
    let err = s.fails(&["people", "import", "1", bad.to_str().unwrap()], 2);
    assert!(
        err.contains("line 2") && err.contains("language 'en_GB' is not a language tag"),
        "{err}"
    );
    std::fs::create_dir_all(s.path("templates")).unwrap();
    s.write("templates/initial.it.txt", "Buongiorno {{ person.name }}\n");
    let err = s.fails(&["template", "check"], 2);
    assert!(
        err.contains(
            "translation 'it' is incomplete: initial.it.subject.txt, initial.it.html missing"
        ),
        "{err}"
    );
}

/// Issue 28, item 7: the first notice ships in French (France and Canada), Spanish,
/// Portuguese (Brazil), Japanese and German; each is chosen by the roster's language tag,
/// gives what the rules covering its reader require (a Spanish speaker in California gets the
/// title and the five headings in Spanish, the agencies, the FTC), and `template check`
/// checks each for every jurisdiction.
#[test]
fn every_translation_is_chosen_by_language_and_gives_what_the_law_asks() {
    let s = incident();
    s.import(
        "1",
        "employee_id,name,email,categories,location,language\n\
         QC1,Camille,camille@corp.example,keystrokes,CA-QC,fr-CA\n\
         BR1,Bruno,bruno@corp.example,keystrokes,BR,pt-BR\n\
         JP1,Junko,junko@corp.example,keystrokes,JP,ja\n\
         CA1,Carmen,carmen@corp.example,keystrokes,US-CA,es-US\n\
         DE1,Dieter,dieter@corp.example,keystrokes,DE,de\n",
    );
    let starts = [
        ("QC1", "Bonjour Camille,", "fr"),
        ("BR1", "Prezado(a) Bruno,", "pt"),
        ("JP1", "Junko 様", "ja"),
        ("CA1", "Aviso de violación de datos", "es"),
        ("DE1", "Guten Tag Dieter,", "de"),
    ];
    for (person, start, lang) in starts {
        let (text, html) = letter(&s, person);
        assert!(text.starts_with(start), "{person}: {text}");
        assert!(html.contains(&format!("lang=\"{lang}")), "{person}: {html}");
        assert!(!text.contains("Dear "), "{person} got English: {text}");
    }
    let (spanish, _) = letter(&s, "CA1");
    for name in ["Equifax", "Experian", "TransUnion"] {
        assert!(spanish.contains(name), "{spanish}");
    }
    let check = s.ok(&["template", "check"]);
    for lang in ["de", "es", "fr", "ja", "pt"] {
        assert!(
            check.contains(&format!(
                "ok     initial.{lang} (for people whose language is {lang}"
            )),
            "{check}"
        );
    }
    assert!(!check.contains("LACKS"), "{check}");
    let out = s.ok(&["notify", "queue", "1", "--template", "initial"]);
    assert!(out.contains("queued 5 'initial' letters"), "{out}");
}

/// Massachusetts forbids describing the nature of the breach or the number of residents
/// affected (ch. 93H s3(b)), and asks for the police report and the security freeze: the
/// letter of a resident leaves out what happened, and a template that tells it anyway fails
/// the check by rule and element.
#[test]
fn a_massachusetts_letter_leaves_out_what_the_law_forbids() {
    let s = incident();
    s.import(
        "1",
        "employee_id,name,email,categories,location\n\
         MA1,Mary,mary@corp.example,keystrokes,US-MA\n\
         CA1,Carla,carla@corp.example,keystrokes,US-CA\n",
    );
    let (ma, ma_html) = letter(&s, "MA1");
    assert!(!ma.contains("What Happened"), "{ma}");
    assert!(!ma_html.contains("What Happened"), "{ma_html}");
    assert!(ma.contains("police report"), "{ma}");
    assert!(ma.contains("security freeze"), "{ma}");
    let (ca, _) = letter(&s, "CA1");
    assert!(ca.contains("What Happened"), "{ca}");
    // An override that always tells what happened breaks the Massachusetts rule.
    let text = include_str!("../../templates/initial.txt");
    let html = include_str!("../../templates/initial.html");
    std::fs::create_dir_all(s.path("templates")).unwrap();
    s.write(
        "templates/initial.txt",
        &text.replace(
            "{% if \"omit-breach-nature\" in law.elements -%}",
            "{% if false -%}",
        ),
    );
    s.write(
        "templates/initial.html",
        &html.replace(
            "{% if \"omit-breach-nature\" in law.elements %}",
            "{% if false %}",
        ),
    );
    let run = s.cmd().args(["template", "check"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let out = String::from_utf8(run.stdout).unwrap();
    assert!(
        out.contains("us-ma lacks omit-breach-nature: the letter describes the nature of the breach, which this law forbids"),
        "{out}"
    );
}
