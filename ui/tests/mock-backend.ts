// A fake engine behind Tauri's IPC (mockIPC), for component tests and the browser
// screenshots: answers the popover's commands and pushes events through the real Channel.
// Also the little of Tauri's window the settings window uses: listening for close requests,
// show and close.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type { Channel } from '@tauri-apps/api/core';
import type { Action, ActionResult, EngineList, ErrorBody, FreedPorts, JobStatus, RemoteEngines, Selection, Snapshot, StreamItem } from '../src/lib/types';

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

export interface MockOptions {
  snapshot: Snapshot | (() => Snapshot);
  /**
   * Answers `act` on named jobs, one job at a time: its new status, or a rejection that becomes
   * the job's error in the results. The default returns the job's current status unchanged.
   */
  actOn?: (name: string, action: Action) => JobStatus | Promise<JobStatus>;
  /** Answers `act` on any selection, in place of `actOn`; the default answers groups with []. */
  act?: (action: Action, selection: Selection) => ActionResult[] | Promise<ActionResult[]>;
  /** Answers free_ports; the default stops nothing. */
  freePorts?: (name: string) => FreedPorts | Promise<FreedPorts>;
  /** The remote engines `engines` lists (default: none). */
  remotes?: RemoteEngines | (() => RemoteEngines);
  /** Answers `act` with an `engine`: one result per job there (default: not_found). */
  actRemote?: (engine: string, action: Action, selection: Selection) => ActionResult[] | Promise<ActionResult[]>;
  /** More commands (the settings window's), by name; consulted before the popover's. */
  handlers?: Record<string, (args: Record<string, unknown>) => unknown>;
  /** The current window's label (getCurrentWindow()); default "popover". */
  window?: string;
}

export interface MockBackend {
  calls: Call[];
  /** Sends one item down every subscribed channel, in order. */
  emit(item: StreamItem): void;
  subscribers(): number;
  /**
   * What the app does when the window's close button is clicked: sends tauri://close-requested
   * to the page's listeners. Resolves once they have all finished.
   */
  requestClose(): Promise<void>;
  /** What the app sends when a remote engine changes: the `remote-engines` event. */
  emitRemotes(remotes: RemoteEngines): void;
  /** What the app sends when it shows the popover again: the `popover-shown` event. */
  emitShown(): void;
}

interface TauriInternals {
  runCallback(id: number, data: unknown): void;
  /** mockIPC's registered callbacks; unlike runCallback, calling one returns its result. */
  callbacks: Map<number, (data: unknown) => unknown>;
}

const CLOSE_REQUESTED = 'tauri://close-requested';

export function installMockBackend(options: MockOptions): MockBackend {
  const calls: Call[] = [];
  const channels: { channel: Channel<StreamItem>; next: number }[] = [];
  const snapshot = () => (typeof options.snapshot === 'function' ? options.snapshot() : options.snapshot);
  const remotes = (): RemoteEngines =>
    typeof options.remotes === 'function' ? options.remotes() : (options.remotes ?? { revision: 0, engines: [] });
  const engineList = (): EngineList => ({
    local: { version: '0.1.0', jobs: snapshot().jobs.length },
    remotes: remotes(),
    contexts_file: '/Users/me/Library/Application Support/SentinelZero/contexts.toml',
    problem: null,
  });
  /** Event name -> callback ids of the page's listeners (plugin:event|listen). */
  const listeners = new Map<string, number[]>();

  mockWindows(options.window ?? 'popover');

  // As the engine answers: one result per job, its status or its error.
  async function actOnJob(name: string, action: Action): Promise<ActionResult> {
    try {
      if (options.actOn) return { name, status: await options.actOn(name, action) };
      const job = snapshot().jobs.find((j) => j.name === name);
      if (!job) return { name, error: { code: 'not_found', message: `no job named ${name}` } };
      return { name, status: job };
    } catch (err) {
      return { name, error: err as ErrorBody };
    }
  }

  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const extra = options.handlers?.[cmd];
    if (extra) return extra(args);
    switch (cmd) {
      case 'snapshot':
        // A deep copy, as over the wire: the page must not share objects with the test.
        return JSON.parse(JSON.stringify(snapshot()));
      case 'subscribe':
        channels.push({ channel: args['onEvent'] as Channel<StreamItem>, next: 0 });
        return null;
      case 'act': {
        const action = args['action'] as Action;
        const selection = args['selection'] as Selection;
        const engine = args['engine'] as string | null | undefined;
        if (engine) {
          if (options.actRemote) return options.actRemote(engine, action, selection);
          return Promise.reject({ code: 'not_found', message: `no engine named "${engine}"` });
        }
        if (options.act) return options.act(action, selection);
        if (typeof selection !== 'object' || !('names' in selection)) return [];
        return Promise.all(selection.names.map((name) => actOnJob(name, action)));
      }
      case 'free_ports': {
        const name = args['name'] as string;
        if (options.freePorts) return options.freePorts(name);
        if (!snapshot().jobs.some((j) => j.name === name)) return Promise.reject({ code: 'not_found', message: `no job named ${name}` });
        return { job: name, stopped: [], kept: [] };
      }
      case 'open_settings':
      case 'keep_settings_open':
      case 'hide_popover':
      case 'popover_painted':
        return null;
      case 'engines':
        return JSON.parse(JSON.stringify(engineList()));
      case 'retry_engine': {
        const name = args['name'] as string;
        if (!remotes().engines.some((e) => e.context.name === name)) return Promise.reject({ code: 'not_found', message: `no engine named "${name}"` });
        return null;
      }
      case 'plugin:event|listen': {
        const event = args['event'] as string;
        listeners.set(event, [...(listeners.get(event) ?? []), args['handler'] as number]);
        return args['handler'];
      }
      case 'plugin:event|unlisten': {
        const event = args['event'] as string;
        listeners.set(event, (listeners.get(event) ?? []).filter((id) => id !== args['eventId']));
        return null;
      }
      // The app's side of these (hiding on close) is Rust's; nothing to fake.
      case 'plugin:window|show':
      case 'plugin:window|close':
        return null;
      default:
        return Promise.reject({ code: 'unknown_command', message: `unknown command ${cmd}` });
    }
  });

  const internals = (window as unknown as { __TAURI_INTERNALS__: TauriInternals }).__TAURI_INTERNALS__;
  return {
    calls,
    emit(item) {
      // The same framing Rust uses, so the Channel's ordering logic runs as in the app.
      for (const sub of channels) {
        internals.runCallback(sub.channel.id, { index: sub.next, message: item });
        sub.next += 1;
      }
    },
    subscribers: () => channels.length,
    emitRemotes(next) {
      for (const id of listeners.get('remote-engines') ?? []) {
        internals.runCallback(id, { event: 'remote-engines', id, payload: JSON.parse(JSON.stringify(next)) });
      }
    },
    emitShown() {
      for (const id of listeners.get('popover-shown') ?? []) {
        internals.runCallback(id, { event: 'popover-shown', id, payload: null });
      }
    },
    async requestClose() {
      const ids = listeners.get(CLOSE_REQUESTED) ?? [];
      await Promise.all(ids.map((id) => internals.callbacks.get(id)?.({ event: CLOSE_REQUESTED, id, payload: null })));
    },
  };
}
