//! When an obligation falls due: a rule's deadline from the start of its clock (hours
//! exact, calendar days counted in the rule's time zone across daylight-saving changes),
//! and the time left shown to responders. Which obligations an incident has is `mod.rs`.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, LocalResult, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::Rule;

impl Rule {
    /// The deadline for a clock started at `start`: hours are exact; calendar days are
    /// counted in the rule's time zone, to the same local time (the earlier instant when that
    /// time occurs twice, the first valid one after a skipped hour).
    pub fn due(
        &self,
        start: DateTime<Utc>,
        tz: Tz,
        target_hours: Option<u32>,
    ) -> Option<DateTime<Utc>> {
        if let Some(hours) = self.hours {
            return Some(start + Duration::hours(i64::from(hours)));
        }
        if let Some(days) = self.days {
            if self.business_days {
                return Some(add_business_days(start, days, tz));
            }
            return Some(add_local_days(start, days, tz));
        }
        target_hours.map(|h| start + Duration::hours(i64::from(h)))
    }
}

/// `start` plus `days` calendar days at the same wall-clock time in `tz`.
pub fn add_local_days(start: DateTime<Utc>, days: u32, tz: Tz) -> DateTime<Utc> {
    let local = start.with_timezone(&tz).naive_local() + Duration::days(i64::from(days));
    let mut probe = local;
    for _ in 0..4 {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, _) => return earlier.with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(30),
        }
    }
    start + Duration::days(i64::from(days))
}

/// `start` plus `days` business days (Monday to Friday; public holidays are not known and
/// count as business days) at the same wall-clock time in `tz`.
pub fn add_business_days(start: DateTime<Utc>, days: u32, tz: Tz) -> DateTime<Utc> {
    let mut calendar = 0;
    let mut counted = 0;
    let mut day = start.with_timezone(&tz).date_naive();
    while counted < days {
        day = day.succ_opt().unwrap_or(day);
        calendar += 1;
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            counted += 1;
        }
    }
    add_local_days(start, calendar, tz)
}

/// Time left until `due`, as a short text: `2d 4h`, `5h 12m`, `OVERDUE 3h`.
pub struct TimeLeft(pub Duration);

impl fmt::Display for TimeLeft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.num_seconds();
        let (prefix, secs) = if secs < 0 {
            ("OVERDUE ", -secs)
        } else {
            ("", secs)
        };
        let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
        if d > 0 {
            write!(f, "{prefix}{d}d {h}h")
        } else if h > 0 {
            write!(f, "{prefix}{h}h {m}m")
        } else {
            write!(f, "{prefix}{m}m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadlines::tests::{due, t};

    #[test]
    fn business_days_skip_weekends() {
        let tz: Tz = "America/Sao_Paulo".parse().unwrap();
        // Thursday 3 December 2026, 10:00 local: three business days is Tuesday the 8th.
        let start = t("2026-12-03T13:00:00Z");
        assert_eq!(add_business_days(start, 3, tz), t("2026-12-08T13:00:00Z"));
        // From a Saturday, the first business day is Monday.
        assert_eq!(
            add_business_days(t("2026-12-05T13:00:00Z"), 1, tz),
            t("2026-12-07T13:00:00Z")
        );
    }

    #[test]
    fn hours_are_exact_across_a_dst_change() {
        // Europe moves its clocks on 29 March 2026; 72 hours are 72 hours.
        assert_eq!(
            due("gdpr-33", "2026-03-27T10:00:00Z"),
            Some(t("2026-03-30T10:00:00Z"))
        );
    }

    #[test]
    fn days_keep_the_local_time_across_dst() {
        // California: 10:00 PDT plus 30 days is 10:00 PST after 1 November 2026.
        assert_eq!(
            due("us-ca", "2026-10-20T17:00:00Z"),
            Some(t("2026-11-19T18:00:00Z"))
        );
        assert_eq!(
            due("us-wa", "2026-10-20T17:00:00Z"),
            Some(t("2026-11-19T18:00:00Z"))
        );
        // Colorado: 10:00 MST plus 30 days is 10:00 MDT after 8 March 2026.
        assert_eq!(
            due("us-co", "2026-03-01T17:00:00Z"),
            Some(t("2026-03-31T16:00:00Z"))
        );
        // Florida and HIPAA count in New York; Texas in Chicago.
        assert_eq!(
            due("us-fl", "2026-02-20T15:00:00Z"),
            Some(t("2026-03-22T14:00:00Z"))
        );
        assert_eq!(
            due("hipaa", "2026-09-15T14:00:00Z"),
            Some(t("2026-11-14T15:00:00Z"))
        );
        assert_eq!(
            due("us-tx", "2026-09-15T14:00:00Z"),
            Some(t("2026-11-14T15:00:00Z"))
        );
        assert_eq!(
            due("us-tx-ag", "2026-10-10T14:00:00Z"),
            Some(t("2026-11-09T15:00:00Z"))
        );
        assert_eq!(
            due("us-ca-ag", "2026-10-01T17:00:00Z"),
            Some(t("2026-11-15T18:00:00Z"))
        );
        // No change of offset: exactly N days.
        assert_eq!(
            due("us-ca", "2026-06-01T17:00:00Z"),
            Some(t("2026-07-01T17:00:00Z"))
        );
    }

    #[test]
    fn a_skipped_or_repeated_local_time_resolves_safely() {
        // 02:30 on 14 March 2027 does not exist in New York: the first valid time after it.
        assert_eq!(
            due("us-fl", "2027-02-12T07:30:00Z"),
            Some(t("2027-03-14T07:00:00Z"))
        );
        // 01:30 on 1 November 2026 happens twice in New York: the earlier one.
        assert_eq!(
            due("us-fl", "2026-10-02T05:30:00Z"),
            Some(t("2026-11-01T05:30:00Z"))
        );
    }

    /// Issue 27, item 5: no rule clamps a due date: from the earliest time a user may give
    /// and from today alike, every rule falls due after its clock starts, within its span.
    #[test]
    fn every_rule_falls_due_after_its_start_from_1970_on() {
        let book = super::super::RuleBook::default();
        for start in [DateTime::UNIX_EPOCH, t("2026-11-20T09:00:00Z")] {
            for rule in book.rules() {
                let Some(due) = rule.due(start, chrono_tz::UTC, Some(72)) else {
                    continue;
                };
                let span = due - start;
                assert!(span > Duration::zero(), "{} from {start}: {due}", rule.id);
                assert!(
                    span <= Duration::days(400),
                    "{} from {start}: {due}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn time_left_reads_naturally() {
        assert_eq!(
            TimeLeft(Duration::minutes(61 * 60 + 5)).to_string(),
            "2d 13h"
        );
        assert_eq!(
            TimeLeft(Duration::minutes(5 * 60 + 12)).to_string(),
            "5h 12m"
        );
        assert_eq!(
            TimeLeft(Duration::minutes(-190)).to_string(),
            "OVERDUE 3h 10m"
        );
    }
}
