//! Report text and how each format escapes it. Headings and paragraphs keep breachdesk's
//! own words apart from text that came from users (titles, summaries, names, reasons, file
//! names), so Markdown can escape exactly the users' text and HTML can escape everything.
//! The layout of a report is `report.rs`'s job.

use crate::domain::inert;
use crate::domain::text::for_terminal;

/// One piece of report text.
enum Piece {
    /// breachdesk's own words and values it formats itself (times, counts, states, ids).
    Own(String),
    /// Text a user typed or imported: rendered as text, never as markup.
    User(String),
}

/// A heading or a paragraph, as pieces. A paragraph may span lines (`\n`).
pub(super) struct Text(Vec<Piece>);

impl Text {
    /// breachdesk's own words.
    pub(super) fn own(text: impl Into<String>) -> Text {
        Text(vec![Piece::Own(text.into())])
    }

    /// Text that came from a user.
    pub(super) fn user(text: impl Into<String>) -> Text {
        Text(vec![Piece::User(text.into())])
    }

    /// Appends breachdesk's own words.
    pub(super) fn and(mut self, text: impl Into<String>) -> Text {
        self.0.push(Piece::Own(text.into()));
        self
    }

    /// Appends text that came from a user.
    pub(super) fn and_user(mut self, text: impl Into<String>) -> Text {
        self.0.push(Piece::User(text.into()));
        self
    }

    /// Several texts as the lines of one paragraph.
    pub(super) fn lines(texts: Vec<Text>) -> Text {
        let mut out = Text(Vec::new());
        for (n, text) in texts.into_iter().enumerate() {
            if n > 0 {
                out.0.push(Piece::Own("\n".into()));
            }
            out.0.extend(text.0);
        }
        out
    }

    /// Every piece as it is, for a format that escapes all text alike (HTML).
    pub(super) fn plain(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Own(t) | Piece::User(t) => t.as_str(),
            })
            .collect()
    }

    /// Markdown, line breaks kept: control characters stripped from every piece, then the
    /// users' pieces escaped. Stripping comes first, so that an escape sequence cannot
    /// swallow the backslash put in front of a character.
    pub(super) fn markdown(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Own(t) => terminal_safe_lines(t),
                Piece::User(t) => inert::markdown(&terminal_safe_lines(t)),
            })
            .collect()
    }
}

/// Control characters and sequences removed from each line; the line breaks stay.
fn terminal_safe_lines(text: &str) -> String {
    let lines: Vec<_> = text.split('\n').map(for_terminal).collect();
    lines.join("\n")
}

/// A Markdown heading's text, on one line.
pub(super) fn md_heading(text: &Text) -> String {
    text.markdown().replace('\n', " ")
}

/// The lines of a Markdown paragraph, none of which can start a block of its own (a list,
/// a rule, a heading underline).
pub(super) fn md_paragraph(text: &Text) -> Vec<String> {
    text.markdown()
        .lines()
        .map(|line| inert::markdown_line(line).into_owned())
        .collect()
}

/// A Markdown table cell: every cell is escaped as a user's text, since most cells are
/// (names, reasons, timeline details) and escaping the others changes nothing they show.
pub(super) fn md_cell(text: &str) -> String {
    inert::markdown(&for_terminal(text))
}

/// Text for HTML: control characters stripped, then escaped, links made inert.
pub(super) fn html(text: &str) -> String {
    inert::html(&for_terminal(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_markdown_cells_are_escaped() {
        assert_eq!(html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
        assert!(!html("x\u{1b}[2Jy").contains('\u{1b}'));
    }

    #[test]
    fn markdown_escapes_only_what_users_wrote() {
        let text = Text::own("[to be determined] by ")
            .and_user("<script>alert(1)</script> [click](http://evil)")
            .and(".");
        assert_eq!(
            md_heading(&text),
            "[to be determined] by \\<script\\>alert\\(1\\)\\</script\\> \\[click\\]\\(http\\://evil\\)."
        );
        assert_eq!(
            text.plain(),
            "[to be determined] by <script>alert(1)</script> [click](http://evil)."
        );
    }

    #[test]
    fn markdown_paragraph_lines_cannot_become_blocks() {
        let text = Text::user("fine\n# Legal obligations\n- all met\n1. done\n===");
        assert_eq!(
            md_paragraph(&text),
            [
                "fine",
                "\\# Legal obligations",
                "\\- all met",
                "1\\. done",
                "\\==="
            ]
        );
    }

    #[test]
    fn escape_sequences_cannot_swallow_an_escape() {
        // Stripped before escaping: ESC followed by the backslash of `\[` would otherwise
        // leave a bare `[` behind.
        let text = Text::user("a\u{1b}[31m[x](http://evil)");
        let md = md_heading(&text);
        assert!(!md.contains("[x]"), "{md}");
        assert!(!md.contains('\u{1b}'), "{md}");
    }
}
