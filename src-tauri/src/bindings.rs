//! The UI's wire types and command wrappers (`ui/src/lib/bindings.ts`), generated from the Rust
//! types with ts-rs. The test fails when the checked-in file is stale;
//! `UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings` rewrites it.

use std::path::Path;

use sentinel_proto::action::{Action, ActionResult, Outcome, Selection};
use sentinel_proto::api::{ErrorBody, JobDefaults, JobDetail, Missed, SchedulePreview};
use sentinel_proto::monitor::{
    HealthCheck, HealthState, HistoryPoint, JobSample, ResourceHistory, ResourceSample,
};
use sentinel_proto::project::{ProjectRef, ProjectSummary};
use sentinel_proto::restart::RestartPreview;
use sentinel_proto::schedule::{MissedPolicy, Overlap, ScheduleSpec};
use sentinel_proto::settings::{
    Limits, LogRetention, MetricsSettings, MonitorSettings, NotificationSettings, Settings,
};
use sentinel_proto::stack::{
    Condition, Dependency, EnvSource, EnvVar, FreedPorts, JobPorts, PortHolder, PortStatus,
    Rlimits, WatchSpec,
};
use sentinel_proto::status::Glance;
use sentinel_proto::{
    DependencyState, EngineEvent, EventEnvelope, ExitInfo, FieldError, JobKind, JobSpec, JobState,
    JobStatus, LogLine, LogSettings, LogStream, RestartMode, RestartPolicy, RunOutcome, RunRecord,
    SignalName, StartTimings, Trigger, WaitReason,
};
use tauri::ipc::Channel;
use ts_rs::{Config, TS};

use crate::commands::{AppError, Page, Snapshot, StreamItem};
use crate::engines::{EngineList, EngineTest, LocalEngine};
use crate::remote::{EngineProblem, Link, RemoteEngines, RemoteView};
use crate::settings::{AppSettings, LogItem, Unparsed};
use sentinel_proto::remote::EngineContext;

/// A command as the UI calls it, read from its function by `#[app_command]`.
pub struct Signature {
    pub command: &'static str,
    /// The function in `commands`: the command's name, camelCased.
    pub wrapper: &'static str,
    /// What the UI sends: each argument's name as Tauri reads it, and its TypeScript type.
    pub args: Vec<(&'static str, String)>,
    /// What the promise resolves to.
    pub reply: String,
}

/// The TypeScript type of a command's argument or reply.
pub trait Wire {
    fn ts(cfg: &Config) -> String;
}

/// The wire types by their declared names; the bindings declare them in this order.
macro_rules! declared {
    ($($ty:ty),* $(,)?) => {
        fn declarations(cfg: &Config) -> Vec<String> {
            vec![$(<$ty as TS>::decl(cfg)),*]
        }
        $(impl Wire for $ty {
            fn ts(cfg: &Config) -> String {
                <$ty as TS>::name(cfg)
            }
        })*
    };
}

declared![
    JobKind,
    JobState,
    WaitReason,
    DependencyState,
    ExitInfo,
    HealthState,
    ResourceSample,
    HistoryPoint,
    JobSample,
    JobStatus,
    StartTimings,
    Glance,
    Trigger,
    RunOutcome,
    EngineEvent,
    EventEnvelope,
    Missed,
    FieldError,
    ErrorBody,
    ActionResult,
    Outcome,
    Action,
    Selection,
    Page,
    StreamItem,
    Snapshot,
    RestartMode,
    RestartPolicy,
    LogSettings,
    SignalName,
    Overlap,
    MissedPolicy,
    ScheduleSpec,
    HealthCheck,
    Condition,
    Dependency,
    WatchSpec,
    Rlimits,
    EnvSource,
    EnvVar,
    PortHolder,
    PortStatus,
    JobPorts,
    FreedPorts,
    JobSpec,
    ProjectRef,
    ProjectSummary,
    JobDetail,
    RunRecord,
    LogStream,
    LogLine,
    SchedulePreview,
    RestartPreview,
    JobDefaults,
    ResourceHistory,
    MonitorSettings,
    NotificationSettings,
    MetricsSettings,
    LogRetention,
    Limits,
    Settings,
    AppSettings,
    LogItem,
    EngineContext,
    EngineProblem,
    Link,
    RemoteView,
    RemoteEngines,
    LocalEngine,
    EngineList,
    EngineTest,
];

macro_rules! primitive {
    ($($ty:ty),*) => {
        $(impl Wire for $ty {
            fn ts(cfg: &Config) -> String {
                <$ty as TS>::name(cfg)
            }
        })*
    };
}

primitive!(String, bool, u32, usize);

/// A command without a reply resolves to nothing.
impl Wire for () {
    fn ts(_: &Config) -> String {
        "void".into()
    }
}

impl<T: Wire> Wire for Option<T> {
    fn ts(cfg: &Config) -> String {
        format!("{} | null", T::ts(cfg))
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn ts(cfg: &Config) -> String {
        format!("{}[]", T::ts(cfg))
    }
}

impl<T: Wire> Wire for Channel<T> {
    fn ts(cfg: &Config) -> String {
        format!("Channel<{}>", T::ts(cfg))
    }
}

/// An error rejects the promise (with an `ErrorBody`): the reply is what it resolves to.
impl<T: Wire> Wire for Result<T, AppError> {
    fn ts(cfg: &Config) -> String {
        T::ts(cfg)
    }
}

impl<T: Wire> Wire for Unparsed<T> {
    fn ts(cfg: &Config) -> String {
        T::ts(cfg)
    }
}

fn generate() -> String {
    // JSON numbers, not bigint: counters and ids stay far below 2^53.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs; do not edit.\n\
         // UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings\n\n\
         import { Channel, invoke } from '@tauri-apps/api/core';\n\n",
    );
    for declaration in declarations(&cfg) {
        out.push_str("export ");
        out.push_str(declaration.trim());
        out.push_str("\n\n");
    }
    out.push_str("/** Every command of the app, typed. */\nexport const commands = {\n");
    for Signature {
        command,
        wrapper,
        args,
        reply,
    } in crate::commands::signatures(&cfg)
    {
        let params: Vec<String> = args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let names: Vec<&str> = args.iter().map(|(n, _)| *n).collect();
        let payload = if names.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", names.join(", "))
        };
        out.push_str(&format!(
            "  {wrapper}: ({}): Promise<{reply}> => invoke<{reply}>('{command}'{payload}),\n",
            params.join(", ")
        ));
    }
    out.push_str("};\n\nexport { Channel };\n");
    out
}

#[test]
fn bindings_are_current() {
    check_generated("../ui/src/lib/bindings.ts", &generate());
}

/// Compares a generated file with the one checked in, or with `UPDATE_BINDINGS` rewrites it.
fn check_generated(relative: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings`",
        path.display()
    );
}

/// The mock engine of the UI tests starts new jobs from the real engine's defaults.
#[test]
fn the_ui_tests_know_the_engines_defaults() {
    let defaults = JobDefaults::new().unwrap();
    let generated = format!("{}\n", serde_json::to_string_pretty(&defaults).unwrap());
    check_generated("../ui/tests/engine-defaults.json", &generated);
}

/// What a home with no `settings.toml` answers, as the engine serialises it (unset fields
/// left out): the UI tests open the app settings page on it.
#[test]
fn the_ui_tests_know_a_fresh_homes_settings() {
    let settings = sentinel_proto::settings::Settings::default();
    let generated = format!("{}\n", serde_json::to_string_pretty(&settings).unwrap());
    check_generated("../ui/tests/settings-defaults.json", &generated);
}

/// The popover may call only what it needs; the settings window gets the rest.
#[test]
fn each_window_gets_only_its_commands() {
    let read = |name: &str| -> Vec<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("capabilities")
            .join(name);
        let capability: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|c| c.replace('-', "_"))
            .collect()
    };
    let mut popover = read("popover.json");
    popover.sort();
    assert_eq!(
        popover,
        [
            "act",
            "engines",
            "free_ports",
            "hide_popover",
            "job_ports",
            "open_settings",
            "popover_painted",
            "retry_engine",
            "snapshot",
            "subscribe"
        ]
    );
    let settings = read("settings.json");
    for Signature { command, .. } in crate::commands::signatures(&Config::new()) {
        let in_popover = popover.iter().any(|c| c == command);
        let in_settings = settings.iter().any(|c| c == command);
        assert!(
            in_popover || in_settings,
            "{command} is in no window's capability"
        );
        if !in_popover {
            assert!(in_settings, "{command}");
        }
    }
    for settings_only in [
        "save_job",
        "delete_job",
        "save_settings",
        "set_launch_at_login",
        "add_engine",
        "remove_engine",
        "test_engine",
    ] {
        assert!(!popover.iter().any(|c| c == settings_only));
    }
}
