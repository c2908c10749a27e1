use super::*;

fn endpoint(user: Option<&str>, port: Option<u16>) -> SshEndpoint {
    SshEndpoint {
        host: SshHost {
            user: user.map(str::to_string),
            host: "build-box".into(),
            port,
        },
        remote_sentinel: "/opt/sz/sentinel".into(),
        ssh: vec!["ssh".into(), "-F".into(), "/tmp/config".into()],
        batch: true,
    }
}

#[test]
fn the_command_line_puts_the_host_after_the_options_end() {
    assert_eq!(
        endpoint(Some("deploy"), Some(2222)).argv(),
        [
            "ssh",
            "-F",
            "/tmp/config",
            "-T",
            "-o",
            "ConnectTimeout=15",
            "-o",
            "BatchMode=yes",
            "-p",
            "2222",
            "--",
            "deploy@build-box",
            "/opt/sz/sentinel",
            "dial-stdio"
        ]
    );
    let mut interactive = endpoint(None, None);
    interactive.batch = false;
    let argv = interactive.argv();
    assert!(!argv.contains(&"BatchMode=yes".to_string()));
    assert_eq!(
        argv[argv.len() - 3..],
        ["build-box", "/opt/sz/sentinel", "dial-stdio"]
    );
}

fn outcome(code: Option<i32>, stderr: &str) -> Option<RemoteProblem> {
    classify(&Outcome {
        code: Some(code),
        stderr: stderr.as_bytes().to_vec(),
    })
}

#[test]
fn what_ssh_and_the_remote_shell_said_is_named() {
    let refused = outcome(
        Some(255),
        "ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n",
    )
    .unwrap();
    assert!(refused.is_unreachable());
    assert_eq!(
        refused.to_string(),
        "ssh: connect to host 127.0.0.1 port 1: Connection refused"
    );
    let key = outcome(
        Some(255),
        "@@@@@@@\nWARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\n@@@@\nHost key for [127.0.0.1]:2 has changed and you have requested strict checking.\nHost key verification failed.\n",
    )
    .unwrap();
    assert!(
        key.to_string().ends_with("Host key verification failed."),
        "{key}"
    );

    for stderr in [
        "bash: line 1: sentinel: command not found",
        "sh: 1: sentinel: not found",
        "zsh:1: command not found: sentinel",
    ] {
        let missing = outcome(Some(127), stderr).unwrap();
        assert!(
            matches!(&missing, RemoteProblem::NotInstalled { command, .. } if command == "sentinel"),
            "{stderr}: {missing:?}"
        );
        assert!(
            missing.to_string().contains("install SentinelZero"),
            "{missing}"
        );
        assert!(!missing.is_unreachable());
    }
    let old = outcome(
        Some(2),
        "error: unrecognized subcommand 'dial-stdio'\n\nUsage: sentinel <COMMAND>\n",
    )
    .unwrap();
    assert!(matches!(old, RemoteProblem::TooOld { .. }), "{old:?}");
    assert!(old.to_string().contains("install SentinelZero"));

    let no_engine = outcome(
        Some(DIAL_NO_ENGINE),
        "no SentinelZero engine is running at /x.sock\n",
    );
    assert!(matches!(no_engine, Some(RemoteProblem::NoEngine { .. })));
    let signal = outcome(None, "").unwrap();
    assert_eq!(
        signal.to_string(),
        "the remote command failed (killed by a signal)"
    );
    assert_eq!(outcome(Some(0), "chatter"), None);
}

#[test]
fn only_the_tail_of_stderr_is_kept_and_shown() {
    let noisy: String = (0..50).map(|i| format!("banner line {i}\n")).collect();
    let shown = last_lines(&(noisy + "\nPermission denied (publickey).\n"));
    assert_eq!(
        shown,
        "banner line 48; banner line 49; Permission denied (publickey)."
    );
}

#[tokio::test]
async fn a_missing_ssh_program_is_named() {
    let mut endpoint = endpoint(None, None);
    endpoint.ssh = vec!["/nonexistent/ssh".into()];
    let Err(problem) = connect(&endpoint) else {
        panic!("a missing program connected")
    };
    assert!(problem.is_unreachable());
    assert!(
        problem.to_string().contains("/nonexistent/ssh"),
        "{problem}"
    );
}

/// A stand-in for `ssh` that is a real process: what it prints and how it exits is what the
/// connection reports.
#[tokio::test]
async fn a_connection_that_ends_before_an_answer_reports_the_exit_and_stderr() {
    let mut endpoint = endpoint(None, None);
    endpoint.ssh = vec![
        "sh".into(),
        "-c".into(),
        "echo 'Host key verification failed.' >&2; exit 255".into(),
    ];
    // Held open, so it is the stand-in that ends the connection.
    let (_stream, diagnosis) = connect(&endpoint).unwrap();
    let problem = diagnosis.problem().await.unwrap();
    assert_eq!(problem.to_string(), "Host key verification failed.");
}

#[test]
fn the_ssh_command_is_split_as_a_shell_would_without_one() {
    assert_eq!(ssh_command(""), ["ssh"]);
    assert_eq!(ssh_command("   "), ["ssh"]);
    assert_eq!(
        ssh_command("ssh -F '/Users/me/My Configs/ssh' -o BatchMode=yes"),
        [
            "ssh",
            "-F",
            "/Users/me/My Configs/ssh",
            "-o",
            "BatchMode=yes"
        ]
    );
    assert_eq!(ssh_command("/opt/ssh \"-v"), ["/opt/ssh", "\"-v"]);
}
