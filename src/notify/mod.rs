//! Notifying affected staff: templates, the durable outbox, building messages, and getting
//! them to a mail server (SMTP through lettre, or `.eml` files) with retries, backoff and a
//! rate limit. The desk drives it; this module knows nothing of the screen.

mod context;
mod letter;
mod outbox;
mod sender;
mod smtp;
mod template;

pub use context::{Contact, IncidentContext, LetterContext, Stats, stats};
pub use letter::{LetterError, Sender, build, header_safe, wire_text};
pub use outbox::{Delivery, DeliveryState, Notification, NotificationRef, notification_id};
pub use sender::{Attempt, Pool, Ticket};
pub use smtp::{
    DirTransport, Outgoing, SendError, SmtpClient, SmtpError, SmtpSettings, TlsMode, Transport,
};
pub use template::{Letter, Source, TemplateError, TemplateName, TemplateSet};
