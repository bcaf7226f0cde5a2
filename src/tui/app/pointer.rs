//! Mouse input: what a click or the wheel does, looked up in where the last frame drew each
//! thing (`tui/mouse.rs`). Every click does what a key does; nothing here is mouse-only.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::{App, Dialog};
use crate::tui::action::Action;
use crate::tui::mouse::Hit;
use crate::tui::screens::incident::Tab;

impl App {
    /// Takes one mouse event.
    pub fn handle_mouse(&mut self, event: MouseEvent) {
        if self.help {
            if matches!(event.kind, MouseEventKind::Down(_)) {
                self.help = false;
            }
            return;
        }
        match event.kind {
            MouseEventKind::ScrollDown => self.wheel(1),
            MouseEventKind::ScrollUp => self.wheel(-1),
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(hit) = self.hits.at(event.column, event.row) {
                    self.click(hit);
                }
            }
            _ => {}
        }
    }

    fn wheel(&mut self, delta: isize) {
        match self.dialog.as_mut() {
            Some(Dialog::Panel(panel)) => {
                panel.scroll = if delta > 0 {
                    (panel.scroll + 3).min(panel.lines.len().saturating_sub(1))
                } else {
                    panel.scroll.saturating_sub(3)
                };
            }
            Some(Dialog::Form(form)) => {
                let n = form.fields.len().max(1);
                form.focus = if delta > 0 {
                    (form.focus + 1) % n
                } else {
                    (form.focus + n - 1) % n
                };
            }
            None => self.update(if delta > 0 { Action::Down } else { Action::Up }),
        }
    }

    fn click(&mut self, hit: Hit) {
        match hit {
            Hit::Submit => {
                if let Some(Dialog::Form(form)) = self.dialog.take() {
                    self.submit(form);
                } else {
                    self.dialog = None;
                }
            }
            Hit::Cancel => self.dialog = None,
            Hit::Field(i) => {
                if let Some(Dialog::Form(form)) = self.dialog.as_mut()
                    && i < form.fields.len()
                {
                    form.focus = i;
                }
            }
            // Clicks behind a dialog do nothing: it takes input first.
            _ if self.dialog.is_some() => {}
            Hit::Key(action) => self.update(action),
            Hit::Tab(tab) => {
                if let Some(d) = self.detail.as_mut() {
                    d.tab = tab;
                }
                self.load_tab();
            }
            Hit::Row(i) => {
                let selected = match &self.detail {
                    None => self.board.selected,
                    Some(d) => match d.tab {
                        Tab::Timeline => d.timeline.selected,
                        Tab::People => d.people.selected,
                        Tab::Programs => d.programs.selected,
                        _ => return,
                    },
                };
                if i == selected {
                    self.update(Action::Open);
                } else {
                    let delta = isize::try_from(i).unwrap_or(isize::MAX)
                        - isize::try_from(selected).unwrap_or(0);
                    let _ = self.move_by(delta);
                }
            }
        }
    }
}
