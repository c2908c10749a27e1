//! Who holds a TCP port a job declared: found before each start so that a conflict is
//! reported with the process behind it (and, when it is a leftover of the job itself, can be
//! stopped), instead of the job failing with "address in use" again and again.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use sentinel_proto::stack::{FreedPorts, PortHolder, PortStatus};
use sentinel_proto::WaitReason;

/// Children carry their job's name in this variable, so the engine can recognise a process
/// of a job even after its run is over (an orphan that kept a port).
pub(crate) const JOB_ENV: &str = "SENTINEL_JOB";

/// Whether `port` is in use, and the pids listening on it that this user can see.
struct PortUse {
    in_use: bool,
    pids: Vec<u32>,
}

/// Every declared port of `job` and who listens on it. `own_group` is the process group of
/// the job's current run, if it runs.
pub(crate) fn inspect(job: &str, ports: &[u16], own_group: Option<u32>) -> Vec<PortStatus> {
    ports
        .iter()
        .map(|&port| {
            let used = listeners(port);
            let mut holders = Vec::new();
            let mut own = false;
            for pid in used.pids {
                let group = nix::unistd::getpgid(Some(Pid::from_raw(pid as i32)))
                    .ok()
                    .map(|g| g.as_raw() as u32);
                if own_group.is_some() && group == own_group {
                    own = true;
                    continue;
                }
                holders.push(describe(pid, job));
            }
            PortStatus {
                port,
                in_use: used.in_use,
                holders,
                own,
            }
        })
        .collect()
}

/// Runs a scan of the system's sockets from async code: where the runtime has other workers
/// they take over meanwhile (the scan reads every process's descriptors), so no actor or API
/// request waits behind it.
pub(crate) fn blocking<T>(scan: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(scan),
        _ => scan(),
    }
}

/// Why the job cannot start yet, if one of its ports is held by someone else.
pub(crate) fn conflict(job: &str, ports: &[u16]) -> Option<WaitReason> {
    let status = inspect(job, ports, None)
        .into_iter()
        .find(|status| status.in_use)?;
    Some(WaitReason::Port {
        port: status.port,
        holder: status.holders.into_iter().next(),
    })
}

/// Stops the processes that hold `job`'s ports and are its own orphans (their whole process
/// groups: TERM, KILL after `grace`); other holders are left alone.
pub(crate) async fn free(
    job: &str,
    ports: &[u16],
    own_group: Option<u32>,
    grace: Duration,
) -> FreedPorts {
    let mut stopped = Vec::new();
    let mut kept = Vec::new();
    let mut groups = BTreeSet::new();
    for status in inspect(job, ports, own_group) {
        for holder in status.holders {
            if holder.orphan {
                if let Ok(group) = nix::unistd::getpgid(Some(Pid::from_raw(holder.pid as i32))) {
                    groups.insert(group.as_raw());
                }
                stopped.push(holder);
            } else {
                kept.push(holder);
            }
        }
    }
    for &group in &groups {
        let _ = killpg(Pid::from_raw(group), Signal::SIGTERM);
    }
    let deadline = crate::later::Later::later(tokio::time::Instant::now(), grace);
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    loop {
        ticks.tick().await;
        let alive: Vec<i32> = groups
            .iter()
            .copied()
            .filter(|&group| killpg(Pid::from_raw(group), None).is_ok())
            .collect();
        if alive.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            for group in alive {
                let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
            }
            deadline_passed_wait(&groups).await;
            break;
        }
    }
    FreedPorts {
        job: job.to_string(),
        stopped,
        kept,
    }
}

/// After KILL, waits (briefly) for the groups to be gone so the port is free on return.
async fn deadline_passed_wait(groups: &BTreeSet<i32>) {
    for _ in 0..100 {
        if groups
            .iter()
            .all(|&group| killpg(Pid::from_raw(group), None).is_err())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The holder's command line and, from its environment, the job that started it.
fn describe(pid: u32, job: &str) -> PortHolder {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, UpdateKind};
    let target = sysinfo::Pid::from_u32(pid);
    let Ok(mut system) = sysinfo::System::new() else {
        return PortHolder {
            pid,
            command: "?".into(),
            job: None,
            orphan: false,
        };
    };
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[target]),
        false,
        ProcessRefreshKind::nothing()
            .with_cmd(UpdateKind::Always)
            .with_environ(UpdateKind::Always),
    );
    let (command, started_by) = match system.process(target) {
        Some(process) => {
            let command = join_args(process.cmd());
            let command = if command.is_empty() {
                process.name().to_string_lossy().into_owned()
            } else {
                command
            };
            (command, job_of(process.environ()))
        }
        None => (String::from("?"), None),
    };
    PortHolder {
        pid,
        command,
        orphan: started_by.as_deref() == Some(job),
        job: started_by,
    }
}

fn join_args(args: &[OsString]) -> String {
    let text = args
        .iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    // A command line is for reading, not for a screenful.
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn job_of(environ: &[OsString]) -> Option<String> {
    let prefix = format!("{JOB_ENV}=");
    environ.iter().find_map(|entry| {
        entry
            .to_str()
            .and_then(|entry| entry.strip_prefix(&prefix))
            .map(str::to_string)
    })
}

#[cfg(target_os = "linux")]
fn listeners(port: u16) -> PortUse {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return PortUse {
            in_use: bound_elsewhere(port),
            pids: Vec::new(),
        };
    }
    let wanted: BTreeSet<String> = inodes
        .iter()
        .map(|inode| format!("socket:[{inode}]"))
        .collect();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .ok()
                .and_then(|target| target.to_str().map(|t| wanted.contains(t)))
                .unwrap_or(false)
        });
        if holds {
            pids.push(pid);
        }
    }
    PortUse { in_use: true, pids }
}

/// Inodes of sockets listening on `port`, IPv4 and IPv6 (`/proc/net/tcp*`, state 0A).
#[cfg(target_os = "linux")]
fn listening_inodes(port: u16) -> BTreeSet<u64> {
    let mut inodes = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || fields[3] != "0A" {
                continue;
            }
            let local_port = fields[1]
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port) {
                if let Ok(inode) = fields[9].parse::<u64>() {
                    if inode != 0 {
                        inodes.insert(inode);
                    }
                }
            }
        }
    }
    inodes
}

/// macOS: the TCP sockets of this user's processes, through libproc (in-process system calls,
/// where `lsof` was a program started for every check).
#[cfg(target_os = "macos")]
fn listeners(port: u16) -> PortUse {
    use libproc::bsd_info::BSDInfo;
    use libproc::file_info::{pidfdinfo, ListFDs, ProcFDType};
    use libproc::net_info::{SocketFDInfo, SocketInfoKind, TcpSIState};
    use libproc::proc_pid::{listpidinfo, pidinfo};
    use libproc::processes::{pids_by_type, ProcFilter};

    let uid = nix::unistd::getuid().as_raw();
    let mut pids = Vec::new();
    for pid in pids_by_type(ProcFilter::ByUID { uid }).unwrap_or_default() {
        let Ok(bsd) = pidinfo::<BSDInfo>(pid as i32, 0) else {
            continue;
        };
        let Ok(fds) = listpidinfo::<ListFDs>(pid as i32, bsd.pbi_nfiles as usize) else {
            continue;
        };
        let listens = fds.iter().any(|fd| {
            if !matches!(ProcFDType::from(fd.proc_fdtype), ProcFDType::Socket) {
                return false;
            }
            let Ok(socket) = pidfdinfo::<SocketFDInfo>(pid as i32, fd.proc_fd) else {
                return false;
            };
            if !matches!(
                SocketInfoKind::from(socket.psi.soi_kind),
                SocketInfoKind::Tcp
            ) {
                return false;
            }
            // SAFETY: the union holds the TCP member when the kind is Tcp.
            let tcp = unsafe { socket.psi.soi_proto.pri_tcp };
            listening_on(
                matches!(TcpSIState::from(tcp.tcpsi_state), TcpSIState::Listen),
                tcp.tcpsi_ini.insi_lport,
                port,
            )
        });
        if listens {
            pids.push(pid);
        }
    }
    PortUse {
        in_use: !pids.is_empty() || bound_elsewhere(port),
        pids,
    }
}

/// Whether a TCP socket the kernel describes listens on `port`: `local_port` as libproc gives
/// it, in network byte order in the low 16 bits (lsof reads it with ntohs).
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
fn listening_on(listening: bool, local_port: i32, port: u16) -> bool {
    listening && u16::from_be(local_port as u16) == port
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn listeners(port: u16) -> PortUse {
    // lsof lists listeners of every process of this user.
    let pids: Vec<u32> = std::process::Command::new("lsof")
        .args(["-nP", &format!("-iTCP:{port}"), "-sTCP:LISTEN", "-t"])
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|line| line.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    PortUse {
        in_use: !pids.is_empty() || bound_elsewhere(port),
        pids,
    }
}

/// A listener the tables do not show (another network namespace, no permission): binding
/// the port on the loopback address says whether it is taken. Never on every address: on
/// macOS that raises the firewall's "accept incoming connections?" prompt for the app.
fn bound_elsewhere(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_port_is_read_in_network_byte_order() {
        let port: u16 = 5432;
        let as_libproc_gives_it = i32::from(port.to_be());
        assert!(listening_on(true, as_libproc_gives_it, 5432));
        assert!(!listening_on(false, as_libproc_gives_it, 5432));
        assert!(!listening_on(true, i32::from(port), 5432) || port.to_be() == port);
        assert!(!listening_on(true, as_libproc_gives_it, 5433));
    }

    #[test]
    fn a_listener_of_this_process_is_found() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = listeners(port);
        assert!(found.in_use);
        assert_eq!(found.pids, vec![std::process::id()]);
        drop(listener);
        let free = listeners(port);
        assert!(!free.in_use && free.pids.is_empty());
    }

    #[test]
    fn the_job_comes_from_the_environment() {
        let environ: Vec<OsString> = vec!["HOME=/h".into(), "SENTINEL_JOB=api".into()];
        assert_eq!(job_of(&environ).as_deref(), Some("api"));
        assert_eq!(job_of(&[OsString::from("X=1")]), None);
    }
}
