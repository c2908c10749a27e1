//! The app at rest and the popover's time to paint, under Xvfb: three jobs, a private D-Bus
//! (a second launch with `--toggle` shows or hides the popover, as a keyboard launcher would)
//! and hidden windows resting after a few seconds instead of a minute.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use super::*;
use crate::stats::memory;
use sentinel_tests::SessionBus;

/// How long a hidden window is kept here (a minute in the app).
const REST: &str = "5s";

struct Family {
    app: Child,
    // After the app, as fields drop in order.
    _bus: SessionBus,
    log: Arc<Mutex<Vec<String>>>,
    env: Vec<(String, String)>,
}

impl Family {
    fn lines_with(&self, what: &str) -> Vec<String> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().filter(|l| l.contains(what)).cloned().collect()
    }

    fn toggle(&self, bin: &Path) {
        let status = Command::new(bin)
            .arg("--toggle")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "a second launch hands over and exits");
    }

    /// The paint time of the show of `kind` ("cold" or "warm") after `before` such lines;
    /// none when no paint is reported within 10 s (counted and printed, not hidden).
    fn next_paint(&self, kind: &str, before: usize) -> Option<Duration> {
        let tag = format!("({kind})");
        let limit = Instant::now() + Duration::from_secs(10);
        let line = loop {
            if let Some(line) = self.lines_with(&tag).get(before) {
                break line.clone();
            }
            if Instant::now() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let ms = line
            .split("popover painted ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|ms| ms.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no time in {line:?}"));
        Some(Duration::from_millis(ms))
    }

    fn paints(&self, kind: &str) -> usize {
        self.lines_with(&format!("({kind})")).len()
    }

    /// The app and its WebKit processes, each with its private dirty memory (MiB).
    fn memory(&self) -> Vec<(String, f64)> {
        let root = self.app.id();
        let mut pids = vec![root];
        pids.extend(
            procs::all()
                .filter(|p| p.ppid == root && p.comm.starts_with("WebKit"))
                .map(|p| p.pid),
        );
        pids.into_iter()
            .map(|p| {
                let name = procs::read(p).map_or("?".into(), |p| p.comm);
                (name, memory(p).dirty)
            })
            .collect()
    }

    fn web_processes(&self) -> usize {
        procs::children_named(self.app.id(), "WebKitWebProces")
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.app.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.app.wait();
    }
}

fn describe(memory: &[(String, f64)]) -> String {
    let total: f64 = memory.iter().map(|(_, m)| m).sum();
    let parts: Vec<String> = memory
        .iter()
        .map(|(name, m)| format!("{name} {m:.1}"))
        .collect();
    format!("**{total:.1} MiB** ({})", parts.join(", "))
}

/// Private memory with the popover open and at rest; `shows` warm and cold paints.
pub(super) fn app_rest(app: &Path, display: u32, shows: usize) {
    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let bus = SessionBus::start();
    let env: Vec<(String, String)> = [
        ("DISPLAY", format!(":{display}")),
        ("DBUS_SESSION_BUS_ADDRESS", bus.address().to_string()),
        ("SENTINEL_HOME", home.path().display().to_string()),
        ("SENTINEL_POPOVER_STAYS", "1".into()),
        ("SENTINEL_WINDOW_REST", REST.into()),
        ("NO_AT_BRIDGE", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut child = Command::new(app)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let collected = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            collected
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(line);
        }
    });
    let family = Family {
        app: child,
        _bus: bus,
        log,
        env,
    };
    wait_until("the app's tray", || {
        !family.lines_with("tray ready").is_empty()
    });
    for i in 0..3 {
        add(
            &home,
            json!({"name": format!("job{i}"), "command": "sleep 100000"}),
        );
    }
    let rested = |count: usize| {
        wait_until("the popover to rest", || {
            family.lines_with("window at rest").len() == count && family.web_processes() == 0
        });
    };
    // Built hidden at launch; at rest before anyone looks.
    rested(1);
    let (mut warm, mut cold, mut unreported) = (Vec::new(), Vec::new(), 0);
    let mut show = |kind: &str, times: &mut Vec<Duration>, toggles: usize| {
        let before = family.paints(kind);
        for _ in 0..toggles {
            family.toggle(app);
        }
        match family.next_paint(kind, before) {
            Some(took) => times.push(took),
            None => unreported += 1,
        }
    };
    show("cold", &mut cold, 1);
    for _ in 0..shows {
        show("warm", &mut warm, 2);
    }
    settle(Duration::from_secs(3));
    let open = family.memory();
    family.toggle(app);
    rested(2);
    // One trim of malloc's arenas (every 10 s) after the webview went.
    settle(Duration::from_secs(11));
    let at_rest = family.memory();
    for rest in 3..shows.max(2) + 2 {
        show("cold", &mut cold, 1);
        family.toggle(app);
        rested(rest);
    }
    let paints = |kind: &str, times: &[Duration], target: u64| {
        let summary = summarize(times);
        format!(
            "{kind} {:.0} ms median, {:.0} ms slowest of {} (target ≤ {target} ms)",
            summary.median,
            times.iter().max().map_or(0.0, |t| t.as_secs_f64() * 1000.0),
            summary.n
        )
    };
    println!(
        "Popover, from the request to show it to the page's first frame after it: {}; {} (built again after resting: its web process, page and snapshot){}.\n",
        paints("warm", &warm, 150),
        paints("cold", &cold, 500),
        if unreported > 0 {
            format!("; **{unreported} shows reported no paint within 10 s**")
        } else {
            String::new()
        }
    );
    println!(
        "Private memory (dirty pages only it holds; what Activity Monitor counts) with three jobs: popover open {}; at rest, the popover hidden for {REST} and destroyed {} (target ≤ 40 MiB together).\n",
        describe(&open),
        describe(&at_rest),
    );
}
