//! Twenty jobs crash-looping for a minute: memory stays flat and notifications throttled.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use sentinel_tests::*;

use crate::{import, rss_kib, statuses, WebhookReceiver};

const JOBS: usize = 20;
/// The loops run at least this long, and on until memory has levelled off.
const LOOPING: Duration = Duration::from_secs(60);
/// If memory is still growing by then, it is a leak.
const LOOPING_AT_MOST: Duration = Duration::from_secs(150);
/// Memory settles in the first seconds: pools, and each job's in-memory log tail (128 KiB,
/// filled within seconds by the 2 KB line every crash prints).
const WARM_UP: Duration = Duration::from_secs(15);
/// Level means: over the last `PLATEAU`, resident memory rose at most `PLATEAU_RISE_KIB`
/// above its peak before (about 30 bytes per restart at the ~200 restarts a second seen).
/// How long the warm-up lasts depends on what else the machine does (1.1 MiB over 90 s was
/// seen with other work beside it); a leak never levels off.
const PLATEAU: Duration = Duration::from_secs(20);
const PLATEAU_RISE_KIB: u64 = 128;
/// And the warm-up itself stays small.
const RSS_GROWTH_BOUND_KIB: u64 = 4096;
const THROTTLE: Duration = Duration::from_secs(10);

#[test]
fn a_minute_of_twenty_crash_loops_keeps_memory_flat_and_notifications_throttled() {
    let _machine = crate::whole_machine();
    let home = Home::new();
    let webhook = WebhookReceiver::start();
    home.write_settings(&format!(
        "[notifications]\nenabled = false\nwebhook = \"{}\"\nthrottle = \"{}s\"\n",
        webhook.url,
        THROTTLE.as_secs()
    ));
    let daemon = home.daemon();
    let mut jobs = String::from("version = 1\n");
    for n in 0..JOBS {
        writeln!(
            jobs,
            "[[jobs]]\nname = \"loop{n}\"\nshell = true\ncommand = \"printf '%2000s\\\\n' boom{n}; exit 3\"\n\
             [jobs.restart]\nmode = \"always\"\nmax_retries = 0\ndelay = \"100ms\"\nbackoff = 1.0\n"
        )
        .unwrap();
    }
    let started = Instant::now();
    import(&home, &jobs);

    // (elapsed, RSS) after warm-up, every half second: a sampling rate, not a synchronisation.
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let levelled = |samples: &[(Duration, u64)]| {
        let Some(&(last, _)) = samples.last() else {
            return false;
        };
        let Some(cut) = last.checked_sub(PLATEAU) else {
            return false;
        };
        let before = samples
            .iter()
            .filter(|(at, _)| *at < cut)
            .map(|s| s.1)
            .max();
        let within = samples
            .iter()
            .filter(|(at, _)| *at >= cut)
            .map(|s| s.1)
            .max();
        matches!((before, within), (Some(b), Some(w)) if w <= b + PLATEAU_RISE_KIB)
    };
    loop {
        let elapsed = started.elapsed();
        if elapsed >= WARM_UP {
            samples.push((elapsed, rss_kib(daemon.pid())));
        }
        if elapsed >= LOOPING_AT_MOST || (elapsed >= LOOPING && levelled(&samples)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let looped = started.elapsed();
    let warm = samples[0].1;
    let peak = samples.iter().map(|s| s.1).max().unwrap();
    let series = samples
        .iter()
        .step_by(10)
        .map(|(at, rss)| format!("{}s {rss}", at.as_secs()))
        .collect::<Vec<_>>()
        .join(", ");
    let restarts: u64 = statuses(&home)
        .iter()
        .map(|s| s["restarts"].as_u64().unwrap())
        .sum();
    println!(
        "{JOBS} crash loops for {looped:?}: {restarts} restarts; daemon RSS {warm} KiB after warm-up, peak {peak} KiB (KiB every 5 s: {series})"
    );
    // The loops really looped (about ten starts a second each, so far more than this).
    assert!(restarts > (JOBS * 100) as u64, "only {restarts} restarts");
    assert!(
        levelled(&samples),
        "RSS was still rising after {looped:?} of crash loops (more than {PLATEAU_RISE_KIB} KiB in the last {PLATEAU:?}): {series}"
    );
    assert!(
        peak <= warm + RSS_GROWTH_BOUND_KIB,
        "RSS grew from {warm} KiB to {peak} KiB during the crash loops: {series}"
    );

    // At most one notification per job per throttle period goes out, plus the summary that
    // closes a period; every failure is still counted in them.
    let mut delivered: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for notification in webhook.received() {
        let job = notification["job"].as_str().unwrap().to_string();
        let entry = delivered.entry(job).or_default();
        entry.0 += 1;
        entry.1 += 1 + notification["suppressed"].as_u64().unwrap_or(0);
    }
    let periods = looped.as_secs() / THROTTLE.as_secs() + 2;
    assert_eq!(delivered.len(), JOBS, "every job notified: {delivered:?}");
    for (job, (sent, alerts)) in &delivered {
        assert!(
            *sent <= periods,
            "{job}: {sent} notifications in {looped:?} with a {THROTTLE:?} throttle"
        );
        println!("{job}: {sent} notifications for {alerts} alerts");
    }
    drop(daemon);
}
