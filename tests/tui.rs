//! The terminal UI, drawn into ratatui's TestBackend on a real database: snapshots of every
//! screen and dialog at 80x24 and 120x40, and key sequences fed through the real input
//! handling.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::sync::Arc;
use std::time::Duration;

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk, PauseOutcome, Session};
use breachdesk::domain::{IncidentId, NewIncident, NewProgram, Severity, Status, UserName};
use breachdesk::store::Store;
use breachdesk::tui::app::{App, Dialog, Tab};
use breachdesk::tui::theme::Theme;
use breachdesk::tui::view;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];
/// Dialogs are checked on a large screen too: a form must not stretch or float apart.
const DIALOG_SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T14:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn actor() -> UserName {
    UserName::parse("responder").unwrap()
}

/// A database with a fixed clock and a small, realistic history.
struct Fixture {
    _dir: TempDir,
    local: Arc<LocalDesk>,
    /// A session of `actor()`.
    desk: Arc<Session>,
}

impl Fixture {
    fn empty() -> Self {
        Fixture::empty_with(Settings::defaults())
    }

    fn empty_with(settings: Settings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let desk = LocalDesk::for_local_user(
            Store::open(dir.path(), &Key::generate().unwrap()).unwrap(),
            settings,
            actor(),
        )
        .with_clock(Box::new(t0));
        let local = Arc::new(desk);
        Fixture {
            _dir: dir,
            desk: Arc::new(local.session(actor())),
            local,
        }
    }

    fn with_history() -> Self {
        Fixture::empty().history()
    }

    /// The history, with `[access]` roles: `responder` is admin, `ron` a responder who is
    /// not a member of anything, `viewer` a viewer, and
    /// the operating-system user admin too (for the daemon test).
    fn with_roles() -> Self {
        let me = breachdesk::identity::current_user();
        let text = format!(
            "[access]\nadmins = [\"responder\", \"{me}\"]\nresponders = [\"ron\"]\nviewers = [\"viewer\"]\n"
        );
        let settings = Settings::parse(&text, std::path::Path::new("config.toml")).unwrap();
        Fixture::empty_with(settings).history()
    }

    fn history(self) -> Self {
        let f = self;
        let d = f.desk.as_ref();
        let catalog = d.catalog();
        let program = |slug: &str, name: &str, hook: Option<&str>| {
            let new = NewProgram::new(slug.parse().unwrap(), name, hook, None).unwrap();
            d.add_program(new).unwrap();
        };
        program("staff-monitoring", "Staff activity monitoring", None);
        program("chat-archive", "Workplace chat archive", None);
        let open = |title: &str, sev: u8, programs: &[&str]| {
            let mut new = NewIncident::new(
                title,
                Severity::new(sev).unwrap(),
                "Found during a routine access review.",
            )
            .unwrap();
            new.categories.insert(catalog.parse("keystrokes").unwrap());
            new.programs = programs.iter().map(|p| p.parse().unwrap()).collect();
            d.open_incident(new).unwrap().id
        };
        let old = open("Badge export sent to the wrong team", 4, &[]);
        d.set_status(old, Status::Closed, Some("no exposure".to_owned()), false)
            .unwrap();
        open(
            "Chat archive searchable by contractors",
            3,
            &["chat-archive"],
        );
        let main = open(
            "Monitoring data readable company-wide",
            2,
            &["staff-monitoring"],
        );
        d.set_status(
            main,
            Status::Investigating,
            Some("who read it?".to_owned()),
            false,
        )
        .unwrap();
        d.add_note(main, "Bucket ACL fixed at 15:10 UTC.".to_owned())
            .unwrap();
        let mut csv = String::from("employee_id,name,email,categories,location\n");
        for i in 0..300 {
            let cats = if i % 3 == 0 {
                "keystrokes;chat-messages"
            } else {
                "mouse-movements"
            };
            csv.push_str(&format!(
                "E{i:04},Person {i},person{i}@corp.example,{cats},{}\n",
                ["DE", "US-CA", "NZ"][i % 3]
            ));
        }
        d.import_roster(
            main,
            csv.as_bytes().to_vec(),
            "roster.csv".to_owned(),
            false,
        )
        .unwrap();
        f
    }

    /// Adds a "keylogger" programme with `pause_hook`, linked to INC-3.
    fn with_keylogger(self, pause_hook: &str) -> Self {
        let slug = "keylogger".parse().unwrap();
        let new = NewProgram::new(slug, "Keystroke logger", Some(pause_hook), None).unwrap();
        self.desk.add_program(new).unwrap();
        self.desk
            .link_program("keylogger".parse().unwrap(), IncidentId::new(3))
            .unwrap();
        self
    }

    fn app(&self) -> App {
        self.app_as(actor())
    }

    fn app_as(&self, user: UserName) -> App {
        let desk: Arc<dyn Desk> = Arc::new(self.local.session(user.clone()));
        app_on(desk, user)
    }
}

fn app_on(desk: Arc<dyn Desk>, user: UserName) -> App {
    let mut app = App::new(
        desk,
        user,
        Theme::plain(),
        Box::new(|| t0() + chrono::Duration::hours(3)),
    )
    .unwrap();
    assert!(
        app.wait_idle(Duration::from_secs(10)),
        "the board was not read"
    );
    app
}

impl Fixture {}

fn draw(app: &App, (w, h): (u16, u16)) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::render(app, f)).unwrap();
    term
}

fn screen(app: &App, size: (u16, u16)) -> String {
    draw(app, size).backend().to_string()
}

fn snapshot(name: &str, app: &App) {
    let sizes: &[(u16, u16)] = if app.dialog.is_some() {
        &DIALOG_SIZES
    } else {
        &SIZES
    };
    for &size in sizes {
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), screen(app, size));
    }
}

/// Presses a key and waits for the desk calls it started (they run off the UI thread).
fn key(app: &mut App, code: KeyCode) {
    key_nowait(app, code);
    assert!(
        app.wait_idle(Duration::from_secs(20)),
        "the worker did not finish"
    );
}

/// Presses a key and returns at once, while what it started may still run.
fn key_nowait(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn to_tab(app: &mut App, tab: Tab) {
    for _ in 0..Tab::ALL.len() {
        if app.detail.as_ref().unwrap().tab == tab {
            return;
        }
        key(app, KeyCode::Tab);
    }
    panic!("never reached {tab:?}");
}

fn open_main(app: &mut App) {
    key(app, KeyCode::Enter);
    assert_eq!(app.detail.as_ref().unwrap().incident.id, IncidentId::new(3));
}

// ----- snapshots ------------------------------------------------------------------------

#[test]
fn snapshot_board() {
    let f = Fixture::with_history();
    snapshot("board", &f.app());
}

#[test]
fn the_board_shows_the_band_of_an_assessed_incident() {
    let f = Fixture::with_history();
    let before = screen(&f.app(), (120, 40));
    assert!(!before.contains(" risk"), "{before}");
    f.desk
        .assess_harm(
            IncidentId::new(3),
            breachdesk::domain::HarmInputs::from_quarters(3, None, 4, [2, 0, 0, 0]).unwrap(),
            "chat transcripts raise the context".into(),
        )
        .unwrap();
    let after = screen(&f.app(), (120, 40));
    let row = after
        .lines()
        .find(|l| l.contains("INC-3"))
        .unwrap_or_else(|| panic!("{after}"));
    assert!(row.contains("[high risk] Monitoring data"), "{row}");
    let narrow = screen(&f.app(), (80, 24));
    assert!(narrow.contains("[high risk]"), "{narrow}");
}

#[test]
fn snapshot_empty_board() {
    let f = Fixture::empty();
    snapshot("board_empty", &f.app());
}

#[test]
fn snapshot_board_filtered() {
    let f = Fixture::with_history();
    let mut app = f.app();
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "chat");
    snapshot("board_filtered", &app);
}

#[test]
fn snapshot_detail_tabs() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    for (tab, name) in [
        (Tab::Overview, "overview"),
        (Tab::Timeline, "timeline"),
        (Tab::People, "people"),
        (Tab::Programs, "programmes"),
        (Tab::Deadlines, "deadlines"),
        (Tab::Notifications, "notifications"),
    ] {
        assert_eq!(app.detail.as_ref().unwrap().tab, tab);
        snapshot(&format!("detail_{name}"), &app);
        key(&mut app, KeyCode::Tab);
    }
}

#[test]
fn snapshot_forms() {
    let f = Fixture::with_history();
    let mut app = f.app();
    key(&mut app, KeyCode::Char('n'));
    snapshot("form_new_incident", &app);
    key(&mut app, KeyCode::Enter);
    snapshot("form_new_incident_errors", &app);
    key(&mut app, KeyCode::Esc);
    open_main(&mut app);
    for (k, name) in [
        ('s', "severity"),
        ('t', "status"),
        ('n', "note"),
        ('o', "assign"),
        ('i', "import"),
        ('L', "link"),
        ('A', "assess"),
        ('H', "serious_harm"),
    ] {
        key(&mut app, KeyCode::Char(k));
        assert!(app.dialog.is_some(), "{name} opened no dialog");
        snapshot(&format!("form_{name}"), &app);
        key(&mut app, KeyCode::Esc);
        assert!(app.dialog.is_none());
    }
    to_tab(&mut app, Tab::Programs);
    key(&mut app, KeyCode::Char('p'));
    snapshot("form_pause", &app);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('r'));
    snapshot("form_resume", &app);
}

#[test]
fn snapshot_help() {
    let f = Fixture::with_history();
    let mut app = f.app();
    key(&mut app, KeyCode::Char('?'));
    snapshot("help", &app);
    key(&mut app, KeyCode::Char('x'));
    assert!(!app.help, "any key closes help");
}

// ----- key sequences ----------------------------------------------------------------------

#[test]
fn open_an_incident_from_the_form() {
    let f = Fixture::with_history();
    let mut app = f.app();
    key(&mut app, KeyCode::Char('n'));
    keys(&mut app, "Transcripts shared in a public channel");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Left); // SEV2 -> SEV1
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "A bot posted call transcripts.");
    // Categories and programmes are ticked from lists: transcripts, the fourth category;
    // staff-monitoring, the second programme.
    key(&mut app, KeyCode::Tab);
    for _ in 0..3 {
        key(&mut app, KeyCode::Right);
    }
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "later");
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        field_error(&app, breachdesk::tui::form::FieldName::Discovered).as_deref(),
        Some(
            "'later' is not a time: use now, -2h (or -30m, -3d), yesterday 14:30, today 09:00, 2026-11-20 14:30, or RFC 3339 such as 2026-11-20T14:30:00Z"
        )
    );
    for _ in 0.."later".len() {
        key(&mut app, KeyCode::Backspace);
    }
    // Counted from the screen's clock (t0 + 3h; the desk's is t0).
    keys(&mut app, "-4h");
    key(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none(), "{:?}", app.dialog);
    let created = f.desk.incident(IncidentId::new(4)).unwrap();
    assert_eq!(created.title, "Transcripts shared in a public channel");
    assert_eq!(created.severity, Severity::new(1).unwrap());
    assert_eq!(
        created
            .programs
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
        ["staff-monitoring"]
    );
    let ago = t0() + chrono::Duration::hours(3) - created.discovered_at;
    assert_eq!(ago.num_minutes(), 240, "discovered four hours before");
    assert_eq!(
        created
            .categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        ["transcripts"]
    );
    assert_eq!(
        app.board.current().unwrap().incident.id,
        IncidentId::new(4),
        "the new incident is selected"
    );
    assert!(screen(&app, (120, 40)).contains("opened INC-4 (SEV1)"));
}

#[test]
fn pause_a_programme_runs_its_hook_in_the_background() {
    let f = Fixture::with_history().with_keylogger("sleep 0.3; echo agent stopped");
    let mut app = f.app();
    open_main(&mut app);
    to_tab(&mut app, Tab::Programs);
    key(&mut app, KeyCode::Char('p'));
    assert!(
        screen(&app, (120, 40)).contains("Will run the pause hook: sleep 0.3; echo agent stopped")
    );
    key(&mut app, KeyCode::Enter);
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!("a reason is required")
    };
    assert_eq!(
        form.fields[0].error.as_deref(),
        Some("a reason is required")
    );
    keys(&mut app, "exposure");
    key_nowait(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none());
    assert!(app.is_busy(), "the hook runs off the render thread");
    let busy = screen(&app, (120, 40));
    assert!(
        busy.contains("pausing keylogger: running its pause hook"),
        "{busy}"
    );
    key_nowait(&mut app, KeyCode::Char('j')); // input still handled while the hook runs
    assert!(app.wait_idle(Duration::from_secs(10)));
    let state = f
        .desk
        .programs()
        .unwrap()
        .into_iter()
        .find(|p| p.slug.as_str() == "keylogger")
        .unwrap()
        .state;
    assert_eq!(state.as_str(), "paused");
    let after = screen(&app, (120, 40));
    assert!(
        after.contains("keylogger paused; pause hook exited with status 0"),
        "{after}"
    );
    let timeline = f.desk.timeline(IncidentId::new(3)).unwrap();
    assert!(timeline.iter().any(|e| {
        e.revealed
            .as_deref()
            .is_some_and(|r| r.contains("agent stopped"))
    }));
}

#[test]
fn filter_people_by_search_category_and_pending() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.detail.as_ref().unwrap().people.len(), 300);
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "person1");
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(10)));
    // person1, person10-19, person100-199
    assert_eq!(app.detail.as_ref().unwrap().people.len(), 111);
    key(&mut app, KeyCode::Char('c')); // keystrokes
    assert!(app.wait_idle(Duration::from_secs(10)));
    let tab = &app.detail.as_ref().unwrap().people;
    assert_eq!(tab.filter.category.as_ref().unwrap().as_str(), "keystrokes");
    assert!((0..tab.len()).all(|i| {
        tab.row(i)
            .unwrap()
            .categories
            .iter()
            .any(|c| c.as_str() == "keystrokes")
    }));
    assert_eq!(tab.len(), 36, "12, 15, 18 and 102..=198 step 3");
    snapshot("people_filtered", &app);
    key(&mut app, KeyCode::Char('x'));
    let tab = &app.detail.as_ref().unwrap().people;
    assert!(tab.matches.is_none() && tab.len() == 300);
    key(&mut app, KeyCode::Char('p'));
    assert!(app.wait_idle(Duration::from_secs(10)));
    assert_eq!(
        app.detail.as_ref().unwrap().people.len(),
        300,
        "nobody is notified yet"
    );
}

#[test]
fn people_scroll_reads_windows_to_the_end() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char('G'));
    let tab = &app.detail.as_ref().unwrap().people;
    assert_eq!(tab.selected, 299);
    assert_eq!(tab.row(299).unwrap().employee_id.as_str(), "E0299");
    assert!(screen(&app, (80, 24)).contains("E0299"));
    for _ in 0..3 {
        key(&mut app, KeyCode::PageUp);
    }
    let tab = &app.detail.as_ref().unwrap().people;
    assert_eq!(tab.row(tab.selected).unwrap().employee_id.as_str(), "E0239");
}

#[test]
fn import_errors_are_listed_and_nothing_is_written() {
    let f = Fixture::with_history();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "employee_id,name,email,categories\nN1,Ok,ok@corp.example,keystrokes\nN2,Bad,bad@,keystrokes\nN3,Also,also@corp.example,dna\n").unwrap();
    let mut app = f.app();
    open_main(&mut app);
    key(&mut app, KeyCode::Char('i'));
    keys(&mut app, path.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(10)));
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("expected the error panel, got {:?}", app.dialog)
    };
    assert!(panel.title.contains("2 bad rows; nothing was imported"));
    assert_eq!(
        panel.lines,
        [
            "line 3: 'bad@' is not an email address",
            "line 4: unknown category 'dna'; known categories: keystrokes, mouse-movements, chat-messages, transcripts, performance-data, application-usage, screenshots, contact-details, health-data"
        ]
    );
    for size in DIALOG_SIZES {
        let name = format!("import_errors_{}x{}", size.0, size.1);
        let text = screen(&app, size).replace(path.to_str().unwrap(), "bad.csv");
        insta::assert_snapshot!(name, text);
    }
    assert_eq!(f.desk.incident(IncidentId::new(3)).unwrap().people, 300);
    key(&mut app, KeyCode::Esc);
    assert!(app.dialog.is_none());
}

#[test]
fn status_form_offers_only_legal_moves_and_records() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    key(&mut app, KeyCode::Char('t'));
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!()
    };
    let breachdesk::tui::form::FieldKind::Choice { options, .. } = &form.fields[0].kind else {
        panic!()
    };
    let offered: Vec<&str> = options.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(offered, ["contained", "resolved", "closed"]);
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "ACL fixed");
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        app.detail.as_ref().unwrap().incident.status,
        Status::Contained
    );
    assert_eq!(
        app.detail.as_ref().unwrap().timeline.events[0].draft.detail,
        "ACL fixed"
    );
}

/// The error shown on a field of the open form, if any.
fn field_error(app: &App, name: breachdesk::tui::form::FieldName) -> Option<String> {
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!("no form is open")
    };
    form.fields
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| f.error.clone())
}

#[test]
fn tab_completes_the_roster_path_and_then_moves_on() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("roster-final.csv"), "").unwrap();
    key(&mut app, KeyCode::Char('i'));
    keys(&mut app, &format!("{}/roster-f", dir.path().display()));
    key(&mut app, KeyCode::Tab);
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!("the import form is open")
    };
    assert_eq!(
        form.value(breachdesk::tui::form::FieldName::File),
        format!("{}/roster-final.csv", dir.path().display())
    );
    assert_eq!(form.focus, 0, "a completing Tab stays on the field");
    key(&mut app, KeyCode::Tab);
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!()
    };
    assert_eq!(form.focus, 1, "with nothing to complete, Tab moves on");
}

#[test]
fn the_harm_assessment_form_records_an_enisa_score() {
    use breachdesk::tui::form::FieldName;
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    key(&mut app, KeyCode::Char('A'));
    // Pre-filled for the staff-monitoring exposure: behavioural data, fully identifiable,
    // confidentiality lost; the reason is what is left to say.
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        field_error(&app, FieldName::Reason).as_deref(),
        Some("a reason is required")
    );
    // DPC up to 3 (chat transcripts raise the context), then the reason.
    key(&mut app, KeyCode::Right);
    for _ in 0..7 {
        key(&mut app, KeyCode::Tab);
    }
    keys(&mut app, "transcripts raise the context");
    key(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none(), "the form closed once recorded");
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    let a = inc.assessment.unwrap();
    assert_eq!(a.inputs.score(), 3.5);
    assert_eq!(a.reason, "transcripts raise the context");
    let board = {
        key(&mut app, KeyCode::Esc);
        screen(&app, (120, 40))
    };
    assert!(board.contains("[high risk]"), "{board}");
}

#[test]
fn the_serious_harm_form_names_the_factor_left_out() {
    use breachdesk::tui::form::FieldName;
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    key(&mut app, KeyCode::Char('H'));
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "ACL fixed within the hour");
    key(&mut app, KeyCode::Enter);
    let err = field_error(&app, FieldName::Sensitivity).unwrap();
    assert_eq!(
        err,
        "say how you considered whether the information is sensitive (s113(b))"
    );
    for text in [
        "chat transcripts",
        "embarrassment, unfair judgement",
        "any employee could read it",
        "none: readable by all",
    ] {
        key(&mut app, KeyCode::Tab);
        keys(&mut app, text);
    }
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "staff can be identified");
    key(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none(), "the form closed once recorded");
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    let h = inc.serious_harm.unwrap();
    assert!(h.test.is_notifiable());
    assert_eq!(h.reason, "staff can be identified");
}

#[test]
fn untrusted_text_is_drawn_without_escape_sequences() {
    let f = Fixture::empty();
    // A title can't hold control characters, but hook output can: it lands in the timeline.
    let new = NewProgram::new(
        "evil".parse().unwrap(),
        "Evil",
        Some("printf 'done\\033]0;pwned\\007\\033[2J'"),
        None,
    )
    .unwrap();
    f.desk.add_program(new).unwrap();
    let inc = f
        .desk
        .open_incident(NewIncident::new("Hook output", Severity::new(3).unwrap(), "").unwrap())
        .unwrap();
    f.desk
        .pause_program("evil".parse().unwrap(), inc.id, "test".to_owned())
        .unwrap();
    let mut app = f.app();
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Tab);
    let text = screen(&app, (120, 40));
    assert!(text.contains("output:"), "{text}");
    // The command is shown as typed; the output's title sequence is stripped whole.
    let outside_command = text.replace("\\033]0;pwned", "");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !outside_command.contains("pwned"),
        "{text}"
    );
}

#[test]
fn ctrl_c_quits_from_a_dialog_and_q_from_the_board() {
    let f = Fixture::with_history();
    let mut app = f.app();
    key(&mut app, KeyCode::Char('n'));
    keys(&mut app, "q");
    assert!(!app.quit, "q is typed into the form");
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit);
    let mut app = f.app();
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn footer_and_help_come_from_the_key_table() {
    let f = Fixture::with_history();
    let mut app = f.app();
    let board = screen(&app, (120, 40));
    for (shown, label) in breachdesk::tui::keymap::footer(&app.contexts()) {
        assert!(
            board.contains(&format!("{shown} {label}")),
            "footer lacks {shown} {label}"
        );
    }
    key(&mut app, KeyCode::Char('?'));
    let help = screen(&app, (120, 40));
    for b in breachdesk::tui::keymap::BINDINGS {
        assert!(help.contains(b.label), "help lacks {}", b.label);
    }
}

#[test]
fn resize_redraws_at_any_size() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    for (w, h) in [(120, 40), (80, 24), (40, 10), (20, 5), (200, 60)] {
        term.backend_mut().resize(w, h);
        term.draw(|f| view::render(&app, f)).unwrap();
        key(&mut app, KeyCode::Tab);
    }
}

/// Replaces "after 0.0 s" (how long a hook took) so snapshots do not depend on speed.
fn without_timings(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("after ") {
        let (head, tail) = rest.split_at(at + "after ".len());
        out.push_str(head);
        match tail.find(" s.") {
            Some(end) if tail[..end].chars().all(|c| c.is_ascii_digit() || c == '.') => {
                out.push('N');
                rest = &tail[end..];
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn snapshot_failed_pause_and_refused_resume_panels() {
    let f =
        Fixture::with_history().with_keylogger("echo 'agent unreachable on 14 hosts' >&2; exit 3");
    let mut app = f.app();
    open_main(&mut app);
    to_tab(&mut app, Tab::Programs);
    key(&mut app, KeyCode::Char('p'));
    keys(&mut app, "exposure");
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(10)));
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("expected the failure panel, got {:?}", app.dialog)
    };
    assert!(panel.title.contains("PAUSE FAILED: keylogger"));
    for size in DIALOG_SIZES {
        insta::assert_snapshot!(
            format!("pause_failed_{}x{}", size.0, size.1),
            without_timings(&screen(&app, size))
        );
    }
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('r'));
    keys(&mut app, "back to normal");
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(10)));
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("expected the refusal panel")
    };
    assert!(
        panel.lines[0].contains("INC-3 (SEV2, investigating)"),
        "{panel:?}"
    );
    snapshot("resume_refused", &app);
}

#[path = "common/smtp.rs"]
mod smtp;

#[test]
fn the_header_warns_while_letters_could_not_go_out() {
    let status = |app: &App| {
        let text = screen(app, (120, 40));
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        (lines[0].clone(), lines[lines.len() - 2].clone())
    };
    // Defaults: no sender, no contact.
    let (header, line) = status(&Fixture::empty().app());
    assert!(header.contains("! mail"), "{header}");
    assert!(
        line.contains("no sender address, no contact: letters cannot go out"),
        "{line}"
    );
    // Configured, but the mail server does not answer.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"privacy@corp.example\"\ntimeout_secs = 2\n[contact]\nemail = \"privacy@corp.example\"\n"
    );
    let settings = Settings::parse(&text, std::path::Path::new("test.toml")).unwrap();
    let (header, line) = status(&Fixture::empty_with(settings).app());
    assert!(header.contains("! mail"), "{header}");
    assert!(line.contains("mail server fails"), "{line}");
    // Configured and answering: no warning.
    let server = smtp::SmtpServer::start(smtp::Faults::default());
    let settings = Settings::parse(&server.config(""), std::path::Path::new("test.toml")).unwrap();
    let (header, line) = status(&Fixture::empty_with(settings).app());
    assert!(!header.contains("! mail"), "{header}");
    assert!(line.trim_matches('"').trim().is_empty(), "{line}");
}

#[test]
fn queue_and_send_letters_from_the_notifications_tab() {
    let server = smtp::SmtpServer::start(smtp::Faults::default());
    let settings = Settings::parse(&server.config(""), std::path::Path::new("test.toml")).unwrap();
    // A desk whose config points at the test server, so it can send.
    let f = Fixture::empty_with(settings);
    let desk = f.desk.as_ref();
    let inc = desk
        .open_incident(
            NewIncident::new(
                "Monitoring data readable company-wide",
                Severity::new(2).unwrap(),
                "",
            )
            .unwrap(),
        )
        .unwrap();
    let mut csv = String::from("employee_id,name,email,categories\n");
    for i in 0..50 {
        csv.push_str(&format!("E{i},Person {i},p{i}@corp.example,keystrokes\n"));
    }
    desk.import_roster(inc.id, csv.as_bytes().to_vec(), "r.csv".to_owned(), false)
        .unwrap();
    let mut app = f.app();
    key(&mut app, KeyCode::Enter);
    to_tab(&mut app, Tab::Notifications);
    assert!(screen(&app, (80, 24)).contains("No letters yet"));
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Enter);
    let Some(Dialog::Panel(preview)) = &app.dialog else {
        panic!("preview panel expected: {:?}", app.dialog)
    };
    assert!(
        preview
            .lines
            .iter()
            .any(|l| l.starts_with("To: \"Person 0\"")),
        "{preview:?}"
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('m'));
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(20)));
    assert_eq!(
        app.detail
            .as_ref()
            .unwrap()
            .letters
            .outbox
            .as_ref()
            .unwrap()
            .counts["queued"],
        50
    );
    key(&mut app, KeyCode::Char('S'));
    assert!(screen(&app, (80, 24)).contains("Send 50 emails for INC-1 now?"));
    snapshot("form_send", &app);
    key_nowait(&mut app, KeyCode::Enter);
    assert!(
        app.is_busy() && app.sending.is_some(),
        "sending runs in the background"
    );
    assert!(app.wait_idle(Duration::from_secs(20)));
    assert_eq!(server.messages().len(), 50);
    let text = screen(&app, (120, 40));
    assert!(text.contains("50 of 50 letters sent"), "{text}");
    assert!(text.contains("50 of 50 people (100%)"), "{text}");
}

// ----- need-to-know ---------------------------------------------------------------------

#[test]
fn access_tab_shows_who_read_the_roster() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    to_tab(&mut app, Tab::People);
    to_tab(&mut app, Tab::Access);
    let paths = |app: &App| -> Vec<String> {
        let log = app.detail.as_ref().unwrap().access.log.as_ref().unwrap();
        log.iter()
            .map(|e| e.draft.access.as_ref().unwrap().path.clone())
            .collect()
    };
    // Newest first; the Tab key passed through Notifications on the way.
    assert_eq!(paths(&app), ["tui.notifications", "tui.people"]);
    // Scrolling the roster is one entry, not one per screenful.
    to_tab(&mut app, Tab::People);
    for _ in 0..20 {
        key(&mut app, KeyCode::PageDown);
    }
    to_tab(&mut app, Tab::Access);
    let people_reads = paths(&app).iter().filter(|p| *p == "tui.people").count();
    assert_eq!(people_reads, 1);
    snapshot("access_tab", &app);
}

#[test]
fn a_viewer_sees_the_board_and_counts_but_never_the_roster_or_letters() {
    let f = Fixture::with_roles();
    let viewer = UserName::parse("viewer").unwrap();
    let mut app = f.app_as(viewer.clone());
    assert_eq!(app.board.rows.len(), 3, "the board is open to viewers");
    open_main(&mut app);
    to_tab(&mut app, Tab::People);
    let d = app.detail.as_ref().unwrap();
    assert!(d.people.window.is_empty(), "no names reached the screen");
    assert!(
        d.refusal(Tab::People)
            .unwrap()
            .contains("viewers see the board")
    );
    snapshot("people_refused", &app);
    to_tab(&mut app, Tab::Notifications);
    let d = app.detail.as_ref().unwrap();
    assert!(d.letters.outbox.is_none());
    assert!(d.refusal(Tab::Notifications).is_some());
    let screen = screen(&app, (120, 40));
    assert!(!screen.contains("corp.example"), "{screen}");
    // Both refusals are in the access log.
    let log = f
        .desk
        .access_log(Some(IncidentId::new(3)), Some(viewer))
        .unwrap();
    let paths: Vec<&str> = log
        .iter()
        .map(|e| e.draft.access.as_ref().unwrap().path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["incident.timeline", "tui.people", "tui.notifications"]
    );
}

/// A daemon serving a fixture's desk on a socket in this process.
struct InProcessDaemon {
    _dir: TempDir,
    socket: std::path::PathBuf,
    stop: Arc<std::sync::atomic::AtomicBool>,
    server: std::thread::JoinHandle<Result<(), breachdesk::remote::ServeError>>,
}

impl InProcessDaemon {
    fn serve(fixture: Fixture) -> Self {
        let Fixture { _dir, local, desk } = fixture;
        drop(desk);
        let desk = Arc::try_unwrap(local).ok().expect("sole owner");
        let socket = _dir.path().join("daemon.sock");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let server = {
            let (socket, stop) = (socket.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                breachdesk::remote::serve_until(desk, &socket, None, stop, &mut std::io::sink())
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(std::time::Instant::now() < deadline, "daemon did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        InProcessDaemon {
            _dir,
            socket,
            stop,
            server,
        }
    }

    fn connect(&self) -> breachdesk::remote::RemoteDesk {
        breachdesk::remote::RemoteDesk::connect(&self.socket).unwrap()
    }

    /// Stops the daemon; it must end cleanly.
    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.server.join().unwrap().unwrap();
    }
}

#[test]
fn the_tui_through_the_daemon_draws_the_same_screens() {
    let daemon = InProcessDaemon::serve(Fixture::with_roles());
    let remote = daemon.connect();
    let me = remote.identity().user.clone();
    assert_eq!(me, breachdesk::identity::current_user());
    let mut app = app_on(Arc::new(remote), me);
    let local = Fixture::with_roles();
    let mut local_app = local.app();
    for tab in [Tab::Overview, Tab::People, Tab::Programs] {
        for a in [&mut app, &mut local_app] {
            if a.detail.is_none() {
                open_main(a);
            }
            to_tab(a, tab);
        }
        assert_eq!(
            screen(&app, (120, 40)),
            screen(&local_app, (120, 40)),
            "{tab:?} differs through the daemon"
        );
    }
    daemon.stop();
}

#[test]
fn a_responder_who_is_not_a_member_is_refused_the_roster_and_letters_in_the_tui() {
    let f = Fixture::with_roles();
    let ron = UserName::parse("ron").unwrap();
    let mut app = f.app_as(ron.clone());
    open_main(&mut app);
    to_tab(&mut app, Tab::People);
    let d = app.detail.as_ref().unwrap();
    assert!(d.people.window.is_empty());
    assert!(
        d.refusal(Tab::People)
            .unwrap()
            .contains("owner, its members and admins")
    );
    to_tab(&mut app, Tab::Notifications);
    assert!(
        app.detail
            .as_ref()
            .unwrap()
            .refusal(Tab::Notifications)
            .is_some()
    );
    let log = f
        .desk
        .access_log(Some(IncidentId::new(3)), Some(ron.clone()))
        .unwrap();
    assert!(
        log.iter()
            .all(|e| e.draft.action.as_str() == "access.denied")
    );
    let paths: Vec<&str> = log
        .iter()
        .map(|e| e.draft.access.as_ref().unwrap().path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["incident.timeline", "tui.people", "tui.notifications"]
    );
    // Once a member, the same user sees the roster (on the same screen, without reopening
    // it), and the read is logged.
    f.desk
        .set_member(IncidentId::new(3), ron.clone(), true)
        .unwrap();
    to_tab(&mut app, Tab::People);
    assert!(app.detail.as_ref().unwrap().refusal(Tab::People).is_none());
    assert_eq!(app.detail.as_ref().unwrap().people.window.len(), 256);
    let log = f
        .desk
        .access_log(Some(IncidentId::new(3)), Some(ron))
        .unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.draft.action.as_str(), "access.read");
    assert_eq!(last.draft.access.as_ref().unwrap().records, 300);
}

#[test]
fn deadlines_tab_and_board_show_the_legal_clocks() {
    let f = Fixture::with_history();
    let mut app = f.app();
    let main = app
        .board
        .rows
        .iter()
        .find(|r| r.incident.id == IncidentId::new(3))
        .unwrap();
    assert_eq!(main.next_due.as_ref().unwrap().rule, "gdpr-33");
    open_main(&mut app);
    to_tab(&mut app, Tab::Deadlines);
    let rules: Vec<&str> = app
        .detail
        .as_ref()
        .unwrap()
        .deadlines
        .obligations
        .iter()
        .map(|o| o.rule.as_str())
        .collect();
    assert_eq!(rules, ["gdpr-33", "us-ca", "gdpr-34", "nz-privacy-2020"]);
}

#[test]
fn a_running_pause_shows_as_pausing_on_the_board_and_the_programmes_tab() {
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("started");
    let go = dir.path().join("go");
    let hook = format!(
        "touch {}; while [ ! -f {} ]; do sleep 0.01; done",
        started.display(),
        go.display()
    );
    let f = Fixture::with_history().with_keylogger(&hook);
    let desk = Arc::clone(&f.desk);
    let pausing = std::thread::spawn(move || {
        desk.pause_program(
            "keylogger".parse().unwrap(),
            IncidentId::new(3),
            "exposure".to_owned(),
        )
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the hook did not start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut app = f.app();
    let board = screen(&app, (120, 40));
    let row = board.lines().find(|l| l.contains("INC-3")).unwrap();
    assert!(row.contains("pausing"), "{board}");
    open_main(&mut app);
    to_tab(&mut app, Tab::Programs);
    let tab = screen(&app, (120, 40));
    assert!(tab.contains("pausing"), "{tab}");
    std::fs::write(&go, "").unwrap();
    let outcome = pausing.join().unwrap().unwrap();
    assert!(
        matches!(outcome, PauseOutcome::Paused { .. }),
        "{outcome:?}"
    );
}

#[test]
fn desk_calls_run_off_the_ui_thread_and_show_as_pending() {
    let f = Fixture::with_history();
    let mut app = f.app();
    // Opening shows the incident at once, as the board knows it, while its tabs are read.
    key_nowait(&mut app, KeyCode::Enter);
    assert_eq!(app.detail.as_ref().unwrap().incident.id, IncidentId::new(3));
    assert!(app.is_busy());
    let opening = screen(&app, (120, 40));
    assert!(opening.contains("loading…"), "{opening}");
    assert!(opening.contains("loading INC-3"), "{opening}");
    assert!(app.wait_idle(Duration::from_secs(10)));
    assert!(!screen(&app, (120, 40)).contains("loading"));
    // A submitted form stays open, marked pending, until the desk answers.
    key(&mut app, KeyCode::Char('n'));
    keys(&mut app, "Legal asked for the access logs.");
    key_nowait(&mut app, KeyCode::Enter);
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!("the form waits for the desk")
    };
    assert!(form.pending);
    let pending = screen(&app, (120, 40));
    assert!(pending.contains("waiting for the desk…"), "{pending}");
    assert!(pending.contains("adding a note to INC-3"), "{pending}");
    key_nowait(&mut app, KeyCode::Char('x'));
    assert!(app.wait_idle(Duration::from_secs(10)));
    assert!(app.dialog.is_none());
    let d = app.detail.as_ref().unwrap();
    assert_eq!(
        d.timeline.events[0].draft.detail, "Legal asked for the access logs.",
        "keys pressed while pending are not typed into the form"
    );
    assert!(screen(&app, (120, 40)).contains("note added to INC-3"));
}

#[test]
fn a_colleagues_change_shows_on_the_other_tui_within_a_second() {
    let daemon = InProcessDaemon::serve(Fixture::with_roles());
    let colleague = Arc::new(daemon.connect());
    let mine: Arc<dyn Desk> = Arc::new(daemon.connect());
    let me = breachdesk::identity::current_user();
    let live = breachdesk::tui::live::Live::start(Arc::clone(&mine));
    let mut app = app_on(mine, me.clone()).with_live(live);
    assert!(app.wait_idle(Duration::from_secs(10)));
    assert!(!screen(&app, (120, 40)).contains("Badge readers exposed"));

    // The colleague opens an incident through their own connection.
    let new = NewIncident::new("Badge readers exposed", Severity::new(1).unwrap(), "").unwrap();
    let opened = colleague.open_incident(new).unwrap();
    let started = std::time::Instant::now();
    let shown = loop {
        app.tick();
        app.wait_idle(Duration::from_millis(50));
        let text = screen(&app, (120, 40));
        if text.contains("Badge readers exposed") || started.elapsed() > Duration::from_secs(3) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    assert!(shown.contains("Badge readers exposed"), "{shown}");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    // A severity change on it shows too, on the board's row.
    colleague
        .set_severity(
            opened.id,
            Severity::new(0).unwrap(),
            "worse than thought".to_owned(),
        )
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        app.tick();
        app.wait_idle(Duration::from_millis(50));
        let text = screen(&app, (120, 40));
        let row = text
            .lines()
            .find(|l| l.contains("Badge readers"))
            .unwrap_or("")
            .to_owned();
        if row.contains("SEV0") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{text}");
        std::thread::sleep(Duration::from_millis(10));
    }
    daemon.stop();
}

// ----- every command-line action in the TUI (issue 14, item 1) -------------------------

/// Opens the form `k` asks for on the main incident's `tab`, asserting one opened.
fn form_on(app: &mut App, tab: Tab, k: char) {
    to_tab(app, tab);
    key(app, KeyCode::Char(k));
    assert!(
        matches!(app.dialog, Some(Dialog::Form(_))),
        "{k} on {tab:?} opened no form: {:?} / {:?}",
        app.dialog,
        app.flash
    );
}

/// Moves the focused choice of the open form to the option whose value is `value`.
fn choose(app: &mut App, value: &str) {
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!("no form is open")
    };
    let breachdesk::tui::form::FieldKind::Choice { options, .. } = &form.fields[form.focus].kind
    else {
        panic!("the focused field is not a choice: {form:?}")
    };
    let at = options.iter().position(|c| c.value == value).unwrap();
    for _ in 0..at {
        key(app, KeyCode::Right);
    }
}

/// Replaces the focused text field's value.
fn retype(app: &mut App, text: &str) {
    key(app, KeyCode::Char('u'));
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    keys(app, text);
}

fn submit(app: &mut App) {
    key(app, KeyCode::Enter);
    assert!(
        app.dialog.is_none(),
        "the form stayed open: {:?}",
        app.dialog
    );
}

#[test]
fn the_legal_clocks_move_from_the_tui() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    form_on(&mut app, Tab::Overview, 'C');
    retype(&mut app, "2026-11-19T08:00:00Z");
    key(&mut app, KeyCode::Tab);
    retype(&mut app, "2026-11-19 10:00");
    // The exposure window, which access logs are held against (issue 29).
    key(&mut app, KeyCode::Tab);
    retype(&mut app, "2026-11-18T06:00:00Z");
    key(&mut app, KeyCode::Tab);
    retype(&mut app, "2026-11-19 09:30");
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "the ticket shows the first report");
    submit(&mut app);
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    assert_eq!(
        inc.aware_at.unwrap().to_rfc3339(),
        "2026-11-19T08:00:00+00:00"
    );
    assert!(inc.determined_at.is_some());
    assert_eq!(
        inc.exposed_from.unwrap().to_rfc3339(),
        "2026-11-18T06:00:00+00:00"
    );
    assert!(inc.exposed_until.is_some());
}

#[test]
fn members_are_added_and_removed_from_a_list_on_the_access_tab() {
    let f = Fixture::with_roles();
    let mut app = f.app();
    open_main(&mut app);
    form_on(&mut app, Tab::Access, '+');
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!()
    };
    let breachdesk::tui::form::FieldKind::Choice { options, .. } = &form.fields[0].kind else {
        panic!("members are chosen, not typed: {form:?}")
    };
    let offered: Vec<&str> = options.iter().map(|c| c.value.as_str()).collect();
    assert!(offered.contains(&"ron"), "{offered:?}");
    assert!(!offered.contains(&"responder"), "the owner is not offered");
    while app
        .dialog
        .as_ref()
        .is_some_and(|d| matches!(d, Dialog::Form(f) if f.value(breachdesk::tui::form::FieldName::Member) != "ron"))
    {
        key(&mut app, KeyCode::Right);
    }
    // Drawn with `ron` chosen: which user comes first depends on who runs the tests (the
    // running user is an admin here).
    snapshot("form_add_member", &app);
    submit(&mut app);
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    assert!(inc.members.iter().any(|m| m.as_str() == "ron"));
    form_on(&mut app, Tab::Access, '-');
    snapshot("form_remove_member", &app);
    submit(&mut app);
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    assert!(inc.members.is_empty());
}

#[test]
fn obligations_are_settled_on_the_deadlines_tab() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    form_on(&mut app, Tab::Deadlines, 'd');
    snapshot("form_obligation_done", &app);
    // The first unsettled obligation (gdpr-33), reported in phases: the initial report
    // (four hours before the screen's clock, which runs three ahead of the desk's).
    key(&mut app, KeyCode::Tab);
    retype(&mut app, "-4h");
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "DPA-2026-113");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Right);
    submit(&mut app);
    let obligations = f.desk.obligations(Some(IncidentId::new(3))).unwrap();
    let gdpr33 = obligations.iter().find(|o| o.rule == "gdpr-33").unwrap();
    assert!(
        matches!(&gdpr33.state, breachdesk::domain::ObligationState::Done { reference: Some(r), phase: Some(breachdesk::domain::Phase::Initial), .. } if r == "DPA-2026-113"),
        "{gdpr33:?}"
    );
    // Waived, with a reason; an Art. 34(3) exemption names its paragraph.
    form_on(&mut app, Tab::Deadlines, 'e');
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Right); // (b) no longer likely
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "ACL fixed before anyone outside the team read it");
    submit(&mut app);
    let obligations = f.desk.obligations(Some(IncidentId::new(3))).unwrap();
    let gdpr34 = obligations.iter().find(|o| o.rule == "gdpr-34").unwrap();
    let breachdesk::domain::ObligationState::Waived { reason } = &gdpr34.state else {
        panic!("{gdpr34:?}")
    };
    assert!(
        reason.starts_with("exempt under GDPR Art. 34(3)(b)"),
        "{reason}"
    );
    form_on(&mut app, Tab::Deadlines, 'w');
    key(&mut app, KeyCode::Enter);
    assert!(
        matches!(&app.dialog, Some(Dialog::Form(f)) if f.fields.iter().any(|x| x.error.as_deref() == Some("a reason is required")))
    );
}

#[test]
fn reports_drafts_and_exports_are_written_to_new_private_files() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("inc3.md");
    form_on(&mut app, Tab::Overview, 'W');
    snapshot("form_report", &app);
    key(&mut app, KeyCode::Tab);
    retype(&mut app, report.to_str().unwrap());
    submit(&mut app);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains("Monitoring data readable company-wide"),
        "{text}"
    );
    common_mode(&report, 0o600);
    // The NZ draft, as JSON.
    let draft = dir.path().join("notifyus.json");
    form_on(&mut app, Tab::Overview, 'W');
    choose(&mut app, "nz-notifyus:json");
    key(&mut app, KeyCode::Tab);
    retype(&mut app, draft.to_str().unwrap());
    submit(&mut app);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&draft).unwrap()).unwrap();
    assert_eq!(json["rule"], "nz-notifyus");
    // A file is never overwritten: the form says so under the field.
    form_on(&mut app, Tab::Overview, 'W');
    key(&mut app, KeyCode::Tab);
    retype(&mut app, report.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(
        matches!(&app.dialog, Some(Dialog::Form(f)) if f.fields[1].error.as_deref().is_some_and(|e| e.contains("files are never overwritten")))
    );
    key(&mut app, KeyCode::Esc);
    // The roster, as the CLI exports it.
    let csv = dir.path().join("people.csv");
    form_on(&mut app, Tab::People, 'E');
    key(&mut app, KeyCode::Tab);
    retype(&mut app, csv.to_str().unwrap());
    submit(&mut app);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 301, "a header and 300 people");
    assert!(text.starts_with("employee_id,name,email,categories,location,language"));
}

fn common_mode(path: &std::path::Path, want: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, want, "{}", path.display());
}

#[test]
fn the_access_log_is_imported_in_the_background_with_its_progress() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.csv");
    let mut text = String::from("accessed_at,accessor,employee_id,action\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "2026-11-19T10:00:00Z,mallory,E{:04},read\n",
            i % 300
        ));
    }
    std::fs::write(&log, text).unwrap();
    form_on(&mut app, Tab::Deadlines, 'I');
    keys(&mut app, log.to_str().unwrap());
    key_nowait(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none(), "the form closes; the read goes on");
    assert!(
        app.wait_idle(Duration::from_secs(20)),
        "the import did not finish"
    );
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    let e = inc.evidence.unwrap();
    assert_eq!(e.rows, 20_000);
    assert_eq!(e.people_read, 300);
    assert!(screen(&app, (120, 40)).contains("20000 rows"));
}

#[test]
fn snapshot_the_new_forms() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    for (tab, k, name) in [
        (Tab::Overview, 'C', "clock"),
        (Tab::Deadlines, 'w', "obligation_waive"),
        (Tab::Deadlines, 'e', "obligation_exempt"),
        (Tab::Deadlines, 'I', "evidence"),
        (Tab::People, 'E', "export"),
        (Tab::Notifications, 'B', "bounces"),
        (Tab::Notifications, 'X', "export_letters"),
        (Tab::Notifications, 'm', "queue"),
        (Tab::Notifications, 'v', "preview"),
        (Tab::Programs, 'e', "edit_programme"),
    ] {
        form_on(&mut app, tab, k);
        snapshot(&format!("form_{name}"), &app);
        key(&mut app, KeyCode::Esc);
    }
}

#[test]
fn programmes_are_registered_changed_and_unlinked_with_their_hooks_shown_first() {
    use breachdesk::tui::form::Purpose;
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    form_on(&mut app, Tab::Programs, 'a');
    snapshot("form_add_programme", &app);
    keys(&mut app, "chat-export");
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "Nightly chat export");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Char(' ')); // chat-messages
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "systemctl stop chat-export.timer");
    key(&mut app, KeyCode::Enter);
    let Some(Dialog::Form(confirm)) = &app.dialog else {
        panic!("the hooks are shown before anything is saved")
    };
    assert!(matches!(confirm.purpose, Purpose::ConfirmProgram(..)));
    assert!(
        confirm
            .notes
            .iter()
            .any(|n| n == "pause hook, run with sh -c: systemctl stop chat-export.timer"),
        "{:?}",
        confirm.notes
    );
    snapshot("form_confirm_programme", &app);
    assert!(
        f.desk
            .programs()
            .unwrap()
            .iter()
            .all(|p| p.slug.as_str() != "chat-export")
    );
    submit(&mut app);
    let added = f
        .desk
        .programs()
        .unwrap()
        .into_iter()
        .find(|p| p.slug.as_str() == "chat-export")
        .unwrap();
    assert_eq!(
        added.pause_hook.as_deref(),
        Some("systemctl stop chat-export.timer")
    );
    assert_eq!(
        added
            .categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        ["chat-messages"]
    );

    // Registered from this incident's Programmes tab, it is linked to it (issue 33).
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    assert!(inc.programs.iter().any(|p| p.as_str() == "chat-export"));

    // The linked staff-monitoring programme (the second row now): renamed, then unlinked
    // with a reason.
    to_tab(&mut app, Tab::Programs);
    key(&mut app, KeyCode::Down);
    form_on(&mut app, Tab::Programs, 'e');
    retype(&mut app, "Staff activity monitoring (v2)");
    key(&mut app, KeyCode::Enter);
    submit(&mut app);
    let renamed = f
        .desk
        .programs()
        .unwrap()
        .into_iter()
        .find(|p| p.slug.as_str() == "staff-monitoring")
        .unwrap();
    assert_eq!(renamed.name, "Staff activity monitoring (v2)");
    form_on(&mut app, Tab::Programs, 'u');
    snapshot("form_unlink", &app);
    keys(&mut app, "linked by mistake");
    submit(&mut app);
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    let linked: Vec<&str> = inc.programs.iter().map(|p| p.as_str()).collect();
    assert_eq!(linked, ["chat-export"]);
}

#[test]
fn enter_reads_an_entry_whole() {
    let f = Fixture::with_history();
    let long = format!(
        "ACL change reviewed with the platform team; {}",
        "details follow. ".repeat(30)
    );
    f.desk.add_note(IncidentId::new(3), long.clone()).unwrap();
    let mut app = f.app();
    open_main(&mut app);
    to_tab(&mut app, Tab::Timeline);
    key(&mut app, KeyCode::Enter);
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("Enter opened no panel: {:?}", app.dialog)
    };
    assert!(
        panel.lines.iter().any(|l| l == long.trim()),
        "{:?}",
        panel.lines
    );
    snapshot("entry_timeline", &app);
    key(&mut app, KeyCode::Esc);
    // A status change shows its values before and after.
    let at = app
        .detail
        .as_ref()
        .unwrap()
        .timeline
        .events
        .iter()
        .position(|e| e.draft.action == breachdesk::domain::AuditAction::StatusChanged)
        .unwrap();
    for _ in 0..at {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Enter);
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!()
    };
    assert!(
        panel.lines.iter().any(|l| l == "before: open")
            && panel.lines.iter().any(|l| l == "after: investigating"),
        "{:?}",
        panel.lines
    );
    key(&mut app, KeyCode::Esc);
    to_tab(&mut app, Tab::People);
    key(&mut app, KeyCode::Enter);
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!()
    };
    assert!(
        panel.lines[0].starts_with("E0000 Person 0"),
        "{:?}",
        panel.lines
    );
}

#[test]
fn the_contain_flow_pauses_notifies_and_moves_on_in_one_confirmation() {
    let server = smtp::SmtpServer::start(smtp::Faults::default());
    let settings = Settings::parse(&server.config(""), std::path::Path::new("test.toml")).unwrap();
    let f = Fixture::empty_with(settings);
    let desk = f.desk.as_ref();
    let marker = f._dir.path().join("paused");
    let hook = format!("touch {}", marker.display());
    let new = NewProgram::new(
        "staff-monitoring".parse().unwrap(),
        "Staff monitoring",
        Some(&hook),
        None,
    )
    .unwrap();
    desk.add_program(new).unwrap();
    let mut new = NewIncident::new(
        "Monitoring data readable company-wide",
        Severity::new(2).unwrap(),
        "",
    )
    .unwrap();
    new.programs.insert("staff-monitoring".parse().unwrap());
    let inc = desk.open_incident(new).unwrap();
    desk.link_program("staff-monitoring".parse().unwrap(), inc.id)
        .unwrap();
    let mut csv = String::from("employee_id,name,email,categories\n");
    for i in 0..40 {
        csv.push_str(&format!("E{i},Person {i},p{i}@corp.example,keystrokes\n"));
    }
    desk.import_roster(inc.id, csv.as_bytes().to_vec(), "r.csv".to_owned(), false)
        .unwrap();
    let mut app = f.app();
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('K'));
    // Untick nothing: one Enter runs every step.
    key(&mut app, KeyCode::Enter);
    assert!(
        app.wait_idle(Duration::from_secs(30)),
        "the flow did not end"
    );
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("the flow ends with what each step did: {:?}", app.dialog)
    };
    assert_eq!(
        panel.lines[..4],
        [
            "✓ paused staff-monitoring",
            "✓ queued 40 first notices",
            "✓ INC-1 is contained",
            panel.lines[3].as_str(),
        ]
    );
    assert_eq!(
        panel.lines[3],
        "✓ noted in the timeline: contained at 2026-11-20 14:30 UTC"
    );
    snapshot("contained", &app);
    assert_eq!(panel.lines[4], "✓ sent 40 letters, 0 failed");
    assert!(marker.exists(), "the pause hook ran");
    server.wait_idle();
    assert_eq!(server.messages().len(), 40);
    let inc = f.desk.incident(inc.id).unwrap();
    assert_eq!(inc.status, Status::Contained);
    assert_eq!(inc.notified, 40);
}

#[test]
fn a_step_left_unticked_does_not_run() {
    let f = Fixture::with_history().with_keylogger("true");
    let mut app = f.app();
    open_main(&mut app);
    key(&mut app, KeyCode::Char('K'));
    snapshot("form_contain", &app);
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!()
    };
    let breachdesk::tui::form::FieldKind::Multi { options, .. } = &form.fields[0].kind else {
        panic!()
    };
    let values: Vec<String> = options.iter().map(|o| o.value.clone()).collect();
    assert_eq!(
        values,
        [
            "pause:keylogger",
            "pause:staff-monitoring",
            "queue",
            "status",
            "note",
            "send"
        ]
    );
    // Untick everything but the keylogger's pause and the status.
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            key(&mut app, KeyCode::Right);
        }
        if !matches!(v.as_str(), "pause:keylogger" | "status") {
            key(&mut app, KeyCode::Char(' '));
        }
    }
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(20)));
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert_eq!(panel.lines, ["✓ paused keylogger", "✓ INC-3 is contained"]);
    let programs = f.desk.programs().unwrap();
    let state = |slug: &str| {
        programs
            .iter()
            .find(|p| p.slug.as_str() == slug)
            .unwrap()
            .state
    };
    assert_eq!(
        state("staff-monitoring"),
        breachdesk::domain::ProgramState::Active
    );
}

/// A left click at the first place `text` is drawn (after drawing a 120x40 frame).
fn click_on(app: &mut App, text: &str) {
    let screen = screen(app, (120, 40));
    let (row, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(text))
        .unwrap_or_else(|| panic!("{text} is not on the screen:\n{screen}"));
    // Each line of the capture is quoted: column 0 of the screen is after the quote.
    let col = line[..line.find(text).unwrap()].chars().count() - 1;
    mouse(app, MouseEventKind::Down(MouseButton::Left), col, row);
}

fn mouse(app: &mut App, kind: MouseEventKind, col: usize, row: usize) {
    app.handle_mouse(MouseEvent {
        kind,
        column: u16::try_from(col).unwrap(),
        row: u16::try_from(row).unwrap(),
        modifiers: KeyModifiers::NONE,
    });
    assert!(app.wait_idle(Duration::from_secs(20)));
}

#[test]
fn the_mouse_clicks_rows_tabs_and_buttons_and_the_wheel_scrolls() {
    let f = Fixture::with_history();
    let mut app = f.app();
    // A click selects a row; a click on the selected row opens it.
    click_on(&mut app, "INC-2");
    assert_eq!(app.board.current().unwrap().incident.id, IncidentId::new(2));
    assert!(app.detail.is_none());
    click_on(&mut app, "INC-3");
    click_on(&mut app, "INC-3");
    assert_eq!(app.detail.as_ref().unwrap().incident.id, IncidentId::new(3));
    // Tabs.
    click_on(&mut app, "Deadlines");
    assert_eq!(app.detail.as_ref().unwrap().tab, Tab::Deadlines);
    click_on(&mut app, "Timeline");
    assert_eq!(app.detail.as_ref().unwrap().tab, Tab::Timeline);
    // The wheel moves the selection.
    let _ = screen(&app, (120, 40));
    mouse(&mut app, MouseEventKind::ScrollDown, 10, 10);
    mouse(&mut app, MouseEventKind::ScrollDown, 10, 10);
    assert_eq!(app.detail.as_ref().unwrap().timeline.selected, 2);
    mouse(&mut app, MouseEventKind::ScrollUp, 10, 10);
    assert_eq!(app.detail.as_ref().unwrap().timeline.selected, 1);
    // A key in the footer does what the key does; in a dialog, its buttons.
    click_on(&mut app, " n note ");
    assert!(
        matches!(app.dialog, Some(Dialog::Form(_))),
        "{:?}",
        app.dialog
    );
    click_on(&mut app, "Esc cancel");
    assert!(app.dialog.is_none());
    click_on(&mut app, " n note ");
    keys(&mut app, "clicked");
    click_on(&mut app, "Enter submit");
    assert!(app.dialog.is_none(), "{:?}", app.dialog);
    assert_eq!(
        app.detail.as_ref().unwrap().timeline.events[0].draft.detail,
        "clicked"
    );
    // A click on a form's field focuses it.
    key(&mut app, KeyCode::Char('s'));
    click_on(&mut app, "Reason");
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!()
    };
    assert_eq!(form.focus, 1);
}

#[test]
fn the_register_the_audit_check_the_letter_export_and_the_purge_from_the_tui() {
    let server = smtp::SmtpServer::start(smtp::Faults::default());
    let settings = Settings::parse(&server.config(""), std::path::Path::new("test.toml")).unwrap();
    let f = Fixture::empty_with(settings);
    let desk = f.desk.as_ref();
    let inc = desk
        .open_incident(NewIncident::new("Badge export", Severity::new(3).unwrap(), "").unwrap())
        .unwrap();
    let csv = "employee_id,name,email,categories\nE1,Ana,ana@corp.example,keystrokes\nE2,Bo,bo@corp.example,keystrokes\n";
    desk.import_roster(inc.id, csv.as_bytes().to_vec(), "r.csv".to_owned(), false)
        .unwrap();
    desk.queue_notifications(
        inc.id,
        breachdesk::notify::TemplateName::Initial,
        breachdesk::desk::PeopleFilter::default(),
        Vec::new(),
        None,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut app = f.app();
    key(&mut app, KeyCode::Enter);
    // The register, from the report form.
    let register = dir.path().join("register.csv");
    form_on(&mut app, Tab::Overview, 'W');
    choose(&mut app, "register:csv");
    key(&mut app, KeyCode::Tab);
    retype(&mut app, register.to_str().unwrap());
    submit(&mut app);
    assert!(
        std::fs::read_to_string(&register)
            .unwrap()
            .contains("Badge export")
    );
    // The audit log checked, on the Access tab.
    to_tab(&mut app, Tab::Access);
    key(&mut app, KeyCode::Char('V'));
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert!(panel.lines[0].starts_with("audit log intact:"), "{panel:?}");
    key(&mut app, KeyCode::Esc);
    // The queued letters as .eml files.
    let letters = dir.path().join("letters");
    form_on(&mut app, Tab::Notifications, 'X');
    retype(&mut app, letters.to_str().unwrap());
    submit(&mut app);
    assert_eq!(std::fs::read_dir(&letters).unwrap().count(), 2);
    assert!(server.messages().is_empty(), "an export sends nothing");
    // The purge: refused while open, then done once closed.
    to_tab(&mut app, Tab::Overview);
    key(&mut app, KeyCode::Char('P'));
    assert!(app.dialog.is_none(), "an open incident offers no purge");
    assert!(screen(&app, (120, 40)).contains("only a closed incident is purged"));
    desk.set_status(inc.id, Status::Closed, None, false)
        .unwrap();
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Enter);
    form_on(&mut app, Tab::Overview, 'P');
    snapshot("form_purge", &app);
    keys(&mut app, "retention period over");
    submit(&mut app);
    let inc = f.desk.incident(inc.id).unwrap();
    assert!(inc.purged.is_some());
}

#[test]
fn the_templates_are_checked_from_the_letters_tab() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    to_tab(&mut app, Tab::Notifications);
    key(&mut app, KeyCode::Char('T'));
    let Some(Dialog::Panel(panel)) = &app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert!(
        panel
            .lines
            .iter()
            .any(|l| l == "ok     initial for us-ca (US-CA)"),
        "{panel:?}"
    );
    snapshot("templates_checked", &app);
    assert!(
        panel
            .lines
            .last()
            .unwrap()
            .contains("contact detail(s) the letters must give are missing"),
        "{panel:?}"
    );
}

#[test]
fn the_queue_form_overrides_the_law_check_only_with_a_reason() {
    let server = smtp::SmtpServer::start(smtp::Faults::default());
    // No toll-free number: a HIPAA letter lacks what 164.404(c)(1)(E) requires.
    let settings = Settings::parse(&server.config(""), std::path::Path::new("test.toml")).unwrap();
    let f = Fixture::empty_with(settings);
    let desk = f.desk.as_ref();
    let inc = desk
        .open_incident(NewIncident::new("Clinic records", Severity::new(2).unwrap(), "").unwrap())
        .unwrap();
    let csv =
        "employee_id,name,email,categories,location\nE1,Ana,ana@corp.example,health-data,US-CA\n";
    desk.import_roster(inc.id, csv.as_bytes().to_vec(), "r.csv".to_owned(), false)
        .unwrap();
    let mut app = f.app();
    key(&mut app, KeyCode::Enter);
    to_tab(&mut app, Tab::Notifications);
    key(&mut app, KeyCode::Char('m'));
    key(&mut app, KeyCode::Enter);
    let refused = screen(&app, (120, 40));
    assert!(refused.contains("hipaa"), "{refused}");
    assert_eq!(
        f.desk
            .outbox_status(inc.id, breachdesk::desk::ReadPath::TuiNotifications)
            .unwrap()
            .counts
            .get("queued")
            .copied()
            .unwrap_or(0),
        0
    );
    key(&mut app, KeyCode::Char('m'));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "the number is being set up; counsel approved");
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(20)));
    let status = f
        .desk
        .outbox_status(inc.id, breachdesk::desk::ReadPath::TuiNotifications)
        .unwrap();
    assert_eq!(status.counts.get("queued").copied(), Some(1));
    let timeline = f.desk.timeline(inc.id).unwrap();
    assert!(
        timeline.iter().any(|e| e
            .draft
            .detail
            .contains("reason: the number is being set up; counsel approved")),
        "the reason is recorded"
    );
}

/// Issue 28, item 5: the Deadlines tab names the people no rule covers, by location, under
/// the obligations, instead of leaving them out.
#[test]
fn the_deadlines_tab_names_people_under_no_known_rule() {
    let f = Fixture::with_history();
    f.desk
        .import_roster(
            IncidentId::new(3),
            b"employee_id,name,email,categories,location\nT1,Tuvaluan,t1@corp.example,keystrokes,TV\nT2,Nowhere,t2@corp.example,keystrokes,\n".to_vec(),
            "more.csv".into(),
            false,
        )
        .unwrap();
    let mut app = f.app();
    open_main(&mut app);
    while app.detail.as_ref().unwrap().tab != Tab::Deadlines {
        key(&mut app, KeyCode::Tab);
    }
    let text = screen(&app, (120, 40));
    assert!(text.contains("gdpr-33"), "{text}");
    assert!(
        text.contains("no rule known for TV (1 person): check with counsel"),
        "{text}"
    );
    assert!(text.contains("no location for 1 person"), "{text}");
}

/// Issue 33, item 1, in the TUI: the status form names the open obligations in its Force
/// choice; closing without it is refused (naming them), with it and a reason the incident
/// closes and its clocks stay on the board.
#[test]
fn closing_from_the_tui_needs_force_while_obligations_are_open() {
    use breachdesk::tui::form::FieldName;
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    let choose = |app: &mut App, name: FieldName, want: &str| {
        for _ in 0..10 {
            let Some(Dialog::Form(form)) = &app.dialog else {
                panic!("no form: {:?}", app.flash)
            };
            if form.value(name) == want {
                return;
            }
            key(app, KeyCode::Right);
        }
        panic!("{want} is not offered");
    };
    key(&mut app, KeyCode::Char('t'));
    choose(&mut app, FieldName::Status, "closed");
    key(&mut app, KeyCode::Enter);
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!("the form closed: {:?}", app.flash)
    };
    let error = form.error.clone().unwrap_or_default();
    assert!(
        error.contains("its legal obligations are still open: gdpr-33"),
        "{error}"
    );
    assert_ne!(
        f.desk.incident(IncidentId::new(3)).unwrap().status,
        Status::Closed
    );

    if app.dialog.is_none() {
        key(&mut app, KeyCode::Char('t'));
        choose(&mut app, FieldName::Status, "closed");
    }
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "the DPO reports to the authority");
    key(&mut app, KeyCode::Tab);
    choose(&mut app, FieldName::Force, "yes");
    submit(&mut app);
    assert_eq!(
        f.desk.incident(IncidentId::new(3)).unwrap().status,
        Status::Closed
    );
    assert!(
        !f.desk.obligations(None).unwrap().is_empty(),
        "its clocks still run"
    );
}

/// Issue 28, item 3: `x` on the Deadlines tab confirms or rules out a data element the
/// exposed categories may contain; ruling out needs a reason; the decision is recorded and
/// the obligations follow.
#[test]
fn data_elements_are_confirmed_or_ruled_out_from_the_deadlines_tab() {
    use breachdesk::domain::DataElement;
    use breachdesk::tui::form::FieldName;
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    form_on(&mut app, Tab::Deadlines, 'x');
    snapshot("form_elements", &app);
    // The first choice is the first possible element; confirm it.
    key(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none(), "the form closed once recorded");
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    let (element, decision) = inc.elements.iter().next().unwrap();
    assert_eq!(*element, DataElement::GovernmentId);
    assert!(decision.confirmed);
    // Ruling one out without a reason is refused on the field.
    form_on(&mut app, Tab::Deadlines, 'x');
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        field_error(&app, FieldName::Reason).as_deref(),
        Some("a reason is required")
    );
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "masked at capture");
    key(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none());
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    assert_eq!(inc.elements.len(), 2, "{:?}", inc.elements);
    assert!(
        inc.elements
            .values()
            .any(|d| !d.confirmed && d.reason == "masked at capture")
    );
}

/// Issue 30: a failing alert destination is in the header, so that a responder knows the
/// on-call team is not hearing about changes.
#[test]
fn a_failing_alert_destination_shows_in_the_header() {
    let text = "[[alert]]\nname = \"oncall\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n";
    let settings = Settings::parse(text, std::path::Path::new("config.toml")).unwrap();
    let f = Fixture::empty_with(settings);
    // The destination starts at the end of the log; then an incident opens.
    f.local.alert_round(&actor(), false).unwrap();
    let f = f.history();
    let round = f.local.alert_round(&actor(), false).unwrap();
    assert_eq!(round.failed.len(), 1, "{round:?}");
    let app = f.app();
    let board = screen(&app, (120, 40));
    assert!(board.contains("! alerts failing: oncall"), "{board}");
}

#[test]
fn snapshot_the_apply_form_and_a_letter_preview() {
    let f = Fixture::with_history();
    // Reads, no copies: a rule whose trigger is acquisition is left untriggered.
    let log = "accessed_at,accessor,employee_id,action\n2026-11-19T10:00:00Z,mallory,E0001,read\n";
    f.desk
        .import_evidence(
            IncidentId::new(3),
            &mut log.as_bytes(),
            "access.csv",
            &breachdesk::evidence::EvidenceOptions::default(),
        )
        .unwrap();
    let mut app = f.app();
    open_main(&mut app);
    form_on(&mut app, Tab::Deadlines, 'a');
    snapshot("form_apply", &app);
    key(&mut app, KeyCode::Esc);
    // The preview shows the letter as its reader sees it: decoded, no quoted-printable.
    form_on(&mut app, Tab::Notifications, 'v');
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(10)));
    let text = screen(&app, (200, 60));
    assert!(text.contains("----- text part -----"), "{text}");
    assert!(!text.contains("=\n") && !text.contains("=3D"), "{text}");
    snapshot("letter_preview", &app);
}

#[test]
fn the_title_and_summary_are_rewritten_from_the_detail_view() {
    let f = Fixture::with_history();
    let mut app = f.app();
    open_main(&mut app);
    form_on(&mut app, Tab::Overview, 'D');
    snapshot("form_describe", &app);
    // The title field holds the current title: replace it.
    for _ in 0.."Monitoring data readable company-wide".len() {
        key(&mut app, KeyCode::Backspace);
    }
    keys(&mut app, "Monitoring bucket public");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "anonymous reads in the log");
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_idle(Duration::from_secs(10)));
    assert!(app.dialog.is_none(), "{:?}", app.dialog);
    let inc = f.desk.incident(IncidentId::new(3)).unwrap();
    assert_eq!(inc.title, "Monitoring bucket public");
    assert!(screen(&app, (120, 40)).contains("Monitoring bucket public"));
}
