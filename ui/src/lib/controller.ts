// Owns the popover's state: loads one snapshot, then applies events from the channel (never
// polls), runs job and group actions with per-row pending/error state, and publishes an
// immutable view as a Svelte store. Components only read the store and call these methods.
import { writable, type Readable } from 'svelte/store';
import { actOn, toApiError, type Ipc, type Unsubscribe } from './ipc';
import {
  applyItem,
  buildView,
  describeFreed,
  fromSnapshot,
  putStatus,
  sectionKey,
  sectionOf,
  type ListItem,
  type Model,
  type SectionSelection,
  type Totals,
} from './jobs';
import type { ActionResult, Action, JobStatus, StreamItem } from './types';

export type Phase = 'loading' | 'ready' | 'error';

/** What a row can have in flight: a job action, or stopping the leftovers that hold its ports. */
export type RowAction = Action | 'free_ports';

export interface PopoverState {
  phase: Phase;
  /** Why loading failed (phase 'error'), or why the last reload failed (stale data shown). */
  error: string | null;
  items: ListItem[];
  totals: Totals;
  /** Job name -> the action in flight. */
  pending: ReadonlyMap<string, RowAction>;
  /** Job name -> the last action's error, shown inline until dismissed or retried. */
  errors: ReadonlyMap<string, string>;
  /** Job name -> what the last action did, when it says more than the new state (free_ports). */
  notices: ReadonlyMap<string, string>;
  /** Section key (`sectionKey`) -> the action in flight on the whole group or project. */
  groupPending: ReadonlyMap<string, Action>;
  groupErrors: ReadonlyMap<string, string>;
}

export interface Controller extends Readable<PopoverState> {
  /** Subscribes to events, then loads the snapshot. Safe to call again after an error. */
  start(): Promise<void>;
  stop(): void;
  reload(): Promise<void>;
  jobAction(name: string, action: Action): Promise<void>;
  /** An action on a whole group or project (Up is start, Down is stop). */
  groupAction(section: SectionSelection, action: Action): Promise<void>;
  freePorts(name: string): Promise<void>;
  /** Hides the row's inline error or notice. */
  dismiss(name: string): void;
  current(): PopoverState;
}

const EMPTY_TOTALS: Totals = { total: 0, running: 0, failing: 0, overall: 'empty' };

export function createController(ipc: Ipc): Controller {
  let model: Model | null = null;
  let phase: Phase = 'loading';
  let error: string | null = null;
  let loading = false;
  let reloadAgain = false;
  // Events that arrive while a snapshot is being fetched wait here (it may or may not include
  // them); those it covers are then dropped by their seq.
  let buffer: StreamItem[] = [];
  let unsubscribe: Unsubscribe | null = null;
  let stopped = false;
  const pending = new Map<string, RowAction>();
  const errors = new Map<string, string>();
  const notices = new Map<string, string>();
  const groupPending = new Map<string, Action>();
  const groupErrors = new Map<string, string>();

  let state = compute();
  const store = writable<PopoverState>(state);
  let scheduled = false;

  function compute(): PopoverState {
    const view = model ? buildView(model) : { items: [], totals: EMPTY_TOTALS };
    return {
      phase,
      error,
      items: view.items,
      totals: view.totals,
      pending: new Map(pending),
      errors: new Map(errors),
      notices: new Map(notices),
      groupPending: new Map(groupPending),
      groupErrors: new Map(groupErrors),
    };
  }

  // Bursts of events (a sampling round, a group restart) cost one re-sort, not one each.
  function notify(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      state = compute();
      store.set(state);
    });
  }

  function handle(item: StreamItem): void {
    if (stopped) return;
    if (loading) {
      buffer.push(item);
      return;
    }
    // Not loaded and not loading (the load failed): the next snapshot will include this.
    if (!model) return;
    const effect = applyItem(model, item);
    if (effect === 'reload') void reload();
    else if (effect === 'changed') notify();
  }

  async function reload(): Promise<void> {
    if (loading) {
      reloadAgain = true;
      return;
    }
    loading = true;
    if (!model && phase === 'error') {
      phase = 'loading';
      notify();
    }
    try {
      do {
        reloadAgain = false;
        try {
          const snapshot = await ipc.snapshot();
          model = fromSnapshot(snapshot);
          phase = 'ready';
          error = null;
        } catch (err) {
          error = toApiError(err).message;
          if (!model) phase = 'error';
        }
        if (model) {
          const queued = buffer;
          buffer = [];
          for (const item of queued) {
            if (applyItem(model, item) === 'reload') reloadAgain = true;
          }
        }
      } while (reloadAgain && !stopped && error === null);
    } finally {
      loading = false;
      notify();
    }
  }

  async function start(): Promise<void> {
    stopped = false;
    if (!unsubscribe) {
      phase = 'loading';
      error = null;
      notify();
      try {
        unsubscribe = await ipc.subscribe(handle);
      } catch (err) {
        phase = 'error';
        error = toApiError(err).message;
        notify();
        return;
      }
    }
    await reload();
  }

  function stop(): void {
    stopped = true;
    unsubscribe?.();
    unsubscribe = null;
  }

  // A reply describes the job when the action finished; an event applied meanwhile is newer.
  function applyReply(name: string, before: JobStatus | undefined, status: JobStatus | undefined): void {
    if (!model || !status || model.jobs.get(name) !== before) return;
    putStatus(model, status);
  }

  /** Marks the row busy with `action`; false when it already is. */
  function begin(name: string, action: RowAction): boolean {
    if (pending.has(name)) return false;
    pending.set(name, action);
    errors.delete(name);
    notices.delete(name);
    notify();
    return true;
  }

  async function jobAction(name: string, action: Action): Promise<void> {
    if (!begin(name, action)) return;
    const before = model?.jobs.get(name);
    try {
      applyReply(name, before, await actOn(ipc, name, action));
    } catch (err) {
      errors.set(name, toApiError(err).message);
    } finally {
      pending.delete(name);
      notify();
    }
  }

  async function groupAction(section: SectionSelection, action: Action): Promise<void> {
    const group = sectionKey(section);
    if (groupPending.has(group) || !model) return;
    const inSection = (job: JobStatus) => {
      const of = sectionOf(job);
      return of !== null && sectionKey(of) === group;
    };
    const members = [...model.jobs.values()].filter((j) => inSection(j) && !pending.has(j.name));
    const before = new Map(members.map((j) => [j.name, j] as const));
    groupPending.set(group, action);
    groupErrors.delete(group);
    for (const job of members) {
      pending.set(job.name, action);
      errors.delete(job.name);
      notices.delete(job.name);
    }
    notify();
    try {
      const results: ActionResult[] = await ipc.act(action, section);
      let failed = 0;
      for (const result of results) {
        if ('error' in result) {
          failed += 1;
          errors.set(result.name, result.error.message);
        } else {
          applyReply(result.name, before.get(result.name), result.status);
        }
      }
      if (failed > 0) groupErrors.set(group, `${failed} of ${results.length} failed`);
    } catch (err) {
      groupErrors.set(group, toApiError(err).message);
    } finally {
      groupPending.delete(group);
      for (const job of members) pending.delete(job.name);
      notify();
    }
  }

  // The engine rechecks the ports itself: the job's new state arrives as an event.
  async function freePorts(name: string): Promise<void> {
    if (!begin(name, 'free_ports')) return;
    try {
      notices.set(name, describeFreed(await ipc.freePorts(name)));
    } catch (err) {
      errors.set(name, toApiError(err).message);
    } finally {
      pending.delete(name);
      notify();
    }
  }

  function dismiss(name: string): void {
    const had = errors.delete(name);
    if (notices.delete(name) || had) notify();
  }

  return {
    subscribe: store.subscribe,
    start,
    stop,
    reload,
    jobAction,
    groupAction,
    freePorts,
    dismiss,
    current: () => state,
  };
}
