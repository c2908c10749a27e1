//! Resource figures at the full sampling rate while a window shows them: the popover while it
//! is shown, the settings window while it is open. With both closed the engine samples each
//! job only every `unwatched_interval`, which is what keeps the app idle at rest.

use std::collections::HashMap;
use std::sync::Mutex;

use sentinel_engine::{EngineHandle, Watching};
use tauri::{AppHandle, Manager, Runtime};

pub struct WindowWatch {
    engine: EngineHandle,
    /// One guard per window label that shows figures now.
    shown: Mutex<HashMap<String, Watching>>,
}

impl WindowWatch {
    pub fn new(engine: EngineHandle) -> WindowWatch {
        WindowWatch {
            engine,
            shown: Mutex::new(HashMap::new()),
        }
    }

    pub fn shown(&self, label: &str) {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        if !shown.contains_key(label) {
            shown.insert(label.to_string(), self.engine.watch_resources());
        }
    }

    pub fn hidden(&self, label: &str) {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        shown.remove(label);
    }
}

/// The window `label` is now on screen.
pub fn shown<R: Runtime>(app: &AppHandle<R>, label: &str) {
    if let Some(watch) = app.try_state::<WindowWatch>() {
        watch.shown(label);
    }
    crate::rest::shown(app, label);
}

/// The window `label` went away: hidden, and destroyed once it has rested (`rest.rs`).
pub fn hidden<R: Runtime>(app: &AppHandle<R>, label: &str) {
    if let Some(watch) = app.try_state::<WindowWatch>() {
        watch.hidden(label);
    }
    crate::rest::hidden(app, label);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_is_watched_while_any_window_shows_figures() {
        let app = crate::testing::app();
        let watch = WindowWatch::new(app.engine.clone());
        assert!(!app.engine.resources_watched());
        watch.shown(crate::POPOVER);
        watch.shown(crate::POPOVER);
        watch.shown("settings");
        assert!(app.engine.resources_watched());
        watch.hidden(crate::POPOVER);
        assert!(
            app.engine.resources_watched(),
            "the settings window is still open"
        );
        watch.hidden("settings");
        assert!(!app.engine.resources_watched());
        // Hiding a window twice, or one never shown, changes nothing.
        watch.hidden("settings");
        assert!(!app.engine.resources_watched());
    }
}
