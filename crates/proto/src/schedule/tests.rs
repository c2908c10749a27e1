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
