//! A hundred API clients at once, some of them hanging up in the middle of a stream, while
//! jobs crash-loop and log.

use sentinel_tests::*;

use crate::import;

const CLIENTS: usize = 100;
const REQUESTS_EACH: usize = 50;

#[test]
fn a_hundred_concurrent_clients_all_get_answers() {
    let _machine = crate::shared_machine();
    let home = Home::new();
    let _daemon = home.daemon();
    import(
        &home,
        "version = 1\n\
         [[jobs]]\nname = \"svc\"\nshell = true\ncommand = \"while :; do echo tick; sleep 0.01; done\"\n\n\
         [[jobs]]\nname = \"crasher\"\nshell = true\ncommand = \"exit 1\"\n\
         [jobs.restart]\nmode = \"always\"\nmax_retries = 0\ndelay = \"20ms\"\nbackoff = 1.0\n",
    );
    let socket = home.socket();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for n in 0..REQUESTS_EACH {
                    if (client + n) % 10 == 0 {
                        if let Err(err) = hang_up_mid_stream(&socket, client) {
                            failures.push(format!("stream: {err}"));
                        }
                        continue;
                    }
                    let (method, path) = match (client + n) % 5 {
                        0 => ("GET", "/api/jobs"),
                        1 => ("GET", "/api/jobs/svc"),
                        2 => ("GET", "/api/jobs/crasher/runs?limit=5"),
                        3 => ("GET", "/api/jobs/svc/logs?tail=20"),
                        _ => ("GET", "/api/health/ready"),
                    };
                    match request(&socket, method, path, None) {
                        Ok(response) if response.status == 200 => {}
                        Ok(response) => {
                            failures.push(format!("{path}: {} {}", response.status, response.body))
                        }
                        Err(err) => failures.push(format!("{path}: {err}")),
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(
        failures.is_empty(),
        "{} requests failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    let status = home.ok(&["status", "svc", "--json"]).json();
    assert_eq!(status["status"]["state"], "running");
}

/// Follows the events or a log until the engine has answered, and hangs up.
fn hang_up_mid_stream(socket: &std::path::Path, client: usize) -> Result<(), ClientError> {
    let engine = Client::new(socket);
    within_deadline(async {
        if client.is_multiple_of(2) {
            engine.follow_events().await.map(drop)
        } else {
            engine
                .follow_logs("svc", sentinel_client::LogQuery::default())
                .await
                .map(drop)
        }
    })
}
