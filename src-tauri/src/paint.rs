//! How long the popover takes to show its content: from the request to show it (the tray
//! icon clicked, Open in the menu, the app launched again) to the first frame the page drew
//! after it (`popover_painted`, which the page calls two animation frames after showing its
//! jobs). Cold is a popover built for this show (or whose page never drew yet): its web
//! process, page and first snapshot; warm is one that was only hidden. Logged for the bench.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sentinel_app_macros::app_command;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

/// The event the popover's page hears when it is shown again (warm).
pub const SHOWN_EVENT: &str = "popover-shown";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Painted {
    pub took: Duration,
    pub cold: bool,
}

#[derive(Default)]
pub struct PaintClock {
    state: Mutex<ClockState>,
}

#[derive(Default)]
struct ClockState {
    /// The earliest show not painted yet, and whether it was cold.
    pending: Option<(Instant, bool)>,
    /// Whether the popover's current page has drawn since it was built.
    page_drew: bool,
}

impl PaintClock {
    /// The popover window was (re)built: its page has drawn nothing yet.
    pub fn built(&self) {
        self.lock().page_drew = false;
    }

    /// A show was asked for `at`; a show still waiting for its paint keeps its earlier start.
    pub fn shown(&self, at: Instant) {
        let mut state = self.lock();
        let cold = !state.page_drew;
        state.pending.get_or_insert((at, cold));
    }

    /// The page drew at `at`: what the show waiting for it took (none: a paint nobody waited
    /// for, such as the page loading hidden at launch).
    pub fn painted(&self, at: Instant) -> Option<Painted> {
        let mut state = self.lock();
        state.page_drew = true;
        let (since, cold) = state.pending.take()?;
        Some(Painted {
            took: at.saturating_duration_since(since),
            cold,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Starts the clock for a show of the popover and tells its page (a warm page draws then).
pub fn showing<R: Runtime>(app: &AppHandle<R>, built: bool) {
    if let Some(clock) = app.try_state::<PaintClock>() {
        if built {
            clock.built();
        }
        clock.shown(Instant::now());
    }
    let _ = app.emit_to(crate::POPOVER, SHOWN_EVENT, ());
}

/// The popover's page drew its content after being shown (or after loading).
#[app_command]
pub fn popover_painted(clock: State<'_, PaintClock>) {
    if let Some(Painted { took, cold }) = clock.painted(Instant::now()) {
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let kind = if cold { "cold" } else { "warm" };
        tracing::info!(
            ms,
            cold,
            "popover painted {ms} ms after it was asked for ({kind})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_show_is_cold_until_the_page_first_draws() {
        let clock = PaintClock::default();
        let t0 = Instant::now();
        // Loaded hidden at launch: a paint nobody waited for.
        assert_eq!(clock.painted(t0), None);
        // Shown later: warm.
        clock.shown(t0 + Duration::from_millis(100));
        clock.shown(t0 + Duration::from_millis(130));
        assert_eq!(
            clock.painted(t0 + Duration::from_millis(140)),
            Some(Painted {
                took: Duration::from_millis(40),
                cold: false
            }),
            "the earlier of two shows counts"
        );
        assert_eq!(clock.painted(t0 + Duration::from_millis(150)), None);
        // Rested, built again for a show: cold.
        clock.built();
        clock.shown(t0 + Duration::from_secs(100));
        assert_eq!(
            clock.painted(t0 + Duration::from_millis(100_320)),
            Some(Painted {
                took: Duration::from_millis(320),
                cold: true
            })
        );
        // A clock that went backwards reads zero rather than panicking.
        clock.shown(t0 + Duration::from_secs(200));
        assert_eq!(clock.painted(t0).map(|p| p.took), Some(Duration::ZERO));
    }
}
