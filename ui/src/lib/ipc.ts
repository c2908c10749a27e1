// Every Tauri command the popover uses, in one place. Components and the controller talk to
// the `Ipc` interface, so tests can swap the transport; the real one goes through `invoke`.
import { listen } from '@tauri-apps/api/event';
import { Channel, commands } from './bindings';
import type {
  ApiError,
  ActionResult,
  EngineList,
  RemoteEngines,
  FreedPorts,
  Action,
  JobStatus,
  Selection,
  SettingsPage,
  Snapshot,
  StreamItem,
} from './types';

export interface Ipc {
  snapshot(): Promise<Snapshot>;
  /** Acts on jobs by name, group or all, here or on the remote `engine`; one result per job. */
  act(action: Action, selection: Selection, engine?: string): Promise<ActionResult[]>;
  /** Registers `onEvent` for every event after the call; resolves once registered. */
  subscribe(onEvent: (item: StreamItem) => void): Promise<Unsubscribe>;
  openSettings(target?: { job?: string; page?: SettingsPage }): Promise<void>;
  hidePopover(): Promise<void>;
  /** Stops what is left over from the job's earlier runs and holds its ports. */
  freePorts(name: string): Promise<FreedPorts>;
  /** This machine's engine and the remote ones, each with its state (contexts.toml read again). */
  engines(): Promise<EngineList>;
  /** Calls `handler` whenever a remote engine changes (the `remote-engines` event). */
  onRemoteEngines(handler: (remotes: RemoteEngines) => void): Promise<Unsubscribe>;
  /** Tries an unreachable remote engine now rather than at its next try. */
  retryEngine(name: string): Promise<void>;
  /** Calls `handler` whenever the app shows the popover again (the `popover-shown` event). */
  onShown(handler: () => void): Promise<Unsubscribe>;
  /** Tells the app the page has drawn its content since it was shown (its paint clock). */
  popoverPainted(): Promise<void>;
}

/** The event the app sends when a remote engine changes (src-tauri/src/remote/mod.rs). */
export const REMOTE_ENGINES_EVENT = 'remote-engines';
/** The event the app sends when it shows the popover again (src-tauri/src/paint.rs). */
export const SHOWN_EVENT = 'popover-shown';

export type Unsubscribe = () => void;

// The generated, typed command wrappers.
export const tauriIpc: Ipc = {
  snapshot: () => commands.snapshot(),
  act: (action, selection, engine) => commands.act(action, selection, engine ?? null),
  async subscribe(onEvent) {
    const channel = new Channel<StreamItem>(onEvent);
    await commands.subscribe(channel);
    // The backend drops the channel when sending fails; detaching the handler is enough here.
    return () => {
      channel.onmessage = () => {};
    };
  },
  openSettings: (target = {}) => commands.openSettings(target.job ?? null, target.page ?? null),
  hidePopover: () => commands.hidePopover(),
  freePorts: (name) => commands.freePorts(name),
  engines: () => commands.engines(),
  async onRemoteEngines(handler) {
    return quietly(await listen<RemoteEngines>(REMOTE_ENGINES_EVENT, (event) => handler(event.payload)));
  },
  retryEngine: (name) => commands.retryEngine(name),
  async onShown(handler) {
    return quietly(await listen(SHOWN_EVENT, () => handler()));
  },
  popoverPainted: () => commands.popoverPainted(),
};

/** Unlistening once the IPC is gone (the window closing, mocks cleared) changes nothing. */
function quietly(unlisten: () => void): Unsubscribe {
  return () => {
    Promise.resolve().then(unlisten).catch(() => {});
  };
}

/** Acts on one job: resolves to its new status, or rejects with its error (an ErrorBody). */
export async function actOn(ipc: Ipc, name: string, action: Action, engine?: string): Promise<JobStatus> {
  const [result] = await (engine === undefined ? ipc.act(action, { names: [name] }) : ipc.act(action, { names: [name] }, engine));
  if (!result) throw { code: 'error', message: `${name}: the engine did not answer` };
  if ('error' in result) throw result.error;
  return result.status;
}

/** Commands reject with an ErrorBody; anything else (a string, an Error) is wrapped. */
export function toApiError(err: unknown): ApiError {
  if (err && typeof err === 'object' && 'message' in err) {
    const e = err as { code?: unknown; message: unknown; field?: unknown };
    return {
      code: typeof e.code === 'string' ? e.code : 'error',
      message: String(e.message),
      ...(typeof e.field === 'string' ? { field: e.field } : {}),
    };
  }
  return { code: 'error', message: typeof err === 'string' ? err : 'Unknown error' };
}
