//! The UI's wire types and command wrappers (`ui/src/lib/bindings.ts`), generated from the Rust
//! types with ts-rs. The test fails when the checked-in file is stale;
//! `UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings` rewrites it.

use std::path::Path;

use sentinel_proto::action::{Action, ActionResult, Outcome, Selection};
use sentinel_proto::api::{ErrorBody, JobDetail, Missed, SchedulePreview};
use sentinel_proto::monitor::{
    HealthCheck, HealthState, HistoryPoint, JobSample, ResourceHistory, ResourceSample,
};
use sentinel_proto::schedule::{MissedPolicy, Overlap, ScheduleSpec};
use sentinel_proto::settings::{
    Limits, LogRetention, MetricsSettings, MonitorSettings, NotificationSettings, Settings,
};
use sentinel_proto::stack::{
    Condition, Dependency, EnvSource, EnvVar, FreedPorts, JobPorts, PortHolder, PortStatus,
    Rlimits, WatchSpec,
};
use sentinel_proto::{
    DependencyState, EngineEvent, EventEnvelope, ExitInfo, FieldError, JobKind, JobSpec, JobState,
    JobStatus, LogLine, LogSettings, LogStream, RestartMode, RestartPolicy, RunOutcome, RunRecord,
    SignalName, Trigger, WaitReason,
};
use ts_rs::{Config, TS};

use crate::commands::{Page, Snapshot, StreamItem};
use crate::settings::{AppSettings, LogItem};

/// A command as the UI calls it: wrapper name, command, (argument, TS type)s, result type.
type CommandSignature = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const COMMANDS: &[CommandSignature] = &[
    ("snapshot", "snapshot", &[], "Snapshot"),
    (
        "jobAction",
        "job_action",
        &[("name", "string"), ("action", "Action")],
        "JobStatus",
    ),
    (
        "act",
        "act",
        &[("action", "Action"), ("selection", "Selection")],
        "ActionResult[]",
    ),
    (
        "subscribe",
        "subscribe",
        &[("onEvent", "Channel<StreamItem>")],
        "void",
    ),
    (
        "openSettings",
        "open_settings",
        &[("job", "string | null"), ("page", "Page | null")],
        "void",
    ),
    ("hidePopover", "hide_popover", &[], "void"),
    ("jobPorts", "job_ports", &[("name", "string")], "JobPorts"),
    (
        "freePorts",
        "free_ports",
        &[("name", "string")],
        "FreedPorts",
    ),
    (
        "jobEnv",
        "job_env",
        &[("name", "string"), ("showSecrets", "boolean | null")],
        "EnvVar[]",
    ),
    (
        "getJob",
        "get_job",
        &[("name", "string"), ("showSecrets", "boolean | null")],
        "JobDetail",
    ),
    (
        "validateJob",
        "validate_job",
        &[("spec", "JobSpec"), ("original", "string | null")],
        "FieldError[]",
    ),
    (
        "saveJob",
        "save_job",
        &[("spec", "JobSpec"), ("original", "string | null")],
        "JobStatus",
    ),
    ("deleteJob", "delete_job", &[("name", "string")], "void"),
    (
        "jobRuns",
        "job_runs",
        &[("name", "string"), ("limit", "number | null")],
        "RunRecord[]",
    ),
    (
        "logTail",
        "log_tail",
        &[("name", "string"), ("lines", "number | null")],
        "LogLine[]",
    ),
    (
        "followLogs",
        "follow_logs",
        &[
            ("name", "string"),
            ("lines", "number | null"),
            ("onLine", "Channel<LogItem>"),
        ],
        "void",
    ),
    (
        "schedulePreview",
        "schedule_preview",
        &[
            ("cron", "string | null"),
            ("every", "string | null"),
            ("at", "string | null"),
            ("n", "number | null"),
        ],
        "SchedulePreview",
    ),
    ("appSettings", "app_settings", &[], "AppSettings"),
    (
        "saveSettings",
        "save_settings",
        &[("settings", "Settings")],
        "AppSettings",
    ),
    (
        "setLaunchAtLogin",
        "set_launch_at_login",
        &[("enabled", "boolean")],
        "AppSettings",
    ),
    (
        "regenerateMetricsToken",
        "regenerate_metrics_token",
        &[],
        "AppSettings",
    ),
];

fn generate() -> String {
    // JSON numbers, not bigint: counters and ids stay far below 2^53.
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        JobKind::decl(&cfg),
        JobState::decl(&cfg),
        WaitReason::decl(&cfg),
        DependencyState::decl(&cfg),
        ExitInfo::decl(&cfg),
        HealthState::decl(&cfg),
        ResourceSample::decl(&cfg),
        HistoryPoint::decl(&cfg),
        JobSample::decl(&cfg),
        JobStatus::decl(&cfg),
        Trigger::decl(&cfg),
        RunOutcome::decl(&cfg),
        EngineEvent::decl(&cfg),
        EventEnvelope::decl(&cfg),
        Missed::decl(&cfg),
        FieldError::decl(&cfg),
        ErrorBody::decl(&cfg),
        ActionResult::decl(&cfg),
        Outcome::decl(&cfg),
        Action::decl(&cfg),
        Selection::decl(&cfg),
        Page::decl(&cfg),
        StreamItem::decl(&cfg),
        Snapshot::decl(&cfg),
        RestartMode::decl(&cfg),
        RestartPolicy::decl(&cfg),
        LogSettings::decl(&cfg),
        SignalName::decl(&cfg),
        Overlap::decl(&cfg),
        MissedPolicy::decl(&cfg),
        ScheduleSpec::decl(&cfg),
        HealthCheck::decl(&cfg),
        Condition::decl(&cfg),
        Dependency::decl(&cfg),
        WatchSpec::decl(&cfg),
        Rlimits::decl(&cfg),
        EnvSource::decl(&cfg),
        EnvVar::decl(&cfg),
        PortHolder::decl(&cfg),
        PortStatus::decl(&cfg),
        JobPorts::decl(&cfg),
        FreedPorts::decl(&cfg),
        JobSpec::decl(&cfg),
        JobDetail::decl(&cfg),
        RunRecord::decl(&cfg),
        LogStream::decl(&cfg),
        LogLine::decl(&cfg),
        SchedulePreview::decl(&cfg),
        ResourceHistory::decl(&cfg),
        MonitorSettings::decl(&cfg),
        NotificationSettings::decl(&cfg),
        MetricsSettings::decl(&cfg),
        LogRetention::decl(&cfg),
        Limits::decl(&cfg),
        Settings::decl(&cfg),
        AppSettings::decl(&cfg),
        LogItem::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs; do not edit.\n\
         // UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings\n\n\
         import { Channel, invoke } from '@tauri-apps/api/core';\n\n",
    );
    for declaration in declarations {
        out.push_str("export ");
        out.push_str(declaration.trim());
        out.push_str("\n\n");
    }
    out.push_str("/** Every command of the app, typed. */\nexport const commands = {\n");
    for (wrapper, command, args, result) in COMMANDS {
        let params: Vec<String> = args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let names: Vec<&str> = args.iter().map(|(n, _)| *n).collect();
        let payload = if names.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", names.join(", "))
        };
        out.push_str(&format!(
            "  {wrapper}: ({}): Promise<{result}> => invoke<{result}>('{command}'{payload}),\n",
            params.join(", ")
        ));
    }
    out.push_str("};\n\nexport { Channel };\n");
    out
}

#[test]
fn bindings_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
    let generated = generate();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings`",
        path.display()
    );
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
            "free_ports",
            "hide_popover",
            "job_action",
            "job_ports",
            "open_settings",
            "snapshot",
            "subscribe"
        ]
    );
    let settings = read("settings.json");
    for (_, command, _, _) in COMMANDS {
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
    ] {
        assert!(!popover.iter().any(|c| c == settings_only));
    }
}
