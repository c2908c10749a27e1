// Hand-written mirror of the serde JSON of crates/proto (status.rs, event.rs, monitor.rs,
// api.rs). Kept in this ONE file on purpose: it will be replaced wholesale by bindings
// generated from the Rust types (ts-rs), so nothing else should declare wire shapes.
// Timestamps are RFC 3339 strings (chrono DateTime<Utc>).

export type JobKind = 'service' | 'task';

export type StateName =
  | 'stopped'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'backoff'
  | 'failed'
  | 'exited';

export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

/** JobState, flattened into JobStatus with `state` as the tag. */
export type JobState =
  | { state: 'stopped' }
  | { state: 'starting' }
  | { state: 'running'; pid: number; since: string }
  | { state: 'stopping'; pid: number }
  | { state: 'backoff'; next_try_at: string; attempt: number }
  | { state: 'failed'; reason: string; since: string }
  | { state: 'exited'; since: string };

export interface ExitInfo {
  code?: number;
  signal?: number;
  at: string;
  duration_ms: number;
}

export interface ResourceSample {
  at: string;
  /** Percent of one core (200 = two cores busy). */
  cpu_percent: number;
  memory_bytes: number;
  processes: number;
  disk_read_bytes: number;
  disk_written_bytes: number;
  /** CPU time used since the engine started, in seconds. */
  cpu_seconds: number;
}

/** One point of a job's sample history (monitor.rs `HistoryPoint`), for sparklines. */
export interface HistoryPoint {
  at: string;
  cpu_percent: number;
  memory_bytes: number;
  processes: number;
}

/** A sample with its job, as `resources_sampled` carries it (JobSample, flattened). */
export interface JobSample extends ResourceSample {
  job: string;
}

export type JobStatus = {
  name: string;
  group?: string;
  kind: JobKind;
  enabled: boolean;
  restarts: number;
  failures: number;
  last_exit?: ExitInfo;
  next_run_at?: string;
  /** Absent when the job has no health check. */
  health?: HealthState;
  /** Absent when the job is not running or not sampled yet. */
  resources?: ResourceSample;
} & JobState;

export type Trigger =
  | 'manual'
  | 'autostart'
  | 'retry'
  | 'restart'
  | 'recovery'
  | 'schedule'
  | 'catch_up'
  | 'memory_limit'
  | 'health_check';

export type RunOutcome = 'success' | 'failure' | 'stopped' | 'spawn_failed' | 'interrupted';

export type EngineEvent =
  | { type: 'job_added'; job: string }
  | { type: 'job_updated'; job: string; restarted: boolean }
  | { type: 'job_removed'; job: string }
  | { type: 'state_changed'; status: JobStatus }
  | { type: 'run_started'; job: string; run_id: number; pid: number; trigger: Trigger; scheduled_at?: string }
  | { type: 'run_exited'; job: string; run_id: number; outcome: RunOutcome; exit: ExitInfo }
  | { type: 'spawn_failed'; job: string; run_id: number; error: string }
  | { type: 'schedule_skipped'; job: string; scheduled_at: string; reason: string }
  | { type: 'resources_sampled'; samples: JobSample[] }
  | { type: 'health_changed'; job: string; health: HealthState; detail?: string };

export type EventEnvelope = { seq: number; at: string } & EngineEvent;

/** Sent in place of events a slow reader missed (api.rs `Missed`). */
export interface Missed {
  type: 'missed';
  count: number;
}

/** What the event channel carries. */
export type StreamItem = EventEnvelope | Missed;

export interface FieldError {
  field: string;
  message: string;
}

/** ErrorBody: every command error. */
export interface ApiError {
  code: string;
  message: string;
  field?: string;
  errors?: FieldError[];
}

/** BulkResult: one job's outcome of a group action. */
export interface BulkResult {
  name: string;
  status?: JobStatus;
  error?: ApiError;
}

export type JobAction = 'start' | 'stop' | 'restart';

export type SettingsPage = 'logs' | 'editor' | 'new';

/** What the `snapshot` command returns. */
export interface Snapshot {
  jobs: JobStatus[];
  /** Recent samples per job, oldest first, for sparklines. */
  history: Record<string, HistoryPoint[]>;
  /** The seq of the last event the snapshot includes. */
  seq: number;
}
