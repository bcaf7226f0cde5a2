//! Making text from users inert in the files breachdesk writes: CSV cells that a spreadsheet
//! shows as text instead of running as formulas, and Markdown that renders as exactly the
//! text it holds (no HTML, links, images or headings of its own). Terminal safety is
//! `text.rs`'s job; callers strip control characters before escaping here.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula (or that it drops
/// before looking again): `=`, `+`, `-`, `@`, tab and carriage return.
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell would run, or would run once a leading apostrophe is taken off: it starts
/// with a formula character after any apostrophes. Counting the apostrophes makes
/// [`csv_cell`] exactly reversible by [`csv_cell_restored`].
fn needs_apostrophe(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// A text cell for a CSV file: one starting with `=`, `+`, `-`, `@`, tab or carriage return
/// (after any apostrophes) gets a `'` in front, the OWASP convention that spreadsheets read
/// as "this is text". Only for text that came from users: numbers breachdesk writes itself
/// are written as they are.
pub fn csv_cell(cell: &str) -> Cow<'_, str> {
    if needs_apostrophe(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`csv_cell`] on a cell read back: takes off the one `'` it added, so a file
/// breachdesk exported imports as it was. Other cells are returned unchanged.
pub fn csv_cell_restored(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_apostrophe(rest) => rest,
        _ => cell,
    }
}

/// Escapes text from a user for Markdown, so that it renders as that text: `&`, `<` and
/// `>` become entities (no HTML, no autolinks), and `\`, `` ` ``, `*`, `_`, `~`, `[`, `]`,
/// `(`, `)`, `!`, `#` and `|` get a backslash (no code, emphasis, links, images, headings
/// or table cells). Newlines are kept; see [`markdown_line`] for what a line may start with.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '!' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes what would make a line of a paragraph a block of its own: a leading `-`, `+` or
/// `=` (list item, rule, heading underline) or digits followed by `.` (numbered list), after
/// any spaces. Meant for every line of a paragraph, after [`markdown`] on the user's parts.
pub fn markdown_line(line: &str) -> Cow<'_, str> {
    let body = line.trim_start_matches(' ');
    let indent = line.len() - body.len();
    let digits = body.len() - body.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let at = match body.chars().next() {
        Some('-' | '+' | '=') => indent,
        Some(_) if digits > 0 && body[digits..].starts_with('.') => indent + digits,
        _ => return Cow::Borrowed(line),
    };
    Cow::Owned(format!("{}\\{}", &line[..at], &line[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_would_run_get_an_apostrophe() {
        let cases = [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=1", "''=1"),
            ("Ana Díaz", "Ana Díaz"),
            ("ana@corp.example", "ana@corp.example"),
            ("O'Brien", "O'Brien"),
            ("'quoted'", "'quoted'"),
            ("a=b", "a=b"),
            (" =1", " =1"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(csv_cell(input), want, "input {input:?}");
            assert_eq!(
                csv_cell_restored(&csv_cell(input)),
                input,
                "round trip {input:?}"
            );
        }
    }

    #[test]
    fn restoring_leaves_other_cells_alone() {
        for cell in ["'quoted'", "'", "''", "O'Brien", "'a=b", "plain"] {
            assert_eq!(csv_cell_restored(cell), cell);
        }
        assert_eq!(csv_cell_restored("''=1"), "'=1");
    }

    #[test]
    fn markdown_escapes_html_and_markup() {
        let cases = [
            ("plain text, 3 words.", "plain text, 3 words."),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert\\(1\\)&lt;/script&gt;",
            ),
            ("[click](http://evil)", "\\[click\\]\\(http://evil\\)"),
            (
                "![pixel](http://t/x.png)",
                "\\!\\[pixel\\]\\(http://t/x.png\\)",
            ),
            ("a & b", "a &amp; b"),
            ("&lt;", "&amp;lt;"),
            (
                "*bold* _it_ ~~s~~ `code`",
                "\\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\`code\\`",
            ),
            ("# heading", "\\# heading"),
            ("a|b", "a\\|b"),
            ("back\\slash", "back\\\\slash"),
            ("<http://autolink>", "&lt;http://autolink&gt;"),
            ("two\nlines", "two\nlines"),
        ];
        for (input, want) in cases {
            assert_eq!(markdown(input), want, "input {input:?}");
        }
    }

    #[test]
    fn markdown_lines_cannot_start_a_block() {
        let cases = [
            ("- item", "\\- item"),
            ("+ item", "\\+ item"),
            ("===", "\\==="),
            ("---", "\\---"),
            ("  - nested", "  \\- nested"),
            ("1. first", "1\\. first"),
            ("2026. a year", "2026\\. a year"),
            ("12 people affected", "12 people affected"),
            ("a - b", "a - b"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(markdown_line(input), want, "input {input:?}");
        }
    }
}
