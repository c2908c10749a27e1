//! Log capture with real children: every byte, in order, across rotations.

use sentinel_engine::proto::action::Action;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use sentinel_engine::logs::format::reassemble;
use sentinel_engine::proto::{LogSettings, LogStream};

use crate::common::*;

/// Deterministic text: lines of varied length, some longer than the line limit, some empty,
/// and no newline at the very end.
fn sample(seed: u64, approx_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(approx_len + 64 * 1024);
    let mut state = seed;
    while out.len() < approx_len {
        let mut h = DefaultHasher::new();
        state.hash(&mut h);
        state = h.finish();
        let len = match state % 100 {
            0 => 40_000,
            1..=5 => 0,
            n => (n * 7) as usize,
        };
        out.extend((0..len).map(|i| b' ' + ((state as usize + i) % 90) as u8));
        out.push(b'\n');
    }
    out.extend_from_slice(b"the end, without a newline");
    out
}

fn read_all(files: &[std::path::PathBuf]) -> Vec<Vec<u8>> {
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_byte_of_both_streams_survives_rotation() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let stdout = sample(1, 8 << 20);
    let stderr = sample(2, 2 << 20);
    std::fs::write(t.path().join("out.dat"), &stdout).unwrap();
    std::fs::write(t.path().join("err.dat"), &stderr).unwrap();

    let mut spec = sh("chatty", "cat out.dat & cat err.dat >&2; wait");
    spec.cwd = Some(t.path().to_path_buf());
    spec.logs = LogSettings {
        max_size: 256 * 1024,
        max_files: 1000,
    };
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "chatty").await.unwrap();
    state_of(&mut events, "chatty", "exited").await;

    let files = t.engine.log_files("chatty").unwrap();
    assert!(
        files.len() > 30,
        "expected many rotations, got {} files",
        files.len()
    );
    for file in &files {
        assert!(
            std::fs::metadata(file).unwrap().len() <= 256 * 1024,
            "{} is over the cap",
            file.display()
        );
    }
    let contents = read_all(&files);
    let got_out = reassemble(&contents, LogStream::Stdout);
    let got_err = reassemble(&contents, LogStream::Stderr);
    assert_eq!(
        got_out.len(),
        stdout.len(),
        "stdout bytes lost or duplicated"
    );
    assert!(got_out == stdout, "stdout differs");
    assert_eq!(
        got_err.len(),
        stderr.len(),
        "stderr bytes lost or duplicated"
    );
    assert!(got_err == stderr, "stderr differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_one_active_and_max_files_rotated() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = sh(
        "rotating",
        "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done",
    );
    spec.logs = LogSettings {
        max_size: 4096,
        max_files: 3,
    };
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "rotating").await.unwrap();
    state_of(&mut events, "rotating", "exited").await;
    let files = t.engine.log_files("rotating").unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into())
        .collect();
    assert_eq!(
        names,
        vec![
            "rotating.log.3",
            "rotating.log.2",
            "rotating.log.1",
            "rotating.log"
        ]
    );
    // The newest lines are the last ones written.
    let tail = t.engine.log_tail("rotating", 2, None).unwrap();
    assert_eq!(tail[1].text, "line 2999");
    assert_eq!(tail[0].text, "line 2998");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_see_lines_as_they_are_written_with_their_stream() {
    let t = TestEngine::new().await;
    let fifo = t.path().join("go");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    // The job prints one line, then waits for the test before printing more.
    let script = format!(
        "echo first; read x < {f}; echo second; echo oops >&2; read x < {f}",
        f = fifo.display()
    );
    t.engine.add(sh("live", &script)).await.unwrap();
    t.engine.act_on(Action::Start, "live").await.unwrap();
    eventually("the first line", || {
        t.engine.log_tail("live", 1, None).unwrap().len() == 1
    })
    .await;

    let (tail, mut live) = t.engine.follow_logs("live", 10, None).unwrap();
    assert_eq!(
        tail.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        vec!["first"]
    );
    std::fs::write(&fifo, "go\n").unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    // The two streams are separate pipes: their relative order is not defined.
    let mut received = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout_at(deadline, live.recv())
            .await
            .unwrap()
            .unwrap();
        received.push((line.text, line.stream));
    }
    received.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        received,
        vec![
            ("oops".to_string(), LogStream::Stderr),
            ("second".to_string(), LogStream::Stdout)
        ]
    );
    std::fs::write(&fifo, "done\n").unwrap();
    t.engine.act_on(Action::Stop, "live").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_that_cannot_be_written_is_announced_and_so_is_its_recovery() {
    use sentinel_engine::proto::{EngineEvent, JobState};

    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    // A file where the log directory should be: the job's log cannot be created.
    let log_dir = t.path().join("logs");
    std::fs::remove_dir_all(&log_dir).unwrap();
    std::fs::write(&log_dir, "").unwrap();
    t.engine
        .add(sh("chatty", "while :; do echo tick; sleep 0.05; done"))
        .await
        .unwrap();
    t.engine.act_on(Action::Start, "chatty").await.unwrap();
    // Published as a status change, so the app and `events` learn of it without polling.
    let failing = next_event(&mut events, |e| match &e.event {
        EngineEvent::StateChanged { status } if status.name == "chatty" => status.log_error.clone(),
        _ => None,
    })
    .await;
    assert!(failing.contains("cannot write"), "{failing}");
    assert!(matches!(
        t.engine.get("chatty").unwrap().status.state,
        JobState::Running { .. }
    ));

    std::fs::remove_file(&log_dir).unwrap();
    next_event(&mut events, |e| match &e.event {
        EngineEvent::StateChanged { status }
            if status.name == "chatty" && status.log_error.is_none() =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    assert!(std::fs::read_to_string(log_dir.join("chatty.log"))
        .unwrap()
        .contains(" F tick"));
}
