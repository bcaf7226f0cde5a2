//! The mouse, where it helps: a click on a tab opens it, on a row selects it (on the
//! selected row, opens it as Enter does), on a form's field focuses it, on a key in the
//! footer does what the key does (in a dialog, `Enter submit` and `Esc cancel` are its
//! buttons); the wheel scrolls lists, panels and forms. The keyboard stays complete.
//!
//! Drawing records where each of these is on the screen (`Hits`); a click is looked up in
//! what the last frame recorded, so the regions are exactly what the user sees.

use std::cell::RefCell;

use ratatui::layout::{Position, Rect};

use crate::tui::action::Action;
use crate::tui::app::Tab;

/// What a region of the last frame stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Tab(Tab),
    /// A row of the list on screen (the board, or the open tab's), by its index.
    Row(usize),
    /// A field of the open form, by its index.
    Field(usize),
    /// A key shown in the footer.
    Key(Action),
    Submit,
    Cancel,
}

/// The regions the last frame drew, cleared when the next one starts.
#[derive(Debug, Default)]
pub struct Hits(RefCell<Vec<(Rect, Hit)>>);

impl Hits {
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }

    pub fn add(&self, area: Rect, hit: Hit) {
        if area.width > 0 && area.height > 0 {
            self.0.borrow_mut().push((area, hit));
        }
    }

    /// What is at column `x`, row `y`; the last drawn wins (a dialog over the screen).
    pub fn at(&self, x: u16, y: u16) -> Option<Hit> {
        self.0
            .borrow()
            .iter()
            .rev()
            .find(|(r, _)| r.contains(Position { x, y }))
            .map(|(_, h)| *h)
    }

    /// Records the rows of a bordered table drawn in `area` (with a header line when
    /// `header`), the first of them entry `first`.
    pub fn table(&self, area: Rect, header: bool, first: usize, count: usize) {
        let inner = area.inner(ratatui::layout::Margin::new(1, 1));
        let skip = u16::from(header);
        self.rows(
            Rect {
                y: inner.y + skip,
                height: inner.height.saturating_sub(skip),
                ..inner
            },
            first,
            count,
        );
    }

    /// Records one row per visible list entry: `first` is the index of the entry drawn
    /// at `area.y`.
    pub fn rows(&self, area: Rect, first: usize, count: usize) {
        for i in 0..count {
            let Ok(dy) = u16::try_from(i) else { break };
            if dy >= area.height {
                break;
            }
            self.add(
                Rect {
                    x: area.x,
                    y: area.y + dy,
                    width: area.width,
                    height: 1,
                },
                Hit::Row(first + i),
            );
        }
    }
}
