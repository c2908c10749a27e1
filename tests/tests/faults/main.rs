//! The fault suite: the real daemon killed over and over, jobs crash-looping, floods of
//! output, a log file system that fills up, crowds of clients and a database locked by
//! another process. Every test is bounded in time; docs/reliability.md lists what each shows.

mod clients;
mod crash_loop;
mod disk;
mod kill9;
mod locked_db;
mod startup_kill9;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use sentinel_tests::Home;
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};

/// The crash-loop test measures the daemon's memory: it runs alone, the other faults (which
/// load the machine hard) beside each other before or after it.
static MACHINE: RwLock<()> = RwLock::new(());

/// For a test that may share the machine with the other faults.
pub fn shared_machine() -> RwLockReadGuard<'static, ()> {
    MACHINE
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// For the test that must have the machine to itself.
pub fn whole_machine() -> RwLockWriteGuard<'static, ()> {
    MACHINE
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The daemon's database, opened beside it as another program would.
pub struct Db {
    runtime: tokio::runtime::Runtime,
    connection: SqliteConnection,
}

impl Db {
    pub fn open(home: &Home) -> Db {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let options = SqliteConnectOptions::new()
            .filename(home.path().join("sentinel.db"))
            .busy_timeout(sentinel_tests::DEADLINE);
        let connection = runtime
            .block_on(SqliteConnection::connect_with(&options))
            .expect("the database opens");
        Db {
            runtime,
            connection,
        }
    }

    /// Every row of a query whose columns are all integers.
    pub fn rows(&mut self, sql: &str) -> Vec<Vec<i64>> {
        let rows = self
            .runtime
            .block_on(sqlx::query(sql).fetch_all(&mut self.connection))
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.try_get::<Option<i64>, _>(i).unwrap().unwrap_or(-1))
                    .collect()
            })
            .collect()
    }

    pub fn number(&mut self, sql: &str) -> i64 {
        self.rows(sql)[0][0]
    }

    /// `PRAGMA integrity_check`: "ok", or what is wrong.
    pub fn integrity(&mut self) -> String {
        let rows = self
            .runtime
            .block_on(sqlx::query("PRAGMA integrity_check").fetch_all(&mut self.connection))
            .unwrap();
        rows.iter()
            .map(|row| row.get::<String, _>(0))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Holds a write lock on the whole database (no other process can write) while `during`
    /// runs.
    pub fn locked<T>(&mut self, during: impl FnOnce() -> T) -> T {
        self.runtime
            .block_on(sqlx::query("BEGIN EXCLUSIVE").execute(&mut self.connection))
            .unwrap();
        let result = during();
        self.runtime
            .block_on(sqlx::query("COMMIT").execute(&mut self.connection))
            .unwrap();
        result
    }
}

/// A process started for a job of one engine home: found by the variables every child
/// carries (`SENTINEL_HOME` from the daemon's environment, `SENTINEL_JOB` from the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobProcess {
    pub pid: u32,
    pub pgid: u32,
    pub job: String,
}

/// Every live process started for a job of `home`, wherever it was re-parented.
pub fn job_processes(home: &Home) -> Vec<JobProcess> {
    let marker = format!("SENTINEL_HOME={}", home.path().display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
        if !vars.contains(&marker.as_bytes()) {
            continue;
        }
        let Some(job) = vars
            .iter()
            .find_map(|v| v.strip_prefix(b"SENTINEL_JOB="))
            .map(|j| String::from_utf8_lossy(j).into_owned())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        if fields[0] == "Z" {
            continue;
        }
        found.push(JobProcess {
            pid,
            pgid: fields[2].parse().unwrap(),
            job,
        });
    }
    found
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Bytes used by the files under a directory.
pub fn disk_use(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// An HTTP endpoint that records the JSON bodies POSTed to it (the engine's webhook).
pub struct WebhookReceiver {
    pub url: String,
    received: Arc<Mutex<Vec<Value>>>,
}

impl WebhookReceiver {
    pub fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(body) = read_post(stream) {
                    sink.lock().unwrap().push(body);
                }
            }
        });
        WebhookReceiver { url, received }
    }

    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }
}

fn read_post(mut stream: std::net::TcpStream) -> Option<Value> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    stream
        .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    serde_json::from_slice(&body).ok()
}

/// Writes a job file into the test's directory and imports it.
pub fn import(home: &Home, toml: &str) {
    let file: PathBuf = home.dir.path().join("jobs.toml");
    std::fs::write(&file, toml).unwrap();
    home.ok(&["import", file.to_str().unwrap()]);
}

/// Every job's status, by `sentinel ls --json`.
pub fn statuses(home: &Home) -> Vec<Value> {
    home.ok(&["ls", "--json"])
        .json()
        .as_array()
        .unwrap()
        .clone()
}
