//! The live team view: the desk's change notices (every client's commits, through the
//! daemon) become reloads of what they touch, so a colleague's pause, severity change or new
//! incident shows without a key press. Notices arrive on a thread of their own; the app
//! drains them on each tick and never waits for them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};

use crate::desk::Desk;
use crate::domain::{ChangeNotice, IncidentId, ProgramSlug};

/// The notices of one desk, as they come.
pub struct Live {
    notices: Receiver<ChangeNotice>,
}

impl Live {
    /// Starts watching `desk` as its session's user (through the daemon this opens a connection, so it
    /// happens off the UI thread). A desk that refuses leaves the view as it was: static.
    pub fn start(desk: Arc<dyn Desk>) -> Live {
        let (tx, notices) = mpsc::channel();
        std::thread::spawn(move || {
            let Ok(incoming) = desk.watch() else {
                return;
            };
            for notice in incoming {
                if tx.send(notice).is_err() {
                    return;
                }
            }
        });
        Live { notices }
    }

    /// What has arrived since the last call, without waiting.
    pub fn drain(&self) -> Vec<ChangeNotice> {
        self.notices.try_iter().collect()
    }
}

/// What a batch of notices asks the screen to read again.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Affected {
    pub board: bool,
    /// The open incident (its summary, timeline and tabs).
    pub incident: bool,
}

/// The board shows every incident and its programmes' states, so any change touches it; the
/// open incident is touched by its own changes and by those of its programmes.
pub fn affected(
    notices: &[ChangeNotice],
    open: Option<(IncidentId, &BTreeSet<ProgramSlug>)>,
) -> Affected {
    let incident = open.is_some_and(|(id, programs)| {
        notices.iter().any(|n| {
            n.incident == Some(id) || n.program.as_ref().is_some_and(|p| programs.contains(p))
        })
    });
    Affected {
        board: !notices.is_empty(),
        incident,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AuditAction;

    fn notice(incident: Option<u64>, program: Option<&str>) -> ChangeNotice {
        ChangeNotice {
            seq: 1,
            action: AuditAction::SeverityChanged,
            incident: incident.map(IncidentId::new),
            program: program.map(|p| p.parse().unwrap()),
        }
    }

    #[test]
    fn the_open_incident_reloads_for_its_own_changes_and_its_programmes() {
        let programs: BTreeSet<ProgramSlug> = ["keylogger".parse().unwrap()].into();
        let open = Some((IncidentId::new(3), &programs));
        assert_eq!(affected(&[], open), Affected::default());
        let other = affected(&[notice(Some(1), None)], open);
        assert_eq!((other.board, other.incident), (true, false));
        assert!(affected(&[notice(Some(3), None)], open).incident);
        assert!(affected(&[notice(None, Some("keylogger"))], open).incident);
        assert!(!affected(&[notice(Some(3), None)], None).incident);
    }
}
