// Every command the settings window uses, behind one interface so tests can swap the
// transport. The popover's commands (snapshot, subscribe, act, free_ports, …) come from
// ipc.ts; the settings commands are the generated wrappers in bindings.ts; closing goes through
// Tauri's window API.
import { getCurrentWindow } from '@tauri-apps/api/window';
import { Channel, commands } from './bindings';
import { tauriIpc, type Ipc, type Unsubscribe } from './ipc';
import type {
  AppSettings,
  EngineContext,
  EngineList,
  EngineTest,
  EnvVar,
  FieldError,
  JobDefaults,
  JobDetail,
  JobSpec,
  JobStatus,
  LogItem,
  LogLine,
  RunRecord,
  RestartPolicy,
  RestartPreview,
  SchedulePreview,
  Settings,
} from './types';

export type { AppSettings };

export interface ScheduleQuery {
  cron: string | null;
  every: string | null;
  at: string | null;
}

export interface SettingsIpc extends Ipc {
  /** The job's definition and status; secret env values are masked unless `showSecrets`. */
  getJob(name: string, showSecrets?: boolean): Promise<JobDetail>;
  /** Field errors of `spec` (empty: valid). `original` is the edited job's name, null for new. */
  validateJob(spec: JobSpec, original: string | null): Promise<FieldError[]>;
  saveJob(spec: JobSpec, original: string | null): Promise<JobStatus>;
  deleteJob(name: string): Promise<void>;
  /**
   * The variables the saved job's next run gets from its env files and `env`, with sources;
   * secret ones are marked and masked unless `showSecrets`.
   */
  jobEnv(name: string, showSecrets?: boolean): Promise<EnvVar[]>;
  jobRuns(name: string, limit: number): Promise<RunRecord[]>;
  /** Sends the last `lines` lines, then every new one; resolves once following. */
  followLogs(name: string, lines: number, onLine: (item: LogItem) => void): Promise<Unsubscribe>;
  logTail(name: string, lines: number): Promise<LogLine[]>;
  schedulePreview(query: ScheduleQuery, n: number): Promise<SchedulePreview>;
  /** The engine's defaults for a new job, a health check and a file watch. */
  jobDefaults(): Promise<JobDefaults>;
  /** What a restart policy does to a failing job, in the engine's words. */
  restartPreview(policy: unknown): Promise<RestartPreview>;
  appSettings(): Promise<AppSettings>;
  saveSettings(settings: Settings): Promise<AppSettings>;
  setLaunchAtLogin(enabled: boolean): Promise<AppSettings>;
  regenerateMetricsToken(): Promise<AppSettings>;
  /** Adds a remote engine (a context); mistakes come back by field: name, host, description, sentinel. */
  addEngine(context: EngineContext): Promise<EngineList>;
  removeEngine(name: string): Promise<EngineList>;
  /** Connects once: the engine's version and job count, or why it cannot be reached. */
  testEngine(context: EngineContext): Promise<EngineTest>;
  /**
   * Calls `ask` whenever the window is about to close (its close button, closeWindow); `ask`
   * returns true to keep the window open, e.g. to ask about unsaved edits first.
   */
  onCloseRequested(ask: () => boolean): Promise<Unsubscribe>;
}

export const tauriSettingsIpc: SettingsIpc = {
  ...tauriIpc,
  getJob: (name, showSecrets) => commands.getJob(name, showSecrets ?? null),
  validateJob: (spec, original) => commands.validateJob(spec, original),
  saveJob: (spec, original) => commands.saveJob(spec, original),
  deleteJob: (name) => commands.deleteJob(name),
  jobEnv: (name, showSecrets) => commands.jobEnv(name, showSecrets ?? null),
  jobRuns: (name, limit) => commands.jobRuns(name, limit),
  async followLogs(name, lines, onLine) {
    const channel = new Channel<LogItem>(onLine);
    await commands.followLogs(name, lines, channel);
    // The backend drops the channel when sending fails; detaching the handler is enough.
    return () => {
      channel.onmessage = () => {};
    };
  },
  logTail: (name, lines) => commands.logTail(name, lines),
  schedulePreview: (query, n) => commands.schedulePreview(query.cron, query.every, query.at, n),
  jobDefaults: () => commands.jobDefaults(),
  restartPreview: (policy) => commands.restartPreview(policy as RestartPolicy),
  appSettings: () => commands.appSettings(),
  saveSettings: (settings) => commands.saveSettings(settings),
  setLaunchAtLogin: (enabled) => commands.setLaunchAtLogin(enabled),
  regenerateMetricsToken: () => commands.regenerateMetricsToken(),
  addEngine: (context) => commands.addEngine(context),
  removeEngine: (name) => commands.removeEngine(name),
  testEngine: (context) => commands.testEngine(context),
  async onCloseRequested(ask) {
    const win = getCurrentWindow();
    const unlisten = await win.onCloseRequested(async (event) => {
      // The app hides this window on a close request (src-tauri lib.rs) and destroys it only
      // once it has stayed hidden a while (rest.rs, which leaves a visible window alone), so
      // Tauri's default here (destroy, not even permitted) never runs. The window is already
      // hidden by now: to ask, the app shows it again (and watches it, which a plain show
      // would not tell it).
      event.preventDefault();
      if (ask()) await commands.keepSettingsOpen().catch(() => {});
    });
    return () => {
      // Unlistening once the IPC is gone (the window closing, mocks cleared) changes nothing.
      Promise.resolve().then(unlisten).catch(() => {});
    };
  },
};

/**
 * Closes the window (Cmd/Ctrl+W) as its close button does: a close request, which the app
 * turns into hiding it and the page may answer (onCloseRequested). Not window.close(): on
 * Linux wry destroys the webview for it (no hiding, no asking); on macOS it does nothing.
 */
export function closeWindow(): void {
  // A refused close leaves the window open: nothing to undo.
  getCurrentWindow()
    .close()
    .catch(() => {});
}
