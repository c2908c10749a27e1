// Every command the UI may call, each once: `module::function: [windows that may call it]`.
// The invoke handler and the TypeScript wrappers come from here (`app_commands!`, in
// commands.rs), and so do each command's permission and each window's capability (build.rs).
// A new command is its function, marked #[app_command], and its line here.
app_commands! {
    commands::snapshot: [popover, settings],
    commands::act: [popover, settings],
    commands::subscribe: [popover, settings],
    commands::open_settings: [popover, settings],
    commands::hide_popover: [popover],
    paint::popover_painted: [popover],
    commands::job_ports: [popover, settings],
    commands::free_ports: [popover, settings],
    engines::engines: [popover, settings],
    engines::retry_engine: [popover, settings],
    engines::add_engine: [settings],
    engines::remove_engine: [settings],
    engines::test_engine: [settings],
    settings::job_env: [settings],
    settings::get_job: [settings],
    settings::validate_job: [settings],
    settings::save_job: [settings],
    settings::delete_job: [settings],
    settings::job_runs: [settings],
    settings::log_tail: [settings],
    settings::follow_logs: [settings],
    settings::schedule_preview: [settings],
    settings::restart_preview: [settings],
    settings::job_defaults: [settings],
    settings::app_settings: [settings],
    settings::save_settings: [settings],
    settings::set_launch_at_login: [settings],
    settings::regenerate_metrics_token: [settings],
}
