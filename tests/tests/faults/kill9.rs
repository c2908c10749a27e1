//! The daemon killed with SIGKILL twenty times while fifty jobs run, log and fire on schedule.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sentinel_tests::*;

use crate::{import, job_processes, statuses, Db};

const SERVICES: usize = 40;
const TASKS: usize = 10;
const KILLS: usize = 20;

#[test]
fn twenty_kill9s_lose_nothing_run_nothing_twice_and_leave_no_orphans() {
    let _machine = crate::shared_machine();
    let home = Home::new();
    let mut daemon = home.daemon();
    let mut jobs = String::from("version = 1\n");
    for n in 0..SERVICES {
        writeln!(
            jobs,
            "[[jobs]]\nname = \"svc{n}\"\nshell = true\ncommand = \"while :; do echo tick {n}; sleep 0.05; done\"\n"
        )
        .unwrap();
    }
    for n in 0..TASKS {
        writeln!(
            jobs,
            "[[jobs]]\nname = \"task{n}\"\nkind = \"task\"\ncommand = \"echo fired {n}\"\n[jobs.schedule]\nevery = \"1s\"\n"
        )
        .unwrap();
    }
    import(&home, &jobs);
    let mut db = Db::open(&home);

    // A restarted engine stops the orphans of the one before (their output pipes are gone
    // with it) and starts each service once more: the old process groups must all be gone,
    // each service must have exactly one, and only the live runs may be open.
    let mut previous: BTreeMap<String, u32> = BTreeMap::new();
    let mut scheduled_runs = 0;
    for kill in 0..=KILLS {
        let groups = every_service_running(&home);
        for (job, pgid) in &previous {
            assert!(
                !group_alive(*pgid) || groups[job] == *pgid,
                "after kill {kill}: {job}'s old group {pgid} survived as an orphan"
            );
        }
        assert_eq!(statuses(&home).len(), SERVICES + TASKS, "after kill {kill}");
        check_processes(&home, &groups, kill);
        check_database(&mut db, &groups, kill);
        if kill == KILLS {
            break;
        }
        // Something happened in this life: a schedule fired and its run was recorded.
        wait_until("a scheduled run to be recorded", || {
            db.number("SELECT COUNT(*) FROM runs WHERE trigger = 'schedule'") > scheduled_runs
        });
        scheduled_runs = db.number("SELECT COUNT(*) FROM runs WHERE trigger = 'schedule'");
        daemon.crash();
        previous = groups;
        daemon = home.daemon();
    }

    // A clean stop takes every process with it.
    assert_eq!(daemon.stop(), 0);
    wait_until("every job process to be gone", || {
        job_processes(&home).is_empty()
    });
    assert_eq!(db.integrity(), "ok");
}

/// Waits until every service runs; their process groups by name.
fn every_service_running(home: &Home) -> BTreeMap<String, u32> {
    let mut groups = BTreeMap::new();
    wait_until("every service to run", || {
        groups = statuses(home)
            .iter()
            .filter(|s| s["name"].as_str().unwrap().starts_with("svc"))
            .filter(|s| s["state"] == "running")
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["pid"].as_u64().unwrap() as u32,
                )
            })
            .collect();
        groups.len() == SERVICES
    });
    groups
}

/// Every process of a service is in that service's known group: no orphaned group, no
/// second instance.
fn check_processes(home: &Home, groups: &BTreeMap<String, u32>, kill: usize) {
    for process in job_processes(home) {
        if let Some(&group) = groups.get(&process.job) {
            assert_eq!(
                process.pgid, group,
                "after kill {kill}: {process:?} is not in its service's group"
            );
        }
    }
}

fn check_database(db: &mut Db, groups: &BTreeMap<String, u32>, kill: usize) {
    assert_eq!(db.integrity(), "ok", "after kill {kill}");
    // The runs of killed processes were closed; the open ones are the live services'.
    let mut live: Vec<i64> = groups.values().map(|&pid| i64::from(pid)).collect();
    live.sort();
    // Runs are written a moment after they start.
    wait_until(
        &format!("after kill {kill}: the open runs to be the live ones"),
        || {
            let open: Vec<i64> = db
                .rows("SELECT pid FROM runs WHERE outcome IS NULL AND job LIKE 'svc%' ORDER BY pid")
                .into_iter()
                .map(|row| row[0])
                .collect();
            open == live
        },
    );
    let same_process = db.number(
        "SELECT COUNT(*) FROM (SELECT pid FROM runs WHERE pid IS NOT NULL
         GROUP BY pid, proc_start HAVING COUNT(*) > 1)",
    );
    assert_eq!(
        same_process, 0,
        "after kill {kill}: a process recorded twice"
    );
    let same_fire_time = db.number(
        "SELECT COUNT(*) FROM (SELECT job FROM runs WHERE scheduled_at IS NOT NULL
         GROUP BY job, scheduled_at HAVING COUNT(*) > 1)",
    );
    assert_eq!(
        same_fire_time, 0,
        "after kill {kill}: a fire time ran twice"
    );
    assert_eq!(
        db.number("SELECT COUNT(*) FROM jobs"),
        (SERVICES + TASKS) as i64
    );
}
