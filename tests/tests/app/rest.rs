//! The app at rest, without WebDriver (which holds on to the first webview): a hidden popover
//! is destroyed with its web process after `SENTINEL_WINDOW_REST`, built again when shown, and
//! each show is timed to the page's first frame (warm and cold).

use super::*;

/// WebKit's web content processes the app started (its network process stays).
fn web_processes(app: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // "pid (comm) state ppid …": comm may hold spaces, so split after its ')'.
            let Some((comm, rest)) = stat.split_once(") ") else {
                return false;
            };
            comm.ends_with("(WebKitWebProces")
                && rest.split_whitespace().nth(1) == Some(&app.to_string())
        })
        .collect()
}

#[test]
fn a_hidden_popover_rests_and_comes_back_when_shown() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let scratch = tempfile::tempdir().unwrap();
    let log_path = scratch.path().join("app.log");
    let bus = SessionBus::start();
    let mut spawned = Spawned(Vec::new());
    let xvfb = Xvfb::start();
    let log = std::fs::File::create(&log_path).unwrap();
    let mut app = Command::new(app_bin());
    app_env(&mut app, xvfb.display, bus.address(), &home);
    own_group(&mut app)
        .env("SENTINEL_WINDOW_REST", "2s")
        .env("SENTINEL_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    spawned.0.push(app.spawn().unwrap());
    let app_pid = spawned.0[0].id();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let count = |what: &str| log().matches(what).count();
    wait_until("the app's tray", || log().contains("tray ready"));
    home.ok(&["add", "api", "--", "sleep", "100000"]);

    // A second launch toggles the popover, through the single-instance bus.
    let toggle = || {
        let mut again = Command::new(app_bin());
        app_env(&mut again, xvfb.display, bus.address(), &home);
        let status = again.arg("--toggle").status().unwrap();
        assert!(status.success(), "a second launch hands over and exits");
    };

    // Built hidden at launch, never shown: it rests.
    wait_until("the launch popover to rest", || {
        count("window at rest") == 1 && web_processes(app_pid).is_empty()
    });
    // Shown: built again, with a web process, and timed from the request (cold).
    toggle();
    wait_until("a cold paint", || count("(cold)") == 1);
    assert_eq!(web_processes(app_pid).len(), 1, "{}", log());
    // Hidden and shown again before it rests: only shown (warm), the same web process.
    let web = web_processes(app_pid);
    toggle();
    toggle();
    wait_until("a warm paint", || count("(warm)") == 1);
    assert_eq!(web_processes(app_pid), web);
    assert_eq!(
        count("window at rest"),
        1,
        "shown again in time: not destroyed"
    );
    // Hidden for good: at rest, its web process gone; the engine and its job carry on.
    toggle();
    wait_until("the popover to rest again", || {
        count("window at rest") == 2 && web_processes(app_pid).is_empty()
    });
    assert!(pid_of(&home, "api").is_some());
    toggle();
    wait_until("a second cold paint", || count("(cold)") == 2);
    assert_eq!(web_processes(app_pid).len(), 1);
    // Quit as the system would: the job goes with the app.
    let job = pid_of(&home, "api").unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(app_pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = spawned.0[0].wait();
    assert!(!alive(job), "no job outlives the app");
    drop(spawned);
}
