//! A task's schedule as a CronJob's: our cron expressions (seconds, weekday 7, both day
//! fields meaning "both") in the 5-field form Kubernetes reads, and `every` intervals as cron
//! where one fits. What does not convert exactly is named, and the CronJob is then written
//! suspended, so nobody runs a schedule they have not checked.

use std::time::Duration;

/// A CronJob's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    pub expr: String,
    /// `spec.timeZone`, for expressions read in local time.
    pub time_zone: Option<String>,
    /// It fires when ours did; when not, the CronJob is written suspended.
    pub exact: bool,
}

/// The shorthands Kubernetes' cron parser knows, all of which ours knows too.
const SHORTHANDS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Our cron expression (already checked by the engine) as Kubernetes reads it.
pub fn from_cron(source: &str, time_zone: Option<&str>, notes: &mut Vec<String>) -> Cron {
    let source = source.trim();
    if time_zone.is_none() {
        notes.push(
            "cron times are local time in SentinelZero, and the zone here is unknown: the CronJob runs in the cluster's zone (usually UTC) unless you set spec.timeZone"
                .into(),
        );
    }
    let time_zone = time_zone.map(str::to_string);
    if SHORTHANDS.contains(&source) {
        return Cron {
            expr: source.to_string(),
            time_zone,
            exact: true,
        };
    }
    let mut fields: Vec<&str> = source.split_whitespace().collect();
    let mut exact = true;
    if fields.len() == 6 {
        let seconds = fields.remove(0);
        if seconds.bytes().all(|b| b.is_ascii_digit()) {
            if seconds.parse::<u32>().ok() != Some(0) {
                notes.push(format!(
                    "cron {source:?} runs at second {seconds} of its minute; a CronJob starts at the minute"
                ));
            }
        } else {
            exact = false;
            notes.push(format!(
                "cron {source:?} runs more than once a minute (seconds {seconds:?}); a CronJob runs at most once a minute, so it is written suspended: check the schedule"
            ));
        }
    }
    if fields.len() != 5 {
        // The engine checked it, so this is a form we do not know to convert.
        notes.push(format!(
            "cron {source:?} is not in a form this export converts; it is written suspended: write the schedule yourself"
        ));
        return Cron {
            expr: "0 0 1 1 *".into(),
            time_zone,
            exact: false,
        };
    }
    let restricted = |field: &str| field != "*" && field != "?";
    if restricted(fields[2]) && restricted(fields[4]) {
        exact = false;
        notes.push(format!(
            "cron {source:?} sets both the day of month and the weekday: SentinelZero runs when both match, Kubernetes when either does; it is written suspended: check the schedule"
        ));
    }
    let weekday = weekdays(fields[4]);
    fields[4] = &weekday;
    Cron {
        expr: fields.join(" "),
        time_zone,
        exact,
    }
}

/// Weekday 7 (Sunday, as in crontab) as 0, which Kubernetes' parser wants.
fn weekdays(field: &str) -> String {
    field
        .split(',')
        .map(|item| {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => (range, Some(step)),
                None => (item, None),
            };
            let range = match range.split_once('-') {
                // The engine refuses a step over a range that ends in 7.
                Some((from, "7")) if step.is_none() => match from {
                    "7" => "0".to_string(),
                    "0" => "*".to_string(),
                    from => format!("{from}-6,0"),
                },
                None if range == "7" => "0".to_string(),
                _ => range.to_string(),
            };
            match step {
                Some(step) => format!("{range}/{step}"),
                None => range,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An `every` interval as cron: whole minutes that divide an hour, whole hours that divide a
/// day, a day or a week. Others have none (cron counts within the hour, day or month, so
/// the gap around each reset differs); they get the nearest cron, written suspended.
pub fn from_every(every: Duration, notes: &mut Vec<String>) -> Cron {
    let whole = |expr: &str| Cron {
        expr: expr.to_string(),
        time_zone: None,
        exact: true,
    };
    let secs = every.as_secs();
    let exact_minutes = every.subsec_nanos() == 0 && secs.is_multiple_of(60);
    let minutes = secs.div_ceil(60).max(1);
    if exact_minutes {
        match minutes {
            1 => return whole("* * * * *"),
            m if m < 60 && 60u64.is_multiple_of(m) => return whole(&format!("*/{m} * * * *")),
            60 => return whole("0 * * * *"),
            m if m.is_multiple_of(60) && m < 1440 && 1440u64.is_multiple_of(m) => {
                return whole(&format!("0 */{} * * *", m / 60))
            }
            1440 => return whole("0 0 * * *"),
            10080 => return whole("0 0 * * 0"),
            _ => {}
        }
    }
    let nearest = if minutes == 1 {
        "* * * * *".to_string()
    } else if minutes < 60 {
        format!("*/{minutes} * * * *")
    } else if minutes < 1440 {
        format!("0 */{} * * *", minutes.div_ceil(60))
    } else {
        let days = minutes.div_ceil(1440);
        if days <= 28 {
            format!("0 0 */{days} * *")
        } else {
            "0 0 1 * *".to_string()
        }
    };
    notes.push(format!(
        "every {} cannot be written as cron (only whole minutes that divide an hour, hours that divide a day, a day or a week can); the CronJob says {nearest:?} and is written suspended: check the schedule",
        humanize(every)
    ));
    Cron {
        expr: nearest,
        time_zone: None,
        exact: false,
    }
}

fn humanize(every: Duration) -> String {
    sentinel_proto::duration::format(every)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(expr: &str) -> (Cron, Vec<String>) {
        let mut notes = Vec::new();
        (from_cron(expr, Some("Europe/Berlin"), &mut notes), notes)
    }

    #[test]
    fn five_fields_and_shorthands_pass_with_the_zone() {
        let (c, notes) = cron("30 2 * * 1-5");
        assert_eq!(c.expr, "30 2 * * 1-5");
        assert_eq!(c.time_zone.as_deref(), Some("Europe/Berlin"));
        assert!(c.exact && notes.is_empty(), "{notes:?}");
        let (c, _) = cron("@daily");
        assert_eq!(c.expr, "@daily");
        let mut notes = Vec::new();
        let c = from_cron("0 * * * *", None, &mut notes);
        assert_eq!(c.time_zone, None);
        assert!(notes[0].contains("spec.timeZone"), "{notes:?}");
    }

    #[test]
    fn seconds_are_dropped_and_named() {
        let (c, notes) = cron("0 15 3 * * *");
        assert_eq!(c.expr, "15 3 * * *");
        assert!(c.exact && notes.is_empty(), "{notes:?}");
        let (c, notes) = cron("30 15 3 * * *");
        assert_eq!(c.expr, "15 3 * * *");
        assert!(c.exact);
        assert!(notes[0].contains("second 30"), "{notes:?}");
        let (c, notes) = cron("*/10 * * * * *");
        assert_eq!(c.expr, "* * * * *");
        assert!(!c.exact);
        assert!(notes[0].contains("more than once a minute"), "{notes:?}");
    }

    #[test]
    fn weekday_seven_becomes_zero_and_both_day_fields_are_named() {
        assert_eq!(cron("0 9 * * 7").0.expr, "0 9 * * 0");
        assert_eq!(cron("0 9 * * 5-7").0.expr, "0 9 * * 5-6,0");
        assert_eq!(cron("0 9 * * 0-7").0.expr, "0 9 * * *");
        assert_eq!(cron("0 9 * * 1,7").0.expr, "0 9 * * 1,0");
        assert_eq!(cron("0 9 * * MON-FRI").0.expr, "0 9 * * MON-FRI");
        assert_eq!(cron("0 9 * * */2").0.expr, "0 9 * * */2");
        let (c, notes) = cron("0 9 13 * 5");
        assert!(!c.exact);
        assert!(notes[0].contains("both"), "{notes:?}");
    }

    #[test]
    fn intervals_that_divide_evenly_are_cron_and_others_are_named() {
        for (every, expr) in [
            (60, "* * * * *"),
            (15 * 60, "*/15 * * * *"),
            (3600, "0 * * * *"),
            (6 * 3600, "0 */6 * * *"),
            (86_400, "0 0 * * *"),
            (7 * 86_400, "0 0 * * 0"),
        ] {
            let mut notes = Vec::new();
            let c = from_every(Duration::from_secs(every), &mut notes);
            assert_eq!((c.expr.as_str(), c.exact), (expr, true), "{every}s");
            assert!(notes.is_empty());
        }
        for (every, nearest) in [
            (45, "* * * * *"),
            (7 * 60, "*/7 * * * *"),
            (90 * 60, "0 */2 * * *"),
            (5 * 3600, "0 */5 * * *"),
            (2 * 86_400, "0 0 */2 * *"),
            (40 * 86_400, "0 0 1 * *"),
        ] {
            let mut notes = Vec::new();
            let c = from_every(Duration::from_secs(every), &mut notes);
            assert_eq!((c.expr.as_str(), c.exact), (nearest, false), "{every}s");
            assert!(notes[0].contains("cannot be written as cron"), "{notes:?}");
        }
    }
}
