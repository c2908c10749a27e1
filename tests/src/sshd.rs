//! A real OpenSSH server on 127.0.0.1 for remote-engine tests: Debian's `sshd` with a private
//! config, host key and authorized key in a temporary directory, on a free port. Nothing of the
//! system's ssh setup is read or changed; the client side is a private `ssh -F` config given
//! to `sentinel` through `SENTINEL_SSH_COMMAND`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::{free_port, sentinel_bin, Home, DEADLINE};

const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// What sshd has said, for a failure's message.
    log: Arc<Mutex<String>>,
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "sentinel-test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen (openssh-client; scripts/setup.sh installs it)");
    assert!(status.success(), "ssh-keygen failed");
}

fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Sshd {
    /// A server whose sessions run the `sentinel` of this build against `home`'s engine.
    pub fn serving(home: &Home) -> Sshd {
        Sshd::start(&home.path(), |bin| {
            std::os::unix::fs::symlink(sentinel_bin(), bin.join("sentinel")).unwrap();
        })
    }

    /// A server whose sessions have a directory of their own (filled by `fill_bin`) and the
    /// system's /usr/bin:/bin as their PATH, and `sentinel_home` as their `SENTINEL_HOME`.
    pub fn start(sentinel_home: &Path, fill_bin: impl FnOnce(&Path)) -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        let bin = at("bin");
        std::fs::create_dir(&bin).unwrap();
        fill_bin(&bin);
        keygen(&at("host_key"));
        keygen(&at("client_key"));
        std::fs::copy(at("client_key.pub"), at("authorized_keys")).unwrap();
        // sshd's privilege separation needs its empty directory; the package's service makes
        // it at boot, and a container may not have booted one.
        if !Path::new("/run/sshd").exists() {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let mut started = None;
        for _ in 0..5 {
            let port = free_port();
            let config = format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {host_key}\n\
                 AuthorizedKeysFile {keys}\nUsePAM no\nStrictModes no\nPidFile none\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\nAllowTcpForwarding no\nX11Forwarding no\n\
                 PrintMotd no\nLogLevel VERBOSE\n\
                 SetEnv PATH={bin}:/usr/bin:/bin SENTINEL_HOME={home} NO_COLOR=1\n",
                host_key = at("host_key").display(),
                keys = at("authorized_keys").display(),
                bin = bin.display(),
                home = sentinel_home.display(),
            );
            std::fs::write(at("sshd_config"), config).unwrap();
            let mut child = Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(at("sshd_config"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("sshd (openssh-server; scripts/setup.sh installs it)");
            let log = Arc::new(Mutex::new(String::new()));
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let stderr = child.stderr.take().unwrap();
            let kept = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("Server listening") {
                        let _ = ready_tx.send(true);
                    }
                    kept.lock().unwrap().push_str(&(line + "\n"));
                }
                let _ = ready_tx.send(false);
            });
            if ready_rx.recv_timeout(DEADLINE) == Ok(true) {
                started = Some((child, port, log));
                break;
            }
            // Lost the port to someone else between the check and the bind: try another.
            let _ = child.kill();
            let _ = child.wait();
        }
        let (child, port, log) = started.expect("sshd did not start on any of 5 ports");
        let sshd = Sshd {
            child,
            dir,
            port,
            log,
        };
        let host_key = std::fs::read_to_string(sshd.at("host_key.pub")).unwrap();
        sshd.write_client_config("ssh_config", &host_key);
        sshd
    }

    fn at(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A client config that trusts `host_key` for this server, and nothing else.
    fn write_client_config(&self, name: &str, host_key: &str) -> PathBuf {
        let known = self.at(&format!("{name}.known_hosts"));
        std::fs::write(&known, format!("[127.0.0.1]:{} {host_key}", self.port)).unwrap();
        let config = format!(
            "Host *\n  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  \
             GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n  \
             LogLevel ERROR\n",
            key = self.at("client_key").display(),
            known = known.display(),
        );
        let path = self.at(name);
        std::fs::write(&path, config).unwrap();
        path
    }

    /// `ssh://user@127.0.0.1:PORT`, as the user running the tests.
    pub fn url(&self) -> String {
        format!("ssh://{}@127.0.0.1:{}", user_name(), self.port)
    }

    /// The `SENTINEL_SSH_COMMAND` that reaches this server with its key and known host.
    pub fn ssh_command(&self) -> String {
        format!("ssh -F {}", self.at("ssh_config").display())
    }

    /// A `SENTINEL_SSH_COMMAND` whose known host key for this server is another one: what a
    /// machine in the middle would present.
    pub fn ssh_command_with_wrong_host_key(&self) -> String {
        keygen(&self.at("other_host_key"));
        let other = std::fs::read_to_string(self.at("other_host_key.pub")).unwrap();
        let config = self.write_client_config("wrong_config", &other);
        format!("ssh -F {}", config.display())
    }

    /// What sshd has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The session processes (`sentinel dial-stdio`) serving `home` right now, by pid.
    pub fn dialers(home: &Home) -> Vec<u32> {
        let wanted = format!("SENTINEL_HOME={}", home.path().display());
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().map_while(Result::ok) {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if !cmdline.split(|b| *b == 0).any(|arg| arg == b"dial-stdio") {
                continue;
            }
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            if environ
                .split(|b| *b == 0)
                .any(|var| var == wanted.as_bytes())
            {
                pids.push(pid);
            }
        }
        pids
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
