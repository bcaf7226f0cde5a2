//! The terminal UI: `breachdesk` with no subcommand. The main job of the product.
//!
//! `mod.rs` only sets up the terminal and runs the loop "draw, wait for a key or a tick,
//! update". Top-level state and dispatch live in [`app`], each screen's state, updates and
//! drawing in [`screens`], what a form asks for in [`submit`], keys in [`keymap`].

pub mod action;
pub mod app;
pub mod call;
pub mod contain;
pub mod form;
pub mod keymap;
pub mod live;
pub mod mouse;
pub mod paths;
pub mod screens;
pub mod strings;
pub mod submit;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod worker;

use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{self, Event, KeyEventKind};
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};

use crate::desk::Desk;
use crate::domain::UserName;
use app::App;
use theme::Theme;

/// Runs the UI until the user quits.
pub fn run(
    desk: Arc<dyn Desk>,
    actor: UserName,
    settings: Arc<crate::config::Settings>,
) -> io::Result<()> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(strings::NO_TERMINAL));
    }
    let live = live::Live::start(Arc::clone(&desk));
    let mut app = App::new(desk, actor, Theme::from_env(), Box::new(Utc::now))
        .map_err(io::Error::other)?
        .with_settings(settings)
        .with_live(live);
    terminal::run_in(terminal::FullScreen, || {
        let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        event_loop(&mut term, &mut app)
    })
}

/// Draws, then waits for one input event or a tick, until the app says quit.
pub fn event_loop<B: Backend>(term: &mut Terminal<B>, app: &mut App) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    loop {
        term.draw(|frame| view::render(app, frame))
            .map_err(io::Error::other)?;
        if app.quit {
            return Ok(());
        }
        let wait = if app.is_busy() {
            Duration::from_millis(80)
        } else {
            Duration::from_millis(250)
        };
        if event::poll(wait)? {
            match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => app.handle_key(key),
                Event::Mouse(mouse) => app.handle_mouse(mouse),
                _ => {}
            }
        }
        app.tick();
    }
}
