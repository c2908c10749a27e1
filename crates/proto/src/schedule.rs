//! Schedules as pure functions: a spec and a `now` in, fire times out. No clock is read here,
//! so tests can put `now` anywhere, across DST changes and month ends.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// When a task runs: exactly one of `cron`, `every` or `at`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScheduleSpec {
    /// 5 fields (`m h dom mon dow`), 6 with seconds first, or `@hourly`, `@daily` (`@midnight`),
    /// `@weekly`, `@monthly`, `@yearly` (`@annually`); local time; day of week 0–7 with 0 and 7 for Sunday, or names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// A fixed interval, measured from the previous scheduled time: "15m", "2h".
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::option"
    )]
    #[schema(value_type = Option<String>, example = "15m")]
    #[cfg_attr(feature = "ts", ts(type = "string | null", optional))]
    pub every: Option<Duration>,
    /// Once: RFC 3339, or `YYYY-MM-DD HH:MM` in local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What to do when the previous run is still going at the next fire time.
    #[serde(default)]
    pub overlap: Overlap,
    /// What to do about fire times that passed while the machine slept or the engine was down.
    #[serde(default)]
    pub missed: MissedPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Overlap {
    /// Let the running one finish; this occurrence does not run.
    #[default]
    Skip,
    /// Run it once the running one finishes (at most one waits).
    Queue,
    /// Stop the running one and start anew.
    Replace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum MissedPolicy {
    /// Forget fire times that passed.
    Skip,
    /// Run once for all the fire times that passed (like launchd and systemd's Persistent=).
    #[default]
    RunOnce,
}

/// A schedule ready to compute with.
#[derive(Debug, Clone)]
pub enum When {
    Cron {
        source: String,
        schedule: Box<cron::Schedule>,
    },
    Every(Duration),
    At(DateTime<Utc>),
}

impl PartialEq for When {
    fn eq(&self, other: &When) -> bool {
        match (self, other) {
            (When::Cron { source: a, .. }, When::Cron { source: b, .. }) => a == b,
            (When::Every(a), When::Every(b)) => a == b,
            (When::At(a), When::At(b)) => a == b,
            _ => false,
        }
    }
}

impl ScheduleSpec {
    /// Which kind it is, parsed; the error names the field.
    pub fn when(&self) -> Result<When, (&'static str, String)> {
        match (&self.cron, &self.every, &self.at) {
            (Some(expr), None, None) => parse_cron(expr)
                .map(|schedule| When::Cron {
                    source: expr.trim().to_string(),
                    schedule: Box::new(schedule),
                })
                .map_err(|m| ("schedule.cron", m)),
            (None, Some(every), None) => match crate::limits::SCHEDULE_EVERY.problem(*every) {
                Some(message) => Err(("schedule.every", message)),
                None => Ok(When::Every(*every)),
            },
            (None, None, Some(at)) => parse_at(at, &Local)
                .map(When::At)
                .map_err(|m| ("schedule.at", m)),
            (None, None, None) => Err(("schedule", "give one of cron, every or at".into())),
            _ => Err(("schedule", "give only one of cron, every or at".into())),
        }
    }
}

/// Parses a cron expression the way crontab reads it (5 fields, or 6 with seconds first).
pub fn parse_cron(expr: &str) -> Result<cron::Schedule, String> {
    let expr = expr.trim();
    if expr.is_empty() {
        return Err(
            "is empty; use 5 fields (minute hour day month weekday), e.g. \"0 2 * * *\"".into(),
        );
    }
    let translated = if expr.starts_with('@') {
        // crontab's other names for two of them, which the parser does not know.
        match expr {
            "@midnight" => "@daily".to_string(),
            "@annually" => "@yearly".to_string(),
            "@hourly" | "@daily" | "@weekly" | "@monthly" | "@yearly" => expr.to_string(),
            "@reboot" => return Err(
                "\"@reboot\" is not a schedule here; for a task that runs when the engine starts, make it a service with restart = \"never\" (autostart is on by default)".into(),
            ),
            other => return Err(format!(
                "{other:?} is not a cron shorthand; use @hourly, @daily (@midnight), @weekly, @monthly or @yearly (@annually), or 5 fields"
            )),
        }
    } else {
        let mut fields: Vec<String> = expr.split_whitespace().map(str::to_string).collect();
        match fields.len() {
            5 => fields.insert(0, "0".into()),
            6 => {}
            n => {
                return Err(format!(
                    "{expr:?} has {n} fields; use 5 (minute hour day month weekday) or 6 (seconds first)"
                ))
            }
        }
        fields[5] = crontab_weekdays(&fields[5]).map_err(|m| format!("{expr:?}: weekday {m}"))?;
        fields.join(" ")
    };
    cron::Schedule::from_str(&translated).map_err(|err| {
        // The parser's message points into its own form of the expression: keep the reason.
        let text = err.to_string();
        let reason = text.lines().last().unwrap_or(&text).trim().to_string();
        format!("{expr:?} is not a valid cron expression: {reason}")
    })
}

const DAY_NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// Crontab numbers weekdays 0–7 from Sunday; the cron crate, like Quartz, 1–7. Numbers become
/// names, which mean the same to both.
fn crontab_weekdays(field: &str) -> Result<String, String> {
    let name = |text: &str| -> Result<&'static str, String> {
        match text.parse::<usize>() {
            Ok(n) if n <= 7 => Ok(DAY_NAMES[n]),
            Ok(n) => Err(format!("{n} is out of range (0-7, 0 and 7 are Sunday)")),
            Err(_) => Err(format!("{text:?} is not a day")),
        }
    };
    let mut items = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty();
        let translated = match range.split_once('-') {
            Some((from, to)) if numeric(from) && numeric(to) => {
                let (from_n, to_n): (usize, usize) =
                    (from.parse().unwrap_or(99), to.parse().unwrap_or(99));
                let every_day =
                    (from_n == 0 && to_n >= 6) || (from_n == 1 && to_n == 7 && step.is_none());
                if every_day {
                    "*".to_string()
                } else if to_n == 7 {
                    // 7 is Sunday again: "5-7" is Friday to Sunday.
                    if step.is_some() {
                        return Err(format!(
                            "{item:?}: write the range within 0-6 to step over it"
                        ));
                    }
                    format!("{}-SAT,SUN", name(from)?)
                } else {
                    format!("{}-{}", name(from)?, name(to)?)
                }
            }
            None if numeric(range) => name(range)?.to_string(),
            _ => range.to_string(),
        };
        items.push(match step {
            Some(step) => format!("{translated}/{step}"),
            None => translated,
        });
    }
    Ok(items.join(","))
}

/// A one-time instant: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in the given zone.
pub fn parse_at<Tz: TimeZone>(text: &str, zone: &Tz) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| {
            format!("{text:?} is not a time; use \"2026-12-01 09:00\" (local) or RFC 3339 \"2026-12-01T09:00:00+01:00\"")
        })?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            format!("{text:?} does not exist in the local time zone (a daylight-saving gap)")
        })
}

/// The first fire time strictly after `after`. `anchor` is where `every` counts from (the
/// previous scheduled time, or when the job was created).
pub fn next_after<Tz: TimeZone>(
    when: &When,
    after: DateTime<Utc>,
    anchor: DateTime<Utc>,
    zone: &Tz,
) -> Option<DateTime<Utc>> {
    match when {
        When::Cron { schedule, .. } => {
            // Fire times are wall-clock times: walk them as such, then place each in the zone.
            // A time that repeats when clocks go back fires once (the first time); a time that
            // does not exist when they go forward fires at the end of the gap, as cron does.
            let local_after = after.with_timezone(zone).naive_local();
            let offset = |at: DateTime<Utc>| zone.offset_from_utc_datetime(&at.naive_utc()).fix();
            let window = chrono::Duration::hours(3);
            let (Some(before), Some(later)) = (
                after.checked_sub_signed(window),
                after.checked_add_signed(window),
            ) else {
                return None;
            };
            let near_change = offset(before) != offset(later);
            let start = if near_change {
                local_after
                    .checked_sub_signed(window)
                    .unwrap_or(local_after)
            } else {
                local_after
            };
            schedule
                .after(&Utc.from_utc_datetime(&start))
                .map(|fire| fire.naive_utc())
                .take_while(|&wall| {
                    local_after
                        .checked_add_signed(chrono::Duration::days(3660))
                        .is_some_and(|horizon| wall <= horizon)
                })
                .filter_map(|wall| place(zone, wall))
                .find(|&fire| fire > after)
        }
        When::Every(every) => every_after(*every, after, anchor),
        When::At(at) => (*at > after).then_some(*at),
    }
}

/// The first `anchor + k * every` (k ≥ 1) after `after`, in exact, checked arithmetic: a
/// period or gap too large for a date is `None`, never a panic.
fn every_after(
    every: Duration,
    after: DateTime<Utc>,
    anchor: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    const NANOS: i128 = 1_000_000_000;
    let every = i128::try_from(every.as_nanos()).ok().filter(|&n| n > 0)?;
    let gap = after.signed_duration_since(anchor);
    let gap = i128::from(gap.num_seconds()) * NANOS + i128::from(gap.subsec_nanos());
    let periods = if gap < 0 { 1 } else { gap / every + 1 };
    let offset = periods.checked_mul(every)?;
    let seconds = i64::try_from(offset / NANOS).ok()?;
    let nanos = u32::try_from(offset % NANOS).ok()?;
    anchor.checked_add_signed(chrono::TimeDelta::new(seconds, nanos)?)
}

/// The instant a wall-clock time stands for in the zone: the first of two, or the end of a gap.
fn place<Tz: TimeZone>(zone: &Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(at) = zone.from_local_datetime(&wall).earliest() {
        return Some(at.with_timezone(&Utc));
    }
    (1..=24 * 60)
        .map(|minutes| wall + chrono::Duration::minutes(minutes))
        .find_map(|later| zone.from_local_datetime(&later).earliest())
        .map(|at| {
            // The first whole minute after the gap: the gap's end itself.
            let end = at.with_timezone(&Utc);
            end - chrono::Duration::seconds(end.timestamp() % 60)
        })
}

/// The next `n` fire times after `now`.
pub fn upcoming<Tz: TimeZone>(
    when: &When,
    n: usize,
    now: DateTime<Utc>,
    anchor: DateTime<Utc>,
    zone: &Tz,
) -> Vec<DateTime<Utc>> {
    let mut fires = Vec::with_capacity(n);
    let mut after = now;
    while fires.len() < n {
        match next_after(when, after, anchor, zone) {
            Some(fire) => {
                fires.push(fire);
                after = fire;
            }
            None => break,
        }
    }
    fires
}

/// What happens at a wake-up: the fire time due now, or what was missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet.
    NotYet,
    /// Fire for this scheduled time, on time.
    OnTime(DateTime<Utc>),
    /// Fire times passed unseen (sleep, engine down, clock jump): `count` of them, the latest
    /// at `latest`. The missed policy decides.
    Missed { count: u32, latest: DateTime<Utc> },
}

/// How late a fire may be and still count as on time.
pub const ON_TIME: chrono::Duration = chrono::Duration::seconds(5);

/// Looks at `next` (the pending fire time) from `now`.
pub fn due<Tz: TimeZone>(
    when: &When,
    next: DateTime<Utc>,
    now: DateTime<Utc>,
    anchor: DateTime<Utc>,
    zone: &Tz,
) -> Due {
    if next > now {
        return Due::NotYet;
    }
    if now - next <= ON_TIME {
        return Due::OnTime(next);
    }
    let mut count = 1;
    let mut latest = next;
    // Count at most a few thousand: "every 1s" after a week asleep is still "many".
    while count < 10_000 {
        match next_after(when, latest, anchor, zone) {
            Some(fire) if fire <= now => {
                count += 1;
                latest = fire;
            }
            _ => break,
        }
    }
    Due::Missed { count, latest }
}

/// After the wall clock went back (a manual change, a bad NTP step), the pending fire time may
/// lie further ahead than the schedule means: re-arm from `now`. Returns the new next fire
/// time and anchor.
pub fn rearm<Tz: TimeZone>(
    when: &When,
    next: Option<DateTime<Utc>>,
    anchor: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: &Tz,
) -> (Option<DateTime<Utc>>, DateTime<Utc>) {
    // An anchor in the future was set by the clock before it went back.
    let anchor = anchor.min(now);
    let fresh = next_after(when, now, anchor, zone);
    match (next, fresh) {
        (Some(next), Some(fresh)) if fresh < next => (Some(fresh), anchor),
        _ => (next, anchor),
    }
}

/// A plain-English description, for people checking what they wrote.
pub fn describe(when: &When) -> String {
    match when {
        When::Every(every) => format!("every {}", crate::duration::format(*every)),
        When::At(at) => format!(
            "once, at {}",
            at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S %Z")
        ),
        When::Cron { source, .. } => describe_cron(source),
    }
}

fn describe_cron(source: &str) -> String {
    match source {
        "@hourly" => return "every hour, on the hour".into(),
        "@daily" | "@midnight" => return "every day at 00:00".into(),
        "@weekly" => return "every Sunday at 00:00".into(),
        "@monthly" => return "on the 1st of every month at 00:00".into(),
        "@yearly" | "@annually" => return "every 1 January at 00:00".into(),
        _ => {}
    }
    let mut fields: Vec<&str> = source.split_whitespace().collect();
    if fields.len() == 5 {
        fields.insert(0, "0");
    }
    if fields.len() != 6 {
        return format!("cron {source:?}");
    }
    let (sec, min, hour, dom, month, dow) = (
        fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
    );
    let step = |f: &str| f.strip_prefix("*/").and_then(|n| n.parse::<u32>().ok());
    let number = |f: &str| f.parse::<u32>().ok();
    let time = if sec == "*" && min == "*" && hour == "*" {
        "every second".to_string()
    } else if let (Some(n), "*", "*") = (step(sec), min, hour) {
        format!("every {n} seconds")
    } else if sec == "0" && min == "*" && hour == "*" {
        "every minute".to_string()
    } else if let (Some(n), "0", "*") = (step(min), sec, hour) {
        format!("every {n} minutes")
    } else if let (Some(m), "0", "*") = (number(min), sec, hour) {
        format!("every hour at minute {m}")
    } else if let (Some(m), Some(n), "0") = (number(min), step(hour), sec) {
        format!("every {n} hours at minute {m}")
    } else if let (Some(s), Some(m), Some(h)) = (number(sec), number(min), number(hour)) {
        if s == 0 {
            format!("at {h:02}:{m:02}")
        } else {
            format!("at {h:02}:{m:02}:{s:02}")
        }
    } else {
        return format!("cron {source:?}");
    };
    let days = match (dom, month, dow) {
        ("*", "*", "*") => "every day".to_string(),
        ("*", "*", "1-5") | ("*", "*", "MON-FRI") | ("*", "*", "mon-fri") => {
            "Monday to Friday".into()
        }
        ("*", "*", "0,6") | ("*", "*", "6,0") | ("*", "*", "SAT,SUN") => "on weekends".into(),
        ("*", "*", d) => match number(d) {
            Some(n) if n <= 7 => format!(
                "on {}",
                [
                    "Sunday",
                    "Monday",
                    "Tuesday",
                    "Wednesday",
                    "Thursday",
                    "Friday",
                    "Saturday",
                    "Sunday"
                ][n as usize]
            ),
            _ => format!("on weekdays {d}"),
        },
        (d, "*", "*") => format!("on day {d} of every month"),
        _ => format!("on day {dom}, month {month}, weekday {dow}"),
    };
    if time.starts_with("every") && days == "every day" {
        time
    } else {
        format!("{time}, {days}")
    }
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Overlap::Skip => "skip",
            Overlap::Queue => "queue",
            Overlap::Replace => "replace",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::Berlin;

    fn cron(expr: &str) -> When {
        ScheduleSpec {
            cron: Some(expr.into()),
            ..Default::default()
        }
        .when()
        .unwrap()
    }

    fn local<Tz: TimeZone>(zone: &Tz, text: &str) -> DateTime<Utc> {
        parse_at(text, zone).unwrap()
    }

    fn fires<Tz: TimeZone>(when: &When, zone: &Tz, from: &str, n: usize) -> Vec<String>
    where
        Tz::Offset: fmt::Display,
    {
        let now = local(zone, from);
        upcoming(when, n, now, now, zone)
            .into_iter()
            .map(|at| {
                at.with_timezone(zone)
                    .format("%m-%d %H:%M:%S %Z")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn five_and_six_fields_and_shorthands() {
        assert_eq!(
            fires(&cron("*/15 9 * * *"), &Berlin, "2026-06-01 09:20", 3),
            vec![
                "06-01 09:30:00 CEST",
                "06-01 09:45:00 CEST",
                "06-02 09:00:00 CEST"
            ]
        );
        assert_eq!(
            fires(&cron("*/20 * * * * *"), &Berlin, "2026-06-01 09:00", 3),
            vec![
                "06-01 09:00:20 CEST",
                "06-01 09:00:40 CEST",
                "06-01 09:01:00 CEST"
            ]
        );
        assert_eq!(
            fires(&cron("@daily"), &Berlin, "2026-06-01 09:00", 1),
            vec!["06-02 00:00:00 CEST"]
        );
        assert_eq!(
            fires(&cron("@hourly"), &Berlin, "2026-06-01 09:00", 1),
            vec!["06-01 10:00:00 CEST"]
        );
        assert_eq!(
            fires(&cron("@monthly"), &Berlin, "2026-06-01 09:00", 1),
            vec!["07-01 00:00:00 CEST"]
        );
        assert_eq!(
            fires(&cron("@weekly"), &Berlin, "2026-06-01 09:00", 1),
            vec!["06-07 00:00:00 CEST"]
        );
        // crontab's other names.
        assert_eq!(
            fires(&cron("@midnight"), &Berlin, "2026-06-01 09:00", 1),
            vec!["06-02 00:00:00 CEST"]
        );
        assert_eq!(
            fires(&cron("@annually"), &Berlin, "2026-06-01 09:00", 1),
            vec!["01-01 00:00:00 CET"]
        );
    }

    #[test]
    fn weekdays_are_numbered_as_in_crontab() {
        // 2026-06-01 is a Monday.
        let days = |expr: &str| -> Vec<String> {
            let now = local(&Berlin, "2026-05-31 12:00");
            upcoming(&cron(expr), 7, now, now, &Berlin)
                .into_iter()
                .map(|at| at.with_timezone(&Berlin).format("%a").to_string())
                .collect()
        };
        assert_eq!(
            days("0 9 * * 1-5"),
            vec!["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
        );
        assert_eq!(days("0 9 * * 0"), days("0 9 * * 7"));
        assert_eq!(days("0 9 * * 0")[0], "Sun");
        assert_eq!(
            days("0 9 * * 5-7"),
            vec!["Fri", "Sat", "Sun", "Fri", "Sat", "Sun", "Fri"]
        );
        assert_eq!(
            days("0 9 * * MON,WED"),
            vec!["Mon", "Wed", "Mon", "Wed", "Mon", "Wed", "Mon"]
        );
        assert_eq!(days("0 9 * * 0-6").len(), 7);
        assert_eq!(days("0 9 * * 1-7")[..3], ["Mon", "Tue", "Wed"]);
    }

    #[test]
    fn spring_forward_runs_a_missing_time_at_the_end_of_the_gap() {
        // New York, 2026-03-08: 02:00 jumps to 03:00.
        assert_eq!(
            fires(&cron("30 2 * * *"), &New_York, "2026-03-07 12:00", 3),
            vec![
                "03-08 03:00:00 EDT",
                "03-09 02:30:00 EDT",
                "03-10 02:30:00 EDT"
            ]
        );
        // Every 15 minutes: the times in the gap do not pile up.
        assert_eq!(
            fires(&cron("*/15 * * * *"), &New_York, "2026-03-08 01:40", 3),
            vec![
                "03-08 01:45:00 EST",
                "03-08 03:00:00 EDT",
                "03-08 03:15:00 EDT"
            ]
        );
    }

    #[test]
    fn fall_back_runs_a_repeated_time_once() {
        // New York, 2026-11-01: 02:00 goes back to 01:00, so 01:30 happens twice.
        assert_eq!(
            fires(&cron("30 1 * * *"), &New_York, "2026-10-31 12:00", 3),
            vec![
                "11-01 01:30:00 EDT",
                "11-02 01:30:00 EST",
                "11-03 01:30:00 EST"
            ]
        );
        // Hourly keeps firing every real hour through the change.
        assert_eq!(
            fires(&cron("0 * * * *"), &New_York, "2026-11-01 00:30", 3),
            vec![
                "11-01 01:00:00 EDT",
                "11-01 02:00:00 EST",
                "11-01 03:00:00 EST"
            ]
        );
    }

    #[test]
    fn month_ends_and_leap_days() {
        assert_eq!(
            fires(&cron("0 12 31 * *"), &Berlin, "2026-01-31 13:00", 3),
            vec![
                "03-31 12:00:00 CEST",
                "05-31 12:00:00 CEST",
                "07-31 12:00:00 CEST"
            ]
        );
        let leap = fires(&cron("0 0 29 2 *"), &Berlin, "2026-03-01 00:00", 1);
        assert_eq!(leap, vec!["02-29 00:00:00 CET"]);
        let now = local(&Berlin, "2026-03-01 00:00");
        assert_eq!(
            upcoming(&cron("0 0 29 2 *"), 1, now, now, &Berlin)[0]
                .with_timezone(&Berlin)
                .format("%Y")
                .to_string(),
            "2028"
        );
    }

    #[test]
    fn every_counts_from_the_previous_scheduled_time() {
        let anchor = local(&Berlin, "2026-06-01 09:00");
        let every = When::Every(Duration::from_secs(15 * 60));
        // Late by seven minutes: the next is still on the 15-minute grid.
        let next = next_after(
            &every,
            anchor + chrono::Duration::minutes(22),
            anchor,
            &Berlin,
        )
        .unwrap();
        assert_eq!(next, anchor + chrono::Duration::minutes(30));
        assert_eq!(
            next_after(&every, anchor, anchor, &Berlin).unwrap(),
            anchor + chrono::Duration::minutes(15)
        );
    }

    #[test]
    fn a_one_time_schedule_fires_once() {
        let at = When::At(local(&Berlin, "2026-12-01 09:00"));
        let before = local(&Berlin, "2026-11-30 09:00");
        assert_eq!(upcoming(&at, 5, before, before, &Berlin).len(), 1);
        assert_eq!(
            next_after(&at, local(&Berlin, "2026-12-01 09:00"), before, &Berlin),
            None
        );
    }

    #[test]
    fn missed_fires_are_counted_and_on_time_ones_are_not() {
        let every = When::Every(Duration::from_secs(60));
        let anchor = local(&Berlin, "2026-06-01 09:00");
        let next = anchor + chrono::Duration::minutes(1);
        assert_eq!(
            due(
                &every,
                next,
                next - chrono::Duration::seconds(1),
                anchor,
                &Berlin
            ),
            Due::NotYet
        );
        assert_eq!(
            due(
                &every,
                next,
                next + chrono::Duration::seconds(2),
                anchor,
                &Berlin
            ),
            Due::OnTime(next)
        );
        // Asleep for an hour: 60 fire times passed.
        let woke = next + chrono::Duration::minutes(59) + chrono::Duration::seconds(30);
        assert_eq!(
            due(&every, next, woke, anchor, &Berlin),
            Due::Missed {
                count: 60,
                latest: anchor + chrono::Duration::minutes(60)
            }
        );
    }

    #[test]
    fn a_clock_that_goes_back_re_arms_the_schedule() {
        let every = When::Every(Duration::from_secs(600));
        let anchor = local(&Berlin, "2026-06-01 10:00");
        let next = anchor + chrono::Duration::minutes(10);
        // The clock is set back an hour: without re-arming, the next run would be 70 minutes away.
        let now = anchor - chrono::Duration::minutes(60);
        let (rearmed, new_anchor) = rearm(&every, Some(next), anchor, now, &Berlin);
        assert_eq!(new_anchor, now);
        assert_eq!(rearmed, Some(now + chrono::Duration::minutes(10)));
        let hourly = cron("0 * * * *");
        let (rearmed, _) = rearm(
            &hourly,
            Some(local(&Berlin, "2026-06-01 11:00")),
            anchor,
            now,
            &Berlin,
        );
        assert_eq!(rearmed, Some(local(&Berlin, "2026-06-01 10:00")));
        // A clock that did not go back changes nothing.
        let (same, _) = rearm(
            &hourly,
            Some(local(&Berlin, "2026-06-01 11:00")),
            anchor,
            anchor + chrono::Duration::minutes(5),
            &Berlin,
        );
        assert_eq!(same, Some(local(&Berlin, "2026-06-01 11:00")));
    }

    #[test]
    fn reboot_and_unknown_shorthands_say_what_to_do_instead() {
        let (_, message) = ScheduleSpec {
            cron: Some("@reboot".into()),
            ..Default::default()
        }
        .when()
        .unwrap_err();
        assert!(message.contains("make it a service"), "{message}");
        let (_, message) = ScheduleSpec {
            cron: Some("@fortnightly".into()),
            ..Default::default()
        }
        .when()
        .unwrap_err();
        assert!(message.contains("not a cron shorthand"), "{message}");
    }

    #[test]
    fn intervals_never_overflow_a_date() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        // Billions of periods between anchor and now (more than an i32 holds): still exact.
        let anchor = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        let every = When::Every(Duration::from_secs(1));
        assert_eq!(
            next_after(&every, now, anchor, &Utc),
            Some(now + chrono::Duration::seconds(1))
        );
        // A period no date can hold: no fire time, and no panic.
        let huge = When::Every(Duration::from_secs(1_000_000 * 366 * 86400));
        assert_eq!(next_after(&huge, now, now, &Utc), None);
        assert_eq!(
            next_after(&huge, now, now + chrono::Duration::days(1), &Utc),
            None
        );
        let max = DateTime::<Utc>::MAX_UTC;
        assert_eq!(next_after(&every, max, max, &Utc), None);
        assert!(upcoming(&cron("@daily"), 5, max, max, &Utc).is_empty());
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        let err = |spec: ScheduleSpec| spec.when().unwrap_err();
        let (field, message) = err(ScheduleSpec {
            cron: Some("61 * * * *".into()),
            ..Default::default()
        });
        assert_eq!(field, "schedule.cron");
        assert!(message.contains("not a valid cron expression"), "{message}");
        let (_, message) = err(ScheduleSpec {
            cron: Some("* * *".into()),
            ..Default::default()
        });
        assert!(message.contains("has 3 fields"), "{message}");
        let (_, message) = err(ScheduleSpec {
            cron: Some("0 9 * * 8".into()),
            ..Default::default()
        });
        assert!(message.contains("8 is out of range"), "{message}");
        let (field, _) = err(ScheduleSpec::default());
        assert_eq!(field, "schedule");
        let (_, message) = err(ScheduleSpec {
            cron: Some("@daily".into()),
            every: Some(Duration::from_secs(1)),
            ..Default::default()
        });
        assert!(message.contains("only one"), "{message}");
        let (field, message) = err(ScheduleSpec {
            at: Some("tomorrow".into()),
            ..Default::default()
        });
        assert_eq!(field, "schedule.at");
        assert!(message.contains("2026-12-01 09:00"), "{message}");
        let (field, _) = err(ScheduleSpec {
            every: Some(Duration::ZERO),
            ..Default::default()
        });
        assert_eq!(field, "schedule.every");
    }

    #[test]
    fn descriptions_read_like_english() {
        assert_eq!(describe(&cron("0 */15 * * * *")), "every 15 minutes");
        assert_eq!(describe(&cron("*/2 * * * * *")), "every 2 seconds");
        assert_eq!(describe(&cron("0 2 * * *")), "at 02:00, every day");
        assert_eq!(
            describe(&cron("30 9 * * 1-5")),
            "at 09:30, Monday to Friday"
        );
        assert_eq!(describe(&cron("0 9 * * 0")), "at 09:00, on Sunday");
        assert_eq!(describe(&cron("5 * * * *")), "every hour at minute 5");
        assert_eq!(describe(&cron("@daily")), "every day at 00:00");
        assert_eq!(
            describe(&When::Every(Duration::from_secs(900))),
            "every 15m"
        );
    }
}
