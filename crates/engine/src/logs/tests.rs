use super::*;

fn settings(max_size: u64, max_files: u32) -> LogSettings {
    LogSettings {
        max_size,
        max_files,
    }
}

fn all_files(logs: &JobLogs) -> Vec<Vec<u8>> {
    logs.files()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn output_the_file_refuses_is_written_in_order_once_it_can_be() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the log directory should be: every write fails until it goes.
    let blocker = dir.path().join("logs");
    std::fs::write(&blocker, "").unwrap();
    let logs = JobLogs::new(&blocker, "job", settings(64 * 1024 * 1024, 1), 0);
    let mut carry = Vec::new();
    logs.ingest(LogStream::Stdout, &mut carry, b"before\n");
    assert!(logs.last_error().unwrap().contains("cannot write"));
    // More than the backlog holds: the oldest lines go, and the file says how much.
    let line = format!("{}\n", "x".repeat(1000));
    for _ in 0..(MAX_BACKLOG / 1000 + 100) {
        logs.ingest(LogStream::Stdout, &mut carry, line.as_bytes());
    }
    logs.ingest(LogStream::Stdout, &mut carry, b"last while refused\n");
    std::fs::remove_file(&blocker).unwrap();
    logs.ingest(LogStream::Stdout, &mut carry, b"after\n");
    assert_eq!(logs.last_error(), None);

    let text = String::from_utf8(std::fs::read(logs.active_path()).unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("bytes of output were dropped while"),
        "{}",
        lines[0]
    );
    assert!(!text.contains(" before"), "the oldest output was dropped");
    assert!(lines[lines.len() - 2].ends_with(" F last while refused"));
    assert!(lines[lines.len() - 1].ends_with(" F after"));
    // Every record is whole and the backlog stayed within its bound.
    assert!(lines.iter().all(|l| format::decode(l.as_bytes()).is_some()));
    assert!(text.len() <= MAX_BACKLOG + 2000);
}

#[test]
fn a_tail_of_one_stream_counts_only_that_stream() {
    let dir = tempfile::tempdir().unwrap();
    // From memory, and from the files when memory holds nothing.
    for memory in [64 * 1024, 0] {
        let logs = JobLogs::new(
            dir.path(),
            &format!("m{memory}"),
            settings(1 << 20, 2),
            memory,
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        logs.ingest(LogStream::Stderr, &mut err, b"err 1\nerr 2\n");
        for n in 0..20 {
            logs.ingest(LogStream::Stdout, &mut out, format!("out {n}\n").as_bytes());
        }
        let texts =
            |stream| -> Vec<String> { logs.tail(2, stream).into_iter().map(|l| l.text).collect() };
        assert_eq!(
            texts(Some(LogStream::Stderr)),
            ["err 1", "err 2"],
            "memory {memory}"
        );
        assert_eq!(texts(Some(LogStream::Stdout)), ["out 18", "out 19"]);
        assert_eq!(texts(None), ["out 18", "out 19"]);
        let (tail, _) = logs.follow(5, Some(LogStream::Stderr));
        assert_eq!(tail.len(), 2);
    }
}

#[test]
fn secret_values_are_masked_wherever_they_appear() {
    let values = vec![b"secret-long".to_vec(), b"secret".to_vec()];
    let mask = sentinel_proto::secret::MASK;
    assert_eq!(
        &*super::mask(b"a secret-long and a secret, twice: secret", &values),
        format!("a {mask} and a {mask}, twice: {mask}").as_bytes()
    );
    assert!(matches!(
        super::mask(b"nothing here", &values),
        Cow::Borrowed(_)
    ));
}

#[test]
fn lines_split_across_chunks_are_joined() {
    let dir = tempfile::tempdir().unwrap();
    let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), 10);
    let mut carry = Vec::new();
    logs.ingest(LogStream::Stdout, &mut carry, b"hel");
    logs.ingest(LogStream::Stdout, &mut carry, b"lo\nwor");
    logs.ingest(LogStream::Stdout, &mut carry, b"ld\n\nlast");
    logs.finish(LogStream::Stdout, &mut carry);
    let texts: Vec<String> = logs.tail(10, None).into_iter().map(|l| l.text).collect();
    assert_eq!(texts, vec!["hello", "world", "", "last"]);
    assert!(logs.tail(1, None)[0].partial);
    assert_eq!(
        format::reassemble(&all_files(&logs), LogStream::Stdout),
        b"hello\nworld\n\nlast"
    );
}

#[test]
fn long_lines_are_cut_but_kept_whole_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), 10);
    let long: Vec<u8> = (0..MAX_LINE * 2 + 100)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let mut input = long.clone();
    input.push(b'\n');
    let mut carry = Vec::new();
    for piece in input.chunks(1000) {
        logs.ingest(LogStream::Stderr, &mut carry, piece);
    }
    assert!(carry.is_empty());
    assert_eq!(logs.tail(10, None).len(), 3);
    assert_eq!(
        format::reassemble(&all_files(&logs), LogStream::Stderr),
        input
    );
}

#[test]
fn rotation_keeps_every_byte_and_at_most_max_files() {
    let dir = tempfile::tempdir().unwrap();
    let logs = JobLogs::new(dir.path(), "job", settings(2048, 1000), 0);
    let mut expected = Vec::new();
    let mut carry = Vec::new();
    for n in 0..500 {
        let line = format!("line {n} {}\n", "x".repeat(n % 70));
        expected.extend_from_slice(line.as_bytes());
        logs.ingest(LogStream::Stdout, &mut carry, line.as_bytes());
    }
    let files = logs.files();
    assert!(
        files.len() > 10,
        "expected rotation, got {} files",
        files.len()
    );
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() <= 2048);
    }
    assert_eq!(
        format::reassemble(&all_files(&logs), LogStream::Stdout),
        expected
    );

    let capped = JobLogs::new(dir.path(), "capped", settings(2048, 3), 0);
    for n in 0..500 {
        capped.ingest(
            LogStream::Stdout,
            &mut carry,
            format!("line {n}\n").as_bytes(),
        );
    }
    assert_eq!(capped.files().len(), 4, "one active and three rotated");
}

#[test]
fn tail_reads_the_files_when_memory_does_not_hold_enough() {
    let dir = tempfile::tempdir().unwrap();
    // Every record of a two-digit line is 40 bytes: memory holds three.
    let logs = JobLogs::new(dir.path(), "job", settings(4096, 5), 120);
    let mut carry = Vec::new();
    for n in 10..100 {
        logs.ingest(LogStream::Stdout, &mut carry, format!("{n}\n").as_bytes());
    }
    assert_eq!(logs.lock().recent.len(), 120);
    let from_ring: Vec<String> = logs.tail(3, None).into_iter().map(|l| l.text).collect();
    assert_eq!(from_ring, vec!["97", "98", "99"]);
    let from_files: Vec<String> = logs.tail(50, None).into_iter().map(|l| l.text).collect();
    assert_eq!(
        from_files,
        (50..100).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    // A fresh engine has an empty ring but the same files.
    let reopened = JobLogs::new(dir.path(), "job", settings(4096, 5), 120);
    assert_eq!(
        reopened
            .tail(2, None)
            .into_iter()
            .map(|l| l.text)
            .collect::<Vec<_>>(),
        vec!["98", "99"]
    );
}

#[test]
fn a_tail_is_bounded_in_lines_and_in_bytes_read() {
    let dir = tempfile::tempdir().unwrap();
    // Records of two-digit lines are 40 bytes; memory holds three of them.
    let logs = JobLogs::new(dir.path(), "job", settings(4096, 5), 120);
    let mut carry = Vec::new();
    for n in 10..100 {
        logs.ingest(LogStream::Stdout, &mut carry, format!("{n}\n").as_bytes());
    }
    // Asking for every line there could be is asking for at most MAX_TAIL_LINES.
    assert_eq!(logs.tail(usize::MAX, None).len(), 90);
    // With room for about 10 records, the newest whole ones come back, none cut.
    let texts: Vec<String> = logs
        .lock()
        .tail_within(50, None, 410)
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(texts, (90..100).map(|n| n.to_string()).collect::<Vec<_>>());
}

proptest::proptest! {
    #[test]
    fn memory_holds_the_newest_whole_records(
        lines in proptest::collection::vec(0usize..300, 1..200),
        capacity in 1usize..2000,
        chunk in 1usize..50,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), capacity);
        let mut carry = Vec::new();
        let text: Vec<u8> = lines.iter().enumerate()
            .flat_map(|(i, len)| std::iter::repeat_n(b'a' + (i % 26) as u8, *len).chain([b'\n']))
            .collect();
        for piece in text.chunks(chunk) {
            logs.ingest(LogStream::Stdout, &mut carry, piece);
        }
        let mut state = logs.lock();
        let written = std::fs::read(&state.active_path).unwrap();
        let recent: Vec<u8> = state.recent.make_contiguous().to_vec();
        proptest::prop_assert!(recent.len() <= capacity);
        proptest::prop_assert!(written.ends_with(&recent));
        let start = written.len() - recent.len();
        proptest::prop_assert!(start == 0 || written[start - 1] == b'\n', "memory starts mid-record");
    }
}

#[tokio::test]
async fn followers_get_every_line_after_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), 100);
    let mut carry = Vec::new();
    logs.ingest(LogStream::Stdout, &mut carry, b"before\n");
    let (tail, mut live) = logs.follow(10, None);
    assert_eq!(tail.len(), 1);
    logs.ingest(LogStream::Stderr, &mut carry, b"after\n");
    let line = live.recv().await.unwrap();
    assert_eq!(
        (line.text.as_str(), line.stream),
        ("after", LogStream::Stderr)
    );
    drop(live);
    logs.ingest(LogStream::Stdout, &mut carry, b"nobody listens\n");
    assert!(logs.lock().followers.is_none());
}
