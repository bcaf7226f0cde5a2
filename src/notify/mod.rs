//! Notifying affected staff: templates, the durable outbox, building messages, and getting
//! them to a mail server (SMTP through lettre, or `.eml` files) with retries, backoff and a
//! rate limit. The desk drives it; this module knows nothing of the screen.

pub mod bounce;
pub mod check;
mod context;
mod lawcheck;
mod lease;
mod letter;
mod mime;
mod outbox;
mod sender;
mod smtp;
mod smtp_send;
mod template;
mod tls;

pub use context::{Contact, IncidentContext, LetterContext, Stats, stats};
pub use lawcheck::{BREACH_HEADINGS, Gap, check as check_letter};
pub use lease::{Holder, LEASE_HOLD, LEASE_RENEW, SendLease};
pub use letter::{LetterError, Sender, header_safe, wire_text};
pub use mime::readable;
pub use outbox::{Delivery, DeliveryState, Notification, NotificationRef, notification_id};
pub use sender::{Attempt, Finished, NoteWait, SentNote, SmtpPool, TOP_UP};
pub use smtp::{
    Outgoing, SendError, SmtpClient, SmtpError, SmtpSettings, SmtpTarget, TlsMode, Transport,
};
pub use template::{Letter, Marks, Source, TemplateError, TemplateName, TemplateSet};
