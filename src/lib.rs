//! breachdesk: an incident-response tracker for privacy breaches.
//!
//! Layers, from the bottom: [`domain`] (plain types and rules), [`store`] (sled or
//! PostgreSQL), the [`desk`] (the one API, the only writer, its operations one table in
//! `desk/ops.rs`), [`remote`] (the same API over the daemon's socket), and the front ends in
//! [`cli`] and [`tui`]. Beside them: [`deadlines`] (the law as data), [`evidence`] (access
//! logs), [`notify`] (letters and SMTP), [`alerts`] (pager and chat), [`report`]; [`sys`]
//! holds the only `unsafe`. `docs/ARCHITECTURE.md` draws the picture.

#![deny(unsafe_code)]

pub mod access;
pub mod alerts;
pub mod audit;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod deadlines;
pub mod demo;
pub mod desk;
pub mod domain;
pub mod evidence;
pub mod files;
pub mod hook;
pub mod identity;
pub mod notify;
pub mod remote;
pub mod report;
pub mod roster;
pub mod store;
#[allow(unsafe_code)]
pub mod sys;
pub mod tui;
