//! Twenty jobs crash-looping for a minute: memory stays flat and notifications throttled.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use sentinel_tests::*;

use crate::{import, rss_kib, statuses, WebhookReceiver};

const JOBS: usize = 20;
const LOOPING: Duration = Duration::from_secs(60);
/// Memory settles in the first seconds: pools, and each job's in-memory log tail (128 KiB,
/// filled within seconds by the 2 KB line every crash prints). After that it must not grow.
const WARM_UP: Duration = Duration::from_secs(15);
/// How much the daemon's resident memory may grow after warm-up, while thousands more runs,
/// events and alerts go by.
const RSS_GROWTH_BOUND_KIB: u64 = 1536;
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

    let mut warm = None;
    let mut peak = 0;
    while started.elapsed() < LOOPING {
        let rss = rss_kib(daemon.pid());
        if started.elapsed() >= WARM_UP {
            warm.get_or_insert(rss);
            peak = peak.max(rss);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let warm = warm.unwrap();
    let restarts: u64 = statuses(&home)
        .iter()
        .map(|s| s["restarts"].as_u64().unwrap())
        .sum();
    println!(
        "{JOBS} crash loops for {LOOPING:?}: {restarts} restarts; daemon RSS {warm} KiB after warm-up, peak {peak} KiB"
    );
    // The loops really looped (about ten starts a second each, so far more than this).
    assert!(restarts > (JOBS * 100) as u64, "only {restarts} restarts");
    assert!(
        peak <= warm + RSS_GROWTH_BOUND_KIB,
        "RSS grew from {warm} KiB to {peak} KiB during the crash loops"
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
    let periods = LOOPING.as_secs() / THROTTLE.as_secs() + 2;
    assert_eq!(delivered.len(), JOBS, "every job notified: {delivered:?}");
    for (job, (sent, alerts)) in &delivered {
        assert!(
            *sent <= periods,
            "{job}: {sent} notifications in {LOOPING:?} with a {THROTTLE:?} throttle"
        );
        println!("{job}: {sent} notifications for {alerts} alerts");
    }
    drop(daemon);
}
