//! Times as a responder types them: `now`; `-2h`, `-30m`, `-3d` (that long before now);
//! `today 09:00`, `yesterday 14:30` and a bare `14:30` (today); a date with a clock time,
//! `2026-11-20 14:30`; clock times are in the local time zone. And RFC 3339 with its offset,
//! `2026-11-20T14:30:00Z`. The command line and the terminal UI read times alike.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};

/// How far ahead of the clock a time a user gives may be, for clocks that disagree.
pub const AHEAD: Duration = Duration::days(1);

/// Why a time a user gave is not one an event can have happened at: before 1970-01-01
/// (no record of a breach is older, and nothing computes sensibly from there), or more than
/// [`AHEAD`] after `now`. `None` for a sane time.
pub fn insane(at: DateTime<Utc>, now: DateTime<Utc>) -> Option<String> {
    if at < DateTime::UNIX_EPOCH {
        return Some(format!(
            "{} is before 1970-01-01; give the time it happened",
            rfc3339_or_year(at)
        ));
    }
    if at > now + AHEAD {
        return Some(format!(
            "{} is more than a day in the future; give a time that has passed",
            rfc3339_or_year(at)
        ));
    }
    None
}

/// RFC 3339 where it can be written, else the year alone.
fn rfc3339_or_year(at: DateTime<Utc>) -> String {
    use chrono::Datelike as _;
    if (0..=9999).contains(&at.year()) {
        rfc3339(at)
    } else {
        format!("the year {}", at.year())
    }
}

/// A time as every file and JSON output writes it: RFC 3339 in UTC with whole seconds.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What a bad time says, naming every form accepted.
fn bad(text: &str) -> String {
    format!(
        "'{text}' is not a time: use now, -2h (or -30m, -3d), yesterday 14:30, today 09:00, 2026-11-20 14:30, or RFC 3339 such as 2026-11-20T14:30:00Z"
    )
}

/// Reads `text` as a time, relative forms counted from `now`, clock times in `tz`; a time
/// before 1970 or more than a day ahead is refused ([`insane`]).
pub fn parse_when<Tz: TimeZone>(
    text: &str,
    now: DateTime<Utc>,
    tz: &Tz,
) -> Result<DateTime<Utc>, String> {
    let at = parse_any(text, now, tz)?;
    match insane(at, now) {
        Some(why) => Err(format!("'{}': {why}", text.trim())),
        None => Ok(at),
    }
}

fn parse_any<Tz: TimeZone>(
    text: &str,
    now: DateTime<Utc>,
    tz: &Tz,
) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Some(ago) = t.strip_prefix('-') {
        return before(ago, now).ok_or_else(|| bad(text));
    }
    let today = now.with_timezone(tz).date_naive();
    let (day, clock) = match t.split_once(' ') {
        Some((day, clock)) => {
            let day = match day.to_ascii_lowercase().as_str() {
                "today" => today,
                "yesterday" => today.pred_opt().ok_or_else(|| bad(text))?,
                other => NaiveDate::parse_from_str(other, "%Y-%m-%d").map_err(|_| bad(text))?,
            };
            (day, clock.trim())
        }
        None if t.contains(':') => (today, t),
        None => return Err(bad(text)),
    };
    let clock = NaiveTime::parse_from_str(clock, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M:%S"))
        .map_err(|_| bad(text))?;
    tz.from_local_datetime(&day.and_time(clock))
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| bad(text))
}

/// `2h`, `30m`, `3d`, `45s` before `now`.
fn before(ago: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let unit = ago.chars().last()?;
    let n: i64 = ago[..ago.len() - unit.len_utf8()].parse().ok()?;
    if !(0..=100_000).contains(&n) {
        return None;
    }
    let span = match unit {
        's' => Duration::seconds(n),
        'm' => Duration::minutes(n),
        'h' => Duration::hours(n),
        'd' => Duration::days(n),
        _ => return None,
    };
    now.checked_sub_signed(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_form_a_responder_types() {
        let now = t("2026-11-20T14:30:00Z");
        let cet = FixedOffset::east_opt(3600).unwrap();
        let p = |s: &str| parse_when(s, now, &cet);
        assert_eq!(p("now").unwrap(), now);
        assert_eq!(p(" NOW ").unwrap(), now);
        assert_eq!(p("-2h").unwrap(), t("2026-11-20T12:30:00Z"));
        assert_eq!(p("-30m").unwrap(), t("2026-11-20T14:00:00Z"));
        assert_eq!(p("-3d").unwrap(), t("2026-11-17T14:30:00Z"));
        assert_eq!(p("yesterday 14:30").unwrap(), t("2026-11-19T13:30:00Z"));
        assert_eq!(p("today 09:00").unwrap(), t("2026-11-20T08:00:00Z"));
        assert_eq!(p("09:15").unwrap(), t("2026-11-20T08:15:00Z"));
        assert_eq!(p("2026-11-18 23:05").unwrap(), t("2026-11-18T22:05:00Z"));
        assert_eq!(
            p("2026-11-20T14:30:00+02:00").unwrap(),
            t("2026-11-20T12:30:00Z")
        );
        for wrong in [
            "",
            "later",
            "-2w",
            "-h",
            "tomorrow 10:00",
            "25:00",
            "2026-13-01 10:00",
            "-999999d",
        ] {
            let err = p(wrong).unwrap_err();
            assert!(
                err.contains("is not a time: use now, -2h"),
                "{wrong}: {err}"
            );
        }
    }

    #[test]
    fn times_before_1970_or_over_a_day_ahead_are_refused() {
        let now = t("2026-11-20T12:00:00Z");
        let utc = chrono::Utc;
        for (text, why) in [
            ("0001-01-01T00:00:00Z", "before 1970-01-01"),
            ("1969-12-31 23:59", "before 1970-01-01"),
            ("2026-11-21T12:00:01Z", "more than a day in the future"),
            ("-100000d", "before 1970-01-01"),
        ] {
            let err = parse_when(text, now, &utc).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
        for text in ["1970-01-01T00:00:00Z", "2026-11-21T11:59:00Z", "now"] {
            assert!(parse_when(text, now, &utc).is_ok(), "{text}");
        }
    }
}
