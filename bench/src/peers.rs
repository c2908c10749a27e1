//! The other supervisors, driven through their own CLIs and config files, as their users do.
//! Each runs in a private temporary directory and is stopped, with everything it started,
//! when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A program for a peer to supervise.
pub struct Program {
    pub name: String,
    pub command: String,
    /// Restart whenever it exits, at once (`restart: false`: never).
    pub restart: bool,
    /// Ignore `restart`: the peer's own default restart policy, as a new user gets it.
    pub defaults: bool,
    /// Started with the peer; otherwise only by `start`.
    pub autostart: bool,
}

impl Program {
    /// Restarted at once whenever it exits, started with the peer.
    pub fn service(name: &str, command: impl Into<String>) -> Program {
        Program {
            name: name.into(),
            command: command.into(),
            restart: true,
            defaults: false,
            autostart: true,
        }
    }
}

pub trait Peer {
    /// The supervisor's own process (for RSS and CPU).
    fn daemon_pid(&self) -> u32;
    /// The pid of a program's current process, if it runs.
    fn pid_of(&self, program: &str) -> Option<u32>;
    fn stop(&self, program: &str);
    fn start(&self, program: &str);
    /// The peer's "list everything" command, as users type it.
    fn list_name(&self) -> &'static str;
    /// Runs the peer's "list everything" command once, as a user would.
    fn list(&self);
    /// The peer's own word for the program's state ("FATAL", "errored", …).
    fn state_of(&self, program: &str) -> String;
    /// Bytes of the program's standard output in the peer's log files.
    fn stdout_bytes(&self, program: &str) -> u64;
}

/// Starts a peer supervising `programs`.
pub type Start = fn(&[Program]) -> Box<dyn Peer>;

/// A peer, and whether it has a CLI to stop, start and list programs one by one (horust
/// 0.1 has none: it runs what its service files say until it is stopped itself).
pub struct PeerKind {
    pub name: &'static str,
    pub start: Start,
    pub controls: bool,
    /// Writes the program's output itself (false: the child writes the file directly).
    pub captures_output: bool,
}

pub fn all() -> Vec<PeerKind> {
    if !available() {
        eprintln!(
            "peers are not installed: run bench/setup-peers.sh to compare with supervisord, PM2 and horust"
        );
        return Vec::new();
    }
    vec![
        PeerKind {
            name: "supervisord",
            start: |programs| Box::new(Supervisord::start(programs)) as Box<dyn Peer>,
            controls: true,
            captures_output: true,
        },
        PeerKind {
            name: "PM2",
            start: |programs| Box::new(Pm2::start(programs)) as Box<dyn Peer>,
            controls: true,
            captures_output: true,
        },
        PeerKind {
            name: "horust",
            start: |programs| Box::new(Horust::start(programs)) as Box<dyn Peer>,
            controls: false,
            captures_output: false,
        },
    ]
}

/// The peers that can stop, start and list single programs.
pub fn with_controls() -> Vec<PeerKind> {
    all().into_iter().filter(|peer| peer.controls).collect()
}

/// Versions of the installed peers, for the report.
pub fn versions() -> String {
    if !available() {
        return "peers not installed".into();
    }
    let supervisord =
        output(Command::new(peers_dir().join("venv/bin/supervisord")).arg("--version"));
    let pm2 = std::fs::read_to_string(peers_dir().join("npm/node_modules/pm2/package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_string))
        .unwrap_or_default();
    // horust has no --version; setup-peers.sh installs this one.
    format!(
        "supervisord {}, PM2 {pm2}, horust 0.1.14",
        supervisord.trim()
    )
}

fn horust_bin() -> PathBuf {
    peers_dir().join("horust/bin/horust")
}

fn file_sizes(paths: impl IntoIterator<Item = PathBuf>) -> u64 {
    paths
        .into_iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|meta| meta.len())
        .sum()
}

/// Files in `dir` whose name starts with `prefix` (a log and its rotated copies).
fn files_starting(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(prefix))
        .map(|entry| entry.path())
        .collect()
}

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers")
}

fn output(command: &mut Command) -> String {
    let out = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("the peer's CLI runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn available() -> bool {
    peers_dir().join("venv/bin/supervisord").exists()
        && peers_dir().join("npm/node_modules/.bin/pm2").exists()
        && horust_bin().exists()
}

pub struct Supervisord {
    dir: tempfile::TempDir,
    daemon: Child,
}

impl Supervisord {
    pub fn start(programs: &[Program]) -> Supervisord {
        let dir = tempfile::tempdir().unwrap();
        let mut conf = format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\n\
             [unix_http_server]\nfile={d}/supervisor.sock\n\
             [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             [supervisorctl]\nserverurl=unix://{d}/supervisor.sock\n",
            d = dir.path().display()
        );
        for program in programs {
            conf.push_str(&format!(
                "[program:{}]\ncommand={}\nautostart={}\nstdout_logfile={d}/{0}.out\nstderr_logfile={d}/{0}.err\n",
                program.name,
                program.command,
                program.autostart,
                d = dir.path().display()
            ));
            if !program.defaults {
                conf.push_str(&format!(
                    "autorestart={}\nstartsecs=0\nstartretries=1000\n",
                    program.restart
                ));
            }
        }
        std::fs::write(dir.path().join("supervisord.conf"), conf).unwrap();
        let daemon = Command::new(peers_dir().join("venv/bin/supervisord"))
            .args(["-n", "-c"])
            .arg(dir.path().join("supervisord.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("supervisord starts");
        let peer = Supervisord { dir, daemon };
        wait_for("supervisord to answer", || {
            peer.ctl(&["pid"]).trim().parse::<u32>().is_ok()
        });
        peer
    }

    fn ctl(&self, args: &[&str]) -> String {
        output(
            Command::new(peers_dir().join("venv/bin/supervisorctl"))
                .arg("-c")
                .arg(self.dir.path().join("supervisord.conf"))
                .args(args),
        )
    }
}

impl Peer for Supervisord {
    fn daemon_pid(&self) -> u32 {
        self.daemon.id()
    }
    fn pid_of(&self, program: &str) -> Option<u32> {
        self.ctl(&["pid", program])
            .trim()
            .parse()
            .ok()
            .filter(|&pid| pid > 0)
    }
    fn stop(&self, program: &str) {
        self.ctl(&["stop", program]);
    }
    fn start(&self, program: &str) {
        self.ctl(&["start", program]);
    }
    fn list_name(&self) -> &'static str {
        "supervisorctl status"
    }
    fn list(&self) {
        self.ctl(&["status"]);
    }
    fn state_of(&self, program: &str) -> String {
        self.ctl(&["status", program])
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
            .to_string()
    }
    fn stdout_bytes(&self, program: &str) -> u64 {
        file_sizes(files_starting(self.dir.path(), &format!("{program}.out")))
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        self.ctl(&["shutdown"]);
        let _ = self.daemon.wait();
    }
}

pub struct Pm2 {
    home: tempfile::TempDir,
    /// Ecosystem files of programs that do not start with the peer, by name.
    later: std::cell::RefCell<std::collections::BTreeMap<String, PathBuf>>,
}

impl Pm2 {
    pub fn start(programs: &[Program]) -> Pm2 {
        let home = tempfile::tempdir().unwrap();
        let app = |p: &Program| {
            // `exec`, so the pid PM2 reports is the program's, as with the others.
            let mut app = serde_json::json!({
                "name": p.name, "script": "/bin/sh", "args": ["-c", format!("exec {}", p.command)],
            });
            if !p.defaults {
                app["autorestart"] = p.restart.into();
                app["restart_delay"] = 0.into();
                app["max_restarts"] = 100000.into();
                app["min_uptime"] = 0.into();
            }
            app
        };
        let write = |name: &str, apps: Vec<serde_json::Value>| {
            let file = home.path().join(format!("{name}.json"));
            std::fs::write(&file, serde_json::json!({ "apps": apps }).to_string()).unwrap();
            file
        };
        let now: Vec<serde_json::Value> =
            programs.iter().filter(|p| p.autostart).map(app).collect();
        let later = programs
            .iter()
            .filter(|p| !p.autostart)
            .map(|p| {
                (
                    p.name.clone(),
                    write(&format!("later-{}", p.name), vec![app(p)]),
                )
            })
            .collect();
        let file = write("ecosystem", now);
        let peer = Pm2 {
            home,
            later: std::cell::RefCell::new(later),
        };
        // With nothing to start yet, the daemon still comes up, ready for `start`.
        peer.cli(&["ping"]);
        peer.cli(&["start", file.to_str().unwrap()]);
        peer
    }

    fn cli(&self, args: &[&str]) -> String {
        output(
            Command::new(peers_dir().join("npm/node_modules/.bin/pm2"))
                .env("PM2_HOME", self.home.path())
                .args(args),
        )
    }
}

impl Peer for Pm2 {
    fn daemon_pid(&self) -> u32 {
        std::fs::read_to_string(self.home.path().join("pm2.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0)
    }
    fn pid_of(&self, program: &str) -> Option<u32> {
        self.cli(&["pid", program])
            .lines()
            .last()?
            .trim()
            .parse()
            .ok()
            .filter(|&pid| pid > 0)
    }
    fn stop(&self, program: &str) {
        self.cli(&["stop", program]);
    }
    fn start(&self, program: &str) {
        let first = self.later.borrow_mut().remove(program);
        match first {
            Some(file) => self.cli(&["start", file.to_str().unwrap()]),
            None => self.cli(&["restart", program]),
        };
    }
    fn list_name(&self) -> &'static str {
        "pm2 jlist"
    }
    fn list(&self) {
        self.cli(&["jlist"]);
    }
    fn state_of(&self, program: &str) -> String {
        let list: serde_json::Value =
            serde_json::from_str(&self.cli(&["jlist"])).unwrap_or_default();
        list.as_array()
            .into_iter()
            .flatten()
            .find(|app| app["name"] == program)
            .and_then(|app| app["pm2_env"]["status"].as_str())
            .unwrap_or("?")
            .to_string()
    }
    fn stdout_bytes(&self, program: &str) -> u64 {
        file_sizes(files_starting(
            &self.home.path().join("logs"),
            &format!("{program}-out"),
        ))
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        self.cli(&["kill"]);
    }
}

/// horust 0.1: one TOML file per service; no control CLI, so programs start with it and are
/// found as its children.
pub struct Horust {
    dir: tempfile::TempDir,
    daemon: Child,
    commands: std::collections::BTreeMap<String, String>,
}

impl Horust {
    pub fn start(programs: &[Program]) -> Horust {
        let dir = tempfile::tempdir().unwrap();
        let services = dir.path().join("services");
        std::fs::create_dir_all(&services).unwrap();
        for program in programs {
            let mut service = format!(
                "command = {:?}\nstdout = {:?}\nstderr = {:?}\n",
                program.command,
                dir.path().join(format!("{}.out", program.name)),
                dir.path().join(format!("{}.err", program.name)),
            );
            if !program.defaults {
                let strategy = if program.restart { "always" } else { "never" };
                service.push_str(&format!(
                    "[restart]\nstrategy = \"{strategy}\"\nbackoff = \"0s\"\nattempts = 0\n"
                ));
            }
            std::fs::write(services.join(format!("{}.toml", program.name)), service).unwrap();
        }
        let uds = dir.path().join("uds");
        std::fs::create_dir_all(&uds).unwrap();
        let daemon = Command::new(horust_bin())
            .arg("--services-path")
            .arg(&services)
            .arg("--uds-folder-path")
            .arg(&uds)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("horust starts");
        Horust {
            dir,
            daemon,
            commands: programs
                .iter()
                .map(|p| (p.name.clone(), p.command.clone()))
                .collect(),
        }
    }
}

/// The command line of a process, as one string.
fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|&b| b == 0)
                .filter(|part| !part.is_empty())
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

impl Peer for Horust {
    fn daemon_pid(&self) -> u32 {
        self.daemon.id()
    }
    fn pid_of(&self, program: &str) -> Option<u32> {
        let command = self.commands.get(program)?;
        crate::procs::children(self.daemon.id())
            .into_iter()
            .find(|&pid| crate::procs::alive(pid) && cmdline(pid) == *command)
    }
    fn stop(&self, _program: &str) {
        unreachable!("horust has no control CLI; scenarios that need one skip it")
    }
    fn start(&self, _program: &str) {
        unreachable!("horust has no control CLI; scenarios that need one skip it")
    }
    fn list_name(&self) -> &'static str {
        "-"
    }
    fn list(&self) {
        unreachable!("horust has no control CLI; scenarios that need one skip it")
    }
    fn state_of(&self, program: &str) -> String {
        if self.pid_of(program).is_some() {
            "running".into()
        } else {
            "not running".into()
        }
    }
    fn stdout_bytes(&self, program: &str) -> u64 {
        file_sizes(files_starting(self.dir.path(), &format!("{program}.out")))
    }
}

impl Drop for Horust {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.daemon.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.daemon.wait();
    }
}
