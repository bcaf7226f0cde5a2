//! Colours and emphasis in one place. `NO_COLOR` turns every colour off with one switch;
//! emphasis (bold, reversed) stays so the screen is still readable.

use ratatui::style::{Color, Modifier, Style};

use crate::domain::{ProgramState, Severity};

/// The styles the views draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Self {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    /// No colours at all.
    pub fn plain() -> Self {
        Theme { color: false }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// A severity badge: SEV 0-1 loud, fading to grey at SEV 5.
    pub fn severity(&self, sev: Severity) -> Style {
        if !self.color {
            return if sev.is_critical() {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
        }
        match sev.level() {
            0 => Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
            1 => Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
            2 => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            3 => Style::new().fg(Color::LightBlue),
            4 => Style::new().fg(Color::Cyan),
            _ => Style::new().fg(Color::Gray),
        }
    }

    /// A programme's state: collecting is a warning, a failed pause an alarm.
    pub fn program_state(&self, state: ProgramState) -> Style {
        match state {
            ProgramState::PauseFailed => self.alarm(),
            ProgramState::Active | ProgramState::Pausing | ProgramState::Resuming => self.warning(),
            ProgramState::Paused => self.good(),
            ProgramState::Retired => self.dim(),
        }
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn header(&self) -> Style {
        self.fg(Color::Gray).add_modifier(Modifier::BOLD)
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warning(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn alarm(&self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::LightRed)
    }

    pub fn input(&self) -> Style {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }
}
