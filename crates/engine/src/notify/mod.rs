//! Failure notifications: the job actors raise alerts; one task throttles them per job and
//! hands what passes to every `Notifier` (the desktop, webhooks, a test's recorder) on a
//! blocking thread, so a slow notifier never holds up the engine.

mod desktop;
mod throttle;
mod webhook;

#[cfg(target_os = "macos")]
pub use desktop::set_application;
pub use desktop::DesktopNotifier;
pub use webhook::WebhookNotifier;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sentinel_proto::settings::NotificationSettings;
use sentinel_proto::ExitInfo;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use throttle::Throttle;

/// What happened, in the words of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The restart policy gave up: the job is `failed`.
    GaveUp,
    /// A service's process ended without being asked to.
    Crashed,
    /// The health check failed `retries` times in a row.
    Unhealthy,
    /// A run started by the schedule failed.
    ScheduledRunFailed,
    /// A job that was reported works again.
    Recovered,
}

/// One notification, as notifiers receive it; also the webhook's JSON body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub job: String,
    pub kind: AlertKind,
    pub title: String,
    pub body: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitInfo>,
    /// The job's last log lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// How many alerts of this job the throttle folded into this one.
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed: u32,
    /// The job opted out (`notify = false`): only its own webhook hears of it.
    #[serde(skip)]
    pub muted: bool,
    /// The job's own webhook.
    #[serde(skip)]
    pub job_webhook: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotifyError(pub String);

/// Somewhere notifications go. `deliver` runs on a blocking thread.
pub trait Notifier: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// The way to raise an alert: the job actors' and the app's, for jobs on remote engines.
pub struct Alerts {
    sender: mpsc::UnboundedSender<Notification>,
}

impl Alerts {
    /// Starts the task that throttles and delivers (inside a tokio runtime).
    pub fn start(settings: NotificationSettings, notifiers: Vec<Arc<dyn Notifier>>) -> Alerts {
        let (sender, inbox) = mpsc::unbounded_channel();
        tokio::spawn(dispatch(settings, notifiers, inbox));
        Alerts { sender }
    }

    pub fn raise(&self, notification: Notification) {
        let _ = self.sender.send(notification);
    }
}

async fn dispatch(
    settings: NotificationSettings,
    notifiers: Vec<Arc<dyn Notifier>>,
    mut inbox: mpsc::UnboundedReceiver<Notification>,
) {
    let mut throttle = Throttle::new(settings.throttle);
    loop {
        let deadline = throttle.next_deadline();
        let wake = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = inbox.recv() => {
                let Some(notification) = received else { return };
                if notification.kind == AlertKind::Recovered && !settings.recovered {
                    continue;
                }
                if let Some(passed) = throttle.offer(notification, Instant::now()) {
                    deliver(&notifiers, passed);
                }
            }
            () = wake => {
                for summary in throttle.due(Instant::now()) {
                    deliver(&notifiers, summary);
                }
            }
        }
    }
}

fn deliver(notifiers: &[Arc<dyn Notifier>], notification: Notification) {
    let notification = Arc::new(notification);
    for notifier in notifiers {
        let notifier = notifier.clone();
        let notification = notification.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(err) = notifier.deliver(&notification) {
                tracing::debug!(notifier = notifier.name(), job = %notification.job, "not delivered: {err}");
            }
        });
    }
}

/// The notifiers the settings ask for: the desktop (unless switched off) and the webhooks.
pub fn default_notifiers(settings: &NotificationSettings) -> Vec<Arc<dyn Notifier>> {
    let mut notifiers: Vec<Arc<dyn Notifier>> = Vec::new();
    if settings.enabled {
        notifiers.push(Arc::new(DesktopNotifier::new()));
    }
    notifiers.push(Arc::new(WebhookNotifier::new(
        settings.webhook.clone(),
        settings.webhook_timeout,
    )));
    notifiers
}

/// A notification's words for what happened. `detail` is the exit or the check's finding;
/// `next` what the engine does about it.
pub fn compose(job: &str, kind: AlertKind, detail: &str, next: &str) -> (String, String) {
    let title = match kind {
        AlertKind::GaveUp => format!("{job} failed"),
        AlertKind::Crashed => format!("{job} exited unexpectedly"),
        AlertKind::Unhealthy => format!("{job} is unhealthy"),
        AlertKind::ScheduledRunFailed => format!("{job}: scheduled run failed"),
        AlertKind::Recovered => format!("{job} recovered"),
    };
    let mut body = detail.to_string();
    if !next.is_empty() {
        if !body.is_empty() {
            body.push_str(". ");
        }
        body.push_str(next);
    }
    (title, body)
}

/// The body with the last log lines under it, as a desktop notification shows it.
pub(crate) fn text_with_logs(notification: &Notification) -> String {
    let mut text = notification.body.clone();
    if notification.suppressed > 0 {
        text = format!(
            "{text}\n(and {} more {} in this period)",
            notification.suppressed,
            if notification.suppressed == 1 {
                "failure"
            } else {
                "failures"
            }
        );
    }
    for line in &notification.log_tail {
        text.push('\n');
        text.push_str(line);
    }
    text
}
