//! The incident lifecycle and which moves it allows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// Where an incident stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Investigating,
    Contained,
    Resolved,
    Closed,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 5] = [
        Status::Open,
        Status::Investigating,
        Status::Contained,
        Status::Resolved,
        Status::Closed,
    ];

    /// The statuses an incident may move to from this one.
    pub fn allowed_next(self) -> &'static [Status] {
        use Status::*;
        match self {
            Open => &[Investigating, Contained, Closed],
            Investigating => &[Contained, Resolved, Closed],
            Contained => &[Investigating, Resolved],
            Resolved => &[Closed, Investigating],
            Closed => &[Investigating],
        }
    }

    /// Whether a move from this status to `next` is allowed.
    pub fn can_move_to(self, next: Status) -> bool {
        self.allowed_next().contains(&next)
    }

    /// Resolved or closed: the exposure is over.
    pub fn is_settled(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }

    /// The lowercase name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Investigating => "investigating",
            Status::Contained => "contained",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| DomainError::UnknownStatus {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_can_be_left_and_reached() {
        for st in Status::ALL {
            assert!(!st.allowed_next().is_empty(), "{st} is a dead end");
            assert!(!st.can_move_to(st), "{st} moves to itself");
            let reachable = Status::ALL.iter().any(|from| from.can_move_to(st));
            assert!(st == Status::Open || reachable, "{st} unreachable");
        }
    }

    #[test]
    fn parses_case_insensitively() {
        assert_eq!("Contained".parse::<Status>(), Ok(Status::Contained));
        assert!("done".parse::<Status>().is_err());
    }
}
