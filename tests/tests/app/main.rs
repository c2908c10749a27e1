//! The real app, end to end: the built `sentinelzero` under Xvfb with a private D-Bus session,
//! driven over WebDriver (tauri-driver + WebKitWebDriver), with the real CLI beside it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sentinel_tests::*;
use serde_json::{json, Value};

mod rest;

/// Kills what it started when dropped, last first, with everything those started (each runs
/// in its own process group: tauri-driver leaves WebKitWebDriver behind otherwise).
struct Spawned(Vec<Child>);

impl Drop for Spawned {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.wait();
        }
    }
}

fn own_group(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    command.process_group(0)
}

fn app_bin() -> PathBuf {
    let bin = sentinel_bin().with_file_name("sentinelzero");
    assert!(
        bin.exists(),
        "{} is missing: cargo build -p sentinel-app",
        bin.display()
    );
    bin
}

/// One W3C WebDriver call. tauri-driver sometimes drops a connection without an answer when
/// its link to WebKitWebDriver hiccups: such a call is made again (every call this test makes
/// may be repeated safely).
fn webdriver(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut answer = Value::Null;
    wait_until(&format!("an answer to {method} {path}"), || {
        answer = webdriver_once(port, method, path, body.clone()).unwrap_or(Value::Null);
        !answer.is_null()
    });
    answer
}

fn webdriver_once(port: u16, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let rest = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    serde_json::from_str(&rest).ok()
}

struct Session {
    port: u16,
    id: String,
}

impl Session {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        webdriver(
            self.port,
            method,
            &format!("/session/{}{path}", self.id),
            body,
        )
    }

    /// The ids of the elements matching a CSS selector.
    fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        found["value"]
            .as_array()
            .map(|elements| {
                elements
                    .iter()
                    .filter_map(|e| e.as_object()?.values().next()?.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn wait_for(&self, css: &str) -> String {
        let mut found = None;
        wait_until(&format!("{css} in the popover"), || {
            found = self.find_all(css).into_iter().next();
            found.is_some()
        });
        found.unwrap()
    }
}

fn pid_of(home: &Home, job: &str) -> Option<u64> {
    let detail = request(&home.socket(), "GET", &format!("/api/jobs/{job}"), None)
        .ok()?
        .json();
    (detail["status"]["state"] == "running")
        .then(|| detail["status"]["pid"].as_u64())
        .flatten()
}

fn alive(pid: u64) -> bool {
    // A zombie is gone for our purposes: it runs nothing.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// The app under Xvfb with a private D-Bus, driven by tauri-driver; everything it started
/// goes away with it.
struct RunningApp {
    session: Session,
    log_path: PathBuf,
    display: u32,
    _scratch: tempfile::TempDir,
    _spawned: Spawned,
    // After what runs on them, as fields drop in order.
    bus: SessionBus,
    _xvfb: Xvfb,
}

impl RunningApp {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The app's environment, for launching it again.
    fn env(&self, home: &Home, command: &mut Command) {
        app_env(command, self.display, self.bus.address(), home);
    }
}

fn app_env(command: &mut Command, display: u32, bus: &str, home: &Home) {
    command
        .env("DISPLAY", format!(":{display}"))
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("SENTINEL_HOME", home.path())
        // No window manager here: focus events would hide the popover at random.
        .env("SENTINEL_POPOVER_STAYS", "1")
        .env("NO_AT_BRIDGE", "1");
}

/// One app at a time: each picks a free X display and ports.
static ONE_APP: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn launch(home: &Home) -> RunningApp {
    launch_with(home, &[])
}

/// The app with more in its environment.
fn launch_with(home: &Home, env: &[(&str, &str)]) -> RunningApp {
    let scratch = tempfile::tempdir().unwrap();
    let log_path = scratch.path().join("app.log");
    let mut spawned = Spawned(Vec::new());

    let bus = SessionBus::start();
    let xvfb = Xvfb::start();
    let display = xvfb.display;

    let port = free_port();
    let log = std::fs::File::create(&log_path).unwrap();
    let mut driver = Command::new("tauri-driver");
    own_group(&mut driver)
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &free_port().to_string(),
        ])
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    app_env(&mut driver, display, bus.address(), home);
    driver.envs(env.iter().copied());
    spawned.0.push(
        driver
            .spawn()
            .expect("tauri-driver (scripts/setup.sh installs it)"),
    );
    wait_until("tauri-driver to listen", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    // tauri-driver accepts connections before WebKitWebDriver behind it listens: ask until a
    // session is made.
    let capabilities = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
        "application": app_bin().display().to_string(),
        "args": ["--show"],
    }}}});
    let mut id = String::new();
    wait_until("a WebDriver session", || {
        let created = webdriver_once(port, "POST", "/session", Some(capabilities.clone()))
            .unwrap_or(Value::Null);
        id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or("")
            .to_string();
        !id.is_empty()
    });
    RunningApp {
        session: Session { port, id },
        log_path,
        display,
        _scratch: scratch,
        _spawned: spawned,
        bus,
        _xvfb: xvfb,
    }
}

#[test]
fn the_app_runs_the_engine_and_its_popover_drives_it() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let app = launch(&home);
    let session = &app.session;
    // The CLI talks to the engine inside the app.
    wait_until("the app's engine to answer", || {
        request(&home.socket(), "GET", "/api/health/ready", None).is_ok_and(|r| r.status == 200)
    });
    let listed = home.ok(&["ls"]);
    assert!(listed.stdout.starts_with("NAME"), "{}", listed.stdout);

    // A job added with the CLI appears in the popover, running.
    home.ok(&["add", "web", "--", "sleep", "1000"]);
    session.wait_for("[data-testid=job-row][data-job=web][data-state=running]");
    let first = pid_of(&home, "web").unwrap();

    // Restart in the popover: a new process.
    let restart = session.wait_for("button[aria-label='Restart web']");
    let clicked = session.call(
        "POST",
        &format!("/element/{restart}/click"),
        Some(json!({})),
    );
    assert!(clicked["value"].is_null(), "the click: {clicked}");
    let mut second = first;
    wait_until("web to run with a new pid", || {
        second = pid_of(&home, "web").unwrap_or(first);
        second != first
    });
    assert!(!alive(first), "the old process is gone");

    // A job that fails shows as failed, and the tray says so.
    home.ok(&[
        "add",
        "crashy",
        "--restart",
        "never",
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    session.wait_for("[data-testid=job-row][data-job=crashy][data-state=failed]");
    wait_until("the tray to turn to failing", || {
        std::fs::read_to_string(&app.log_path)
            .is_ok_and(|l| l.contains("tray: SentinelZero: crashy failing"))
    });
    let shot = session.call("GET", "/screenshot", None);
    if let Some(png) = shot["value"].as_str() {
        let _ = std::fs::write(app.log_path.with_file_name("popover.b64"), png);
    }

    // A second launch hands over to the first and exits.
    let mut again = Command::new(app_bin());
    app.env(&home, &mut again);
    let status = again
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the second instance exits cleanly");
    wait_until("the first instance to hear of the second", || {
        std::fs::read_to_string(&app.log_path).is_ok_and(|l| l.contains("launched again"))
    });

    // Quit: every job stopped, then the app exits.
    let app_pid: i32 = std::fs::read_to_string(home.path().join("engine.lock"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(app_pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    wait_until("the app to exit", || !alive(app_pid as u64));
    assert!(!alive(second), "no job outlives the app");
    assert!(std::fs::read_to_string(&app.log_path)
        .unwrap()
        .contains("every job stopped; quitting"));
    // The app is gone; the session ends with tauri-driver.
}

impl Session {
    /// Makes the window whose URL contains `part` the current one.
    fn switch_to(&self, part: &str) {
        wait_until(&format!("a window at {part}"), || {
            let handles = self.call("GET", "/window/handles", None);
            handles["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|handle| {
                    self.call("POST", "/window", Some(json!({ "handle": handle })));
                    self.call("GET", "/url", None)["value"]
                        .as_str()
                        .is_some_and(|url| url.contains(part))
                })
        });
    }

    fn click_css(&self, css: &str) {
        let element = self.wait_for(css);
        let answer = self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
        assert!(answer["value"].is_null(), "click {css}: {answer}");
    }

    /// Replaces what an input holds.
    fn type_into(&self, css: &str, text: &str) {
        let element = self.wait_for(css);
        self.call(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        let answer = self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
        assert!(answer["value"].is_null(), "type into {css}: {answer}");
    }

    /// The text content of every element matching `css` (WebKitWebDriver's element text
    /// skips text next to Svelte's comment anchors).
    fn texts(&self, css: &str) -> Vec<String> {
        let answer = self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "return Array.from(document.querySelectorAll(arguments[0])).map((e) => e.textContent);",
                "args": [css],
            })),
        );
        answer["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(String::from))
            .collect()
    }
}

fn spec_of(home: &Home, job: &str) -> Option<Value> {
    let response = request(&home.socket(), "GET", &format!("/api/jobs/{job}"), None).ok()?;
    (response.status == 200).then(|| response.json()["spec"].clone())
}

#[test]
fn a_job_is_created_run_read_changed_and_deleted_in_the_settings_window() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let app = launch(&home);
    let session = &app.session;
    wait_until("the app's engine to answer", || {
        request(&home.socket(), "GET", "/api/health/ready", None).is_ok_and(|r| r.status == 200)
    });

    // The popover's empty state leads to a new job in the settings window.
    session.wait_for("[data-testid=empty]");
    let opened = session.call(
        "POST",
        "/execute/async",
        Some(json!({
            "script": "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('open_settings', {job: null, page: 'new'}).then(() => done('ok'), (e) => done(JSON.stringify(e)));",
            "args": [],
        })),
    );
    assert_eq!(opened["value"], "ok", "{opened}");
    session.switch_to("settings.html");

    // Create it in the editor: it starts (a service with autostart) and prints.
    session.type_into("#f-name", "greeter");
    session.type_into("#f-command", "sh -c 'echo hello from greeter; sleep 1000'");
    session.click_css("[data-testid=save]");
    wait_until("greeter to run", || pid_of(&home, "greeter").is_some());

    // Its logs, in the Logs tab.
    session.switch_to("settings.html");
    session.click_css("[data-testid=tab-logs]");
    wait_until("the job's output in the logs viewer", || {
        session
            .texts("[data-testid=log-line]")
            .iter()
            .any(|line| line.contains("hello from greeter"))
    });

    // Change its delay in the editor.
    session.click_css("[data-testid=tab-editor]");
    session.type_into("#f-delay", "7s");
    session.click_css("[data-testid=save]");
    wait_until("the new delay to be saved", || {
        spec_of(&home, "greeter").is_some_and(|spec| spec["restart"]["delay"] == "7s")
    });

    // Make it fail: the failing run shows in the history.
    session.type_into("#f-command", "sh -c 'echo bye; exit 4'");
    session.click_css("[data-testid=save]");
    wait_until("a failed run", || {
        request(&home.socket(), "GET", "/api/jobs/greeter/runs", None)
            .is_ok_and(|r| r.body.contains("\"outcome\":\"failure\""))
    });
    session.click_css("[data-testid=tab-runs]");
    wait_until("the failed run in the history", || {
        session
            .texts("[data-testid=run-row]")
            .iter()
            .any(|row| row.contains("exit 4") || row.contains("exit code 4"))
    });

    // Delete it, after the confirmation.
    session.click_css("[data-testid=tab-editor]");
    session.click_css("button.destructive-text");
    session.click_css("button.primary.destructive");
    wait_until("greeter to be gone", || spec_of(&home, "greeter").is_none());
    assert!(!app.log().contains("panicked"), "{}", app.log());

    // A hang-up (the terminal that started it closed) quits like Quit: nothing outlives it.
    home.ok(&[
        "add",
        "sleeper",
        "--",
        "sh",
        "-c",
        "sleep 1000 & sleep 1000",
    ]);
    let mut leader = None;
    wait_until("sleeper to run", || {
        leader = pid_of(&home, "sleeper");
        leader.is_some()
    });
    let leader = leader.unwrap();
    let app_pid: i32 = std::fs::read_to_string(home.path().join("engine.lock"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(app_pid),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    wait_until("the app to exit", || !alive(app_pid as u64));
    assert!(
        nix::sys::signal::killpg(nix::unistd::Pid::from_raw(leader as i32), None).is_err(),
        "the job's group outlived the app"
    );
    let log = app.log();
    assert!(log.contains("asked to quit by SIGHUP"), "{log}");
    assert!(log.contains("every job stopped; quitting"), "{log}");
}

/// Kills the sshd that listens (its sessions go on), keeping its files.
fn stop_listening(sshd: &Sshd) {
    // The listener retitles itself ("sshd: /usr/sbin/sshd -D -e -f CONFIG [listener] …"); its
    // sessions' titles do not name the config.
    let config = format!("-f {}", sshd.dir.path().join("sshd_config").display());
    for entry in std::fs::read_dir("/proc").unwrap().map_while(Result::ok) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let title = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if title.contains(&config) {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            wait_until("sshd to stop listening", || {
                std::net::TcpStream::connect(("127.0.0.1", sshd.port)).is_err()
            });
            return;
        }
    }
    panic!("no sshd runs with {config}");
}

/// Runs a script in the current window and returns what it returns.
fn run_script(session: &Session, script: &str) -> Value {
    session.call(
        "POST",
        "/execute/sync",
        Some(json!({ "script": script, "args": [] })),
    )["value"]
        .clone()
}

#[test]
fn the_popover_watches_a_remote_engine_through_a_real_sshd() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    // The far machine: a daemon in a home of its own, reached through a real sshd.
    let far = Home::new();
    let daemon = far.daemon();
    far.ok(&["add", "ci", "--", "sleep", "1000"]);
    let sshd = Sshd::serving(&far);
    let url = sshd.url();

    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let ssh_command = sshd.ssh_command();
    let app = launch_with(&home, &[("SENTINEL_SSH_COMMAND", &ssh_command)]);
    let session = &app.session;
    wait_until("the app's engine to answer", || {
        request(&home.socket(), "GET", "/api/health/ready", None).is_ok_and(|r| r.status == 200)
    });

    // Added on the settings window's Engines page, after a test connection.
    let opened = session.call(
        "POST",
        "/execute/async",
        Some(json!({
            "script": "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('open_settings', {job: null, page: 'app'}).then(() => done('ok'), (e) => done(JSON.stringify(e)));",
            "args": [],
        })),
    );
    assert_eq!(opened["value"], "ok", "{opened}");
    session.switch_to("settings.html");
    run_script(session, "location.hash = '#page=engines'; return null;");
    session.type_into("#e-name", "build-box");
    session.type_into("#e-host", &url);
    session.click_css("[data-testid=test-new]");
    wait_until("the test connection's answer", || {
        session
            .texts("[data-testid=test-result]")
            .iter()
            .any(|t| t.contains("Reached SentinelZero") && t.contains("1 job"))
    });
    session.click_css("[data-testid=add-engine]");
    wait_until("the engine to be connected", || {
        session
            .texts("[data-testid=engine][data-engine=build-box] [data-testid=engine-state]")
            .iter()
            .any(|t| t.starts_with("Connected"))
    });
    // Where `sentinel context` reads it too.
    let contexts = home.ok(&["context", "ls"]);
    assert!(contexts.stdout.contains("build-box"), "{}", contexts.stdout);

    // The popover: a section for it, its job running there, restarted there with one click.
    session.switch_to("popover.html");
    session.wait_for("[data-testid=engine-header][data-engine=build-box][data-link=connected]");
    session
        .wait_for("[data-testid=job-row][data-engine=build-box][data-job=ci][data-state=running]");
    let first = pid_of(&far, "ci").unwrap();
    session.click_css("button[aria-label='Restart ci on build-box']");
    let mut second = first;
    wait_until("ci to run there with a new pid", || {
        second = pid_of(&far, "ci").unwrap_or(first);
        second != first
    });
    assert!(
        request(&home.socket(), "GET", "/api/jobs/ci", None).is_ok_and(|r| r.status == 404),
        "the action went to the remote engine, not this one"
    );

    // A job failing there turns the tray to failing, naming the engine.
    far.ok(&[
        "add",
        "broken",
        "--restart",
        "never",
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    session.wait_for(
        "[data-testid=job-row][data-engine=build-box][data-job=broken][data-state=failed]",
    );
    wait_until("the tray to name the engine", || {
        app.log()
            .contains("tray: SentinelZero: broken failing on build-box")
    });

    // The machine goes away: no sshd (its client config stays, as a user's would), and the
    // session there ends. Unreachable, with ssh's own words, and tried again.
    stop_listening(&sshd);
    for pid in Sshd::dialers(&far) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    session.wait_for("[data-testid=engine-header][data-engine=build-box][data-link=unreachable]");
    wait_until("ssh's words in the popover", || {
        session
            .texts(
                "[data-testid=engine-header][data-engine=build-box] [data-testid=engine-problem]",
            )
            .iter()
            .any(|t| t.contains("Connection refused"))
    });
    wait_until("the tray to say it is unreachable", || {
        app.log().contains("build-box unreachable")
    });
    // This machine's engine is not held up by it.
    home.ok(&["add", "here", "--", "sleep", "1000"]);
    session.wait_for("[data-testid=job-row][data-engine=''][data-job=here][data-state=running]");
    assert!(!app.log().contains("panicked"), "{}", app.log());
    drop(daemon);
}
