// The app's own commands get generated permissions (`allow-snapshot`, …), which the per-window
// capabilities in capabilities/ grant.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "snapshot",
            "job_action",
            "group_action",
            "subscribe",
            "open_settings",
            "hide_popover",
        ]),
    ))
    .expect("tauri build script");
}
