//! Rules for free text that people type or import, and the sanitiser that makes
//! untrusted text safe to draw on a terminal.

use std::borrow::Cow;

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

/// Removes terminal control sequences (CSI, OSC and other escapes) and control characters
/// from untrusted text, so it can be drawn without moving the cursor, changing colours or
/// retitling the window. Newlines and tabs become spaces.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control()) {
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
            c if c.is_control() => {}
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
        ];
        for (input, want) in cases {
            assert_eq!(for_terminal(input), want, "input {input:?}");
        }
    }
}
