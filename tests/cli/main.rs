//! The real binary driven as a user would (assert_cmd): incidents, people, programmes,
//! deadlines and evidence, letters and the law, reports, set-up. One test binary, one link.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/smtp.rs"]
mod smtp;

mod assess;
mod bounces;
mod cli_access;
mod cli_audit;
mod cli_deadlines;
mod cli_incident;
mod cli_people;
mod cli_program;
mod letter_law;
mod report;
mod setup;
