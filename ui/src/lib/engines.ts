// The remote engines in the popover: their views as the app publishes them (the
// `remote-engines` event, after one `engines` call), turned into sections of the same list the
// local jobs are in — a header per engine, then its groups and jobs, read by the same rules —
// and the actions on their jobs, sent to the engine they are on. No polling: the app watches
// the engines and says when one changes.
import { writable, type Readable } from 'svelte/store';
import type { RowAction } from './controller';
import { actOn, toApiError, type Ipc, type Unsubscribe } from './ipc';
import {
  buildView,
  fromSnapshot,
  type EngineItem,
  type ListItem,
  type SectionSelection,
  type Totals,
  type View,
} from './jobs';
import type { Action, RemoteEngines, RemoteView } from './types';

/** What this machine's section is called. */
export const LOCAL_LABEL = 'This Mac';

/** A row's key in the maps below: the engine and the job. */
export function jobKey(engine: string, job: string): string {
  return `${engine}/${job}`;
}

/** The prefix of every item of a remote engine's section. */
function prefix(engine: string): string {
  return `e:${engine}/`;
}

/** Every engine's totals together, and how many remotes cannot be reached. */
export interface AllTotals extends Totals {
  unreachable: number;
}

export function allTotals(local: Totals, remotes: RemoteView[]): AllTotals {
  let { total, running, failing } = local;
  let unreachable = 0;
  for (const remote of remotes) {
    if (remote.link === 'unreachable') unreachable += 1;
    if (remote.link !== 'connected') continue;
    const totals = buildView(fromSnapshot({ jobs: remote.jobs, history: {}, seq: 0 })).totals;
    total += totals.total;
    running += totals.running;
    failing += totals.failing;
  }
  const overall = failing > 0 || unreachable > 0 ? 'failing' : total === 0 ? 'empty' : 'ok';
  return { total, running, failing, unreachable, overall };
}

function localHeader(totals: Totals): EngineItem {
  return {
    kind: 'engine',
    key: 'e:',
    engine: null,
    label: LOCAL_LABEL,
    host: null,
    description: '',
    link: 'local',
    total: totals.total,
    running: totals.running,
    failing: totals.failing,
    problem: null,
    nextTryAt: null,
  };
}

/** A remote engine's section: its header, then its groups and jobs (or why there are none). */
export function remoteItems(remote: RemoteView): ListItem[] {
  const name = remote.context.name;
  const view: View | null = remote.link === 'connected' ? buildView(fromSnapshot({ jobs: remote.jobs, history: {}, seq: 0 })) : null;
  const header: EngineItem = {
    kind: 'engine',
    key: `e:${name}`,
    engine: name,
    label: name,
    host: remote.context.host,
    description: remote.context.description ?? '',
    link: remote.link,
    total: view?.totals.total ?? 0,
    running: view?.totals.running ?? 0,
    failing: view?.totals.failing ?? 0,
    problem: remote.link === 'unreachable' ? remote.problem : null,
    nextTryAt: remote.link === 'unreachable' ? remote.next_try_at : null,
  };
  if (!view) return [header];
  if (view.items.length === 0) return [header, { kind: 'note', key: `${prefix(name)}empty`, text: `No jobs on ${name}` }];
  return [header, ...view.items.map((item) => ({ ...item, key: prefix(name) + item.key, engine: name }))];
}

/**
 * The popover's list: without remote engines, this machine's items as they are; with them,
 * this machine's section first, then each remote engine's, in the file's order.
 */
export function popoverItems(local: View, remotes: RemoteView[]): ListItem[] {
  if (remotes.length === 0) return local.items;
  const items: ListItem[] = [localHeader(local.totals)];
  if (local.items.length === 0) items.push({ kind: 'note', key: 'n:local', text: `No jobs on ${LOCAL_LABEL} yet` });
  else items.push(...local.items);
  for (const remote of remotes) items.push(...remoteItems(remote));
  return items;
}

/** "retrying in 12s", or "retrying…" once the time has come. */
export function describeRetry(nextTryAt: string | null, now: number): string {
  if (nextTryAt === null) return '';
  const at = Date.parse(nextTryAt);
  if (Number.isNaN(at) || at - now < 1000) return 'retrying…';
  const seconds = Math.round((at - now) / 1000);
  return seconds < 60 ? `retrying in ${seconds}s` : `retrying in ${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

export interface EnginesState {
  /** The remote engines, in the file's order; empty: this machine's only. */
  remotes: RemoteView[];
  revision: number;
  /** `jobKey(engine, job)` -> the action in flight. */
  pending: ReadonlyMap<string, RowAction>;
  /** `jobKey(engine, job)` -> the last action's error, until dismissed or retried. */
  errors: ReadonlyMap<string, string>;
  /** A remote section header's key -> the action in flight on its group or project. */
  groupPending: ReadonlyMap<string, Action>;
  groupErrors: ReadonlyMap<string, string>;
  /** Why the engines could not be listed, if they could not. */
  error: string | null;
}

export interface Engines extends Readable<EnginesState> {
  /** Listens for changes, then takes the engines once. */
  start(): Promise<void>;
  stop(): void;
  reload(): Promise<void>;
  jobAction(engine: string, name: string, action: Action): Promise<void>;
  groupAction(engine: string, key: string, section: SectionSelection, action: Action): Promise<void>;
  /** Tries an unreachable engine now. */
  retry(engine: string): Promise<void>;
  dismiss(engine: string, name: string): void;
  current(): EnginesState;
}

export function createEngines(ipc: Ipc): Engines {
  let remotes: RemoteView[] = [];
  let revision = -1;
  let error: string | null = null;
  let unsubscribe: Unsubscribe | null = null;
  const pending = new Map<string, RowAction>();
  const errors = new Map<string, string>();
  const groupPending = new Map<string, Action>();
  const groupErrors = new Map<string, string>();

  const compute = (): EnginesState => ({
    remotes,
    revision,
    pending: new Map(pending),
    errors: new Map(errors),
    groupPending: new Map(groupPending),
    groupErrors: new Map(groupErrors),
    error,
  });
  let state = compute();
  const store = writable<EnginesState>(state);
  const notify = (): void => {
    state = compute();
    store.set(state);
  };

  // The event and the command may arrive in either order: the newer revision wins.
  function take(next: RemoteEngines): void {
    if (next.revision < revision) return;
    revision = next.revision;
    remotes = next.engines;
    notify();
  }

  async function reload(): Promise<void> {
    try {
      take((await ipc.engines()).remotes);
      error = null;
    } catch (err) {
      error = toApiError(err).message;
    }
    notify();
  }

  async function start(): Promise<void> {
    if (!unsubscribe) {
      try {
        unsubscribe = await ipc.onRemoteEngines(take);
      } catch (err) {
        error = toApiError(err).message;
        notify();
        return;
      }
    }
    await reload();
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  async function jobAction(engine: string, name: string, action: Action): Promise<void> {
    const key = jobKey(engine, name);
    if (pending.has(key)) return;
    pending.set(key, action);
    errors.delete(key);
    notify();
    try {
      // The new state arrives with the engine's next event.
      await actOn(ipc, name, action, engine);
    } catch (err) {
      errors.set(key, toApiError(err).message);
    } finally {
      pending.delete(key);
      notify();
    }
  }

  async function groupAction(engine: string, key: string, section: SectionSelection, action: Action): Promise<void> {
    if (groupPending.has(key)) return;
    groupPending.set(key, action);
    groupErrors.delete(key);
    notify();
    try {
      const results = await ipc.act(action, section, engine);
      let failed = 0;
      for (const result of results) {
        if ('error' in result) {
          failed += 1;
          errors.set(jobKey(engine, result.name), result.error.message);
        }
      }
      if (failed > 0) groupErrors.set(key, `${failed} of ${results.length} failed`);
    } catch (err) {
      groupErrors.set(key, toApiError(err).message);
    } finally {
      groupPending.delete(key);
      notify();
    }
  }

  async function retry(engine: string): Promise<void> {
    try {
      await ipc.retryEngine(engine);
    } catch (err) {
      error = toApiError(err).message;
      notify();
    }
  }

  function dismiss(engine: string, name: string): void {
    if (errors.delete(jobKey(engine, name))) notify();
  }

  return {
    subscribe: store.subscribe,
    start,
    stop,
    reload,
    jobAction,
    groupAction,
    retry,
    dismiss,
    current: () => state,
  };
}
