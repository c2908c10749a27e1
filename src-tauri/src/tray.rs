//! The menu-bar icon: its picture and tooltip say whether everything is fine, its menu lists
//! the jobs (failing first) with their actions. Both follow the engine's events.

use std::sync::Arc;
use std::time::Duration;

use sentinel_engine::{EngineHandle, Received};
use sentinel_proto::action::{Action, Selection};
use sentinel_proto::{EngineEvent, HealthState, JobState, JobStatus};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::remote::{Link, RemoteView, Remotes};

/// The tray's verdict is the worst of its jobs', by the engine's one rule.
pub use sentinel_proto::status::Glance;

/// What the tray shows for these jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub glance: Glance,
    pub tooltip: String,
}

fn is_failing(job: &JobStatus) -> bool {
    job.glance() == Glance::Failing
}

fn is_busy(job: &JobStatus) -> bool {
    job.glance() == Glance::Busy
}

fn is_running(job: &JobStatus) -> bool {
    matches!(job.state, JobState::Running { .. })
}

/// Up to three names, then how many more.
fn some_names(names: &[&str]) -> String {
    let mut text = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 3 {
        text.push_str(&format!(" and {} more", names.len() - 3));
    }
    text
}

pub fn summarize(jobs: &[JobStatus]) -> Summary {
    let failing: Vec<&str> = jobs
        .iter()
        .filter(|j| is_failing(j))
        .map(|j| j.name.as_str())
        .collect();
    let busy = jobs.iter().filter(|j| is_busy(j)).count();
    let running = jobs.iter().filter(|j| is_running(j)).count();
    let (glance, tooltip) = if !failing.is_empty() {
        let names = some_names(&failing);
        (Glance::Failing, format!("SentinelZero: {names} failing"))
    } else if busy > 0 {
        (
            Glance::Busy,
            format!("SentinelZero: {busy} starting, stopping or waiting, {running} running"),
        )
    } else if jobs.is_empty() {
        (Glance::Fine, "SentinelZero: no jobs yet".to_string())
    } else {
        (
            Glance::Fine,
            format!(
                "SentinelZero: all fine, {running} of {} running",
                jobs.len()
            ),
        )
    };
    Summary { glance, tooltip }
}

/// What the tray shows for this machine's jobs and the remote engines': the worst of them all.
/// Trouble on a remote names the engine ("2 failing on build-box", "build-box unreachable");
/// an engine that cannot be reached counts as failing, since what it runs cannot be seen.
pub fn summarize_engines(local: &[JobStatus], remotes: &[RemoteView]) -> Summary {
    if remotes.is_empty() {
        return summarize(local);
    }
    let mut trouble: Vec<String> = Vec::new();
    let local_failing: Vec<&str> = local
        .iter()
        .filter(|j| is_failing(j))
        .map(|j| j.name.as_str())
        .collect();
    if !local_failing.is_empty() {
        trouble.push(format!("{} failing", some_names(&local_failing)));
    }
    let mut connecting: Vec<&str> = Vec::new();
    let (mut busy, mut running, mut total) = (0, 0, 0);
    let mut count = |jobs: &[JobStatus]| {
        busy += jobs.iter().filter(|j| is_busy(j)).count();
        running += jobs.iter().filter(|j| is_running(j)).count();
        total += jobs.len();
    };
    count(local);
    for remote in remotes {
        let engine = remote.context.name.as_str();
        match &remote.link {
            Link::Connecting { .. } => connecting.push(engine),
            Link::Unreachable { .. } => trouble.push(format!("{engine} unreachable")),
            Link::Connected { jobs, .. } => {
                let failing: Vec<&str> = jobs
                    .iter()
                    .filter(|j| is_failing(j))
                    .map(|j| j.name.as_str())
                    .collect();
                match failing.as_slice() {
                    [] => {}
                    [one] => trouble.push(format!("{one} failing on {engine}")),
                    many => trouble.push(format!("{} failing on {engine}", many.len())),
                }
                count(jobs);
            }
        }
    }
    if !trouble.is_empty() {
        let shown = trouble.len().min(3);
        let mut tooltip = format!("SentinelZero: {}", trouble[..shown].join("; "));
        if trouble.len() > shown {
            tooltip.push_str(&format!("; and {} more", trouble.len() - shown));
        }
        return Summary {
            glance: Glance::Failing,
            tooltip,
        };
    }
    let mut parts = Vec::new();
    if busy > 0 {
        parts.push(format!(
            "{busy} starting, stopping or waiting, {running} running"
        ));
    }
    if !connecting.is_empty() {
        parts.push(format!("connecting to {}", some_names(&connecting)));
    }
    if !parts.is_empty() {
        return Summary {
            glance: Glance::Busy,
            tooltip: format!("SentinelZero: {}", parts.join("; ")),
        };
    }
    Summary {
        glance: Glance::Fine,
        tooltip: format!(
            "SentinelZero: all fine, {running} of {total} running on {} engines",
            remotes.len() + 1
        ),
    }
}

/// Jobs in menu order: failing, then busy (starting, stopping, waiting), then the rest, by name.
pub fn menu_order(jobs: &[JobStatus]) -> Vec<&JobStatus> {
    let mut ordered: Vec<&JobStatus> = jobs.iter().collect();
    ordered.sort_by_key(|job| (job.glance(), job.name.clone()));
    ordered
}

/// What a tray menu item does; its menu id is [`MenuCommand::id`], read back by
/// [`MenuCommand::parse`]. Acting on jobs is the same [`Action`] on a [`Selection`] every
/// other adapter sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuCommand {
    Open,
    Settings,
    Quit,
    Logs(String),
    Act(Action, Selection),
}

impl MenuCommand {
    pub fn id(&self) -> String {
        match self {
            MenuCommand::Open => "open".into(),
            MenuCommand::Settings => "settings".into(),
            MenuCommand::Quit => "quit".into(),
            MenuCommand::Logs(job) => format!("logs:{job}"),
            MenuCommand::Act(action, Selection::All) => format!("{action}:*"),
            MenuCommand::Act(action, Selection::Group(group)) => format!("{action}:group:{group}"),
            MenuCommand::Act(action, Selection::Project(project)) => {
                format!("{action}:project:{project}")
            }
            MenuCommand::Act(action, Selection::Names(names)) => {
                format!("{action}:{}", names.join(","))
            }
        }
    }

    pub fn parse(id: &str) -> Option<MenuCommand> {
        match id {
            "open" => return Some(MenuCommand::Open),
            "settings" => return Some(MenuCommand::Settings),
            "quit" => return Some(MenuCommand::Quit),
            _ => {}
        }
        let (verb, rest) = id.split_once(':')?;
        if verb == "logs" {
            return Some(MenuCommand::Logs(rest.to_string()));
        }
        let action = Action::parse(verb)?;
        let selection = match rest {
            "*" => Selection::All,
            // Job names have no ':', so these prefixes cannot be a job's name.
            _ => match (rest.strip_prefix("group:"), rest.strip_prefix("project:")) {
                (Some(group), _) => Selection::Group(group.to_string()),
                (_, Some(project)) => Selection::Project(project.to_string()),
                _ => Selection::Names(rest.split(',').map(str::to_string).collect()),
            },
        };
        Some(MenuCommand::Act(action, selection))
    }
}

/// The menu lists at most this many jobs; the popover shows them all.
const MENU_JOBS: usize = 20;

fn icon(glance: Glance) -> Image<'static> {
    let bytes: &'static [u8] = match glance {
        Glance::Fine => include_bytes!("../../icons/tray-ok@2x.png"),
        Glance::Busy => include_bytes!("../../icons/tray-busy@2x.png"),
        Glance::Failing => include_bytes!("../../icons/tray-failed@2x.png"),
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

    #[test]
    fn a_menu_id_reads_back_as_the_command_that_wrote_it() {
        let commands = [
            MenuCommand::Open,
            MenuCommand::Settings,
            MenuCommand::Quit,
            MenuCommand::Logs("web:1".into()),
            MenuCommand::Act(Action::Restart, Selection::job("api")),
            MenuCommand::Act(Action::Stop, Selection::All),
            MenuCommand::Act(Action::Start, Selection::Group("stack".into())),
        ];
        for command in commands {
            assert_eq!(
                MenuCommand::parse(&command.id()),
                Some(command.clone()),
                "{}",
                command.id()
            );
        }
        assert_eq!(MenuCommand::parse("explode:api"), None);
        assert_eq!(
            MenuCommand::parse("job:api"),
            None,
            "a submenu is not a command"
        );
    }

    use super::*;
    use sentinel_proto::{Condition, DependencyState, JobKind, WaitReason};

    fn job(name: &str, state: JobState) -> JobStatus {
        JobStatus::new(name, JobKind::Service, state)
    }

    fn running(name: &str) -> JobStatus {
        job(
            name,
            JobState::Running {
                pid: 1,
                since: chrono::Utc::now(),
            },
        )
    }

    fn failed(name: &str) -> JobStatus {
        job(
            name,
            JobState::Failed {
                reason: "x".into(),
                since: chrono::Utc::now(),
            },
        )
    }

    #[test]
    fn the_glance_says_the_worst() {
        assert_eq!(summarize(&[]).tooltip, "SentinelZero: no jobs yet");
        let fine = summarize(&[running("a"), job("b", JobState::Stopped)]);
        assert_eq!(fine.glance, Glance::Fine);
        assert_eq!(fine.tooltip, "SentinelZero: all fine, 1 of 2 running");
        let busy = summarize(&[running("a"), job("b", JobState::Starting)]);
        assert_eq!(busy.glance, Glance::Busy);
        let waiting = summarize(&[
            running("a"),
            job(
                "b",
                JobState::waiting(
                    WaitReason::Dependency {
                        job: "a".into(),
                        condition: Condition::Healthy,
                        now: DependencyState::Starting,
                    },
                    chrono::Utc::now(),
                ),
            ),
        ]);
        assert_eq!(
            waiting.tooltip,
            "SentinelZero: 1 starting, stopping or waiting, 1 running"
        );
        let mut sick = running("c");
        sick.health = Some(HealthState::Unhealthy);
        let failing = summarize(&[
            failed("a"),
            job("b", JobState::Starting),
            sick,
            failed("d"),
            failed("e"),
        ]);
        assert_eq!(failing.glance, Glance::Failing);
        assert_eq!(failing.tooltip, "SentinelZero: a, c, d and 1 more failing");
        // Retrying after a crash is failing, as the popover and the CLI say too.
        let retrying = summarize(&[
            running("a"),
            job(
                "b",
                JobState::Backoff {
                    next_try_at: chrono::Utc::now(),
                    attempt: 1,
                },
            ),
        ]);
        assert_eq!(retrying.glance, Glance::Failing);
        assert_eq!(retrying.tooltip, "SentinelZero: b failing");
    }

    #[test]
    fn the_menu_lists_failing_jobs_first() {
        let jobs = [
            running("alpha"),
            failed("zulu"),
            job("mike", JobState::Starting),
            running("bravo"),
        ];
        let names: Vec<&str> = menu_order(&jobs).iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["zulu", "mike", "alpha", "bravo"]);
    }
}

#[cfg(test)]
mod engines_tests {
    use super::*;
    use crate::remote::EngineProblem;
    use sentinel_proto::remote::EngineContext;
    use sentinel_proto::JobKind;

    fn job(name: &str, state: JobState) -> JobStatus {
        JobStatus::new(name, JobKind::Service, state)
    }

    fn running(name: &str) -> JobStatus {
        job(
            name,
            JobState::Running {
                pid: 1,
                since: chrono::Utc::now(),
            },
        )
    }

    fn failed(name: &str) -> JobStatus {
        job(
            name,
            JobState::Failed {
                reason: "x".into(),
                since: chrono::Utc::now(),
            },
        )
    }

    fn remote(name: &str, link: Link) -> RemoteView {
        RemoteView {
            context: EngineContext {
                name: name.into(),
                host: format!("ssh://{name}"),
                description: String::new(),
                sentinel: None,
            },
            link,
        }
    }

    fn connected(name: &str, jobs: Vec<JobStatus>) -> RemoteView {
        remote(
            name,
            Link::Connected {
                version: "1".into(),
                since: chrono::Utc::now(),
                jobs,
            },
        )
    }

    fn unreachable(name: &str) -> RemoteView {
        remote(
            name,
            Link::Unreachable {
                problem: EngineProblem::new("unreachable", "Connection refused"),
                since: chrono::Utc::now(),
                next_try_at: chrono::Utc::now(),
                attempt: 1,
            },
        )
    }

    #[test]
    fn without_remotes_the_tray_reads_as_before() {
        let local = [running("a"), failed("b")];
        assert_eq!(summarize_engines(&local, &[]), summarize(&local));
    }

    #[test]
    fn the_worst_engine_wins_and_remote_trouble_names_its_engine() {
        let local = [running("web")];
        let fine = summarize_engines(
            &local,
            &[connected(
                "build-box",
                vec![running("ci"), job("old", JobState::Stopped)],
            )],
        );
        assert_eq!(fine.glance, Glance::Fine);
        assert_eq!(
            fine.tooltip,
            "SentinelZero: all fine, 2 of 3 running on 2 engines"
        );

        let two = summarize_engines(
            &local,
            &[connected(
                "build-box",
                vec![failed("ci"), failed("db"), running("x")],
            )],
        );
        assert_eq!(two.glance, Glance::Failing);
        assert_eq!(two.tooltip, "SentinelZero: 2 failing on build-box");
        let one = summarize_engines(&local, &[connected("build-box", vec![failed("ci")])]);
        assert_eq!(one.tooltip, "SentinelZero: ci failing on build-box");

        // Here first, then each engine in order; an unreachable one is trouble too.
        let all = summarize_engines(
            &[failed("web")],
            &[
                connected("build-box", vec![failed("ci")]),
                unreachable("vps"),
                connected("nas", vec![running("plex")]),
            ],
        );
        assert_eq!(all.glance, Glance::Failing);
        assert_eq!(
            all.tooltip,
            "SentinelZero: web failing; ci failing on build-box; vps unreachable"
        );
        let many = summarize_engines(
            &local,
            &[
                unreachable("a"),
                unreachable("b"),
                unreachable("c"),
                unreachable("d"),
            ],
        );
        assert_eq!(
            many.tooltip,
            "SentinelZero: a unreachable; b unreachable; c unreachable; and 1 more"
        );
    }

    #[test]
    fn busy_and_connecting_engines_are_busy() {
        let connecting = summarize_engines(
            &[running("web")],
            &[remote(
                "vps",
                Link::Connecting {
                    since: chrono::Utc::now(),
                },
            )],
        );
        assert_eq!(connecting.glance, Glance::Busy);
        assert_eq!(connecting.tooltip, "SentinelZero: connecting to vps");
        let starting = summarize_engines(
            &[running("web")],
            &[connected("vps", vec![job("api", JobState::Starting)])],
        );
        assert_eq!(starting.glance, Glance::Busy);
        assert_eq!(
            starting.tooltip,
            "SentinelZero: 1 starting, stopping or waiting, 1 running"
        );
    }
}
