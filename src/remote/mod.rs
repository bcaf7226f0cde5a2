//! Team mode: a daemon that owns the database, and the desk that talks to it.

mod calls;
mod client;
mod dispatch;
mod frames;
pub(crate) mod hex;
pub mod protocol;
mod server;
mod upload;
mod watch;

pub use client::RemoteDesk;
pub use server::{ServeError, serve, serve_until};
