//! The database locked by another process for longer than the engine's busy timeout.

use std::time::{Duration, Instant};

use sentinel_tests::*;

use crate::{import, statuses, Db};

/// Longer than the engine waits for a lock (10 s), so its writes really fail for a while.
const LOCKED_FOR: Duration = Duration::from_secs(13);

#[test]
fn a_database_locked_by_another_process_delays_records_but_loses_none() {
    let _machine = crate::shared_machine();
    let home = Home::new();
    let _daemon = home.daemon();
    import(
        &home,
        "version = 1\n\
         [[jobs]]\nname = \"ticker\"\nkind = \"task\"\ncommand = \"echo tick\"\n\
         [jobs.schedule]\nevery = \"1s\"\n\n\
         [[jobs]]\nname = \"looper\"\nshell = true\ncommand = \"sleep 0.1; exit 1\"\n\
         [jobs.restart]\nmode = \"always\"\nmax_retries = 0\ndelay = \"100ms\"\nbackoff = 1.0\n",
    );
    let mut db = Db::open(&home);
    wait_until("runs to be recorded", || {
        db.number("SELECT COUNT(*) FROM runs") > 3
    });
    let restarts = |home: &Home| -> u64 {
        statuses(home)
            .iter()
            .find(|s| s["name"] == "looper")
            .unwrap()["restarts"]
            .as_u64()
            .unwrap()
    };

    let (add, restarts_at_unlock) = db.locked(|| {
        let locked_at = Instant::now();
        // A definition cannot be written: the add fails, says why, and leaves nothing behind.
        let add = home.run(&["add", "late", "--", "sleep", "1"]);
        // Meanwhile the engine supervises from memory: the API answers and jobs restart.
        let before = restarts(&home);
        wait_until("restarts while the database is locked", || {
            restarts(&home) >= before + 5
        });
        // What cannot be written is held, and /metrics says how much.
        wait_until("the store backlog to show in /metrics", || {
            store_backlog(&home) > 0
        });
        while locked_at.elapsed() < LOCKED_FOR {
            assert_eq!(statuses(&home).len(), 2);
            std::thread::sleep(Duration::from_millis(200));
        }
        (add, restarts(&home))
    });
    assert_ne!(add.code, 0, "adding while locked: {}", add.stdout);
    assert!(
        add.stderr.contains("database is locked"),
        "the error says why: {}",
        add.stderr
    );
    assert!(statuses(&home).iter().all(|s| s["name"] != "late"));

    // Once the lock is gone, every run and event made meanwhile is written, none lost: run
    // ids are handed out one after the other, so a lost run is a gap, and every run has its
    // `run_started` event.
    wait_until("the runs made while locked to be written", || {
        db.number("SELECT COUNT(*) FROM runs WHERE job = 'looper'") as u64 > restarts_at_unlock
    });
    home.ok(&["disable", "ticker"]);
    home.ok(&["disable", "looper"]);
    wait_until("every run to have its run_started event", || {
        db.number("SELECT COUNT(*) FROM runs")
            == db.number("SELECT COUNT(*) FROM events WHERE kind = 'run_started'")
    });
    let runs = db.rows("SELECT COUNT(*), MIN(id), MAX(id) FROM runs")[0].clone();
    assert_eq!(
        runs[0],
        runs[2] - runs[1] + 1,
        "run ids with gaps: {runs:?}"
    );
    assert_eq!(db.integrity(), "ok");
    wait_until("the store backlog to be written", || {
        store_backlog(&home) == 0
    });
    home.ok(&["add", "late", "--", "sleep", "1"]);
}

/// The `sentinel_store_backlog` gauge: runs and events not yet written.
fn store_backlog(home: &Home) -> u64 {
    let metrics = request(&home.socket(), "GET", "/metrics", None).unwrap();
    assert_eq!(metrics.status, 200);
    metrics
        .body
        .lines()
        .find_map(|line| line.strip_prefix("sentinel_store_backlog "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sentinel_store_backlog in {}", metrics.body))
}
