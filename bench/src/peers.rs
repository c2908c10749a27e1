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
    pub restart: bool,
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
}

/// Starts a peer supervising `programs`.
pub type Start = fn(&[Program]) -> Box<dyn Peer>;

pub fn all() -> Vec<(&'static str, Start)> {
    if !available() {
        eprintln!(
            "peers are not installed: run bench/setup-peers.sh to compare with supervisord and PM2"
        );
        return Vec::new();
    }
    vec![
        ("supervisord", |programs| {
            Box::new(Supervisord::start(programs)) as Box<dyn Peer>
        }),
        ("PM2", |programs| {
            Box::new(Pm2::start(programs)) as Box<dyn Peer>
        }),
    ]
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
                "[program:{}]\ncommand={}\nautostart=true\nautorestart={}\nstartsecs=0\nstartretries=1000\n\
                 stdout_logfile={d}/{0}.out\nstderr_logfile={d}/{0}.err\n",
                program.name,
                program.command,
                program.restart,
                d = dir.path().display()
            ));
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
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        self.ctl(&["shutdown"]);
        let _ = self.daemon.wait();
    }
}

pub struct Pm2 {
    home: tempfile::TempDir,
}

impl Pm2 {
    pub fn start(programs: &[Program]) -> Pm2 {
        let home = tempfile::tempdir().unwrap();
        let apps: Vec<serde_json::Value> = programs
            .iter()
            .map(|p| {
                serde_json::json!({
                    // `exec`, so the pid PM2 reports is the program's, as with the others.
                    "name": p.name, "script": "/bin/sh", "args": ["-c", format!("exec {}", p.command)],
                    "autorestart": p.restart, "restart_delay": 0, "max_restarts": 100000,
                    "min_uptime": 0,
                })
            })
            .collect();
        let file = home.path().join("ecosystem.json");
        std::fs::write(&file, serde_json::json!({ "apps": apps }).to_string()).unwrap();
        let peer = Pm2 { home };
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
        self.cli(&["restart", program]);
    }
    fn list_name(&self) -> &'static str {
        "pm2 jlist"
    }
    fn list(&self) {
        self.cli(&["jlist"]);
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        self.cli(&["kill"]);
    }
}
