// The app's own commands get generated permissions (`allow-snapshot`, …), which the per-window
// capabilities in capabilities/ grant.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "snapshot",
            "job_action",
            "act",
            "subscribe",
            "open_settings",
            "hide_popover",
            "job_ports",
            "free_ports",
            "job_env",
            "get_job",
            "validate_job",
            "save_job",
            "delete_job",
            "job_runs",
            "log_tail",
            "follow_logs",
            "schedule_preview",
            "app_settings",
            "save_settings",
            "set_launch_at_login",
            "regenerate_metrics_token",
        ]),
    ))
    .expect("tauri build script");
}
