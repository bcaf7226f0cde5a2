//! One letter over an SMTP connection, pipelined (RFC 2920) when the server offers it: MAIL,
//! RCPT and DATA go in one write, and when the caller already holds its next letter, that
//! letter's MAIL, RCPT and DATA follow this letter's body in the same write. A steady send so
//! costs one round trip a letter instead of two.
//!
//! The next letter's body is never written in the call that sends this one: it goes out in
//! the caller's next call, after the caller has seen this letter's reply and noted it. So a
//! connection still holds at most one letter the server may have accepted without a record
//! of it. A transaction opened ahead and then never used (the send stopped, or the caller
//! went on with another letter) is abandoned with its connection: without the closing
//! `CRLF.CRLF` a server delivers nothing.

use std::fmt;

use lettre::transport::smtp::client::SmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::response::Response;

use super::smtp::{Outgoing, SendError, SmtpClient, Transport, classify};

/// A transaction opened ahead of its body, for the letter with this Message-ID.
pub(super) enum Ahead {
    /// MAIL, RCPT and DATA were accepted: the server waits for the body.
    Open(String),
    /// The server refused MAIL or RCPT (the reply, as the letter's outcome).
    Refused(String, SendError),
}

impl Transport for SmtpClient {
    fn send(
        &mut self,
        message: &Outgoing<'_>,
        next: Option<&Outgoing<'_>>,
    ) -> Result<(), SendError> {
        let opened = match self.ahead.take() {
            Some(Ahead::Open(id)) if id == message.id => true,
            Some(Ahead::Refused(id, error)) if id == message.id => {
                return Err(self.failed(error));
            }
            // Opened for a letter that is not coming: the server is waiting for its body,
            // so the connection cannot be used for anything else.
            Some(Ahead::Open(_)) => {
                self.conn = None;
                false
            }
            Some(Ahead::Refused(..)) => {
                self.reset();
                false
            }
            None => false,
        };
        if !opened {
            self.open_transaction(message)?;
        }
        let ahead_for = next.filter(|n| self.pipelining && n.id != message.id);
        let conn = self.connection()?;
        let reply = match ahead_for {
            Some(n) => {
                let mail = Mail::new(Some(n.from.clone()), vec![]);
                let rcpt = Rcpt::new(n.to.clone(), vec![]);
                let reply = conn.command(BodyThen(DataBody(message.data), Envelope(&mail, &rcpt)));
                // Every reply the server owes is read, even after a refused body, so the
                // connection stays in step; a connection that failed owes nothing more.
                if reply.as_ref().map_or_else(is_server_reply, |_| true) {
                    let mail = conn.read_response();
                    self.ahead = match envelope_outcome(mail, conn) {
                        Opened::Yes => Some(Ahead::Open(n.id.to_owned())),
                        Opened::Refused(e) => {
                            Some(Ahead::Refused(n.id.to_owned(), classify(&e, "sending")))
                        }
                        Opened::Unusable(_) => {
                            self.conn = None;
                            None
                        }
                    };
                }
                reply
            }
            None => conn.command(DataBody(message.data)),
        };
        match reply {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(classify(&e, "sending"))),
        }
    }
}

impl SmtpClient {
    /// MAIL, RCPT and DATA for `message` (in one write when the server pipelines).
    fn open_transaction(&mut self, message: &Outgoing<'_>) -> Result<(), SendError> {
        let pipelining = {
            self.connection()?;
            self.pipelining
        };
        let conn = self.connection()?;
        let mail = Mail::new(Some(message.from.clone()), vec![]);
        let rcpt = Rcpt::new(message.to.clone(), vec![]);
        let opened = if pipelining {
            let replied = conn.command(Envelope(&mail, &rcpt));
            envelope_outcome(replied, conn)
        } else {
            match conn
                .command(mail)
                .and_then(|_| conn.command(rcpt))
                .and_then(|_| conn.command(Data))
            {
                Ok(_) => Opened::Yes,
                Err(e) if is_server_reply(&e) => Opened::Refused(e),
                Err(e) => Opened::Unusable(e),
            }
        };
        match opened {
            Opened::Yes => Ok(()),
            Opened::Refused(e) => Err(self.failed(classify(&e, "sending"))),
            Opened::Unusable(e) => {
                self.conn = None;
                Err(self.failed(classify(&e, "sending")))
            }
        }
    }

    /// After a refused letter: a transient failure or a broken connection starts the next
    /// letter on a fresh connection; a permanent one resets the transaction (unless the
    /// next letter's is already open or refused: the server began it after ending this one,
    /// and a refused one is reset before the letter after it).
    fn failed(&mut self, failure: SendError) -> SendError {
        let broken = self.conn.as_ref().is_none_or(SmtpConnection::has_broken);
        if matches!(failure, SendError::Transient(_)) || broken {
            if let Some(mut conn) = self.conn.take()
                && !matches!(self.ahead, Some(Ahead::Open(_)))
            {
                conn.abort();
            }
            self.ahead = None;
        } else if self.ahead.is_none() {
            self.reset();
        }
        failure
    }

    /// RSET, or a fresh connection when that fails.
    fn reset(&mut self) {
        if let Some(conn) = self.conn.as_mut()
            && conn.command(Rset).is_err()
        {
            self.conn = None;
        }
    }

    /// Ends the session: QUIT, unless the server waits for a body that will not come (then
    /// the connection is just closed, which abandons that transaction).
    pub(super) fn close(&mut self) {
        if let Some(mut conn) = self.conn.take()
            && !matches!(self.ahead, Some(Ahead::Open(_)))
        {
            let _ = conn.quit();
        }
        self.ahead = None;
    }
}

/// Whether the server answered (as opposed to the connection failing).
fn is_server_reply(e: &lettre::transport::smtp::Error) -> bool {
    e.is_transient() || e.is_permanent()
}

/// How a pipelined MAIL, RCPT and DATA ended.
enum Opened {
    /// All three accepted: the server waits for the body.
    Yes,
    /// Refused by the server, which is back to waiting for commands.
    Refused(lettre::transport::smtp::Error),
    /// The connection failed, or the server refused MAIL or RCPT yet took DATA and now
    /// waits for a body: the connection cannot be used again.
    Unusable(lettre::transport::smtp::Error),
}

/// Reads the replies to RCPT and DATA after MAIL's (`mail`): all three are read even after
/// a refusal, so the connection stays in step.
fn envelope_outcome(
    mail: Result<Response, lettre::transport::smtp::Error>,
    conn: &mut SmtpConnection,
) -> Opened {
    let rcpt = conn.read_response();
    let data = conn.read_response();
    match (mail, rcpt, data) {
        (Ok(_), Ok(_), Ok(_)) => Opened::Yes,
        (Err(e), _, Ok(_)) | (_, Err(e), Ok(_)) => Opened::Unusable(e),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) if is_server_reply(&e) => {
            Opened::Refused(e)
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Opened::Unusable(e),
    }
}

/// MAIL, RCPT and DATA pipelined into one write.
struct Envelope<'a>(&'a Mail, &'a Rcpt);

impl fmt::Display for Envelope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.0, self.1, Data)
    }
}

/// A body followed by the next letter's envelope, in one write.
struct BodyThen<'a>(DataBody<'a>, Envelope<'a>);

impl fmt::Display for BodyThen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.0, self.1)
    }
}

/// The message content of a DATA transaction: dot-stuffed, ending in `CRLF.CRLF`, written in
/// one piece.
struct DataBody<'a>(&'a str);

impl fmt::Display for DataBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A line starting with a dot gets a second one: found by searching for "\n." (and
        // the start), not by walking every line; with memchr's search, as the standard
        // library's took 3% of a send's CPU for this two-byte pattern.
        let body = self.0;
        if body.starts_with('.') {
            f.write_str(".")?;
        }
        let mut from = 0;
        for at in memchr::memmem::find_iter(body.as_bytes(), b"\n.") {
            f.write_str(&body[from..=at])?;
            f.write_str(".")?;
            from = at + 1;
        }
        f.write_str(&body[from..])?;
        if !body.ends_with("\r\n") {
            f.write_str("\r\n")?;
        }
        f.write_str(".\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_dot_stuffed_and_terminated_once() {
        let body = DataBody("Subject: x\r\n\r\n.hidden\r\nline\r\n").to_string();
        assert_eq!(body, "Subject: x\r\n\r\n..hidden\r\nline\r\n.\r\n");
        assert_eq!(DataBody("no newline").to_string(), "no newline\r\n.\r\n");
        assert_eq!(
            DataBody(".a\r\n..b\r\nc.\r\n.\r\n").to_string(),
            "..a\r\n...b\r\nc.\r\n..\r\n.\r\n"
        );
        assert_eq!(DataBody("").to_string(), "\r\n.\r\n");
    }
}
