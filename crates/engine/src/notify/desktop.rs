//! Native notifications through notify-rust: the notification centre on macOS, the desktop's
//! notification daemon over D-Bus elsewhere.
//!
//! On macOS a notification is sent as an application, named by its bundle id. The host sets it
//! once with [`set_application`] when it runs from an app bundle. Without it, notify-rust would
//! look up an application called `use_default` through AppleScript at the first notification,
//! which opens a "Where is use_default?" chooser; so an unbundled process (`cargo run`,
//! `sentinel daemon`) sends no desktop notifications on macOS, and says so once.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{text_with_logs, Notification, Notifier, NotifyError};

/// Whether the host named the application notifications are sent as (macOS).
#[cfg(target_os = "macos")]
static APPLICATION_SET: AtomicBool = AtomicBool::new(false);

/// macOS: sends every later notification as the application `bundle_id` (its name and icon).
/// Call it once, before the first notification, and only from an app bundle: it changes
/// `NSBundle.mainBundle.bundleIdentifier` for the whole process, and an id LaunchServices does
/// not know is refused (notifications then go out as Terminal).
#[cfg(target_os = "macos")]
pub fn set_application(bundle_id: &str) -> Result<(), NotifyError> {
    let result =
        notify_rust::set_application(bundle_id).map_err(|err| NotifyError(err.to_string()));
    // Set or refused, notify-rust no longer looks for `use_default`.
    APPLICATION_SET.store(true, Ordering::Relaxed);
    result
}

/// Whether a desktop notification can be sent without asking the user which application
/// sends it.
#[cfg(target_os = "macos")]
fn application_known() -> bool {
    APPLICATION_SET.load(Ordering::Relaxed)
}

#[cfg(not(target_os = "macos"))]
fn application_known() -> bool {
    true
}

pub struct DesktopNotifier {
    warned: AtomicBool,
}

impl DesktopNotifier {
    pub fn new() -> DesktopNotifier {
        DesktopNotifier {
            warned: AtomicBool::new(false),
        }
    }
}

impl Default for DesktopNotifier {
    fn default() -> Self {
        DesktopNotifier::new()
    }
}

impl Notifier for DesktopNotifier {
    fn name(&self) -> &'static str {
        "desktop"
    }

    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        if notification.muted {
            return Ok(());
        }
        if !application_known() {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "desktop notifications are off: not running from an app bundle; failures are still in the logs, events and metrics"
                );
            }
            return Err(NotifyError("not running from an app bundle".into()));
        }
        let result = notify_rust::Notification::new()
            .appname("SentinelZero")
            .summary(&notification.title)
            .body(&text_with_logs(notification))
            .show()
            .map(|_| ())
            .map_err(|err| NotifyError(err.to_string()));
        // A headless machine has no notification service: say so once, then carry on.
        if let Err(err) = &result {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "desktop notifications are unavailable ({err}); failures are still in the logs, events and metrics"
                );
            }
        }
        result
    }
}
