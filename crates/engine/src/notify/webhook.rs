//! Webhooks: the notification as a JSON POST to the global URL and to the job's own.

use std::time::Duration;

use super::{Notification, Notifier, NotifyError};

pub struct WebhookNotifier {
    global: Option<String>,
    agent: ureq::Agent,
}

impl WebhookNotifier {
    pub fn new(global: Option<String>, timeout: Duration) -> WebhookNotifier {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .user_agent("SentinelZero webhook")
            .build()
            .new_agent();
        WebhookNotifier { global, agent }
    }
}

impl Notifier for WebhookNotifier {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        let global = self.global.as_ref().filter(|_| !notification.muted);
        let mut failures = Vec::new();
        for url in global.into_iter().chain(notification.job_webhook.as_ref()) {
            if let Err(err) = self.agent.post(url).send_json(notification) {
                tracing::warn!(job = %notification.job, "webhook {url} failed: {err}");
                failures.push(format!("{url}: {err}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(NotifyError(failures.join("; ")))
        }
    }
}
