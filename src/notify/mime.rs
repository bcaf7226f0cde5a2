//! The body of a letter as it goes on the wire: multipart/alternative with a text and an
//! HTML part, each quoted-printable. Written here rather than by lettre's message builder
//! because queuing 100,000 letters spent a third of its time there (choosing an encoding,
//! re-parsing the addresses it had just been given, encoding byte by byte); the headers
//! still come from lettre's header types, which encode names and subjects.
//!
//! The boundary is the same for every letter: it starts with `=_`, which quoted-printable
//! text can never contain (a `=` there is always followed by two hex digits or a line
//! break), so no part can end early, and 100,000 letters compress against each other.

/// The boundary between the two parts (RFC 2046: at most 70 characters, quoted in the
/// header because of the `=`).
pub const BOUNDARY: &str = "=_breachdesk-letter";

/// The longest encoded line before a soft break, the `=` of the break not counted
/// (RFC 2045: lines of at most 76 characters).
const LINE: usize = 75;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends the part headers and the quoted-printable body of one part.
fn part(out: &mut Vec<u8>, content_type: &str, body: &str) {
    out.extend_from_slice(b"--");
    out.extend_from_slice(BOUNDARY.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(
        b"; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
    );
    quoted_printable(out, body.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends the header lines that say the message is multipart, then both parts and the
/// closing boundary.
pub fn alternative(out: &mut Vec<u8>, text: &str, html: &str) {
    out.extend_from_slice(
        b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"",
    );
    out.extend_from_slice(BOUNDARY.as_bytes());
    out.extend_from_slice(b"\"\r\n\r\n");
    part(out, "text/plain", text);
    part(out, "text/html", html);
    out.extend_from_slice(b"--");
    out.extend_from_slice(BOUNDARY.as_bytes());
    out.extend_from_slice(b"--\r\n");
}

/// Appends `text` quoted-printable encoded (RFC 2045 6.7): each `\n` (or `\r\n`) becomes a
/// line break, printable ASCII other than `=` stays as it is, everything else is `=XX`,
/// as is a space or tab ending a line, and lines longer than 76 characters get soft breaks.
pub fn quoted_printable(out: &mut Vec<u8>, text: &[u8]) {
    out.reserve(text.len() + text.len() / 16);
    let mut lines = text.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let more = lines.peek().is_some();
        // A `\r` before a `\n` is part of the line break; any other is encoded.
        let line = match line.strip_suffix(b"\r") {
            Some(rest) if more => rest,
            _ => line,
        };
        let blank = |b: u8| b == b' ' || b == b'\t';
        let mut column = 0;
        let mut at = 0;
        while at < line.len() {
            let b = line[at];
            if PLAIN[usize::from(b)] && !(at + 1 == line.len() && blank(b)) {
                // A run of bytes that stay as they are, copied at once up to the line's end.
                if column == LINE {
                    out.extend_from_slice(b"=\r\n");
                    column = 0;
                }
                let limit = line.len().min(at + (LINE - column));
                let mut end = at + 1;
                // Eight bytes at a time while all stay as they are (most of a letter).
                while end + 8 <= limit {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(&line[end..end + 8]);
                    if !all_printable(u64::from_le_bytes(word)) {
                        break;
                    }
                    end += 8;
                }
                while end < limit && PLAIN[usize::from(line[end])] {
                    end += 1;
                }
                if end == line.len() && end - 1 > at && blank(line[end - 1]) {
                    end -= 1;
                }
                out.extend_from_slice(&line[at..end]);
                column += end - at;
                at = end;
            } else {
                if column + 3 > LINE {
                    out.extend_from_slice(b"=\r\n");
                    column = 0;
                }
                out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
                column += 3;
                at += 1;
            }
        }
        if more {
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Whether each of the eight bytes of `word` is printable ASCII or a space, and none is
/// `=`: bytes quoted-printable keeps as they are (a tab, also kept, is left to the byte
/// loop). Each test is the classic one for "some byte is below / above / equal to".
fn all_printable(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    // Adding 1 to each byte sets the high bit of 0x7f; bytes of 0x80 and up have it.
    let above_tilde = (word.wrapping_add(ONES) | word) & HIGH;
    let equals = word ^ (ONES * u64::from(b'='));
    let has_equals = equals.wrapping_sub(ONES) & !equals & HIGH;
    below_space | above_tilde | has_equals == 0
}

/// The bytes quoted-printable keeps as they are: printable ASCII but `=`, and space and
/// tab (except at the end of a line).
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = b'!';
    while b <= b'~' {
        table[b as usize] = b != b'=';
        b += 1;
    }
    table[b' ' as usize] = true;
    table[b'\t' as usize] = true;
    table
};

/// A letter as a person reads it: the headers they see (decoded), then the text part and
/// the HTML part, each decoded from its transfer encoding. What `notify preview` and the
/// terminal UI's preview show; the wire form is `notify preview --raw`.
pub fn readable(message: &str) -> Result<String, String> {
    use mailparse::MailHeaderMap as _;
    let mail = mailparse::parse_mail(message.as_bytes())
        .map_err(|e| format!("the letter does not parse as a mail message: {e}"))?;
    let mut out = String::new();
    for name in ["From", "Reply-To", "To", "Subject"] {
        if let Some(value) = mail.headers.get_first_value(name) {
            out.push_str(&format!("{name}: {value}\n"));
        }
    }
    let mut parts = Vec::new();
    collect_parts(&mail, &mut parts)?;
    for (mimetype, body) in parts {
        let label = match mimetype.as_str() {
            "text/plain" => "text",
            "text/html" => "HTML",
            other => other,
        };
        out.push_str(&format!("\n----- {label} part -----\n"));
        out.push_str(body.replace("\r\n", "\n").trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// The leaf parts of `mail`, in order, with their decoded bodies.
fn collect_parts(
    mail: &mailparse::ParsedMail<'_>,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if mail.subparts.is_empty() {
        let body = mail
            .get_body()
            .map_err(|e| format!("a part of the letter does not decode: {e}"))?;
        out.push((mail.ctype.mimetype.to_ascii_lowercase(), body));
    }
    for part in &mail.subparts {
        collect_parts(part, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bytes_pass_together_exactly_when_each_would_alone() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"plain xy";
                word[at] = b;
                let alone = PLAIN[usize::from(b)] && b != b'\t';
                assert_eq!(
                    all_printable(u64::from_le_bytes(word)),
                    alone,
                    "{b:#x} at {at}"
                );
            }
        }
    }

    fn encode(text: &str) -> String {
        let mut out = Vec::new();
        quoted_printable(&mut out, text.as_bytes());
        String::from_utf8(out).unwrap()
    }

    /// Undoes the encoding the way a mail reader does.
    fn decode(encoded: &str) -> String {
        let bytes = encoded.replace("=\r\n", "").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap().replace("\r\n", "\n")
    }

    #[test]
    fn encoded_text_decodes_to_the_same_and_keeps_its_lines_short() {
        let texts = [
            "Dear Zoë Ødegård,\n\nYour data = exposed.\n".to_owned(),
            "x".repeat(300),
            format!("{} \n\ttab end\t\n", "é".repeat(60)),
            "a = b  \r\nwindows line\r\n".to_owned(),
            String::new(),
            "<p style=\"color: red\">".repeat(20),
            "\u{1b}[2J and a lone \r in the middle".to_owned(),
        ];
        for text in texts {
            let encoded = encode(&text);
            assert!(encoded.is_ascii(), "{encoded}");
            for line in encoded.split("\r\n") {
                assert!(line.len() <= 76, "{} chars: {line}", line.len());
                assert!(
                    !line.ends_with(' ') && !line.ends_with('\t'),
                    "trailing space: {line:?}"
                );
                assert!(!line.contains('\r') && !line.contains('\n'));
            }
            assert!(
                !encoded.contains("=_"),
                "the boundary could appear: {encoded}"
            );
            let expected = text.replace("\r\n", "\n");
            assert_eq!(decode(&encoded), expected, "{text:?}");
        }
    }

    #[test]
    fn the_same_text_is_the_same_bytes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        alternative(&mut a, "hello\n", "<p>hello</p>");
        alternative(&mut b, "hello\n", "<p>hello</p>");
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        assert!(text.starts_with("MIME-Version: 1.0\r\n"), "{text}");
        assert!(text.ends_with("--=_breachdesk-letter--\r\n"), "{text}");
        assert_eq!(text.matches("--=_breachdesk-letter\r\n").count(), 2);
    }

    proptest::proptest! {
        #[test]
        fn any_text_survives_encoding(text in "(?s)[ -~\\t\\n\\r=é€\u{1b}]{0,400}") {
            let encoded = encode(&text);
            for line in encoded.split("\r\n") {
                proptest::prop_assert!(line.len() <= 76);
                proptest::prop_assert!(!line.ends_with(' ') && !line.ends_with('\t'));
            }
            proptest::prop_assert!(!encoded.contains("=_"));
            proptest::prop_assert_eq!(decode(&encoded), text.replace("\r\n", "\n"));
        }
    }
}
