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

/// The most fire times a schedule preview lists.
pub const MAX_PREVIEW: usize = 100;

/// What a schedule given as text means and when it fires next (`n` of them, 5 by default, at
/// most [`MAX_PREVIEW`]), in this machine's time zone: the preview the API and the app show
/// before anything is saved. A problem names its field (`schedule.every`, `schedule.cron`, …).
pub fn preview(
    cron: Option<String>,
    every: Option<&str>,
    at: Option<String>,
    n: Option<usize>,
    now: DateTime<Utc>,
) -> Result<crate::api::SchedulePreview, crate::FieldError> {
    let field_error = |field: &str, message: String| crate::FieldError {
        field: field.into(),
        message,
    };
    let every = every
        .map(crate::duration::parse)
        .transpose()
        .map_err(|message| field_error("schedule.every", message))?;
    let spec = ScheduleSpec {
        cron,
        every,
        at,
        ..ScheduleSpec::default()
    };
    let when = spec
        .when()
        .map_err(|(field, message)| field_error(field, message))?;
    Ok(crate::api::SchedulePreview {
        description: describe(&when),
        next: upcoming(
            &when,
            n.unwrap_or(5).clamp(1, MAX_PREVIEW),
            now,
            now,
            &Local,
        ),
    })
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
mod tests;
