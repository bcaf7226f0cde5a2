//! Rules for free text that people type or import, the sanitiser that makes untrusted text
//! safe to draw on a terminal, and the form of a file name in a message. Making text inert in
//! the files breachdesk writes (CSV, Markdown) is `inert.rs`'s job.

use std::borrow::Cow;
use std::path::Path;

use super::DomainError;

/// Whether a field may span several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line: no control characters at all.
    Single,
    /// Several lines: newline and tab are allowed, other control characters are not.
    Multi,
}

/// Trims `value` and checks it is present, at most `max` characters, and free of control
/// characters (bar newline and tab in multi-line fields).
pub fn checked(
    field: &'static str,
    value: &str,
    max: usize,
    lines: Lines,
) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::Missing { field });
    }
    optional(field, value, max, lines)
}

/// Like [`checked`], but an empty value is allowed.
pub fn optional(
    field: &'static str,
    value: &str,
    max: usize,
    lines: Lines,
) -> Result<String, DomainError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(DomainError::TooLong { field, max });
    }
    let allowed = |c: char| lines == Lines::Multi && (c == '\n' || c == '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(DomainError::ControlCharacter { field });
    }
    Ok(value.to_owned())
}

/// Whether `c` is a Unicode bidirectional control: an embedding, override or isolate
/// (U+202A-U+202E, U+2066-U+2069) or a mark (U+200E, U+200F, U+061C). These make text
/// display in another order than it is stored, so a name or file name could pass for another.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Refuses `value` if it holds a bidirectional control, naming the first one.
pub fn refuse_bidi(field: &'static str, value: &str) -> Result<(), DomainError> {
    match value.chars().find(|c| is_bidi_control(*c)) {
        Some(c) => Err(DomainError::BidiControl {
            field,
            code: u32::from(c),
        }),
        None => Ok(()),
    }
}

/// A path as a message shows it: every control character (C0, DEL, C1) and bidirectional
/// control becomes `?`, as `ls` shows such names, so a crafted file name cannot move the
/// cursor, recolour or reorder the terminal, yet still reads as a name with something odd
/// in it (and, pasted into a shell, matches the file). Also takes a name a client sent.
pub fn display_path(path: impl AsRef<Path>) -> String {
    path.as_ref()
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// Removes terminal control sequences (CSI, OSC and other escapes), control characters and
/// bidirectional controls from untrusted text, so it can be drawn without moving the cursor,
/// changing colours, retitling the window or reordering what is shown. Newlines and tabs
/// become spaces.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(' '),
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' => skip_string(&mut chars),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// A control sequence ends with a byte in `@`..=`~`.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// An operating-system command or device string ends with BEL or ESC `\`.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        if c == '\u{7}' || c == '\u{9c}' {
            break;
        }
        if c == '\u{1b}' {
            if chars.peek() == Some(&'\\') {
                chars.next();
            }
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_trims_and_rejects() {
        assert_eq!(checked("title", "  a ", 10, Lines::Single).unwrap(), "a");
        assert_eq!(
            checked("title", "   ", 10, Lines::Single),
            Err(DomainError::Missing { field: "title" })
        );
        assert_eq!(
            checked("title", "abcdef", 5, Lines::Single),
            Err(DomainError::TooLong {
                field: "title",
                max: 5
            })
        );
        assert_eq!(
            checked("title", "a\nb", 5, Lines::Single),
            Err(DomainError::ControlCharacter { field: "title" })
        );
        assert_eq!(checked("note", "a\nb", 5, Lines::Multi).unwrap(), "a\nb");
        assert!(checked("note", "a\u{1b}[2Jb", 50, Lines::Multi).is_err());
    }

    #[test]
    fn for_terminal_strips_sequences() {
        let cases = [
            ("plain", "plain"),
            ("red\u{1b}[31mtext\u{1b}[0m", "redtext"),
            ("title\u{1b}]0;pwned\u{7}after", "titleafter"),
            ("osc\u{1b}]8;;http://x\u{1b}\\link", "osclink"),
            ("bell\u{7}", "bell"),
            ("two\nlines", "two lines"),
            ("c1\u{9b}2Jx", "c1x"),
            ("trailing\u{1b}", "trailing"),
            ("evil\u{202e}txt.exe", "eviltxt.exe"),
            ("mark\u{200f}\u{2066}ed", "marked"),
        ];
        for (input, want) in cases {
            assert_eq!(for_terminal(input), want, "input {input:?}");
        }
    }

    #[test]
    fn bidi_controls_are_named() {
        for c in [
            '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ] {
            assert!(is_bidi_control(c), "{:04X}", u32::from(c));
        }
        for c in [
            'a', '\u{5d0}', '\u{200d}', '\u{2029}', '\u{202f}', '\u{206a}',
        ] {
            assert!(!is_bidi_control(c), "{:04X}", u32::from(c));
        }
        assert_eq!(refuse_bidi("name", "Ana D\u{ed}az"), Ok(()));
        let err = refuse_bidi("name", "Eve\u{202e}gnp.exe").unwrap_err();
        assert_eq!(
            err,
            DomainError::BidiControl {
                field: "name",
                code: 0x202e
            }
        );
        assert!(
            err.to_string()
                .starts_with("the name holds a bidirectional control character (U+202E)"),
            "{err}"
        );
    }

    #[test]
    fn display_path_replaces_what_could_drive_a_terminal() {
        let cases = [
            ("/tmp/roster.csv", "/tmp/roster.csv"),
            ("/tmp/r\u{1b}[2Jx.csv", "/tmp/r?[2Jx.csv"),
            ("/tmp/a\nb\tc\rd", "/tmp/a?b?c?d"),
            ("del\u{7f}c1\u{9b}", "del?c1?"),
            ("v\u{202e}vsc.exe", "v?vsc.exe"),
            ("/tmp/Dí az.csv", "/tmp/Dí az.csv"),
        ];
        for (input, want) in cases {
            assert_eq!(display_path(Path::new(input)), want, "input {input:?}");
        }
    }
}
