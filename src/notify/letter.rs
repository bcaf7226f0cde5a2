//! Turning a queued notification into the exact message sent: headers (with every value
//! checked for line breaks), a stable Message-ID, and multipart/alternative text and HTML.
//! The bytes are built once, when the letter is queued, and every attempt sends them.

use chrono::{DateTime, Utc};
use lettre::Address;
use lettre::message::header::{self, Header, HeaderName, HeaderValue, Headers};
use lettre::message::{Mailbox, Mailboxes};
use thiserror::Error;

use super::outbox::Notification;

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LetterError {
    #[error("{field} '{value}' would put a line break or control character into a mail header")]
    HeaderInjection { field: &'static str, value: String },
    #[error("'{0}' is not a usable email address")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// The envelope sender and headers that come from config.
#[derive(Debug, Clone)]
pub struct Sender {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// Where bounces go, as VERP: each letter's envelope sender is `LOCAL+TOKEN@DOMAIN`.
    pub bounce: Option<BounceAddress>,
    /// The From and Reply-To headers, encoded once for every letter.
    from_header: HeaderValue,
    reply_to_header: Option<HeaderValue>,
}

/// The bounce address's two halves, between which each letter's token goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceAddress {
    local: String,
    domain: String,
}

impl BounceAddress {
    /// Parses `bounces@corp.example`: a bare address whose local part has no `+` (the
    /// separator postfix's `recipient_delimiter` splits at).
    pub fn parse(s: &str) -> Result<Self, LetterError> {
        header_safe("bounce_address", s)?;
        let address: Address = s.parse().map_err(|_| LetterError::Address(s.to_owned()))?;
        if address.user().contains('+') {
            return Err(LetterError::Build(format!(
                "bounce_address '{s}' has a '+' in it: each letter adds its own '+TOKEN' there, so give the address without one"
            )));
        }
        Ok(BounceAddress {
            local: address.user().to_owned(),
            domain: address.domain().to_owned(),
        })
    }

    /// The envelope sender for the letter with this bounce token.
    pub fn for_token(&self, token: &str) -> Result<Address, LetterError> {
        Address::new(format!("{}+{token}", self.local), &self.domain)
            .map_err(|e| LetterError::Build(format!("bounce address: {e}")))
    }
}

impl Sender {
    /// Parses `from`, `reply_to` and `bounce_address` from config.
    pub fn new(
        from: &str,
        reply_to: Option<&str>,
        bounce: Option<&str>,
    ) -> Result<Self, LetterError> {
        let parse = |field, s: &str| -> Result<Mailbox, LetterError> {
            header_safe(field, s)?;
            s.parse::<Mailbox>()
                .map_err(|_| LetterError::Address(s.to_owned()))
        };
        let from = parse("from", from)?;
        let reply_to = reply_to.map(|r| parse("reply_to", r)).transpose()?;
        Ok(Sender {
            from_header: header::From::from(Mailboxes::from(from.clone())).display(),
            reply_to_header: reply_to
                .as_ref()
                .map(|r| header::ReplyTo::from(Mailboxes::from(r.clone())).display()),
            from,
            reply_to,
            bounce: bounce.map(BounceAddress::parse).transpose()?,
        })
    }

    /// The domain of the From address, for Message-IDs.
    pub fn domain(&self) -> &str {
        self.from.email.domain()
    }

    /// The envelope sender (`MAIL FROM`) of the letter with this bounce token: the VERP
    /// address when a bounce address is set, else the From address.
    pub fn envelope_from(&self, token: &str) -> Result<Address, LetterError> {
        match &self.bounce {
            Some(bounce) => bounce.for_token(token),
            None => Ok(self.from.email.clone()),
        }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): a letter sent to thousands at once, which
/// out-of-office responders must not answer.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `Content-Language` (RFC 3282): the language the letter is written in.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Refuses values that would break out of a header line.
pub fn header_safe(field: &'static str, value: &str) -> Result<(), LetterError> {
    if value.chars().any(char::is_control) {
        return Err(LetterError::HeaderInjection {
            field,
            value: value.escape_debug().to_string(),
        });
    }
    Ok(())
}

/// The RFC 5322 message for one notification, as sent (CRLF line endings): the headers
/// through lettre's header types (which encode names and subjects), the body through
/// [`super::mime`]. The same notification and sender always give the same bytes.
pub fn wire_text(n: &Notification, sender: &Sender) -> Result<String, LetterError> {
    header_safe("recipient name", &n.to_name)?;
    header_safe("recipient address", &n.to)?;
    header_safe("subject", &n.letter.subject)?;
    header_safe("message id", &n.message_id)?;
    let to_address: Address =
        n.to.parse()
            .map_err(|_| LetterError::Address(n.to.clone()))?;
    let to = Mailbox::new(
        Some(n.to_name.clone()).filter(|s| !s.is_empty()),
        to_address,
    );
    let mut headers = Headers::with_capacity(8);
    headers.insert_raw(sender.from_header.clone());
    headers.set(header::To::from(Mailboxes::from(to)));
    headers.set(header::Subject::from(n.letter.subject.clone()));
    headers.set(header::MessageId::from(n.message_id.clone()));
    headers.set(header::Date::new(system_time(n.queued_at)));
    headers.set(AutoSubmitted);
    // Only a plain tag reaches the header (templates choose among known languages).
    if let Some(language) = n
        .letter
        .language
        .as_deref()
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        headers.set(ContentLanguage(language.to_owned()));
    }
    if let Some(reply_to) = &sender.reply_to_header {
        headers.insert_raw(reply_to.clone());
    }
    let head = headers.to_string();
    let mut out = Vec::with_capacity(head.len() + 2 * (n.letter.text.len() + n.letter.html.len()));
    out.extend_from_slice(head.as_bytes());
    super::mime::alternative(&mut out, &n.letter.text, &n.letter.html);
    String::from_utf8(out)
        .map_err(|_| LetterError::Build("the built message is not valid UTF-8".into()))
}

fn system_time(t: DateTime<Utc>) -> std::time::SystemTime {
    std::time::SystemTime::from(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{IncidentId, UserName};
    use crate::notify::{Letter, NotificationRef, TemplateName};

    fn notification(name: &str, subject: &str) -> Notification {
        Notification::new(
            NotificationRef {
                incident: IncidentId::new(1),
                template: TemplateName::Initial,
                recipient: "E1".into(),
                order: 0,
            },
            "eve@corp.example".into(),
            name.into(),
            Letter {
                subject: subject.into(),
                text: "hello".into(),
                html: "<p>hello</p>".into(),
                marks: Default::default(),
                language: None,
            },
            "corp.example",
            chrono::Utc::now(),
            &UserName::parse("tester").unwrap(),
        )
    }

    #[test]
    fn line_breaks_never_reach_a_header() {
        let sender = Sender::new("privacy@corp.example", None, None).unwrap();
        for (name, subject) in [
            ("Eve\r\nBcc: all@corp.example", "Hi"),
            ("Eve", "Hi\r\nBcc: all@corp.example"),
            ("Eve\u{1b}[2J", "Hi"),
            ("Eve", "Hi\nthere"),
        ] {
            let err = wire_text(&notification(name, subject), &sender).unwrap_err();
            assert!(
                matches!(err, LetterError::HeaderInjection { .. }),
                "{name:?} {subject:?}: {err}"
            );
        }
        assert!(Sender::new("privacy@corp.example\r\nBcc: x@y.z", None, None).is_err());
    }

    #[test]
    fn non_ascii_names_are_encoded_and_message_id_is_stable() {
        let sender = Sender::new("Privacy <privacy@corp.example>", None, None).unwrap();
        let n = notification("Zoë Ødegård", "Your data");
        let text = wire_text(&n, &sender).unwrap();
        assert!(text.contains("To: =?utf-8?"), "{text}");
        assert!(text.is_ascii());
        assert!(
            text.contains("Auto-Submitted: auto-generated\r\n"),
            "{text}"
        );
        assert_eq!(
            n.message_id,
            notification("other", "other").message_id,
            "derived from what, not content"
        );
    }

    #[test]
    fn a_mail_reader_gets_back_both_parts_and_the_headers() {
        let sender = Sender::new(
            "Privacy Team <privacy@corp.example>",
            Some("help@corp.example"),
            None,
        )
        .unwrap();
        let mut n = notification("Zoë Ødegård", "Ihre Daten — what happened");
        n.letter.text = format!("Dear Zoë,\n\n{}\nLine with = sign \n", "long ".repeat(40));
        n.letter.html = "<p style=\"x\">Dear Zoë,</p>\n<p>the end</p>".into();
        n.letter.language = Some("de".into());
        let text = wire_text(&n, &sender).unwrap();
        assert!(text.is_ascii());
        assert_eq!(
            text,
            wire_text(&n, &sender).unwrap(),
            "the same bytes every time"
        );
        let mail = mailparse::parse_mail(text.as_bytes()).unwrap();
        let get = |name: &str| {
            mail.headers
                .iter()
                .find(|h| h.get_key() == name)
                .unwrap()
                .get_value()
        };
        assert_eq!(get("Subject"), "Ihre Daten — what happened");
        assert_eq!(get("To"), "Zoë Ødegård <eve@corp.example>");
        assert_eq!(get("Reply-To"), "help@corp.example");
        assert_eq!(get("Content-Language"), "de");
        assert_eq!(get("Auto-Submitted"), "auto-generated");
        assert_eq!(mail.ctype.mimetype, "multipart/alternative");
        assert_eq!(mail.subparts.len(), 2);
        assert_eq!(mail.subparts[0].ctype.mimetype, "text/plain");
        let plain = mail.subparts[0].get_body().unwrap().replace("\r\n", "\n");
        assert_eq!(plain, n.letter.text);
        assert_eq!(mail.subparts[1].ctype.mimetype, "text/html");
        let html = mail.subparts[1].get_body().unwrap().replace("\r\n", "\n");
        assert_eq!(html, n.letter.html);
    }

    #[test]
    fn the_bounce_address_takes_each_letters_token() {
        let sender =
            Sender::new("privacy@corp.example", None, Some("bounces@corp.example")).unwrap();
        assert_eq!(
            sender
                .envelope_from("0011223344556677")
                .unwrap()
                .to_string(),
            "bounces+0011223344556677@corp.example"
        );
        let plain = Sender::new("privacy@corp.example", None, None).unwrap();
        assert_eq!(
            plain.envelope_from("0011223344556677").unwrap().to_string(),
            "privacy@corp.example"
        );
        for bad in [
            "bounces+x@corp.example",
            "not an address",
            "b@c\r\nBcc: x@y.z",
        ] {
            assert!(
                Sender::new("privacy@corp.example", None, Some(bad)).is_err(),
                "{bad}"
            );
        }
    }
}
