// Generated from the Rust types by src-tauri/src/bindings.rs; do not edit.
// UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings

import { Channel, invoke } from '@tauri-apps/api/core';

export type JobKind = "service" | "task";

export type JobState = { "state": "stopped" } | { "state": "starting" } | { "state": "running", pid: number, since: string, } | { "state": "stopping", pid: number, } | { "state": "backoff", next_try_at: string, attempt: number, } | { "state": "failed", reason: string, since: string, } | { "state": "exited", since: string, };

export type ExitInfo = { code?: number | null, signal?: number | null, at: string, duration_ms: number, };

export type HealthState = "unknown" | "healthy" | "unhealthy";

export type ResourceSample = { at: string, 
/**
 * Percent of one core since the previous sample (200 = two cores busy).
 */
cpu_percent: number, 
/**
 * Resident memory summed over the group's processes.
 */
memory_bytes: number, 
/**
 * Processes in the group.
 */
processes: number, 
/**
 * Bytes the group read from and wrote to storage since the engine started.
 */
disk_read_bytes: number, disk_written_bytes: number, 
/**
 * CPU time the job's processes used since the engine started, in seconds.
 */
cpu_seconds: number, };

export type HistoryPoint = { at: string, cpu_percent: number, memory_bytes: number, processes: number, };

export type JobSample = { job: string, at: string, 
/**
 * Percent of one core since the previous sample (200 = two cores busy).
 */
cpu_percent: number, 
/**
 * Resident memory summed over the group's processes.
 */
memory_bytes: number, 
/**
 * Processes in the group.
 */
processes: number, 
/**
 * Bytes the group read from and wrote to storage since the engine started.
 */
disk_read_bytes: number, disk_written_bytes: number, 
/**
 * CPU time the job's processes used since the engine started, in seconds.
 */
cpu_seconds: number, };

export type JobStatus = { name: string, group?: string | null, kind: JobKind, enabled: boolean, 
/**
 * Restarts made by the restart policy since the job was last started by hand.
 */
restarts: number, 
/**
 * Consecutive failed runs counted towards `max_retries`.
 */
failures: number, last_exit?: ExitInfo | null, 
/**
 * When the schedule (or restart_schedule) fires next.
 */
next_run_at?: string | null, 
/**
 * What the health check says; absent when the job has none.
 */
health?: HealthState | null, 
/**
 * The newest resource sample, while the job runs.
 */
resources?: ResourceSample | null, } & ({ "state": "stopped" } | { "state": "starting" } | { "state": "running", pid: number, since: string, } | { "state": "stopping", pid: number, } | { "state": "backoff", next_try_at: string, attempt: number, } | { "state": "failed", reason: string, since: string, } | { "state": "exited", since: string, });

export type Trigger = "manual" | "autostart" | "retry" | "restart" | "recovery" | "schedule" | "catch_up" | "memory_limit" | "health_check";

export type RunOutcome = "success" | "failure" | "stopped" | "spawn_failed" | "interrupted";

export type EngineEvent = { "type": "job_added", job: string, } | { "type": "job_updated", job: string, restarted: boolean, } | { "type": "job_removed", job: string, } | { "type": "state_changed", status: JobStatus, } | { "type": "run_started", job: string, run_id: number, pid: number, trigger: Trigger, 
/**
 * The fire time, when a schedule started the run.
 */
scheduled_at?: string | null, } | { "type": "run_exited", job: string, run_id: number, outcome: RunOutcome, exit: ExitInfo, } | { "type": "spawn_failed", job: string, run_id: number, error: string, } | { "type": "schedule_skipped", job: string, scheduled_at: string, reason: string, } | { "type": "health_changed", job: string, health: HealthState, detail?: string | null, } | { "type": "resources_sampled", samples: Array<JobSample>, };

export type EventEnvelope = { 
/**
 * Increases by one per event; a gap means events were missed.
 */
seq: number, at: string, } & ({ "type": "job_added", job: string, } | { "type": "job_updated", job: string, restarted: boolean, } | { "type": "job_removed", job: string, } | { "type": "state_changed", status: JobStatus, } | { "type": "run_started", job: string, run_id: number, pid: number, trigger: Trigger, 
/**
 * The fire time, when a schedule started the run.
 */
scheduled_at?: string | null, } | { "type": "run_exited", job: string, run_id: number, outcome: RunOutcome, exit: ExitInfo, } | { "type": "spawn_failed", job: string, run_id: number, error: string, } | { "type": "schedule_skipped", job: string, scheduled_at: string, reason: string, } | { "type": "health_changed", job: string, health: HealthState, detail?: string | null, } | { "type": "resources_sampled", samples: Array<JobSample>, });

export type Missed = { 
/**
 * Always `"missed"`.
 */
type: "missed", count: number, };

export type FieldError = { field: string, message: string, };

export type ErrorBody = { 
/**
 * Stable and machine-readable: `not_found`, `already_exists`, `invalid`, `bad_json`, …
 */
code: string, 
/**
 * For people: what is wrong and, where it helps, what to do.
 */
message: string, 
/**
 * The field at fault, when there is one (the first, when there are several).
 */
field?: string | null, 
/**
 * Every field problem, for validation errors.
 */
errors?: Array<FieldError>, };

export type BulkResult = { name: string, status?: JobStatus | null, error?: ErrorBody | null, };

export type JobAction = "start" | "stop" | "restart";

export type Page = "logs" | "editor" | "new";

export type StreamItem = EventEnvelope | Missed;

export type Snapshot = { jobs: Array<JobStatus>, 
/**
 * Recent samples per running job, for the sparklines.
 */
history: { [key in string]: Array<HistoryPoint> }, 
/**
 * The snapshot is current up to this event; older events are already in it.
 */
seq: number, };

/** Every command of the app, typed. */
export const commands = {
  snapshot: (): Promise<Snapshot> => invoke<Snapshot>('snapshot'),
  jobAction: (name: string, action: JobAction): Promise<JobStatus> => invoke<JobStatus>('job_action', { name, action }),
  groupAction: (group: string, action: JobAction): Promise<BulkResult[]> => invoke<BulkResult[]>('group_action', { group, action }),
  subscribe: (onEvent: Channel<StreamItem>): Promise<void> => invoke<void>('subscribe', { onEvent }),
  openSettings: (job: string | null, page: Page | null): Promise<void> => invoke<void>('open_settings', { job, page }),
  hidePopover: (): Promise<void> => invoke<void>('hide_popover'),
};

export { Channel };
