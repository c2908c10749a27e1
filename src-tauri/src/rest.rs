//! Windows at rest: a window that has stayed hidden for a while is destroyed, and its web
//! content process ends with it, so the app with its windows closed holds little more than the
//! engine and GTK/AppKit. The popover is built again from its configuration when next shown
//! (cold); a window shown again before it rests is only shown (warm).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime, WebviewWindow, WebviewWindowBuilder};

/// How long a hidden window is kept for a quick reopen.
pub const DEFAULT_REST_AFTER: Duration = Duration::from_secs(60);
/// The longest delay `SENTINEL_WINDOW_REST` may set.
pub const MAX_REST_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// Overrides [`DEFAULT_REST_AFTER`]: a duration ("30s", "2m") or `never`.
pub const REST_ENV: &str = "SENTINEL_WINDOW_REST";

/// When hidden windows rest: `None` is never. WebDriver (`TAURI_WEBVIEW_AUTOMATION=true`)
/// drives the first webview the app made, so under it windows are kept.
pub fn rest_after(value: Option<&str>, automation: bool) -> Result<Option<Duration>, String> {
    if automation {
        return Ok(None);
    }
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(Some(DEFAULT_REST_AFTER));
    };
    if value == "never" {
        return Ok(None);
    }
    let after =
        sentinel_proto::duration::parse(value).map_err(|err| format!("{REST_ENV} {err}"))?;
    if after > MAX_REST_AFTER {
        return Err(format!(
            "{REST_ENV} is {value:?}, more than {}; use \"never\" to keep hidden windows",
            sentinel_proto::duration::format(MAX_REST_AFTER)
        ));
    }
    Ok(Some(after))
}

/// Which hide each window's pending rest belongs to: showing a window, or hiding it again,
/// makes the earlier timer's ticket stale.
#[derive(Default)]
pub struct RestTickets {
    latest: Mutex<HashMap<String, u64>>,
}

impl RestTickets {
    /// A new ticket for `label`'s rest; any earlier one is void.
    pub fn issue(&self, label: &str) -> u64 {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = latest.get(label).map_or(1, |t| t.wrapping_add(1));
        latest.insert(label.to_string(), ticket);
        ticket
    }

    /// Voids `label`'s pending rest (it is shown).
    pub fn cancel(&self, label: &str) {
        self.issue(label);
    }

    /// Whether `ticket` is still `label`'s latest: nothing showed or hid it since.
    pub fn current(&self, label: &str, ticket: u64) -> bool {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        latest.get(label) == Some(&ticket)
    }
}

/// The app's resting policy and its pending rests.
pub struct Rest {
    after: Option<Duration>,
    tickets: RestTickets,
}

impl Rest {
    pub fn from_env() -> Rest {
        let automation = std::env::var("TAURI_WEBVIEW_AUTOMATION").is_ok_and(|v| v == "true");
        let after = match rest_after(std::env::var(REST_ENV).ok().as_deref(), automation) {
            Ok(after) => after,
            Err(err) => {
                tracing::warn!("{err}; hidden windows rest after {DEFAULT_REST_AFTER:?}");
                Some(DEFAULT_REST_AFTER)
            }
        };
        Rest {
            after,
            tickets: RestTickets::default(),
        }
    }
}

/// The window `label` was shown: it does not rest.
pub fn shown<R: Runtime>(app: &AppHandle<R>, label: &str) {
    if let Some(rest) = app.try_state::<Rest>() {
        rest.tickets.cancel(label);
    }
}

/// The window `label` was hidden: destroyed once it has stayed hidden for the rest delay.
pub fn hidden<R: Runtime>(app: &AppHandle<R>, label: &str) {
    let Some(rest) = app.try_state::<Rest>() else {
        return;
    };
    let Some(after) = rest.after else {
        return;
    };
    let ticket = rest.tickets.issue(label);
    let (app, label) = (app.clone(), label.to_string());
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(after).await;
        let Some(rest) = app.try_state::<Rest>() else {
            return;
        };
        if !rest.tickets.current(&label, ticket) {
            return;
        }
        let Some(window) = app.get_webview_window(&label) else {
            return;
        };
        if window.is_visible().unwrap_or(true) {
            return;
        }
        match window.destroy() {
            Ok(()) => {
                tracing::info!(window = %label, "window at rest: destroyed after {after:?} hidden")
            }
            Err(err) => tracing::warn!(window = %label, "cannot put the window to rest: {err}"),
        }
    });
}

/// The popover, built again from tauri.conf.json when it has rested; `true` when it was.
pub fn popover<R: Runtime>(app: &AppHandle<R>) -> Option<(WebviewWindow<R>, bool)> {
    if let Some(window) = app.get_webview_window(crate::POPOVER) {
        return Some((window, false));
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == crate::POPOVER)?
        .clone();
    let built = WebviewWindowBuilder::from_config(app, &config).and_then(|b| b.build());
    match built {
        Ok(window) => Some((window, true)),
        Err(err) => {
            tracing::warn!("cannot build the popover: {err}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_rest_after_a_minute_unless_told_otherwise() {
        assert_eq!(rest_after(None, false), Ok(Some(DEFAULT_REST_AFTER)));
        assert_eq!(rest_after(Some(" "), false), Ok(Some(DEFAULT_REST_AFTER)));
        assert_eq!(
            rest_after(Some("2s"), false),
            Ok(Some(Duration::from_secs(2)))
        );
        assert_eq!(rest_after(Some("never"), false), Ok(None));
        // WebDriver holds on to the first webview.
        assert_eq!(rest_after(Some("2s"), true), Ok(None));
        let err = rest_after(Some("soon"), false).unwrap_err();
        assert!(err.starts_with(REST_ENV), "{err}");
        let err = rest_after(Some("2days"), false).unwrap_err();
        assert!(err.contains("never"), "{err}");
        assert!(rest_after(Some("24h"), false).is_ok());
    }

    #[test]
    fn only_the_latest_hide_puts_a_window_to_rest() {
        let tickets = RestTickets::default();
        let first = tickets.issue("popover");
        assert!(tickets.current("popover", first));
        // Shown again before the delay: the pending rest is void.
        tickets.cancel("popover");
        assert!(!tickets.current("popover", first));
        // Hidden again: only the new timer counts.
        let second = tickets.issue("popover");
        assert!(!tickets.current("popover", first));
        assert!(tickets.current("popover", second));
        // Windows are independent.
        let settings = tickets.issue("settings");
        assert!(tickets.current("popover", second));
        assert!(tickets.current("settings", settings));
        assert!(!tickets.current("settings", second.wrapping_add(7)));
    }
}
