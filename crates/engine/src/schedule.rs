//! The scheduler: one task for every schedule of the engine. It sleeps until the earliest fire
//! time (a run's [`LEAD`] before it), but never longer than a second, and re-reads the wall
//! clock on every wake: the monotonic clock stops while a Mac sleeps, and the wall clock can
//! jump.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use sentinel_proto::schedule::{self, Due, MissedPolicy, When};
use sentinel_proto::{FieldError, JobKind, JobSpec, Trigger, ValidationErrors};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::{EngineError, Result};
use crate::job::JobHandle;

/// The longest single sleep: how soon a wall-clock jump or a wake from sleep is noticed.
const LONGEST_SLEEP: Duration = Duration::from_secs(1);

/// How long before its instant a scheduled run is started: it is prepared (environment,
/// program, pipes) and spawned at the instant. Twenty runs due in the same second would
/// otherwise queue for the two cores behind each other's bookkeeping as well as their spawns.
const LEAD: Duration = Duration::from_millis(25);

/// The longest a started run is held for its instant: a wall clock that moved back after the
/// run was started cannot hold it longer.
pub(crate) const LONGEST_HOLD: Duration = Duration::from_millis(50);

/// How early a schedule fires: a run is started [`LEAD`] before its instant; a scheduled
/// restart stops the running service at the instant itself.
fn lead(action: FireAction) -> chrono::Duration {
    match action {
        FireAction::Run => chrono::Duration::from_std(LEAD).unwrap_or_default(),
        FireAction::Restart => chrono::Duration::zero(),
    }
}

/// What a schedule does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FireAction {
    /// A task runs.
    Run,
    /// A running service restarts.
    Restart,
}

struct Entry {
    when: When,
    action: FireAction,
    missed: MissedPolicy,
    /// Where `every` counts from: the last fire time, or when the schedule was set.
    anchor: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    job: JobHandle,
}

enum Message {
    Set {
        name: String,
        entry: Option<Box<Entry>>,
    },
}

#[derive(Clone)]
pub(crate) struct Scheduler {
    messages: mpsc::UnboundedSender<Message>,
}

impl Scheduler {
    pub fn start() -> Scheduler {
        let (messages, inbox) = mpsc::unbounded_channel();
        tokio::spawn(run(inbox));
        Scheduler { messages }
    }

    /// (Re)plans a job's schedule from its spec. `last_fire` is the latest fire time a run was
    /// started for; `since` is where a new schedule starts counting.
    pub fn plan(
        &self,
        spec: &JobSpec,
        job: JobHandle,
        last_fire: Option<DateTime<Utc>>,
        since: DateTime<Utc>,
    ) {
        let entry = plan_for(spec).map(|(when, action, missed)| {
            let anchor = last_fire.unwrap_or(since);
            Box::new(Entry {
                next: schedule::next_after(&when, anchor, anchor, &Local),
                when,
                action,
                missed,
                anchor,
                job,
            })
        });
        let _ = self.messages.send(Message::Set {
            name: spec.name.clone(),
            entry,
        });
    }

    pub fn forget(&self, name: &str) {
        let _ = self.messages.send(Message::Set {
            name: name.to_string(),
            entry: None,
        });
    }
}

/// The schedule a spec asks for, if any and if the job is enabled.
fn plan_for(spec: &JobSpec) -> Option<(When, FireAction, MissedPolicy)> {
    if !spec.enabled {
        return None;
    }
    match spec.kind {
        JobKind::Task => {
            let schedule = spec.schedule.as_ref()?;
            Some((schedule.when().ok()?, FireAction::Run, schedule.missed))
        }
        JobKind::Service => {
            let expr = spec.restart_schedule.as_ref()?;
            let parsed = schedule::parse_cron(expr).ok()?;
            let when = When::Cron {
                source: expr.clone(),
                schedule: Box::new(parsed),
            };
            // A restart nobody saw is not worth catching up on.
            Some((when, FireAction::Restart, MissedPolicy::Skip))
        }
    }
}

/// A wall clock that moved back by more than this re-arms every schedule.
const CLOCK_STEP: chrono::Duration = chrono::Duration::seconds(2);

async fn run(mut inbox: mpsc::UnboundedReceiver<Message>) {
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    let mut last_wall = Utc::now();
    let mut last_monotonic = Instant::now();
    loop {
        let now = Utc::now();
        // The monotonic clock only moves forward (and stops while asleep, which `due` treats
        // as missed fire times); the wall clock moving back by more is a clock change.
        let monotonic = chrono::Duration::from_std(last_monotonic.elapsed()).unwrap_or_default();
        if now - last_wall < monotonic - CLOCK_STEP {
            tracing::warn!("the wall clock went back; re-arming every schedule");
            for entry in entries.values_mut() {
                (entry.next, entry.anchor) =
                    schedule::rearm(&entry.when, entry.next, entry.anchor, now, &Local);
                entry.job.set_next_run(entry.next);
            }
        }
        last_wall = now;
        last_monotonic = Instant::now();
        for entry in entries.values_mut() {
            fire_if_due(entry, now);
        }
        let earliest = entries
            .values()
            .filter_map(|e| {
                e.next
                    .map(|next| next.checked_sub_signed(lead(e.action)).unwrap_or(next))
            })
            .min();
        // With nothing scheduled there is no clock to watch: sleep until a schedule is set.
        let sleep = if entries.is_empty() {
            None
        } else {
            Some(
                earliest
                    .map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                    .unwrap_or(LONGEST_SLEEP)
                    .min(LONGEST_SLEEP),
            )
        };
        tokio::select! {
            message = inbox.recv() => match message {
                Some(Message::Set { name, entry }) => {
                    match entry {
                        Some(mut entry) => {
                            // An edit that leaves the schedule as it was (a new env, say) keeps
                            // its phase: an `every 1h` edited at :40 still fires at :00.
                            let unchanged = entries.get(&name).filter(|old| {
                                old.when == entry.when && old.action == entry.action
                            });
                            if let Some(old) = unchanged {
                                entry.anchor = old.anchor;
                                entry.next = old.next;
                            }
                            entry.job.set_next_run(entry.next);
                            entries.insert(name, *entry);
                        }
                        None => {
                            if let Some(old) = entries.remove(&name) {
                                old.job.set_next_run(None);
                            }
                        }
                    }
                }
                None => return,
            },
            () = sleep_or_forever(sleep) => {}
        }
    }
}

async fn sleep_or_forever(sleep: Option<Duration>) {
    match sleep {
        Some(sleep) => tokio::time::sleep(sleep).await,
        None => std::future::pending().await,
    }
}

fn fire_if_due(entry: &mut Entry, now: DateTime<Utc>) {
    let Some(next) = entry.next else { return };
    let now = now.checked_add_signed(lead(entry.action)).unwrap_or(now);
    let fired_for = match schedule::due(&entry.when, next, now, entry.anchor, &Local) {
        Due::NotYet => return,
        Due::OnTime(at) => {
            entry.job.fire(at, Trigger::Schedule, entry.action);
            at
        }
        Due::Missed { count, latest } => {
            match entry.missed {
                MissedPolicy::RunOnce => {
                    tracing::info!(
                        missed = count,
                        "{} fire times passed unseen; running once",
                        count
                    );
                    entry.job.fire(latest, Trigger::CatchUp, entry.action);
                }
                MissedPolicy::Skip => {
                    tracing::info!(
                        missed = count,
                        "{} fire times passed unseen; skipped",
                        count
                    );
                }
            }
            latest
        }
    };
    entry.anchor = fired_for;
    entry.next = schedule::next_after(&entry.when, fired_for.max(now), fired_for, &Local);
    entry.job.set_next_run(entry.next);
}

/// A schedule that would never fire is refused: a one-time schedule in the past when the job
/// is `new` (an existing job keeps the time it already ran at), and a cron expression or an
/// interval with no fire time ahead that a date can hold (`0 0 30 2 *`).
pub(crate) fn refuse_unschedulable(spec: &JobSpec, new: bool) -> Result<()> {
    let now = Utc::now();
    if let Some(schedule) = spec
        .restart_schedule
        .as_deref()
        .and_then(|expr| sentinel_proto::schedule::parse_cron(expr).ok())
    {
        let when = When::Cron {
            source: String::new(),
            schedule: Box::new(schedule),
        };
        if sentinel_proto::schedule::next_after(&when, now, now, &chrono::Local).is_none() {
            return Err(EngineError::Invalid(ValidationErrors(vec![FieldError {
                field: "restart_schedule".into(),
                message: "never fires in the next ten years".into(),
            }])));
        }
    }
    let Some(when) = spec.schedule.as_ref().and_then(|s| s.when().ok()) else {
        return Ok(());
    };
    let problem = match &when {
        When::At(at) if new && *at <= now => Some((
            "schedule.at",
            format!(
                "{} is in the past",
                at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
            ),
        )),
        When::At(_) => None,
        When::Cron { .. } => sentinel_proto::schedule::next_after(&when, now, now, &chrono::Local)
            .is_none()
            .then(|| {
                (
                    "schedule.cron",
                    "never fires in the next ten years".to_string(),
                )
            }),
        When::Every(_) => sentinel_proto::schedule::next_after(&when, now, now, &chrono::Local)
            .is_none()
            .then(|| ("schedule.every", "cannot be scheduled from now".to_string())),
    };
    match problem {
        Some((field, message)) => Err(EngineError::Invalid(ValidationErrors(vec![FieldError {
            field: field.into(),
            message,
        }]))),
        None => Ok(()),
    }
}
