//! The desk as a whole process and as a library on real parts: the daemon on its socket,
//! scenarios on sled and PostgreSQL, sending through a real SMTP server, crashes and faults,
//! purges read back from the disk. One test binary, one link.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/daemon.rs"]
mod daemon_support;
#[path = "../common/http.rs"]
mod http;
#[path = "../common/pg.rs"]
mod pg;
#[path = "../common/smtp.rs"]
mod smtp;
#[path = "../common/smtp_tls.rs"]
mod tls_support;

mod alerts;
mod daemon;
mod desk_scenarios;
mod no_panic;
mod notify;
mod postgres;
mod postgres_faults;
mod purge;
mod smtp_tls;
mod store_on_disk;
