//! Floods of output and a log file system that fills up.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sentinel_tests::*;

use crate::{disk_use, import, statuses};

const FLOOD_JOBS: u64 = 4;
const FLOOD_BYTES_EACH: u64 = 512 * 1024 * 1024;
const MAX_SIZE: u64 = 4 * 1000 * 1000;
const MAX_FILES: u64 = 2;

#[test]
fn two_gigabytes_of_output_stay_within_the_log_caps() {
    let _machine = crate::shared_machine();
    let home = Home::new();
    let _daemon = home.daemon();
    let mut jobs = String::from("version = 1\n");
    for n in 0..FLOOD_JOBS {
        jobs.push_str(&format!(
            "[[jobs]]\nname = \"flood{n}\"\nkind = \"task\"\nshell = true\n\
             command = \"yes 'flood {n}: the same line of output, about seventy bytes long.' | head -c {FLOOD_BYTES_EACH}\"\n\
             [jobs.logs]\nmax_size = \"4MB\"\nmax_files = {MAX_FILES}\n\n"
        ));
    }
    import(&home, &jobs);
    let logs = home.path().join("logs");
    let started = Instant::now();
    for n in 0..FLOOD_JOBS {
        home.ok(&["start", &format!("flood{n}")]);
    }
    // Each job keeps its active file and MAX_FILES rotated ones, each at most MAX_SIZE.
    let cap = FLOOD_JOBS * (MAX_FILES + 1) * MAX_SIZE;
    let mut peak = 0;
    let deadline = Instant::now() + DEADLINE * 4;
    loop {
        peak = peak.max(disk_use(&logs));
        let done = statuses(&home)
            .iter()
            .filter(|s| s["state"] == "exited")
            .count() as u64;
        if done == FLOOD_JOBS {
            break;
        }
        assert!(Instant::now() < deadline, "the floods did not finish");
    }
    let elapsed = started.elapsed();
    peak = peak.max(disk_use(&logs));
    println!(
        "{} MiB of output in {elapsed:?}; the log directory peaked at {} KiB (cap {} KiB)",
        (FLOOD_JOBS * FLOOD_BYTES_EACH) >> 20,
        peak / 1024,
        cap / 1024
    );
    assert!(peak <= cap, "logs used {peak} bytes, over the cap of {cap}");
    // The newest output is all there: each job's active file ends with the flood's last bytes.
    for n in 0..FLOOD_JOBS {
        let tail = home.ok(&["logs", &format!("flood{n}"), "-n", "1"]).stdout;
        assert!(tail.contains(&format!("flood {n}: the same")), "{tail}");
    }
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test mounts a small file system and needs root (CI runs as root)"
        );
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            // Private, as the engine requires of its log directory (a tmpfs is 1777 otherwise).
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .unwrap();
        assert!(status.success(), "mount tmpfs on {}", at.display());
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_log_file_system_is_reported_and_survived_and_logging_resumes() {
    let _machine = crate::shared_machine();
    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let logs = home.path().join("logs");
    let _tmpfs = Tmpfs::mount(&logs, "2m");
    let daemon = home.daemon();
    // Prints one line once the disk is full, then nothing: its line must still reach the file.
    let flag = home.dir.path().join("disk-is-full");
    import(
        &home,
        &format!(
            "version = 1\n\
         [[jobs]]\nname = \"quiet\"\nshell = true\n\
         command = \"while [ ! -e {} ]; do sleep 0.05; done; echo held back; exec sleep 1000\"\n\n\
         [[jobs]]\nname = \"writer\"\nshell = true\n\
         command = \"i=0; while :; do i=$((i+1)); echo line $i; sleep 0.01; done\"\n\n\
         [[jobs]]\nname = \"crasher\"\nshell = true\ncommand = \"sleep 0.1; exit 1\"\n\
         [jobs.restart]\nmode = \"always\"\nmax_retries = 0\ndelay = \"50ms\"\nbackoff = 1.0\n",
            flag.display()
        ),
    );
    let log_file = logs.join("writer.log");
    wait_until("the writer's first lines on disk", || {
        numbers_in(&log_file).len() > 10
    });

    // Fill the file system to the last byte.
    let filler_path = logs.join("filler");
    let mut filler = std::fs::File::create(&filler_path).unwrap();
    let chunk = vec![b'f'; 4096];
    while filler.write_all(&chunk).is_ok() {}
    while filler.write_all(b"f").is_ok() {}
    drop(filler);

    let status = |job: &str| home.ok(&["status", job, "--json"]).json()["status"].clone();
    wait_until("the engine to report the full disk", || {
        status("writer")["log_error"]
            .as_str()
            .is_some_and(|e| e.contains("No space left on device"))
    });
    std::fs::write(&flag, "").unwrap();
    wait_until("the quiet job's line to be refused too", || {
        status("quiet")["log_error"].is_string()
    });
    let shown = home.ok(&["status", "writer"]).stdout;
    assert!(shown.contains("log error"), "{shown}");
    // Supervision goes on: the crasher keeps being restarted, the writer keeps running and
    // its newest lines are still served from memory.
    let restarts = status("crasher")["restarts"].as_u64().unwrap();
    wait_until("the crasher to be restarted while the disk is full", || {
        status("crasher")["restarts"].as_u64().unwrap() >= restarts + 3
    });
    assert_eq!(status("writer")["state"], "running");
    let newest = |home: &Home| -> u64 {
        let tail = home.ok(&["logs", "writer", "-n", "1"]).stdout;
        tail.split_whitespace()
            .last()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let while_full = newest(&home);
    wait_until("new lines while the disk is full", || {
        newest(&home) > while_full + 20
    });
    let on_disk_while_full = numbers_in(&log_file).last().copied().unwrap();

    // Space returns: the error clears, and what was held back reaches the file, in order.
    std::fs::remove_file(&filler_path).unwrap();
    wait_until("the engine to write the log again", || {
        status("writer")["log_error"].is_null()
    });
    let caught_up = newest(&home);
    wait_until("the held-back lines on disk", || {
        numbers_in(&log_file)
            .last()
            .is_some_and(|&n| n >= caught_up)
    });
    // The quiet job prints nothing more, yet its held-back line is written and its error
    // clears.
    wait_until("the quiet job's line on disk", || {
        std::fs::read_to_string(logs.join("quiet.log")).is_ok_and(|t| t.contains(" F held back"))
    });
    wait_until("the quiet job's error to clear", || {
        status("quiet")["log_error"].is_null()
    });
    let numbers = numbers_in(&log_file);
    assert!(numbers.last().unwrap() > &on_disk_while_full);
    let gaps: Vec<(u64, u64)> = numbers
        .windows(2)
        .filter(|w| w[1] != w[0] + 1)
        .map(|w| (w[0], w[1]))
        .collect();
    assert!(gaps.is_empty(), "lines missing from the file: {gaps:?}");
    assert_eq!(statuses(&home).len(), 3);
    drop(daemon);
}

/// The numbers of the `line N` records in a log file, in file order.
fn numbers_in(file: &Path) -> Vec<u64> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|record| record.rsplit_once(" F line "))
        .filter_map(|(_, n)| n.parse().ok())
        .collect()
}
