//! One way out of the app, whichever way it ends: the tray's Quit, a signal (TERM, INT, HUP),
//! `app.exit` from anywhere, and on macOS Cmd+Q, the app menu, the Dock, Activity Monitor and
//! logout, which AppKit ends through `terminate:` and tao reports as `RunEvent::Exit` with no
//! `ExitRequested` before it (tauri#9198, tauri#13778). Each goes through `shut_down`: the
//! socket closes, every job's process group is stopped (KILL after `QUIT_LIMIT`), the store
//! is flushed; it runs once, however many of them arrive.

use std::time::Duration;

use sentinel_engine::control::ControlServer;
use tauri::{AppHandle, Manager, RunEvent, Runtime};

use crate::commands::AppState;

/// How long jobs get to stop when the app quits before the rest get KILL. macOS gives an app
/// that is slow to quit at logout a few seconds more, then ends it: our jobs must be gone by
/// then, and a job that ignores its stop signal must not keep the user from logging out.
pub const QUIT_LIMIT: Duration = Duration::from_secs(10);

/// The control server, stopped on quit.
pub(crate) struct Server(pub tokio::sync::Mutex<Option<ControlServer>>);

/// Whether the app has shut down its engine (once; later calls wait for the first).
#[derive(Default)]
pub(crate) struct Lifecycle(tokio::sync::OnceCell<()>);

/// Stops the control server and every job (whole process groups) and closes the store; only
/// the first call does it, the others wait for it. Every way out of the app comes here.
pub async fn shut_down<R: Runtime>(app: &AppHandle<R>) {
    let Some(lifecycle) = app.try_state::<Lifecycle>() else {
        return;
    };
    lifecycle
        .0
        .get_or_init(|| async {
            if let Some(remotes) = app.try_state::<std::sync::Arc<crate::remote::Remotes>>() {
                remotes.stop_all();
            }
            if let Some(server) = app.try_state::<Server>() {
                if let Some(server) = server.0.lock().await.take() {
                    server.stop().await;
                }
            }
            if let Some(state) = app.try_state::<AppState>() {
                if !state.engine.shutdown_within(QUIT_LIMIT).await {
                    tracing::warn!("jobs still stopping after {QUIT_LIMIT:?} were killed");
                }
            }
            tracing::info!("every job stopped; quitting");
        })
        .await;
}

fn has_shut_down<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.try_state::<Lifecycle>()
        .is_some_and(|lifecycle| lifecycle.0.initialized())
}

/// The tray's Quit and the signals: shut down, then exit.
pub async fn quit<R: Runtime>(app: AppHandle<R>) {
    shut_down(&app).await;
    app.exit(0);
}

/// What the app does about an event of its run loop.
pub fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: &RunEvent) {
    match event {
        // The last window closing never ends a menu-bar app.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        // `app.exit` from elsewhere (a plugin, a future menu item): shut down first, then
        // exit for real (`quit` asks again, and that request goes through).
        RunEvent::ExitRequested { api, .. } if !has_shut_down(app) => {
            api.prevent_exit();
            tauri::async_runtime::spawn(quit(app.clone()));
        }
        // The process ends when this returns: the shutdown happens here, on this thread,
        // while the runtime's workers do the work (at most QUIT_LIMIT and a few seconds).
        RunEvent::Exit => {
            if !has_shut_down(app) {
                tracing::info!("the app is ending (the system, Cmd+Q or the Dock)");
            }
            tauri::async_runtime::block_on(shut_down(app));
        }
        // Opening the app again (Finder, Spotlight, `open -a`) while it runs: the popover.
        #[cfg(target_os = "macos")]
        RunEvent::Reopen { .. } => crate::show_popover(app),
        _ => {}
    }
}

/// SIGTERM, SIGINT and SIGHUP quit like the Quit item: every job stopped first.
pub fn listen_for_termination<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::warn!("cannot listen for TERM, INT and HUP; only Quit stops the jobs");
            return;
        };
        let name = tokio::select! {
            _ = term.recv() => "TERM",
            _ = int.recv() => "INT",
            _ = hup.recv() => "HUP",
        };
        tracing::info!("asked to quit by SIG{name}");
        quit(app).await;
    });
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use sentinel_engine::proto::{JobSpec, JobState};
    use sentinel_engine::{EngineConfig, EngineHandle, EnginePaths};
    use tauri::test::{mock_builder, mock_context, noop_assets};

    use super::*;

    fn group_alive(pgid: u32) -> bool {
        nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid as i32), None).is_ok()
    }

    fn until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// An app with a real engine in `home` running `jobs`, and the pids of their groups.
    fn app_with_jobs(
        home: &std::path::Path,
        jobs: Vec<JobSpec>,
    ) -> (tauri::App<tauri::test::MockRuntime>, EngineHandle, Vec<u32>) {
        let mut config = EngineConfig::new(EnginePaths::under(home));
        config.notifiers = Some(Vec::new());
        let engine = tauri::async_runtime::block_on(EngineHandle::open(config)).unwrap();
        let mut pids = Vec::new();
        for spec in jobs {
            let status = tauri::async_runtime::block_on(engine.add(spec)).unwrap();
            let JobState::Running { pid, .. } = status.state else {
                panic!("not running: {status:?}");
            };
            pids.push(pid);
        }
        let app = mock_builder()
            .manage(AppState {
                engine: engine.clone(),
            })
            .manage(Lifecycle::default())
            .build(mock_context(noop_assets()))
            .unwrap();
        (app, engine, pids)
    }

    /// No run of any job is open: reopens the engine on the same home to read its records.
    fn open_runs(home: &std::path::Path) -> Vec<String> {
        let mut config = EngineConfig::new(EnginePaths::under(home));
        config.notifiers = Some(Vec::new());
        config.autostart = false;
        tauri::async_runtime::block_on(async {
            let engine = EngineHandle::open(config).await.unwrap();
            let mut open = Vec::new();
            for status in engine.list() {
                for run in engine.runs(&status.name, 100).await.unwrap() {
                    if run.ended_at.is_none() {
                        open.push(format!("{} run {}", run.job, run.id));
                    }
                }
            }
            engine.shutdown().await;
            open
        })
    }

    #[test]
    fn the_exit_event_stops_every_job_before_the_process_ends() {
        let home = tempfile::tempdir().unwrap();
        let jobs = vec![
            JobSpec::new("web", "sleep 300"),
            JobSpec::new("worker", "sh -c 'sleep 300 & sleep 300'"),
        ];
        let (app, _engine, pids) = app_with_jobs(home.path(), jobs);
        // What tao sends for Cmd+Q, the Dock's Quit and logout on macOS.
        on_run_event(app.handle(), &RunEvent::Exit);
        // When it returns the process may end at once: nothing may be left by then.
        for pid in &pids {
            assert!(!group_alive(*pid), "group {pid} outlived the exit");
        }
        assert!(has_shut_down(app.handle()));
        assert_eq!(open_runs(home.path()), Vec::<String>::new());
    }

    #[test]
    fn a_job_that_ignores_its_stop_signal_is_killed_within_the_quit_limit() {
        let home = tempfile::tempdir().unwrap();
        let ready = home.path().join("ready");
        let mut stubborn = JobSpec::new(
            "stubborn",
            format!(
                "sh -c 'trap \"\" TERM; sleep 300 & touch {}; wait'",
                ready.display()
            ),
        );
        stubborn.stop_timeout = Duration::from_secs(3600);
        let (app, _engine, pids) = app_with_jobs(home.path(), vec![stubborn]);
        // Only once the shell ignores TERM does the test mean anything.
        until("the job to ignore TERM", || ready.exists());
        let began = Instant::now();
        tauri::async_runtime::block_on(shut_down(app.handle()));
        let took = began.elapsed();
        assert!(
            took >= QUIT_LIMIT && took < QUIT_LIMIT + Duration::from_secs(10),
            "took {took:?}: the job got its grace up to the limit, then KILL"
        );
        until("the group to be gone", || !group_alive(pids[0]));
        assert_eq!(open_runs(home.path()), Vec::<String>::new());
    }

    #[test]
    fn quit_stops_every_job_before_it_asks_the_app_to_exit() {
        let home = tempfile::tempdir().unwrap();
        let (app, _engine, pids) = app_with_jobs(home.path(), vec![JobSpec::new("a", "sleep 300")]);
        // The mock runtime has no way to exit (its request_exit panics): the
        // panic marks the moment `app.exit` was called, which must come after the shutdown.
        let quitting = tauri::async_runtime::spawn(quit(app.handle().clone()));
        let ended = tauri::async_runtime::block_on(quitting);
        // Nothing else in quit panics: shut_down logs what fails and carries on.
        assert!(
            matches!(&ended, Err(tauri::Error::JoinError(join)) if join.is_panic()),
            "quit ended otherwise than in the mock's app.exit: {ended:?}"
        );
        assert!(has_shut_down(app.handle()));
        assert!(!group_alive(pids[0]), "a job outlived the quit");
        assert_eq!(open_runs(home.path()), Vec::<String>::new());
    }

    #[test]
    fn every_way_out_shuts_down_once() {
        let home = tempfile::tempdir().unwrap();
        let (app, engine, pids) = app_with_jobs(home.path(), vec![JobSpec::new("a", "sleep 300")]);
        let handle = app.handle().clone();
        // A signal's quit and the exit event at once: one shutdown, both wait for it.
        let first = std::thread::spawn(move || {
            tauri::async_runtime::block_on(shut_down(&handle));
        });
        on_run_event(app.handle(), &RunEvent::Exit);
        first.join().unwrap();
        assert!(!group_alive(pids[0]));
        assert!(engine.is_shutting_down());
        // Later events find it done and return at once.
        on_run_event(app.handle(), &RunEvent::Exit);
    }
}
