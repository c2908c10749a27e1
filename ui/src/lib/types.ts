// The wire types, generated from the Rust types (src-tauri/src/bindings.rs → bindings.ts), and
// the few names the UI gives them. Nothing else declares wire shapes.
// Timestamps are RFC 3339 strings (chrono DateTime<Utc>).

export type {
  ProjectRef,
  AppSettings,
  ActionResult,
  Selection,
  Condition,
  Dependency,
  DependencyState,
  EngineContext,
  EngineEvent,
  EngineList,
  EngineProblem,
  EngineTest,
  EnvSource,
  EnvVar,
  ErrorBody,
  EventEnvelope,
  ExitInfo,
  FieldError,
  FreedPorts,
  HealthCheck,
  HealthState,
  HistoryPoint,
  Action,
  JobDefaults,
  JobDetail,
  JobKind,
  JobPorts,
  JobSpec,
  JobSample,
  JobState,
  JobStatus,
  LocalEngine,
  LogItem,
  LogLine,
  LogRetention,
  LogSettings,
  LogStream,
  MetricsSettings,
  Missed,
  MissedPolicy,
  MonitorSettings,
  NotificationSettings,
  Overlap,
  PortHolder,
  ResourceSample,
  RestartMode,
  RestartPolicy,
  RemoteEngines,
  RemoteView,
  RestartPreview,
  Rlimits,
  RunOutcome,
  RunRecord,
  SchedulePreview,
  ScheduleSpec,
  Settings,
  Snapshot,
  StreamItem,
  Trigger,
  WaitReason,
  WatchSpec,
} from './bindings';

import type { ErrorBody, JobState, Page } from './bindings';

/** A state's name, as `JobStatus.state` carries it. */
export type StateName = JobState['state'];

/** Every command error (the API's error body). */
export type ApiError = ErrorBody;

/** Which page of the settings window to open. */
export type SettingsPage = Page;
