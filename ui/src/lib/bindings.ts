// Generated from the Rust types by src-tauri/src/bindings.rs; do not edit.
// UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings

import { Channel, invoke } from '@tauri-apps/api/core';

export type JobKind = "service" | "task";

export type JobState = { "state": "stopped" } | { "state": "starting" } | { "state": "running", pid: number, since: string, } | { "state": "stopping", pid: number, } | { "state": "backoff", next_try_at: string, attempt: number, } | { "state": "failed", reason: string, since: string, } | { "state": "exited", since: string, } | { "state": "waiting", reason: WaitReason, 
/**
 * `reason` in words, as `sentinel status` says it.
 */
message: string, since: string, };

export type WaitReason = { "kind": "dependency", job: string, condition: Condition, 
/**
 * What the dependency is doing now.
 */
now: DependencyState, } | { "kind": "port", port: number, 
/**
 * Who listens on it; absent when the engine cannot see the process (another user's).
 */
holder?: PortHolder | null, } | { "kind": "slot", max_running: number, };

export type DependencyState = { "state": "missing" } | { "state": "stopped" } | { "state": "starting" } | { "state": "running", 
/**
 * What its health check says; absent when it has none.
 */
health?: HealthState | null, } | { "state": "stopping" } | { "state": "backoff" } | { "state": "failed", reason: string, } | { "state": "exited" } | { "state": "waiting" };

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

export type JobStatus = { name: string, group?: string | null, 
/**
 * The project (`sentinel up`) it belongs to, and the project's file.
 */
project?: ProjectRef | null, kind: JobKind, enabled: boolean, 
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
resources?: ResourceSample | null, 
/**
 * Writing the job's log file fails (a full disk, say): what the OS said. Output is still
 * captured; the newest MiB is kept and written once the file can be written again.
 */
log_error?: string | null, 
/**
 * How its latest start went: asked, spawned, ready.
 */
startup?: StartTimings | null, } & ({ "state": "stopped" } | { "state": "starting" } | { "state": "running", pid: number, since: string, } | { "state": "stopping", pid: number, } | { "state": "backoff", next_try_at: string, attempt: number, } | { "state": "failed", reason: string, since: string, } | { "state": "exited", since: string, } | { "state": "waiting", reason: WaitReason, 
/**
 * `reason` in words, as `sentinel status` says it.
 */
message: string, since: string, });

export type StartTimings = { 
/**
 * When the start was asked for (it may have waited for dependencies first).
 */
requested_at: string, 
/**
 * When its current (or last) process was spawned.
 */
started_at?: string | null, ready_at?: string | null, };

export type Glance = "failing" | "busy" | "fine";

export type Trigger = "manual" | "autostart" | "retry" | "restart" | "recovery" | "schedule" | "catch_up" | "memory_limit" | "health_check" | "file_change";

export type RunOutcome = "success" | "failure" | "stopped" | "spawn_failed" | "interrupted";

export type EngineEvent = { "type": "job_added", job: string, status: JobStatus, } | { "type": "job_updated", job: string, restarted: boolean, status: JobStatus, } | { "type": "job_removed", job: string, } | { "type": "state_changed", status: JobStatus, } | { "type": "run_started", job: string, run_id: number, pid: number, trigger: Trigger, 
/**
 * The fire time, when a schedule started the run.
 */
scheduled_at?: string | null, } | { "type": "run_exited", job: string, run_id: number, outcome: RunOutcome, exit: ExitInfo, } | { "type": "spawn_failed", job: string, run_id: number, error: string, } | { "type": "schedule_skipped", job: string, scheduled_at: string, reason: string, } | { "type": "health_changed", job: string, health: HealthState, detail?: string | null, } | { "type": "resources_sampled", samples: Array<JobSample>, };

export type EventEnvelope = { 
/**
 * Increases by one per event; a gap means events were missed.
 */
seq: number, at: string, } & ({ "type": "job_added", job: string, status: JobStatus, } | { "type": "job_updated", job: string, restarted: boolean, status: JobStatus, } | { "type": "job_removed", job: string, } | { "type": "state_changed", status: JobStatus, } | { "type": "run_started", job: string, run_id: number, pid: number, trigger: Trigger, 
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

export type ActionResult = { name: string, } & ({ "status": JobStatus } | { "error": ErrorBody });

export type Outcome = { "status": JobStatus } | { "error": ErrorBody };

export type Action = "start" | "stop" | "restart" | "enable" | "disable";

export type Selection = { "names": Array<string> } | { "group": string } | { "project": string } | "all";

export type Page = "logs" | "editor" | "new" | "runs" | "app";

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

export type RestartMode = "always" | "on-failure" | "never";

export type RestartPolicy = { mode: RestartMode, 
/**
 * Retries of a failing job before it is `failed`; 0 = never give up.
 */
max_retries: number, 
/**
 * Delay before the first retry.
 */
delay: string, 
/**
 * Each consecutive failure multiplies the delay by this (1.0 = constant).
 */
backoff: number, max_delay: string, 
/**
 * Exit codes that count as success.
 */
success_exit_codes: Array<number>, 
/**
 * A run that lived this long resets the failure count.
 */
min_uptime: string, };

export type LogSettings = { max_size: string, max_files: number, };

export type SignalName = string;

export type Overlap = "skip" | "queue" | "replace";

export type MissedPolicy = "skip" | "run-once";

export type ScheduleSpec = { 
/**
 * 5 fields (`m h dom mon dow`), 6 with seconds first, or `@hourly`, `@daily` (`@midnight`),
 * `@weekly`, `@monthly`, `@yearly` (`@annually`); local time; day of week 0–7 with 0 and 7 for Sunday, or names.
 */
cron?: string | null, 
/**
 * A fixed interval, measured from the previous scheduled time: "15m", "2h".
 */
every?: string | null, 
/**
 * Once: RFC 3339, or `YYYY-MM-DD HH:MM` in local time.
 */
at?: string | null, 
/**
 * What to do when the previous run is still going at the next fire time.
 */
overlap: Overlap, 
/**
 * What to do about fire times that passed while the machine slept or the engine was down.
 */
missed: MissedPolicy, };

export type HealthCheck = { 
/**
 * A command run like the job's own (same cwd and env); exit 0 is healthy.
 */
exec?: string | null, 
/**
 * A URL fetched with GET; a 2xx or 3xx answer is healthy.
 */
http?: string | null, 
/**
 * `host:port` that must accept a TCP connection.
 */
tcp?: string | null, 
/**
 * A regular expression matched against each line the job prints (stdout and stderr):
 * healthy at the first match; unhealthy when none matched within `start_period` +
 * `timeout` of the start. `interval` and `retries` do not apply.
 */
log?: string | null, interval: string, 
/**
 * A check that takes longer has failed.
 */
timeout: string, 
/**
 * Failed checks in a row before the job is unhealthy.
 */
retries: number, 
/**
 * Failures in this time after a start do not count (a success ends it early).
 */
start_period: string, 
/**
 * Restart the job when it turns unhealthy.
 */
restart: boolean, };

export type Condition = "started" | "healthy" | "completed";

export type Dependency = { job: string, condition: Condition, 
/**
 * Restart this job with the dependency (Docker Compose's `restart: true`): when the
 * dependency restarts for any reason, this job stops first and starts again once the
 * condition holds again.
 */
restart?: boolean, };

export type WatchSpec = { 
/**
 * Files or directories, relative to the job's cwd unless absolute; default the cwd.
 */
paths: Array<string>, 
/**
 * Globs matched against paths relative to the watched directory (`*.log`, `tmp/**`).
 */
ignore?: Array<string>, 
/**
 * Changes closer together than this are one change.
 */
debounce: string, };

export type Rlimits = { 
/**
 * Open files (RLIMIT_NOFILE).
 */
nofile?: number | null, 
/**
 * Largest core dump ("0" turns them off; RLIMIT_CORE).
 */
core?: string | null, };

export type EnvSource = { "kind": "spec" } | { "kind": "file", "path": string };

export type EnvVar = { key: string, value: string, source: EnvSource, 
/**
 * Env files and `env` set this key earlier too, and lost.
 */
overrides?: Array<EnvSource>, 
/**
 * Listed in the job's `secrets`: `value` is masked unless secrets were asked for.
 */
secret: boolean, };

export type PortHolder = { pid: number, command: string, 
/**
 * The job whose run started it, when the engine can tell (its `SENTINEL_JOB`).
 */
job?: string | null, 
/**
 * Left over from an earlier run of the job that declared the port: nothing supervises it,
 * and the engine may stop it.
 */
orphan: boolean, };

export type PortStatus = { port: number, 
/**
 * Something listens on it (even if the engine cannot see which process).
 */
in_use: boolean, 
/**
 * Who listens on it: nobody (free), the job's current run, or other processes.
 */
holders: Array<PortHolder>, 
/**
 * The job's own current run listens on it.
 */
own: boolean, };

export type JobPorts = { job: string, ports: Array<PortStatus>, };

export type FreedPorts = { job: string, 
/**
 * Orphans stopped (their whole process groups).
 */
stopped: Array<PortHolder>, 
/**
 * Holders left alone because they are not this job's orphans.
 */
kept: Array<PortHolder>, };

export type JobSpec = { 
/**
 * Unique, 1–64 of `A-Za-z0-9._-`; it names the log files.
 */
name: string, 
/**
 * Parsed with shell-like quoting into argv and executed directly, unless `shell`.
 */
command: string, 
/**
 * Run `command` through `/bin/sh -c` (pipes, globs, `&&`).
 */
shell: boolean, 
/**
 * Working directory; must exist when the job starts. Defaults to the engine's.
 */
cwd?: string | null, 
/**
 * Extra environment, on top of the engine's.
 */
env?: { [key in string]: string }, 
/**
 * Names of variables (from `env` or env files) whose values are secret: masked in the
 * API, the app, exports and the job's own log output unless asked for.
 */
secrets?: Array<string>, group?: string | null, 
/**
 * The project (`sentinel up`) the job belongs to; its name is `PROJECT.NAME`.
 */
project?: ProjectRef | null, 
/**
 * A disabled job is kept but never started.
 */
enabled: boolean, 
/**
 * Start when the engine starts (services only).
 */
autostart: boolean, kind: JobKind, restart: RestartPolicy, 
/**
 * Sent to the whole process group on stop.
 */
stop_signal: SignalName, 
/**
 * Grace period after `stop_signal` before KILL goes to the group.
 */
stop_timeout: string, logs: LogSettings, 
/**
 * When a task runs on its own.
 */
schedule?: ScheduleSpec | null, 
/**
 * A cron expression at which a running service is restarted (like PM2's cron_restart).
 */
restart_schedule?: string | null, 
/**
 * Checks that restart a service which is running but not working.
 */
health?: HealthCheck | null, 
/**
 * Restart the job when its process group's resident memory exceeds this ("512MB").
 */
max_memory?: string | null, 
/**
 * Desktop notifications (and the global webhook) for this job's failures.
 */
notify?: boolean, 
/**
 * A URL that receives a JSON POST for this job's failures, besides the global webhook.
 */
webhook?: string | null, 
/**
 * Jobs that must be running, healthy or completed before this one starts.
 */
depends_on?: Array<Dependency>, 
/**
 * Restart the service when files under these paths change.
 */
watch?: WatchSpec | null, 
/**
 * `KEY=value` files read at every start (relative to `cwd`); later files and `env` win.
 */
env_files?: Array<string>, 
/**
 * TCP ports the service listens on; checked before each start.
 */
ports?: Array<number>, 
/**
 * Scheduling priority, -20 (first) to 19 (last); below 0 needs root.
 */
nice?: number | null, rlimits?: Rlimits, };

export type ProjectRef = { name: string, 
/**
 * The project file, absolute.
 */
file: string, };

export type ProjectSummary = { name: string, file: string, jobs: Array<string>, };

export type JobDetail = { spec: JobSpec, status: JobStatus, 
/**
 * The active log file; rotated ones sit next to it as `.1`, `.2`, …
 */
log_file: string, };

export type RunRecord = { id: number, job: string, trigger: Trigger, 
/**
 * The fire time this run was for, when its schedule started it.
 */
scheduled_at?: string | null, started_at: string, ended_at?: string | null, pid?: number | null, 
/**
 * `None` while the run is in progress.
 */
outcome?: RunOutcome | null, exit_code?: number | null, signal?: number | null, 
/**
 * Why it ended the way it did, in words ("program not found: …", "stopped by user").
 */
reason?: string | null, };

export type LogStream = "stdout" | "stderr";

export type LogLine = { ts: string, stream: LogStream, text: string, partial?: boolean, };

export type SchedulePreview = { description: string, next: Array<string>, };

export type RestartPreview = { 
/**
 * The waits before the first retries, in milliseconds (at most [`PREVIEW_DELAYS`]).
 */
delays_ms: Array<number>, 
/**
 * The failures retried before the job is `failed`; absent when it never gives up.
 */
gives_up_after?: number | null, 
/**
 * "1s, 1.5s, 2.3s — gives up after 3 failures".
 */
text: string, };

export type JobDefaults = { spec: JobSpec, health: HealthCheck, watch: WatchSpec, };

export type ResourceHistory = { job: string, 
/**
 * Time between samples.
 */
interval_ms: number, samples: Array<HistoryPoint>, };

export type MonitorSettings = { 
/**
 * How often CPU, memory and disk use of running jobs are sampled.
 */
sample_interval: string, 
/**
 * How often a job is sampled while nobody watches (no popover or settings window open,
 * no `sentinel top`, no metrics scrape in the last minute); a job with `max_memory` is
 * always sampled every `sample_interval`. Never more often than `sample_interval`: a
 * shorter value counts as `sample_interval` (so `sample_interval = "1h"` alone turns
 * sampling nearly off, as it always did).
 */
unwatched_interval: string, 
/**
 * How much sample history each job keeps for sparklines.
 */
history: string, };

export type NotificationSettings = { 
/**
 * Desktop notifications for failures (jobs can opt out with `notify = false`).
 */
enabled: boolean, 
/**
 * At most one notification per job in this time; the rest are summed up after it.
 */
throttle: string, 
/**
 * Also say when a job that failed works again.
 */
recovered: boolean, 
/**
 * A URL that receives a JSON POST for every notification.
 */
webhook: string | null, webhook_timeout: string, };

export type MetricsSettings = { 
/**
 * Serve Prometheus metrics on `127.0.0.1:PORT` (the socket always serves them). Off when
 * absent. Scrapers authenticate with the bearer token in `metrics.token`.
 */
port: number | null, };

export type LogRetention = { 
/**
 * Rotated log files older than this are deleted, and so are the logs of removed jobs.
 * Absent: kept until each job's `logs.max_files` pushes them out.
 */
max_age?: string | null, };

export type Limits = { 
/**
 * Jobs running at once, at most; the rest wait in line (state `waiting`) for a slot.
 */
max_running: number, };

export type Settings = { monitor: MonitorSettings, notifications: NotificationSettings, metrics: MetricsSettings, logs: LogRetention, limits: Limits, };

export type AppSettings = { settings: Settings, launch_at_login: boolean, 
/**
 * The bearer token of the metrics endpoint, once there is one.
 */
metrics_token: string | null, settings_file: string, 
/**
 * The file differs from what the running engine uses: it applies at the next start.
 */
restart_needed: boolean, };

export type LogItem = LogLine | Missed;

export type EngineContext = { name: string, 
/**
 * `ssh://[user@]host[:port]` or `unix:///path`.
 */
host: string, description?: string, 
/**
 * The `sentinel` to run on the remote machine, when it is not on the PATH of a
 * non-interactive ssh session there (`/opt/sentinel/bin/sentinel`).
 */
sentinel?: string, };

export type EngineProblem = { code: string, message: string, };

export type Link = { "link": "connecting", since: string, } | { "link": "connected", version: string, since: string, jobs: Array<JobStatus>, } | { "link": "unreachable", problem: EngineProblem, since: string, next_try_at: string, attempt: number, };

export type RemoteView = { context: EngineContext, } & ({ "link": "connecting", since: string, } | { "link": "connected", version: string, since: string, jobs: Array<JobStatus>, } | { "link": "unreachable", problem: EngineProblem, since: string, next_try_at: string, attempt: number, });

export type RemoteEngines = { revision: number, engines: Array<RemoteView>, };

export type LocalEngine = { version: string, jobs: number, };

export type EngineList = { local: LocalEngine, remotes: RemoteEngines, 
/**
 * Where the remote engines are kept (`sentinel context` reads and writes it too).
 */
contexts_file: string, 
/**
 * Why that file cannot be read, if it cannot (the engines shown are the last read).
 */
problem: string | null, };

export type EngineTest = { version: string, jobs: number, };

/** Every command of the app, typed. */
export const commands = {
  snapshot: (): Promise<Snapshot> => invoke<Snapshot>('snapshot'),
  act: (action: Action, selection: Selection, engine: string | null): Promise<ActionResult[]> => invoke<ActionResult[]>('act', { action, selection, engine }),
  subscribe: (onEvent: Channel<StreamItem>): Promise<void> => invoke<void>('subscribe', { onEvent }),
  openSettings: (job: string | null, page: Page | null): Promise<void> => invoke<void>('open_settings', { job, page }),
  hidePopover: (): Promise<void> => invoke<void>('hide_popover'),
  popoverPainted: (): Promise<void> => invoke<void>('popover_painted'),
  jobPorts: (name: string): Promise<JobPorts> => invoke<JobPorts>('job_ports', { name }),
  freePorts: (name: string): Promise<FreedPorts> => invoke<FreedPorts>('free_ports', { name }),
  engines: (): Promise<EngineList> => invoke<EngineList>('engines'),
  retryEngine: (name: string): Promise<void> => invoke<void>('retry_engine', { name }),
  addEngine: (context: EngineContext): Promise<EngineList> => invoke<EngineList>('add_engine', { context }),
  removeEngine: (name: string): Promise<EngineList> => invoke<EngineList>('remove_engine', { name }),
  testEngine: (context: EngineContext): Promise<EngineTest> => invoke<EngineTest>('test_engine', { context }),
  jobEnv: (name: string, showSecrets: boolean | null): Promise<EnvVar[]> => invoke<EnvVar[]>('job_env', { name, showSecrets }),
  getJob: (name: string, showSecrets: boolean | null): Promise<JobDetail> => invoke<JobDetail>('get_job', { name, showSecrets }),
  validateJob: (spec: JobSpec, original: string | null): Promise<FieldError[]> => invoke<FieldError[]>('validate_job', { spec, original }),
  saveJob: (spec: JobSpec, original: string | null): Promise<JobStatus> => invoke<JobStatus>('save_job', { spec, original }),
  deleteJob: (name: string): Promise<void> => invoke<void>('delete_job', { name }),
  jobRuns: (name: string, limit: number | null): Promise<RunRecord[]> => invoke<RunRecord[]>('job_runs', { name, limit }),
  logTail: (name: string, lines: number | null): Promise<LogLine[]> => invoke<LogLine[]>('log_tail', { name, lines }),
  followLogs: (name: string, lines: number | null, onLine: Channel<LogItem>): Promise<void> => invoke<void>('follow_logs', { name, lines, onLine }),
  schedulePreview: (cron: string | null, every: string | null, at: string | null, n: number | null): Promise<SchedulePreview> => invoke<SchedulePreview>('schedule_preview', { cron, every, at, n }),
  restartPreview: (policy: RestartPolicy): Promise<RestartPreview> => invoke<RestartPreview>('restart_preview', { policy }),
  jobDefaults: (): Promise<JobDefaults> => invoke<JobDefaults>('job_defaults'),
  appSettings: (): Promise<AppSettings> => invoke<AppSettings>('app_settings'),
  saveSettings: (settings: Settings): Promise<AppSettings> => invoke<AppSettings>('save_settings', { settings }),
  setLaunchAtLogin: (enabled: boolean): Promise<AppSettings> => invoke<AppSettings>('set_launch_at_login', { enabled }),
  regenerateMetricsToken: (): Promise<AppSettings> => invoke<AppSettings>('regenerate_metrics_token'),
  keepSettingsOpen: (): Promise<void> => invoke<void>('keep_settings_open'),
};

export { Channel };
