//! Native notifications through notify-rust: the notification centre on macOS, the desktop's
//! notification daemon over D-Bus elsewhere.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{text_with_logs, Notification, Notifier, NotifyError};

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
