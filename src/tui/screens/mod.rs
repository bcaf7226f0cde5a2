//! The screens of the TUI, one file each: the board, the incident (its title line, its tabs
//! and the forms that act on it) and each incident tab. Each owns its state, the changes to
//! it and its drawing; the app routes actions and the worker's answers to them and starts
//! the jobs they ask for.

pub mod access;
pub mod actions;
pub mod assess;
pub mod board;
pub mod deadlines;
pub mod entries;
pub mod incident;
pub mod letters;
pub mod overview;
pub mod people;
pub mod programmes;
pub mod timeline;

/// Where a selection at `pos` in a list of `len` rows lands after moving `delta` rows.
pub(crate) fn step(pos: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    let target = pos as isize + delta.clamp(-(len as isize), len as isize);
    target.clamp(0, len as isize - 1) as usize
}
