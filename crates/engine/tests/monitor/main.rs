//! Monitoring with real processes: resource sampling, the memory limit, health checks against
//! real loopback servers, metrics, and notifications through recording and webhook notifiers.

#[path = "../engine/common.rs"]
#[allow(dead_code)]
mod common;

mod health;
mod notifications;
mod resources;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentinel_engine::notify::{Notification, Notifier, NotifyError};
use sentinel_engine::proto::settings::Settings;
use sentinel_engine::{EngineConfig, EngineHandle, EnginePaths};

/// CPU figures are only meaningful when no other test of this binary burns CPU: the CPU test
/// takes this exclusively, every other test shares it.
pub static CPU_QUIET: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Settings for quick tests: samples every 100 ms, watched or not (the cadence has tests of its
/// own), a short throttle.
pub fn quick_settings() -> Settings {
    let mut settings = Settings::default();
    settings.monitor.sample_interval = Duration::from_millis(100);
    settings.monitor.unwatched_interval = Duration::from_millis(100);
    settings.notifications.throttle = Duration::from_millis(600);
    settings
}

pub async fn open_with(
    home: &Path,
    settings: Settings,
    notifiers: Vec<Arc<dyn Notifier>>,
) -> EngineHandle {
    let mut config = EngineConfig::new(EnginePaths::under(home));
    config.settings = Some(settings);
    config.notifiers = Some(notifiers);
    EngineHandle::open(config).await.expect("engine starts")
}

/// Keeps every notification it is given.
#[derive(Default)]
pub struct Recorder {
    pub received: Mutex<Vec<Notification>>,
}

impl Recorder {
    pub fn all(&self) -> Vec<Notification> {
        self.received.lock().unwrap().clone()
    }
}

impl Notifier for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        self.received.lock().unwrap().push(notification.clone());
        Ok(())
    }
}
