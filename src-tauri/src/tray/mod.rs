//! The menu-bar icon: its picture and tooltip say whether everything is fine, its menu lists
//! the jobs (failing first) with their actions. Both follow the engine's events.

mod command;
mod summary;

use std::sync::Arc;
use std::time::Duration;

use sentinel_engine::{EngineHandle, Received};
use sentinel_proto::action::{Action, Selection};
use sentinel_proto::{EngineEvent, HealthState, JobStatus};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::remote::Remotes;

pub use command::MenuCommand;
use summary::{menu_order, summarize_engines, Glance, Summary};

/// The menu lists at most this many jobs; the popover shows them all.
const MENU_JOBS: usize = 20;

fn icon(glance: Glance) -> Image<'static> {
    let bytes: &'static [u8] = match glance {
        Glance::Fine => include_bytes!("../../../icons/tray-ok@2x.png"),
        Glance::Busy => include_bytes!("../../../icons/tray-busy@2x.png"),
        Glance::Failing => include_bytes!("../../../icons/tray-failed@2x.png"),
    };
    Image::from_bytes(bytes).expect("the tray icons are valid PNGs")
}

fn state_label(job: &JobStatus) -> String {
    let state = if job.health == Some(HealthState::Unhealthy) {
        "unhealthy"
    } else {
        job.state.name()
    };
    format!("{} — {state}", job.name)
}

fn build_menu<R: Runtime>(app: &AppHandle<R>, jobs: &[JobStatus]) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    let ordered = menu_order(jobs);
    for job in ordered.iter().take(MENU_JOBS) {
        let name = &job.name;
        let submenu = Submenu::with_id_and_items(
            app,
            format!("job:{name}"),
            state_label(job),
            true,
            &[
                &MenuItem::with_id(
                    app,
                    MenuCommand::Act(Action::Start, Selection::job(name)).id(),
                    "Start",
                    !job.state.is_active(),
                    None::<&str>,
                )?,
                &MenuItem::with_id(
                    app,
                    MenuCommand::Act(Action::Stop, Selection::job(name)).id(),
                    "Stop",
                    job.state.is_active(),
                    None::<&str>,
                )?,
                &MenuItem::with_id(
                    app,
                    MenuCommand::Act(Action::Restart, Selection::job(name)).id(),
                    "Restart",
                    true,
                    None::<&str>,
                )?,
                &MenuItem::with_id(
                    app,
                    MenuCommand::Logs(name.clone()).id(),
                    "Show logs",
                    true,
                    None::<&str>,
                )?,
            ],
        )?;
        menu.append(&submenu)?;
    }
    if ordered.len() > MENU_JOBS {
        menu.append(&MenuItem::with_id(
            app,
            MenuCommand::Open.id(),
            format!("{} more in SentinelZero…", ordered.len() - MENU_JOBS),
            true,
            None::<&str>,
        )?)?;
    }
    if !ordered.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    for (i, item) in closing_items(!jobs.is_empty()).into_iter().enumerate() {
        // Quit stands apart from the rest.
        if i == 3 {
            menu.append(&PredefinedMenuItem::separator(app)?)?;
        }
        menu.append(&MenuItem::with_id(
            app,
            item.command.id(),
            item.label,
            item.enabled,
            item.accelerator,
        )?)?;
    }
    Ok(menu)
}

/// One fixed item of the menu.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedItem {
    pub command: MenuCommand,
    pub label: &'static str,
    pub enabled: bool,
    pub accelerator: Option<&'static str>,
}

/// What ends the menu after the jobs: the popover, the settings window, Stop all, and Quit.
pub fn closing_items(any_jobs: bool) -> [FixedItem; 4] {
    let item = |command, label, enabled, accelerator| FixedItem {
        command,
        label,
        enabled,
        accelerator,
    };
    [
        item(MenuCommand::Open, "Open SentinelZero", true, None),
        item(
            MenuCommand::Settings,
            "Settings…",
            true,
            Some("CmdOrCtrl+,"),
        ),
        item(
            MenuCommand::Act(Action::Stop, Selection::All),
            "Stop all",
            any_jobs,
            None,
        ),
        item(
            MenuCommand::Quit,
            "Quit SentinelZero",
            true,
            Some("CmdOrCtrl+Q"),
        ),
    ]
}

/// Puts the icon in the menu bar and keeps it current.
pub fn install<R: Runtime>(
    app: &AppHandle<R>,
    engine: EngineHandle,
    remotes: Arc<Remotes>,
) -> tauri::Result<()> {
    let jobs = engine.list();
    let summary = summarize_engines(&jobs, &remotes.views().engines);
    let tray = TrayIconBuilder::with_id("main")
        .icon(icon(summary.glance))
        .icon_as_template(true)
        .tooltip(&summary.tooltip)
        .menu(&build_menu(app, &jobs)?)
        .show_menu_on_left_click(false)
        .on_tray_icon_event(|tray, event| {
            tauri_plugin_positioner::on_tray_event(tray.app_handle(), &event);
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::toggle_popover(tray.app_handle());
            }
        })
        .on_menu_event(|app, event| crate::on_menu(app, event.id().as_ref()))
        .build(app)?;
    tracing::info!(glance = ?summary.glance, "tray ready: {}", summary.tooltip);
    tauri::async_runtime::spawn(follow(app.clone(), tray, engine, remotes, summary));
    Ok(())
}

/// Redraws the icon, tooltip and menu when jobs change state here or on a remote engine; a
/// burst of events makes one redraw.
async fn follow<R: Runtime>(
    app: AppHandle<R>,
    tray: TrayIcon<R>,
    engine: EngineHandle,
    remotes: Arc<Remotes>,
    mut shown: Summary,
) {
    let mut events = engine.subscribe();
    let mut remote_changes = remotes.subscribe();
    let mut last_menu: Vec<(String, String, bool)> = Vec::new();
    loop {
        let relevant = tokio::select! {
            received = events.recv() => match received {
                None => return,
                Some(Received::Event(envelope)) => !matches!(
                    envelope.event,
                    EngineEvent::ResourcesSampled { .. }
                        | EngineEvent::RunStarted { .. }
                        | EngineEvent::RunExited { .. }
                ),
                Some(Received::Missed(_)) => true,
            },
            Ok(()) = remote_changes.changed() => true,
        };
        if !relevant {
            continue;
        }
        // Let the rest of a burst arrive, take all of it, then redraw once.
        tokio::time::sleep(Duration::from_millis(50)).await;
        while events.try_recv().is_some() {}
        remote_changes.mark_unchanged();
        let jobs = engine.list();
        let summary = summarize_engines(&jobs, &remotes.views().engines);
        if summary != shown {
            if summary.glance != shown.glance {
                tracing::info!(glance = ?summary.glance, "tray: {}", summary.tooltip);
                let _ = tray.set_icon(Some(icon(summary.glance)));
                let _ = tray.set_icon_as_template(true);
            } else if summary.glance == Glance::Failing {
                // Which trouble it is changed (another job, another engine).
                tracing::info!("tray: {}", summary.tooltip);
            }
            let _ = tray.set_tooltip(Some(&summary.tooltip));
            shown = summary;
        }
        let menu_now: Vec<(String, String, bool)> = menu_order(&jobs)
            .iter()
            .take(MENU_JOBS)
            .map(|j| (j.name.clone(), state_label(j), j.state.is_active()))
            .collect();
        if menu_now != last_menu {
            if let Ok(menu) = build_menu(&app, &jobs) {
                let _ = tray.set_menu(Some(menu));
            }
            last_menu = menu_now;
        }
    }
}

/// Finds the popover's window, if the app has one.
pub fn popover<R: Runtime>(app: &AppHandle<R>) -> Option<tauri::WebviewWindow<R>> {
    app.get_webview_window(crate::POPOVER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_ends_with_open_settings_stop_all_and_quit() {
        let labels: Vec<&str> = closing_items(true).iter().map(|i| i.label).collect();
        assert_eq!(
            labels,
            [
                "Open SentinelZero",
                "Settings…",
                "Stop all",
                "Quit SentinelZero"
            ]
        );
        let items = closing_items(false);
        assert_eq!(items[1].command, MenuCommand::Settings);
        assert_eq!(
            MenuCommand::parse(&items[1].command.id()),
            Some(MenuCommand::Settings)
        );
        assert!(!items[2].enabled, "nothing to stop");
        assert!(items
            .iter()
            .filter(|i| i.command != items[2].command)
            .all(|i| i.enabled));
    }
}
