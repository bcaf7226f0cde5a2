//! The screens of the TUI, one file each: the board, and the incident tabs that hold state
//! of their own. Each owns its state and its drawing; the app routes actions and the
//! worker's answers to them.

pub mod board;
pub mod people;
