//! Every user-facing string of the terminal UI that is not built from data.

pub const APP: &str = "breachdesk";
pub const BOARD_TITLE: &str = " Incidents ";
pub const BOARD_EMPTY: &str =
    "No incidents yet. Press n to open one, or run `breachdesk demo` for a populated example.";
pub const BOARD_NO_MATCH: &str = "No incident matches the filter. Esc clears it.";
pub const BOARD_HEADERS: [&str; 9] = [
    "ID",
    "SEV",
    "TITLE",
    "STATUS",
    "AGE",
    "PEOPLE",
    "TOLD",
    "PROGRAMME",
    "DEADLINE",
];
pub const LIVE: &str = "LIVE";
pub const PAUSE_FAILED: &str = "FAILED";
pub const TABS: [&str; 7] = [
    "Overview",
    "Timeline",
    "People",
    "Programmes",
    "Deadlines",
    "Letters",
    "Access",
];
pub const DEADLINE_HEADERS: [&str; 6] = ["RULE", "NOTIFY", "DUE (UTC)", "LEFT", "STATE", "PEOPLE"];
pub const NO_DEADLINES: &str = "No legal obligation applies yet: the rules follow where the affected people live. Press i to import a roster with locations.";
pub const NO_DEADLINES_KNOWN: &str =
    "No obligation under the known rules, but not everyone falls under one:";
pub const NOT_ADVICE: &str =
    " decision support, not legal advice: check each obligation with counsel ";
pub const NO_ACCESS_READS: &str = "Nobody has read this incident's personal data yet.";
pub const ACCESS_HEADERS: [&str; 5] = ["WHEN", "USER", "PATH", "RECORDS", "OUTCOME"];
pub const PEOPLE_HEADERS: [&str; 6] = ["EMPLOYEE", "NAME", "EMAIL", "LOC", "TOLD", "CATEGORIES"];
pub const PROGRAM_HEADERS: [&str; 4] = ["SLUG", "STATE", "SINCE", "NAME"];
pub const NO_PEOPLE: &str = "No affected people yet. Press i to import a roster (CSV).";
pub const NO_MATCHING_PEOPLE: &str = "Nobody matches these filters. x clears them.";
pub const NO_PROGRAMS: &str = "No programme is linked. Press a to register one (it is linked to this incident), or L to link one registered already.";
pub const NO_EVENTS: &str = "No events.";
pub const SEARCHING: &str = "searching…";
pub const LOADING: &str = "loading…";
pub const SAVING: &str = "waiting for the desk…";
pub const STILL_LOADING: &str = "still reading this incident; try again in a moment";
pub const HELP_MORE: &str = "(open a tab, then ? for its keys)";
pub const FORM_KEYS: &str = "Enter submit · Tab/↑↓ field · ←→ choose · Esc cancel";
pub const PANEL_KEYS: &str = "↑↓ PgUp PgDn scroll · Esc close";
pub const HELP_TITLE: &str = " Keys ";
pub const HELP_CLOSE: &str = "any key closes this";
pub const NO_TERMINAL: &str =
    "the breachdesk UI needs a terminal; run a subcommand instead (breachdesk --help)";

pub const FORM_NEW_INCIDENT: &str = " Open an incident ";
pub const FORM_DESCRIBE: &str = " Title and summary ";
pub const FORM_SEVERITY: &str = " Change severity ";
pub const FORM_STATUS: &str = " Move status ";
pub const FORM_NOTE: &str = " Add a note ";
pub const FORM_ASSIGN: &str = " Assign owner ";
pub const FORM_IMPORT: &str = " Import roster (CSV: employee_id,name,email,categories[,location]) ";
pub const FORM_LINK: &str = " Link a programme ";
pub const FORM_ASSESS: &str = " Harm assessment (ENISA) ";
pub const FORM_CLOCK: &str = " The legal clocks ";
pub const FORM_REPORT: &str = " Write a report or regulator draft ";
pub const FORM_ADD_MEMBER: &str = " Add a member ";
pub const FORM_REMOVE_MEMBER: &str = " Remove a member ";
pub const FORM_DONE: &str = " Obligation done ";
pub const FORM_WAIVE: &str = " Waive an obligation ";
pub const FORM_EXEMPT: &str = " Exempt under Art. 34(3) ";
pub const FORM_EVIDENCE: &str = " Import the exposed store's access log ";
pub const FORM_EXPORT: &str = " Export people (CSV) ";
pub const FORM_BOUNCES: &str = " Read the bounce mailbox ";
pub const FORM_ADD_PROGRAM: &str = " Register a programme ";
pub const FORM_EDIT_PROGRAM: &str = " Change a programme ";
pub const FORM_CONFIRM_PROGRAM: &str = " Save this programme? ";
pub const FORM_UNLINK: &str = " Unlink a programme ";
pub const FORM_CONTAIN: &str = " Contain the incident ";
pub const FORM_PURGE: &str = " Purge personal data ";
pub const FORM_EXPORT_LETTERS: &str = " Export queued letters (.eml) ";
pub const FORM_APPLY: &str = " A rule applies after all ";
pub const FORM_ELEMENTS: &str = " Data elements: confirm or rule out ";
pub const FORM_SERIOUS_HARM: &str = " NZ serious-harm test (Privacy Act 2020 s113) ";
pub const FORM_PAUSE: &str = " Pause programme ";
pub const FORM_RESUME: &str = " Resume programme ";
pub const FORM_QUEUE: &str = " Queue letters ";
pub const FORM_PREVIEW: &str = " Preview a letter ";
pub const FORM_SEND: &str = " Send letters ";
pub const NO_LETTERS: &str = "No letters yet. Press m to queue them, v to preview one.";
