//! The real app, end to end: the built `sentinelzero` under Xvfb with a private D-Bus session,
//! driven over WebDriver (tauri-driver + WebKitWebDriver), with the real CLI beside it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sentinel_tests::*;
use serde_json::{json, Value};

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
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

#[test]
fn the_app_runs_the_engine_and_its_popover_drives_it() {
    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let scratch = tempfile::tempdir().unwrap();
    let log_path = scratch.path().join("app.log");
    let mut spawned = Spawned(Vec::new());

    let bus = format!("unix:path={}", scratch.path().join("bus").display());
    spawned.0.push(
        own_group(&mut Command::new("dbus-daemon"))
            .args([
                "--session",
                "--nofork",
                "--nopidfile",
                &format!("--address={bus}"),
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("dbus-daemon (scripts/setup.sh installs it)"),
    );
    let display = (100..300)
        .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
        .unwrap();
    spawned.0.push(
        own_group(&mut Command::new("Xvfb"))
            .args([
                &format!(":{display}"),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/setup.sh installs it)"),
    );
    wait_until("Xvfb", || {
        Path::new(&format!("/tmp/.X11-unix/X{display}")).exists()
    });

    let port = free_port();
    let log = std::fs::File::create(&log_path).unwrap();
    let app_env = |command: &mut Command| {
        command
            .env("DISPLAY", format!(":{display}"))
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("SENTINEL_HOME", home.path())
            // No window manager here: focus events would hide the popover at random.
            .env("SENTINEL_POPOVER_STAYS", "1")
            .env("NO_AT_BRIDGE", "1");
    };
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
    app_env(&mut driver);
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
    let session = Session { port, id };

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
        std::fs::read_to_string(&log_path)
            .is_ok_and(|l| l.contains("tray: SentinelZero: crashy failing"))
    });
    let shot = session.call("GET", "/screenshot", None);
    if let Some(png) = shot["value"].as_str() {
        let _ = std::fs::write(scratch.path().join("popover.b64"), png);
    }

    // A second launch hands over to the first and exits.
    let mut again = Command::new(app_bin());
    app_env(&mut again);
    let status = again
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the second instance exits cleanly");
    wait_until("the first instance to hear of the second", || {
        std::fs::read_to_string(&log_path).is_ok_and(|l| l.contains("launched again"))
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
    assert!(std::fs::read_to_string(&log_path)
        .unwrap()
        .contains("every job stopped; quitting"));
    // The app is gone; the session ends with tauri-driver.
}
