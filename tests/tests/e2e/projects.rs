//! `sentinel up`, `down` and `stack` through the real CLI and daemon: a project file in a
//! directory, its progress and timings, idempotent `up`, following the merged output and
//! detaching, and a failure that shows its reason and last lines.

use std::path::Path;
use std::process::Stdio;

use sentinel_tests::*;

const STACK: &str = r#"
project = "shop"

[[jobs]]
name = "db"
shell = true
command = "echo booting; sleep 0.3; echo 'database system is ready to accept connections'; exec sleep 300"
stop_timeout = "5s"
health = { log = "ready to accept connections", timeout = "30s" }

[[jobs]]
name = "api"
shell = true
command = "echo api up in $PWD; exec sleep 300"
cwd = "api"
stop_timeout = "5s"
depends_on = [{ job = "db", condition = "healthy", restart = true }]
"#;

fn write_project(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join("api")).unwrap();
    std::fs::write(dir.join("sentinel.toml"), text).unwrap();
}

#[test]
fn up_shows_progress_and_timings_and_down_stops_the_project() {
    let home = Home::new();
    let _daemon = home.daemon();
    let dir = home.path().join("shop");
    write_project(&dir, STACK);
    let nested = dir.join("api");
    let project = dir.display().to_string();

    // From a subdirectory: the nearest parent's file.
    let mut command = home.command(&["up"]);
    command.current_dir(&nested);
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("project shop ({project}/sentinel.toml)")),
        "{stdout}"
    );
    assert!(stdout.contains("+ shop.db (added)"), "{stdout}");
    assert!(stdout.contains("shop.db   running (pid"), "{stdout}");
    assert!(
        stdout.contains("shop.api  waiting for shop.db to be healthy"),
        "{stdout}"
    );
    let db_ready = stdout.find("shop.db   ready in").expect(&stdout);
    let api_ready = stdout.find("shop.api  ready in").expect(&stdout);
    assert!(db_ready < api_ready, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("JOB") && l.ends_with("WAITED  TO READY  READY AT")),
        "{stdout}"
    );
    assert!(stdout.contains("critical chain: shop.db @+"), "{stdout}");
    assert!(stdout.contains("→ shop.api @+"), "{stdout}");
    let api_pid = pid_of(&home, "shop.api").expect("api runs");
    let logs = home.ok(&["logs", "shop.api"]).stdout;
    assert!(logs.contains(&format!("api up in {project}/api")), "{logs}");

    // ls shows the project; stack lists projects, and one with its timings.
    let ls = home.ok(&["ls"]).stdout;
    assert!(ls.lines().next().unwrap().ends_with("PROJECT"), "{ls}");
    assert!(
        ls.lines()
            .any(|l| l.starts_with("shop.db") && l.ends_with("shop")),
        "{ls}"
    );
    let stacks = home.ok(&["stack"]).stdout;
    assert!(
        stacks.contains(&format!("shop        2  {project}/sentinel.toml")),
        "{stacks}"
    );
    let timings = home.ok(&["stack", "shop", "--timings"]).stdout;
    assert!(timings.contains("critical chain: shop.db"), "{timings}");
    let json = home.ok(&["stack", "shop", "--timings", "--json"]).json();
    assert_eq!(json["chain"], serde_json::json!(["shop.db", "shop.api"]));

    // up again: nothing changes, nothing restarts.
    let again = home.ok(&["up", &project]).stdout;
    assert!(again.contains("(no definition changed)"), "{again}");
    assert_eq!(pid_of(&home, "shop.api"), Some(api_pid));

    // down, by directory: both stopped; by name works as well.
    let down = home.ok(&["down", &project]).stdout;
    assert!(
        down.contains("shop.api: stopped") && down.contains("shop.db: stopped"),
        "{down}"
    );
    assert_eq!(pid_of(&home, "shop.db"), None);
    home.ok(&["down", "--project", "shop"]);
    let none = home.run(&["down", "--project", "nothing"]);
    assert_ne!(none.code, 0);
    assert!(
        none.stderr.contains("no project named \"nothing\""),
        "{}",
        none.stderr
    );
}

#[test]
fn a_job_that_fails_to_come_up_shows_why() {
    let home = Home::new();
    let _daemon = home.daemon();
    let dir = home.path().join("broken");
    write_project(
        &dir,
        r#"
[[jobs]]
name = "db"
shell = true
command = "echo 'FATAL: data directory missing' >&2; exit 3"
restart = { mode = "on-failure", max_retries = 1, delay = "0s" }
health = { log = "ready to accept connections" }

[[jobs]]
name = "api"
command = "sleep 300"
depends_on = [{ job = "db", condition = "healthy" }]
"#,
    );
    let output = home.run(&["up", &dir.display().to_string()]);
    assert_ne!(output.code, 0);
    let stdout = output.stdout;
    assert!(stdout.contains("broken.db   failed: gave up"), "{stdout}");
    assert!(
        stdout.contains("broken.api  blocked: waiting for broken.db"),
        "{stdout}"
    );
    assert!(stdout.contains("last lines of broken.db:"), "{stdout}");
    assert!(stdout.contains("FATAL: data directory missing"), "{stdout}");

    // A bad file changes nothing and names the job and field.
    std::fs::write(
        dir.join("sentinel.toml"),
        "[[jobs]]\nname = \"db\"\ncommand = \"\"\n",
    )
    .unwrap();
    let refused = home.run(&["up", &dir.display().to_string()]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("jobs[0] (db).command"),
        "{}",
        refused.stderr
    );
    // No project file at all.
    let empty = home.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let missing = home.run(&["up", &empty.display().to_string()]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no sentinel.toml"),
        "{}",
        missing.stderr
    );
}

#[test]
fn up_follow_merges_the_output_and_ctrl_c_leaves_the_jobs_running() {
    let home = Home::new();
    let _daemon = home.daemon();
    let dir = home.path().join("shop");
    write_project(
        &dir,
        r#"
[[jobs]]
name = "ticker"
shell = true
command = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"
stop_timeout = "5s"
"#,
    );
    let mut child = home
        .command(&["up", "-f", &dir.display().to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::of(&mut child);
    lines.until("the follow banner", |l| l.contains("Ctrl-C detaches"));
    let line = lines.until("a merged line", |l| l.contains("tick"));
    assert!(line.starts_with("shop.ticker | tick "), "{line}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        pid_of(&home, "shop.ticker").is_some(),
        "the job kept running"
    );
}
