//! The SentinelZero app: the engine and its control socket in-process (the CLI works against
//! the running app), an icon in the menu bar, and a popover under it.

pub mod awake;
#[cfg(test)]
mod bindings;
pub mod bundle;
pub mod commands;
pub mod engines;
pub mod lifecycle;
pub mod login;
pub mod paint;
pub mod remote;
pub mod rest;
pub mod settings;
#[cfg(test)]
mod testing;
pub mod tray;
pub mod watching;

pub use lifecycle::quit;
use std::sync::Arc;

use lifecycle::{Lifecycle, Server};
use remote::Remotes;
use sentinel_client::contexts::CONTEXTS_FILE;
use sentinel_engine::control::ControlServer;
use sentinel_engine::notify::{Alerts, DesktopNotifier, Notifier};
use sentinel_engine::{EngineConfig, EngineHandle};
use sentinel_proto::settings::Settings;
use tauri::{AppHandle, Manager, Runtime, WindowEvent};
use tauri_plugin_positioner::{Position, WindowExt};

use commands::{AppState, Page};
use tray::MenuCommand;

/// The popover window's label (tauri.conf.json).
pub const POPOVER: &str = "popover";

/// `--launch-at-login on|off|status`: changes or shows the login item, then exits.
fn launch_at_login_flag() -> Option<i32> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--launch-at-login")?;
    let Some(home) = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()) else {
        eprintln!("cannot find your home directory");
        return Some(1);
    };
    let result = match args.get(at + 1).map(String::as_str) {
        Some("on") => std::env::current_exe().and_then(|program| login::enable(&home, &program)),
        Some("off") => login::disable(&home),
        Some("status") => Ok(()),
        _ => {
            eprintln!("--launch-at-login takes on, off or status");
            return Some(2);
        }
    };
    if let Err(err) = result {
        eprintln!("cannot change the login item: {err}");
        return Some(1);
    }
    let path = login::item_path(&home);
    if login::is_enabled(&home) {
        println!("SentinelZero starts at login ({})", path.display());
    } else {
        println!("SentinelZero does not start at login");
    }
    Some(0)
}

/// Starts the app; returns when it quits.
pub fn run() {
    if let Some(code) = launch_at_login_flag() {
        std::process::exit(code);
    }
    sentinel_engine::heap::limit_arenas();
    let filter = tracing_subscriber::EnvFilter::try_from_env("SENTINEL_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // The login shell's PATH for jobs, read on its own thread while the app starts.
    sentinel_engine::process::resolve_in_background();
    #[cfg(target_os = "macos")]
    bundle::name_notifications();

    let builder = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            if argv.iter().any(|a| a == "--toggle") {
                tracing::info!("launched again with --toggle: toggling the popover");
                toggle_popover(app);
            } else {
                tracing::info!("launched again: showing the popover");
                show_popover(app);
            }
        }))
        .plugin(tauri_plugin_positioner::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(commands::handler())
        .setup(|app| {
            let handle = app.handle().clone();
            let (engine, remotes) = match tauri::async_runtime::block_on(start_engine(&handle)) {
                Ok(started) => started,
                Err(err) => {
                    // 0 when another engine holds the lock: launchd must not respawn us.
                    eprintln!("SentinelZero cannot start: {err}");
                    std::process::exit(login::start_failure_exit_code(err.as_ref()));
                }
            };
            remote::publish(handle.clone(), remotes.clone());
            tray::install(&handle, engine.clone(), remotes)?;
            awake::follow(engine.clone());
            lifecycle::listen_for_termination(handle.clone());
            if std::env::args().any(|a| a == "--show" || a == "--toggle") {
                show_popover(&handle);
            } else {
                // Built hidden from tauri.conf.json: it rests like a popover that was closed.
                watching::hidden(&handle, POPOVER);
            }
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Closing a window hides it: the app lives in the menu bar.
            WindowEvent::CloseRequested { api, .. } => {
                api.prevent_close();
                let _ = window.hide();
                watching::hidden(window.app_handle(), window.label());
            }
            // The popover behaves like a menu: it goes away when something else is clicked.
            WindowEvent::Focused(false)
                if window.label() == POPOVER
                    && std::env::var_os("SENTINEL_POPOVER_STAYS").is_none() =>
            {
                let _ = window.hide();
                watching::hidden(window.app_handle(), POPOVER);
            }
            _ => {}
        });
    let app = match builder.build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(err) => {
            eprintln!("SentinelZero cannot start: {err}");
            std::process::exit(1);
        }
    };
    // A menu-bar app, before tao finishes launching (it applies the policy stored here then;
    // set later, in setup, the Dock icon would flash first).
    #[cfg(target_os = "macos")]
    let app = {
        let mut app = app;
        app.set_activation_policy(tauri::ActivationPolicy::Accessory);
        app
    };
    app.run(|app, event| lifecycle::on_run_event(app, &event));
}

/// Opens the engine (the same home and socket as `sentinel daemon`) and serves the socket;
/// starts watching the remote engines of `contexts.toml`.
async fn start_engine<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<(EngineHandle, Arc<Remotes>), Box<dyn std::error::Error>> {
    let config = EngineConfig::from_env()?;
    let socket = config.paths.socket.clone();
    let engine = EngineHandle::open(config).await?;
    let server = match ControlServer::bind(engine.clone(), &socket).await {
        Ok(server) => server,
        Err(err) => {
            engine.shutdown().await;
            return Err(err.into());
        }
    };
    tracing::info!(socket = %socket.display(), jobs = engine.list().len(), "engine running in the app");
    app.manage(AppState {
        engine: engine.clone(),
    });
    app.manage(watching::WindowWatch::new(engine.clone()));
    app.manage(Server(tokio::sync::Mutex::new(Some(server))));
    app.manage(Lifecycle::default());
    app.manage(rest::Rest::from_env());
    app.manage(paint::PaintClock::default());
    // What closed windows and finished bursts freed goes back to the system.
    tauri::async_runtime::spawn(sentinel_engine::heap::trim_now_and_then());
    let remotes = Arc::new(Remotes::new(
        engine.paths().data_dir.join(CONTEXTS_FILE),
        remote_alerts(engine.settings()),
    ));
    if let Err(err) = remotes.sync() {
        tracing::warn!("remote engines are not watched: {err}");
    }
    app.manage(remotes.clone());
    Ok((engine, remotes))
}

/// Where failures of remote jobs are told: the desktop, as the local engine's are, with the
/// same settings (on or off, the throttle). Webhooks are the remote engine's own to call.
fn remote_alerts(settings: &Settings) -> Option<Alerts> {
    let notifications = &settings.notifications;
    notifications.enabled.then(|| {
        let desktop: Arc<dyn Notifier> = Arc::new(DesktopNotifier::new());
        Alerts::start(notifications.clone(), vec![desktop])
    })
}

pub fn show_popover<R: Runtime>(app: &AppHandle<R>) {
    if let Some((window, built)) = rest::popover(app) {
        paint::showing(app, built);
        // Under the tray icon when its position is known; elsewhere where it was.
        let _ = window.move_window(Position::TrayCenter);
        let _ = window.show();
        let _ = window.set_focus();
        watching::shown(app, POPOVER);
    }
}

pub fn toggle_popover<R: Runtime>(app: &AppHandle<R>) {
    match tray::popover(app) {
        Some(window) if window.is_visible().unwrap_or(false) => {
            let _ = window.hide();
            watching::hidden(app, POPOVER);
        }
        _ => show_popover(app),
    }
}

/// A tray menu item was chosen (its id as [`MenuCommand::id`] wrote it).
pub fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let Some(command) = MenuCommand::parse(id) else {
        return;
    };
    let engine = app.state::<AppState>().engine.clone();
    let app = app.clone();
    match command {
        MenuCommand::Open => show_popover(&app),
        MenuCommand::Settings => {
            if let Err(err) = settings::open_window(&app, None, Page::App) {
                tracing::warn!("{err}");
            }
        }
        MenuCommand::Quit => {
            tauri::async_runtime::spawn(quit(app));
        }
        MenuCommand::Logs(job) => {
            if let Err(err) = settings::open_window(&app, Some(&job), Page::Logs) {
                tracing::warn!("{job}: {err}");
            }
        }
        MenuCommand::Act(action, selection) => {
            tauri::async_runtime::spawn(async move {
                match engine.act(action, &selection).await {
                    Ok(results) => {
                        for (job, result) in results {
                            if let Err(err) = result {
                                tracing::warn!("{action} {job}: {err}");
                            }
                        }
                    }
                    Err(err) => tracing::warn!("{action}: {err}"),
                }
            });
        }
    }
}
