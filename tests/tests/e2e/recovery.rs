//! kill -9 of the daemon: nothing runs twice, nothing is lost.

use sentinel_tests::*;

#[test]
fn a_killed_daemon_recovers_its_jobs_without_running_anything_twice() {
    const JOBS: usize = 20;
    let home = Home::new();
    let daemon = home.daemon();
    for n in 0..JOBS {
        home.ok(&[
            "add",
            &format!("job{n}"),
            "--shell",
            "--cmd",
            "sleep 1000 & sleep 1000 & wait",
        ]);
    }
    let before: Vec<u32> = (0..JOBS)
        .map(|n| pid_of(&home, &format!("job{n}")).unwrap())
        .collect();
    assert!(before.iter().all(|&pgid| group_alive(pgid)));

    daemon.crash();
    assert!(
        before.iter().all(|&pgid| group_alive(pgid)),
        "the orphans outlive the daemon"
    );

    let _daemon = home.daemon();
    // The new engine stops what the old one left before it answers anything.
    let leftovers: Vec<u32> = before
        .iter()
        .copied()
        .filter(|&pgid| group_alive(pgid))
        .collect();
    assert!(
        leftovers.is_empty(),
        "old process groups still alive: {leftovers:?}"
    );

    let jobs = home.ok(&["ls", "--json"]).json();
    assert_eq!(
        jobs.as_array().unwrap().len(),
        JOBS,
        "a definition was lost"
    );
    for n in 0..JOBS {
        let name = format!("job{n}");
        let pid = pid_of(&home, &name).expect("running again");
        assert!(!before.contains(&pid));
        let runs = home.ok(&["runs", &name, "--json"]).json();
        let outcomes: Vec<&str> = runs
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["outcome"].as_str().unwrap_or("running"))
            .collect();
        assert_eq!(outcomes, vec!["running", "interrupted"], "{name}");
        assert_eq!(runs[0]["trigger"], "recovery");
    }
}
