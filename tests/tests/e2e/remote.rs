//! An engine on another machine, reached through a real OpenSSH server on 127.0.0.1: the CLI
//! runs `ssh … sentinel dial-stdio` and speaks the same API over the session, streams
//! included; what ssh refuses (a wrong host key, nobody listening) and a remote without a
//! usable `sentinel` are reported in words.

use std::process::{Child, Stdio};

use sentinel_tests::*;

/// This machine: a home with no engine of its own, whose `sentinel` talks to `sshd`.
struct Here {
    home: Home,
    ssh_command: String,
}

impl Here {
    fn new(sshd: &Sshd) -> Here {
        Here {
            home: Home::new(),
            ssh_command: sshd.ssh_command(),
        }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.home.command(args);
        command.env("SENTINEL_SSH_COMMAND", &self.ssh_command);
        command
            .env_remove("SENTINEL_HOST")
            .env_remove("SENTINEL_CONTEXT");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().expect("sentinel runs");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> Output {
        let output = self.run(args);
        assert_eq!(
            output.code, 0,
            "sentinel {args:?} failed: {}{}",
            output.stdout, output.stderr
        );
        output
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sentinel runs")
    }
}

fn interrupt(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    wait_until("the followed stream to end on SIGINT", || {
        child.try_wait().is_ok_and(|status| status.is_some())
    });
}

#[test]
fn every_command_works_against_an_engine_behind_ssh_streams_included() {
    let remote = Home::new();
    let _daemon = remote.daemon();
    remote.ok(&[
        "add",
        "ticker",
        "--shell",
        "--cmd",
        "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done",
    ]);
    let sshd = Sshd::serving(&remote);
    let here = Here::new(&sshd);
    let url = sshd.url();

    let listed = here.ok(&["--host", &url, "ls", "--json"]).json();
    assert_eq!(listed[0]["name"], "ticker", "{listed}");
    assert_eq!(listed[0]["state"], "running");

    // A job added from here runs there.
    here.ok(&["--host", &url, "add", "sleeper", "--", "sleep", "1000"]);
    wait_until("the job added over ssh to run there", || {
        pid_of(&remote, "sleeper").is_some()
    });

    // Followed logs: lines the job prints from now on arrive as it prints them.
    let mut logs = here.spawn(&["--host", &url, "logs", "ticker", "-f", "-n", "1"]);
    let lines = Lines::of(&mut logs);
    let first: u64 = lines
        .until("a tick", |line| line.starts_with("tick "))
        .trim_start_matches("tick ")
        .parse()
        .unwrap();
    let later = lines.until("a later tick", |line| {
        line.strip_prefix("tick ")
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n >= first + 3)
    });
    assert!(later.starts_with("tick "), "{later}");

    // Followed events see a restart made from here, and the restart happened there.
    let mut events = here.spawn(&["--host", &url, "events", "-f", "--json"]);
    let event_lines = Lines::of(&mut events);
    // The stream only shows what happens once it is attached: poke the engine there until an
    // event comes through.
    let mut attached = false;
    for _ in 0..100 {
        remote.ok(&["stop", "sleeper"]);
        remote.ok(&["start", "sleeper"]);
        if event_lines
            .next_within(std::time::Duration::from_millis(300))
            .is_some_and(|line| line.contains("sleeper"))
        {
            attached = true;
            break;
        }
    }
    assert!(attached, "no event came through the followed stream");
    let before = pid_of(&remote, "ticker").unwrap();
    here.ok(&["--host", &url, "restart", "ticker"]);
    let after = pid_of(&remote, "ticker").unwrap();
    assert_ne!(before, after, "the remote job has a new process");
    event_lines.until("the restart's stop", |line| {
        line.contains("\"ticker\"") && line.contains("\"stopping\"")
    });
    event_lines.until("the restarted job running again", |line| {
        line.contains("\"ticker\"") && line.contains("running")
    });

    // `top` reads the remote engine's samples.
    let top = here.ok(&["--host", &url, "top", "--once"]).stdout;
    assert!(top.contains("ticker") && top.contains("sleeper"), "{top}");

    // Leaving a stream ends its ssh session and the dialler on the remote machine.
    interrupt(&mut logs);
    interrupt(&mut events);
    wait_until(
        "the remote dialers of the abandoned streams to exit",
        || Sshd::dialers(&remote).is_empty(),
    );

    // A named context does the same without --host, and `default` is this machine again.
    here.ok(&[
        "context",
        "add",
        "box",
        &url,
        "--description",
        "the test box",
    ]);
    here.ok(&["context", "use", "box"]);
    assert_eq!(here.ok(&["context", "show"]).stdout.trim(), "box");
    let contexts = here.ok(&["context", "ls", "--json"]).json();
    assert_eq!(contexts[1]["name"], "box");
    assert_eq!(contexts[1]["current"], true);
    assert_eq!(contexts[0]["current"], false);
    let names = here.ok(&["ls"]).stdout;
    assert!(names.contains("ticker"), "{names}");
    let local = here.run(&["--context", "default", "ls"]);
    assert_eq!(local.code, 1);
    assert!(
        local.stderr.contains("no SentinelZero engine is running"),
        "{}",
        local.stderr
    );
    here.ok(&["context", "rm", "box"]);
    assert_eq!(here.ok(&["context", "show"]).stdout.trim(), "default");
    // SENTINEL_HOST works as --host does.
    let by_env = here
        .command(&["ls", "--json"])
        .env("SENTINEL_HOST", &url)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&by_env.stdout).contains("ticker"));

    // A project on this machine's disk is not handed to the remote engine.
    let up = here.run(&["--host", &url, "up"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(
        up.stderr.contains("reads a project from this machine"),
        "{}",
        up.stderr
    );
}

#[test]
fn a_wrong_host_key_is_refused_before_anything_reaches_the_engine() {
    let remote = Home::new();
    let _daemon = remote.daemon();
    let sshd = Sshd::serving(&remote);
    let mut here = Here::new(&sshd);
    here.ssh_command = sshd.ssh_command_with_wrong_host_key();
    let refused = here.run(&["--host", &sshd.url(), "add", "planted", "--", "true"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("Host key verification failed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&sshd.url()),
        "the error names the host: {}",
        refused.stderr
    );
    let jobs = remote.ok(&["ls", "--json"]).json();
    assert_eq!(jobs.as_array().unwrap().len(), 0, "{jobs}");
    assert!(!sshd.log().contains("Accepted publickey"), "{}", sshd.log());
}

#[test]
fn an_unreachable_host_is_reported_with_what_ssh_said() {
    let nobody = free_port();
    let here = Here {
        home: Home::new(),
        ssh_command: "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes".into(),
    };
    let url = format!("ssh://nobody@127.0.0.1:{nobody}");
    let unreachable = here.run(&["--host", &url, "ls"]);
    assert_eq!(unreachable.code, 1);
    assert!(
        unreachable.stderr.contains("Connection refused") && unreachable.stderr.contains(&url),
        "{}",
        unreachable.stderr
    );

    let bad = here.run(&["--host", "ssh://-oProxyCommand=touch", "ls"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("starts with '-'"), "{}", bad.stderr);
}

#[test]
fn a_remote_without_a_usable_sentinel_is_told_what_to_install() {
    let remote = Home::new();

    // No sentinel on the remote PATH at all.
    let bare = Sshd::start(&remote.path(), |_| {});
    let here = Here::new(&bare);
    let missing = here.run(&["--host", &bare.url(), "ls"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("\"sentinel\" is not installed on the remote machine")
            && missing.stderr.contains("install SentinelZero"),
        "{}",
        missing.stderr
    );

    // A sentinel from before `dial-stdio`: its command line refuses the subcommand as clap does.
    let old = Sshd::start(&remote.path(), |bin| {
        use std::os::unix::fs::PermissionsExt;
        let script = bin.join("sentinel");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"error: unrecognized subcommand '$1'\" >&2\nexit 2\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    });
    let here = Here::new(&old);
    let too_old = here.run(&["--host", &old.url(), "ls"]);
    assert_eq!(too_old.code, 1);
    assert!(
        too_old.stderr.contains("too old for remote use")
            && too_old.stderr.contains("install SentinelZero"),
        "{}",
        too_old.stderr
    );

    // The right sentinel, and no engine running there.
    let idle = Sshd::serving(&remote);
    let here = Here::new(&idle);
    let no_engine = here.run(&["--host", &idle.url(), "ls"]);
    assert_eq!(no_engine.code, 1);
    assert!(
        no_engine
            .stderr
            .contains("no SentinelZero engine is running at")
            && no_engine
                .stderr
                .contains(&remote.socket().display().to_string()),
        "{}",
        no_engine.stderr
    );
}
