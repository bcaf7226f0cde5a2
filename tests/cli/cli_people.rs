//! Rosters through the real binary: all-or-nothing import, dry runs, merging, listing, and
//! exports and messages that stay inert (formula cells, bidirectional controls, file names).

use crate::common;

use common::{Sandbox, roster};

#[test]
fn import_then_list_with_filters() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let out = s.import("INC-1", &roster(10));
    assert!(out.contains("10 added, 0 updated"), "{out}");
    let all = s.json(&["people", "list", "1", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 10);
    let first = &all[0];
    assert_eq!(first["employee_id"], "E000000");
    assert_eq!(first["name"], "Person 0");
    assert_eq!(first["email"], "person0@corp.example");
    assert_eq!(first["categories"], serde_json::json!(["keystrokes"]));
    assert_eq!(first["location"], "US-CA");
    assert_eq!(first["notified"], false);
    assert_eq!(all[4]["location"], serde_json::Value::Null);

    let chat = s.json(&[
        "people",
        "list",
        "1",
        "--category",
        "chat-messages",
        "--json",
    ]);
    let ids: Vec<&str> = common::field_strings(&chat, "employee_id");
    assert_eq!(ids, ["E000001", "E000005", "E000009"]);
    let pending = s.json(&["people", "list", "1", "--pending", "--json"]);
    assert_eq!(pending.as_array().unwrap().len(), 10);
    let v = s.json(&["incident", "show", "1", "--json"]);
    assert_eq!(v["people"], 10);
}

#[test]
fn import_rejects_whole_file_on_bad_rows_listing_each() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let csv = "employee_id,name,email,categories,location\n\
               E1,Ana,ana@corp.example,keystrokes,US-CA\n\
               E2,Bob,bob@,keystrokes,DE\n\
               E3,Cy,cy@corp.example,dna,DE\n\
               E1,Again,again@corp.example,keystrokes,DE\n\
               E5,,e5@corp.example,keystrokes,DE\n\
               E6,Dee,dee@corp.example,keystrokes,Germany\n\
               E7,Bell\u{7},bell@corp.example,keystrokes,DE\n";
    let file = s.write("bad.csv", csv);
    let err = s.fails(&["people", "import", "1", file.to_str().unwrap()], 2);
    assert!(err.contains("6 bad rows; nothing was imported"), "{err}");
    for want in [
        "line 3: 'bob@' is not an email address",
        "line 4: unknown category 'dna'",
        "line 5: duplicate employee_id 'E1' (first on line 2)",
        "line 6: name is missing",
        "line 7: 'Germany' is not a location",
        "line 8: name contains a control character",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    let people = s.json(&["people", "list", "1", "--json"]);
    assert_eq!(people, serde_json::json!([]), "nothing may be written");
    let v = s.json(&["incident", "show", "1", "--json"]);
    assert_eq!(v["people"], 0);
    assert_eq!(
        v["timeline"].as_array().unwrap().len(),
        1,
        "no import event either"
    );
}

#[test]
fn field_over_1000_characters_is_refused() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let csv = format!(
        "employee_id,name,email,categories\nE1,{},a@corp.example,keystrokes\n",
        "x".repeat(1001)
    );
    let file = s.write("long.csv", &csv);
    let err = s.fails(&["people", "import", "1", file.to_str().unwrap()], 2);
    assert!(
        err.contains("line 2: name is longer than 1000 characters"),
        "{err}"
    );
}

#[test]
fn dry_run_validates_without_writing() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let file = s.write("r.csv", &roster(5));
    let out = s.ok(&["people", "import", "1", file.to_str().unwrap(), "--dry-run"]);
    assert!(
        out.contains("would import 5 rows: 5 added") && out.contains("nothing written"),
        "{out}"
    );
    assert_eq!(
        s.json(&["people", "list", "1", "--json"]),
        serde_json::json!([])
    );
    let bad = s.write(
        "bad.csv",
        "employee_id,name,email,categories\nE1,A,nope,keystrokes\n",
    );
    let err = s.fails(
        &["people", "import", "1", bad.to_str().unwrap(), "--dry-run"],
        2,
    );
    assert!(
        err.contains("line 2: 'nope' is not an email address"),
        "{err}"
    );
}

#[test]
fn reimport_updates_with_union_of_categories_never_duplicates() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    s.import(
        "1",
        "employee_id,name,email,categories\nE1,Ana,ana@corp.example,keystrokes\n",
    );
    let out = s.import(
        "1",
        "employee_id,name,email,categories,location\nE1,Ana Díaz,ana@corp.example,screenshots,NZ\nE2,Bo,bo@corp.example,transcripts,\n",
    );
    assert!(out.contains("1 added, 1 updated, 0 unchanged"), "{out}");
    let people = s.json(&["people", "list", "1", "--json"]);
    assert_eq!(people.as_array().unwrap().len(), 2);
    assert_eq!(people[0]["name"], "Ana Díaz");
    assert_eq!(
        people[0]["categories"],
        serde_json::json!(["keystrokes", "screenshots"])
    );
    assert_eq!(people[0]["location"], "NZ");
    assert_eq!(s.json(&["incident", "show", "1", "--json"])["people"], 2);
}

#[test]
fn file_problems_are_clear() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let err = s.fails(&["people", "import", "1", "/nonexistent/roster.csv"], 2);
    assert!(err.contains("cannot read /nonexistent/roster.csv"), "{err}");
    let file = s.write("hdr.csv", "id,name,mail\n");
    let err = s.fails(&["people", "import", "1", file.to_str().unwrap()], 2);
    assert!(err.contains("unknown column 'id'"), "{err}");
    let file = s.write("r.csv", &roster(1));
    let err = s.fails(&["people", "import", "7", file.to_str().unwrap()], 2);
    assert!(err.contains("no incident INC-7"), "{err}");
    let err = s.fails(&["people", "list", "1", "--category", "dna"], 2);
    assert!(err.contains("unknown category 'dna'"), "{err}");
}

#[test]
fn names_with_escape_sequences_never_reach_the_terminal() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    // Quoted CSV cells may hold anything; control characters are refused at import, and
    // the title check refuses them too, so nothing stored can carry an escape.
    let csv = "employee_id,name,email,categories\nE1,\"\u{1b}]0;owned\u{7}Eve\",eve@corp.example,keystrokes\n";
    let file = s.write("esc.csv", csv);
    let err = s.fails(&["people", "import", "1", file.to_str().unwrap()], 2);
    assert!(
        err.contains("line 2: name contains a control character"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "the error echoes no escape");
}

#[test]
fn export_writes_cells_a_spreadsheet_would_run_as_text() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let csv = "employee_id,name,email,categories,location\n\
               -7,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",+ana@corp.example,keystrokes,DE\n\
               E2,@SUM(A1),bo@corp.example,keystrokes,\n\
               E3,O'Brien,cy@corp.example,keystrokes,NZ\n";
    s.import("1", csv);
    let out = s.path("export.csv");
    s.ok(&["people", "export", "1", "--out", out.to_str().unwrap()]);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        rows,
        [
            [
                "'-7",
                "'=HYPERLINK(\"http://x\",\"y\")",
                "'+ana@corp.example",
                "keystrokes",
                "DE",
                ""
            ],
            ["E2", "'@SUM(A1)", "bo@corp.example", "keystrokes", "", ""],
            ["E3", "O'Brien", "cy@corp.example", "keystrokes", "NZ", ""],
        ]
    );

    // The export is in the import format: it reads back as it was.
    let again = s.ok(&["people", "import", "1", out.to_str().unwrap()]);
    assert!(again.contains("0 added, 0 updated, 3 unchanged"), "{again}");
    let people = s.json(&["people", "list", "1", "--json"]);
    assert_eq!(people[0]["employee_id"], "-7");
    assert_eq!(people[0]["name"], "=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(people[0]["email"], "+ana@corp.example");
}

#[test]
fn import_refuses_bidirectional_controls_in_names_and_addresses() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let csv = "employee_id,name,email,categories\n\
               E1,Ana,ana@corp.example,keystrokes\n\
               E2,Eve\u{202e}gnp.exe,eve@corp.example,keystrokes\n\
               E3,Cy,cy\u{2066}@corp.example,keystrokes\n";
    let file = s.write("bidi.csv", csv);
    let err = s.fails(&["people", "import", "1", file.to_str().unwrap()], 2);
    assert!(err.contains("2 bad rows; nothing was imported"), "{err}");
    for want in [
        "line 3: the name holds a bidirectional control character (U+202E)",
        "line 4: the email holds a bidirectional control character (U+2066)",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    assert!(
        !err.contains('\u{202e}') && !err.contains('\u{2066}'),
        "{err}"
    );
    let people = s.json(&["people", "list", "1", "--json"]);
    assert_eq!(people, serde_json::json!([]), "nothing may be written");
}

#[test]
fn file_names_in_errors_cannot_drive_the_terminal() {
    let s = Sandbox::new();
    s.open_incident("Leak", 2);
    let name = "r\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}.csv";
    let bad = s.write(
        name,
        "employee_id,name,email,categories\nE1,A,nope,keystrokes\n",
    );
    let missing = s.path(&format!("gone-{name}"));
    s.import("1", &roster(1));
    let taken = s.write(&format!("taken-{name}"), "");
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["people", "import", "1", bad.to_str().unwrap()],
            "r?]0;owned??[2J?.csv: 1 bad row",
        ),
        (
            vec!["people", "import", "1", missing.to_str().unwrap()],
            "cannot read ",
        ),
        (
            vec!["people", "export", "1", "--out", taken.to_str().unwrap()],
            "cannot create ",
        ),
        (
            vec!["report", "1", "--out", taken.to_str().unwrap()],
            "cannot create ",
        ),
    ];
    for (args, want) in cases {
        let err = s.fails(&args, 2);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(err.contains("r?]0;owned??[2J?.csv"), "{args:?}: {err}");
        for byte in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!err.contains(byte), "{args:?} echoes {byte:?}: {err:?}");
        }
    }
}
