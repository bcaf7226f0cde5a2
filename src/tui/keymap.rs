//! The one key table. Input handling looks keys up here, and the footer and the help overlay
//! are generated from the same rows, so what is shown is what works.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies. Several are active at once, e.g. People, Detail and Global.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    Global,
    Board,
    Detail,
    People,
    Programs,
    Notifications,
    Deadlines,
    Access,
}

/// A key as matched: the code and whether Ctrl is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPress {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(c: char) -> KeyPress {
    KeyPress {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn code(code: KeyCode) -> KeyPress {
    KeyPress { code, ctrl: false }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub context: KeyScope,
    pub keys: &'static [KeyPress],
    /// How the keys are written in the footer and help.
    pub shown: &'static str,
    pub action: Action,
    pub label: &'static str,
    /// Shown in the footer, not only in help.
    pub footer: bool,
}

const fn bind(
    context: KeyScope,
    keys: &'static [KeyPress],
    shown: &'static str,
    action: Action,
    label: &'static str,
    footer: bool,
) -> Binding {
    Binding {
        context,
        keys,
        shown,
        action,
        label,
        footer,
    }
}

use KeyScope::{Access, Board, Deadlines, Detail, Global, Notifications, People, Programs};

/// Every binding, in the order help lists them.
pub const BINDINGS: &[Binding] = &[
    bind(
        Board,
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Open,
        "open",
        true,
    ),
    bind(Board, &[key('/')], "/", Action::Filter, "filter", true),
    bind(
        Board,
        &[key('n')],
        "n",
        Action::NewIncident,
        "new incident",
        true,
    ),
    bind(
        Detail,
        &[code(KeyCode::Esc), code(KeyCode::Backspace)],
        "Esc",
        Action::Back,
        "back",
        true,
    ),
    bind(
        Detail,
        &[code(KeyCode::Tab), code(KeyCode::Right), key('l')],
        "Tab/l",
        Action::NextTab,
        "next tab",
        true,
    ),
    bind(
        Detail,
        &[code(KeyCode::BackTab), code(KeyCode::Left), key('h')],
        "S-Tab/h",
        Action::PrevTab,
        "previous tab",
        false,
    ),
    bind(Detail, &[key('s')], "s", Action::Severity, "severity", true),
    bind(
        Detail,
        &[key('D')],
        "D",
        Action::Describe,
        "retitle / describe",
        false,
    ),
    bind(Detail, &[key('t')], "t", Action::Status, "status", true),
    bind(Detail, &[key('n')], "n", Action::Note, "note", true),
    bind(
        Detail,
        &[key('o')],
        "o",
        Action::Assign,
        "assign owner",
        false,
    ),
    bind(
        Detail,
        &[key('i')],
        "i",
        Action::Import,
        "import roster",
        false,
    ),
    bind(
        Detail,
        &[key('L')],
        "L",
        Action::Link,
        "link programme",
        false,
    ),
    bind(
        Detail,
        &[key('A')],
        "A",
        Action::Assess,
        "harm assessment (ENISA)",
        false,
    ),
    bind(
        Detail,
        &[key('H')],
        "H",
        Action::SeriousHarm,
        "NZ serious-harm test",
        false,
    ),
    bind(
        Detail,
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Open,
        "read the entry whole",
        false,
    ),
    bind(
        Detail,
        &[key('K')],
        "K",
        Action::Contain,
        "contain: pause, notify, move on",
        true,
    ),
    bind(
        Detail,
        &[key('P')],
        "P",
        Action::Purge,
        "purge personal data (closed; admins)",
        false,
    ),
    bind(
        Detail,
        &[key('C')],
        "C",
        Action::Clock,
        "legal clocks (aware, determined)",
        false,
    ),
    bind(
        Detail,
        &[key('W')],
        "W",
        Action::WriteReport,
        "write a report or regulator draft",
        false,
    ),
    bind(
        Deadlines,
        &[key('d')],
        "d",
        Action::ObligationDone,
        "obligation done",
        true,
    ),
    bind(
        Deadlines,
        &[key('w')],
        "w",
        Action::ObligationWaive,
        "waive",
        true,
    ),
    bind(
        Deadlines,
        &[key('e')],
        "e",
        Action::ObligationExempt,
        "Art. 34(3) exemption",
        false,
    ),
    bind(
        Deadlines,
        &[key('a')],
        "a",
        Action::ObligationApply,
        "a rule applies after all",
        false,
    ),
    bind(
        Deadlines,
        &[key('x')],
        "x",
        Action::Elements,
        "data elements: confirm or rule out",
        false,
    ),
    bind(
        Deadlines,
        &[key('I')],
        "I",
        Action::ImportEvidence,
        "import access log",
        true,
    ),
    bind(
        Access,
        &[key('+')],
        "+",
        Action::AddMember,
        "add member",
        true,
    ),
    bind(
        Access,
        &[key('V')],
        "V",
        Action::VerifyAudit,
        "verify the audit log",
        false,
    ),
    bind(
        Access,
        &[key('-')],
        "-",
        Action::RemoveMember,
        "remove member",
        true,
    ),
    bind(People, &[key('/')], "/", Action::Filter, "search", true),
    bind(
        People,
        &[key('E')],
        "E",
        Action::ExportPeople,
        "export CSV",
        false,
    ),
    bind(
        People,
        &[key('p')],
        "p",
        Action::TogglePending,
        "pending only",
        true,
    ),
    bind(
        People,
        &[key('c')],
        "c",
        Action::CycleCategory,
        "category",
        true,
    ),
    bind(
        People,
        &[key('x')],
        "x",
        Action::ClearFilters,
        "clear filters",
        false,
    ),
    bind(Programs, &[key('p')], "p", Action::Pause, "pause", true),
    bind(Programs, &[key('r')], "r", Action::Resume, "resume", true),
    bind(
        Programs,
        &[key('a')],
        "a",
        Action::AddProgram,
        "add programme",
        true,
    ),
    bind(
        Programs,
        &[key('e')],
        "e",
        Action::EditProgram,
        "edit programme",
        false,
    ),
    bind(
        Programs,
        &[key('u')],
        "u",
        Action::UnlinkProgram,
        "unlink",
        false,
    ),
    bind(
        Notifications,
        &[key('m')],
        "m",
        Action::QueueLetters,
        "queue letters",
        true,
    ),
    bind(
        Notifications,
        &[key('T')],
        "T",
        Action::CheckTemplates,
        "check the templates",
        false,
    ),
    bind(
        Notifications,
        &[key('X')],
        "X",
        Action::ExportLetters,
        "export queued letters (.eml)",
        false,
    ),
    bind(
        Notifications,
        &[key('B')],
        "B",
        Action::ReadBounces,
        "read bounces",
        false,
    ),
    bind(
        Notifications,
        &[key('v')],
        "v",
        Action::PreviewLetter,
        "preview",
        true,
    ),
    bind(
        Notifications,
        &[key('S')],
        "S",
        Action::SendLetters,
        "send",
        true,
    ),
    bind(
        Notifications,
        &[key('R')],
        "R",
        Action::RetryLetters,
        "retry failed",
        true,
    ),
    bind(
        Global,
        &[code(KeyCode::Up), key('k')],
        "↑/k",
        Action::Up,
        "up",
        false,
    ),
    bind(
        Global,
        &[code(KeyCode::Down), key('j')],
        "↓/j",
        Action::Down,
        "down",
        false,
    ),
    bind(
        Global,
        &[code(KeyCode::PageUp)],
        "PgUp",
        Action::PageUp,
        "page up",
        false,
    ),
    bind(
        Global,
        &[code(KeyCode::PageDown)],
        "PgDn",
        Action::PageDown,
        "page down",
        false,
    ),
    bind(
        Global,
        &[code(KeyCode::Home), key('g')],
        "g",
        Action::Top,
        "top",
        false,
    ),
    bind(
        Global,
        &[code(KeyCode::End), key('G')],
        "G",
        Action::Bottom,
        "bottom",
        false,
    ),
    bind(Global, &[key('?')], "?", Action::Help, "help", true),
    bind(Global, &[key('q')], "q", Action::Quit, "quit", true),
    bind(
        Global,
        &[KeyPress {
            code: KeyCode::Char('c'),
            ctrl: true,
        }],
        "Ctrl-C",
        Action::Quit,
        "quit from anywhere",
        false,
    ),
];

/// Normalises a key event: Shift is part of the character, so only Ctrl is kept.
pub fn key_of(event: &KeyEvent) -> KeyPress {
    KeyPress {
        code: event.code,
        ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
    }
}

/// The action bound to `event` in the first of `contexts` that binds it.
pub fn lookup(contexts: &[KeyScope], event: &KeyEvent) -> Option<Action> {
    let pressed = key_of(event);
    contexts.iter().find_map(|ctx| {
        BINDINGS
            .iter()
            .find(|b| b.context == *ctx && b.keys.contains(&pressed))
            .map(|b| b.action)
    })
}

/// Whether `event` is Ctrl-C, which quits from anywhere, dialogs included.
pub fn is_force_quit(event: &KeyEvent) -> bool {
    key_of(event)
        == KeyPress {
            code: KeyCode::Char('c'),
            ctrl: true,
        }
}

/// The footer entries for the active contexts, most specific first.
pub fn footer(contexts: &[KeyScope]) -> Vec<(&'static str, &'static str)> {
    footer_actions(contexts)
        .into_iter()
        .map(|(shown, label, _)| (shown, label))
        .collect()
}

/// [`footer`] with the action of each key, for a click on it. `? help` comes first, so that a
/// narrow screen that cuts the footer never cuts the way to every other key.
pub fn footer_actions(contexts: &[KeyScope]) -> Vec<(&'static str, &'static str, Action)> {
    let mut entries: Vec<(&'static str, &'static str, Action)> = contexts
        .iter()
        .flat_map(|ctx| {
            BINDINGS
                .iter()
                .filter(move |b| b.context == *ctx && b.footer)
        })
        .map(|b| (b.shown, b.label, b.action))
        .collect();
    if let Some(at) = entries.iter().position(|e| e.2 == Action::Help) {
        let help = entries.remove(at);
        entries.insert(0, help);
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.context == b.context {
                    for k in a.keys {
                        assert!(!b.keys.contains(k), "{k:?} bound twice in {:?}", a.context);
                    }
                }
            }
        }
    }

    #[test]
    fn specific_contexts_win() {
        let p = KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE);
        assert_eq!(
            lookup(&[People, Detail, Global], &p),
            Some(Action::TogglePending)
        );
        assert_eq!(lookup(&[Programs, Detail, Global], &p), Some(Action::Pause));
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(lookup(&[Board, Global], &shift_g), Some(Action::Bottom));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(is_force_quit(&ctrl_c));
        assert_eq!(
            lookup(&[People, Detail, Global], &ctrl_c),
            Some(Action::Quit)
        );
    }
}
