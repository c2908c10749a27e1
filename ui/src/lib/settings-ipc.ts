// Every command the settings window uses, behind one interface so tests can swap the
// transport. The popover's commands (snapshot, subscribe, job_action, …) come from ipc.ts; the
// settings commands go through `invoke` with the names and argument keys of the Rust side
// until the generated `commands` object in bindings.ts has wrappers for them.
import { Channel, invoke } from '@tauri-apps/api/core';
import { tauriIpc, type Ipc, type Unsubscribe } from './ipc';
import type {
  FieldError,
  JobDetail,
  JobSpec,
  JobStatus,
  LogLine,
  Missed,
  RunRecord,
  SchedulePreview,
  Settings,
} from './types';

/**
 * The reply of app_settings and friends. Not in bindings.ts yet: replace with the generated
 * type once the Rust side exports it.
 */
export interface AppSettings {
  settings: Settings;
  launch_at_login: boolean;
  metrics_token: string | null;
  settings_file: string;
  restart_needed: boolean;
}

export interface ScheduleQuery {
  cron: string | null;
  every: string | null;
  at: string | null;
}

export interface SettingsIpc extends Ipc {
  getJob(name: string): Promise<JobDetail>;
  /** Field errors of `spec` (empty: valid). `original` is the edited job's name, null for new. */
  validateJob(spec: JobSpec, original: string | null): Promise<FieldError[]>;
  saveJob(spec: JobSpec, original: string | null): Promise<JobStatus>;
  deleteJob(name: string): Promise<void>;
  jobRuns(name: string, limit: number): Promise<RunRecord[]>;
  /** Sends the last `lines` lines, then every new one; resolves once following. */
  followLogs(name: string, lines: number, onLine: (item: LogLine | Missed) => void): Promise<Unsubscribe>;
  logTail(name: string, lines: number): Promise<LogLine[]>;
  schedulePreview(query: ScheduleQuery, n: number): Promise<SchedulePreview>;
  appSettings(): Promise<AppSettings>;
  saveSettings(settings: Settings): Promise<AppSettings>;
  setLaunchAtLogin(enabled: boolean): Promise<AppSettings>;
  regenerateMetricsToken(): Promise<AppSettings>;
}

export const tauriSettingsIpc: SettingsIpc = {
  ...tauriIpc,
  getJob: (name) => invoke<JobDetail>('get_job', { name }),
  validateJob: (spec, original) => invoke<FieldError[]>('validate_job', { spec, original }),
  saveJob: (spec, original) => invoke<JobStatus>('save_job', { spec, original }),
  deleteJob: (name) => invoke<void>('delete_job', { name }),
  jobRuns: (name, limit) => invoke<RunRecord[]>('job_runs', { name, limit }),
  async followLogs(name, lines, onLine) {
    const channel = new Channel<LogLine | Missed>(onLine);
    await invoke<void>('follow_logs', { name, lines, onLine: channel });
    // The backend drops the channel when sending fails; detaching the handler is enough.
    return () => {
      channel.onmessage = () => {};
    };
  },
  logTail: (name, lines) => invoke<LogLine[]>('log_tail', { name, lines }),
  schedulePreview: (query, n) =>
    invoke<SchedulePreview>('schedule_preview', { cron: query.cron, every: query.every, at: query.at, n }),
  appSettings: () => invoke<AppSettings>('app_settings'),
  saveSettings: (settings) => invoke<AppSettings>('save_settings', { settings }),
  setLaunchAtLogin: (enabled) => invoke<AppSettings>('set_launch_at_login', { enabled }),
  regenerateMetricsToken: () => invoke<AppSettings>('regenerate_metrics_token'),
};

/** Closes the window (Cmd/Ctrl+W). A Tauri webview window honours window.close(). */
export function closeWindow(): void {
  window.close();
}
