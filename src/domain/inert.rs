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

/// Where a renderer could find a link in plain text (GitHub-flavoured Markdown's extended
/// autolinks, a mail client's or a wiki's): the `:` of `scheme://` and of `mailto:` and
/// `xmpp:`, the `.` after a word-initial `www`, and an `@` between the parts of an
/// address. Breaking the text there keeps every bare URL, `www.` name and address inert,
/// and leaves every other character (a time's `14:00`, a label's `finding:`) alone.
fn breaks_link(before: &str, c: char, after: &str) -> bool {
    let word_start = |at: usize| {
        before[..at]
            .chars()
            .next_back()
            .is_none_or(|p| !p.is_alphanumeric())
    };
    let ends_with_word = |word: &str| {
        before.len() >= word.len()
            && before.is_char_boundary(before.len() - word.len())
            && before[before.len() - word.len()..].eq_ignore_ascii_case(word)
            && word_start(before.len() - word.len())
    };
    match c {
        ':' => {
            (after.starts_with("//")
                && before
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_ascii_alphabetic()))
                || ends_with_word("mailto")
                || ends_with_word("xmpp")
        }
        '@' => {
            before
                .chars()
                .next_back()
                .is_some_and(|p| p.is_alphanumeric() || "._+-".contains(p))
                && after.chars().next().is_some_and(char::is_alphanumeric)
        }
        '.' => ends_with_word("www"),
        _ => false,
    }
}

/// Text for HTML from a user: `&`, `<`, `>`, `"` and `'` become entities, and a `<wbr>` (an
/// invisible break that copies as nothing) goes where a bare URL, `www.` name or address
/// would otherwise be turned into a link by whatever shows the page.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (at, c) in text.char_indices() {
        if breaks_link(&text[..at], c, &text[at + c.len_utf8()..]) {
            out.push_str("<wbr>");
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text from a user for Markdown, so that it renders as that text and still reads
/// as text where the file is read raw (no HTML entities): `&`, `<`, `>` (no HTML, no entity),
/// `\`, `` ` ``, `*`, `_`, `~`, `[`, `]`, `(`, `)`, `!`, `#` and `|` get a backslash (no code,
/// emphasis, links, images, headings or table cells), and
/// so does what would make a bare URL, a `www.` name or an address an autolink (see
/// `breaks_link`): the text renders the same, but as text. Newlines are kept; see
/// [`markdown_line`] for what a line may start with.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (at, c) in text.char_indices() {
        if breaks_link(&text[..at], c, &text[at + c.len_utf8()..]) {
            out.push('\\');
        }
        match c {
            '\\' | '`' | '&' | '<' | '>' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '!' | '#'
            | '|' => {
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
                "\\<script\\>alert\\(1\\)\\</script\\>",
            ),
            ("[click](http://evil)", "\\[click\\]\\(http\\://evil\\)"),
            (
                "![pixel](http://t/x.png)",
                "\\!\\[pixel\\]\\(http\\://t/x.png\\)",
            ),
            ("a & b", "a \\& b"),
            ("&lt;", "\\&lt;"),
            (
                "Acme <privacy@acme.example>",
                "Acme \\<privacy\\@acme.example\\>",
            ),
            (
                "*bold* _it_ ~~s~~ `code`",
                "\\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\`code\\`",
            ),
            ("# heading", "\\# heading"),
            ("a|b", "a\\|b"),
            ("back\\slash", "back\\\\slash"),
            ("<http://autolink>", "\\<http\\://autolink\\>"),
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

    /// Issue 27, item 10: a bare URL, a `www.` name or an address in a note was a live link
    /// in the Markdown report (GitHub-flavoured Markdown autolinks them).
    #[test]
    fn bare_links_are_broken_where_an_autolinker_would_start() {
        assert_eq!(
            markdown("see http://evil.example/x or www.evil.example, mail a@b.example"),
            "see http\\://evil.example/x or www\\.evil.example, mail a\\@b.example"
        );
        assert_eq!(
            markdown("at 14:00, WWW.X.example"),
            "at 14:00, WWW\\.X.example"
        );
        assert_eq!(markdown("awww.example"), "awww.example");
        assert_eq!(markdown("finding: mailto:x"), "finding: mailto\\:x");
        assert_eq!(markdown("a @ b, x@"), "a @ b, x@");
        assert_eq!(
            html("<a href='x'>http://e.example www.e.example</a>"),
            "&lt;a href=&#39;x&#39;&gt;http<wbr>://e.example www<wbr>.e.example&lt;/a&gt;"
        );
    }
}
