//! Entering and leaving the full-screen terminal, as a small state machine that leaves the
//! terminal exactly once: on normal exit, on error, and on panic (a panic hook restores the
//! terminal before the panic message is printed, so the message is readable).

use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// A way of taking over the terminal and giving it back.
pub trait TerminalMode: Send {
    fn enter(&mut self) -> io::Result<()>;
    fn leave(&mut self) -> io::Result<()>;
}

/// Raw mode, the alternate screen and a hidden cursor, through crossterm.
pub struct FullScreen;

impl TerminalMode for FullScreen {
    fn enter(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, Hide, EnableMouseCapture)
    }

    fn leave(&mut self) -> io::Result<()> {
        let raw = disable_raw_mode();
        let screen = execute!(
            io::stdout(),
            DisableMouseCapture,
            LeaveAlternateScreen,
            Show
        );
        let _ = io::stdout().flush();
        raw.and(screen)
    }
}

/// Whether the terminal is taken over.
struct Guarded<M> {
    mode: M,
    entered: bool,
}

impl<M: TerminalMode> Guarded<M> {
    fn leave(&mut self) -> io::Result<()> {
        if !self.entered {
            return Ok(());
        }
        self.entered = false;
        self.mode.leave()
    }
}

/// Takes over the terminal with `mode`, runs `body`, and gives the terminal back however
/// `body` ends. A panic in `body` is passed on after the terminal is restored.
pub fn run_in<M, T>(mode: M, body: impl FnOnce() -> io::Result<T>) -> io::Result<T>
where
    M: TerminalMode + 'static,
{
    let guarded = Arc::new(Mutex::new(Guarded {
        mode,
        entered: false,
    }));
    {
        let mut g = guarded.lock().unwrap_or_else(PoisonError::into_inner);
        g.entered = true;
        if let Err(e) = g.mode.enter() {
            let _ = g.leave();
            return Err(e);
        }
    }
    let previous: Arc<dyn Fn(&panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(panic::take_hook());
    let for_hook = Arc::clone(&guarded);
    let chained = Arc::clone(&previous);
    panic::set_hook(Box::new(move |info| {
        if let Ok(mut g) = for_hook.try_lock() {
            let _ = g.leave();
        }
        chained(info);
    }));

    let outcome = panic::catch_unwind(AssertUnwindSafe(body));

    let _ = panic::take_hook();
    panic::set_hook(Box::new(move |info| previous(info)));
    let left = guarded
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .leave();
    match outcome {
        Ok(result) => {
            let value = result?;
            left.map(|()| value)
        }
        Err(payload) => panic::resume_unwind(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The panic hook is the process's: the tests that replace it (through `run_in` or
    /// themselves) take turns, or one's hook can stand in for the other's.
    static PANIC_HOOK: Mutex<()> = Mutex::new(());

    /// Records what was done to the "terminal".
    struct Recorder(Arc<Mutex<Vec<&'static str>>>);

    impl TerminalMode for Recorder {
        fn enter(&mut self) -> io::Result<()> {
            self.0.lock().unwrap().push("enter");
            Ok(())
        }
        fn leave(&mut self) -> io::Result<()> {
            self.0.lock().unwrap().push("leave");
            Ok(())
        }
    }

    #[test]
    fn normal_exit_and_error_leave_once() {
        let _turn = PANIC_HOOK.lock().unwrap_or_else(PoisonError::into_inner);
        let log = Arc::new(Mutex::new(Vec::new()));
        assert_eq!(run_in(Recorder(Arc::clone(&log)), || Ok(7)).unwrap(), 7);
        let failed: io::Result<()> =
            run_in(Recorder(Arc::clone(&log)), || Err(io::Error::other("boom")));
        assert!(failed.is_err());
        assert_eq!(*log.lock().unwrap(), ["enter", "leave", "enter", "leave"]);
    }

    #[test]
    fn panic_restores_the_terminal_before_the_message_and_passes_the_panic_on() {
        let _turn = PANIC_HOOK.lock().unwrap_or_else(PoisonError::into_inner);
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen_by_hook = Arc::new(Mutex::new(Vec::new()));
        let (log2, seen2) = (Arc::clone(&log), Arc::clone(&seen_by_hook));
        // The "previous" hook stands for the one that prints the panic message: by the time
        // it runs, the terminal must already be restored.
        let original = panic::take_hook();
        panic::set_hook(Box::new(move |_| {
            *seen2.lock().unwrap() = log2.lock().unwrap().clone();
        }));
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            run_in(Recorder(Arc::clone(&log)), || -> io::Result<()> {
                panic!("render bug")
            })
        }));
        panic::set_hook(original);
        assert!(outcome.is_err(), "the panic is passed on");
        assert_eq!(*seen_by_hook.lock().unwrap(), ["enter", "leave"]);
        assert_eq!(
            *log.lock().unwrap(),
            ["enter", "leave"],
            "left exactly once"
        );
    }
}
