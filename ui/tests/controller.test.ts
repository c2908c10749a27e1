import { describe, expect, it, vi } from 'vitest';
import { createController } from '../src/lib/controller';
import type { Ipc } from '../src/lib/ipc';
import type { JobItem } from '../src/lib/jobs';
import type { Action, ActionResult, EventEnvelope, FreedPorts, JobStatus, Selection, Snapshot, StreamItem } from '../src/lib/types';
import { NOW, sampleSnapshot } from './fixtures';

const at = new Date(NOW).toISOString();

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An Ipc whose answers the test controls; `emit` plays the event channel. */
function fakeIpc(overrides: Partial<Ipc> = {}) {
  let listener: ((item: StreamItem) => void) | null = null;
  const ipc: Ipc = {
    snapshot: vi.fn(async () => sampleSnapshot(NOW, 100)),
    // Named jobs answer with their current status; groups with nothing.
    act: vi.fn(async (_action: Action, selection: Selection): Promise<ActionResult[]> =>
      typeof selection === 'object' && 'names' in selection
        ? selection.names.map((name) => ({ name, status: sampleSnapshot().jobs.find((j) => j.name === name)! }))
        : [],
    ),
    subscribe: vi.fn(async (onEvent: (item: StreamItem) => void) => {
      listener = onEvent;
      return () => {
        listener = null;
      };
    }),
    openSettings: vi.fn(async () => {}),
    hidePopover: vi.fn(async () => {}),
    freePorts: vi.fn(async (name: string) => ({ job: name, stopped: [], kept: [] })),
    engines: vi.fn(async () => ({ local: { version: '1', jobs: 0 }, remotes: { revision: 0, engines: [] }, contexts_file: '/x/contexts.toml', problem: null })),
    onRemoteEngines: vi.fn(async () => () => {}),
    retryEngine: vi.fn(async () => {}),
    onShown: vi.fn(async () => () => {}),
    popoverPainted: vi.fn(async () => {}),
    ...overrides,
  };
  return { ipc, emit: (item: StreamItem) => listener?.(item) };
}

const jobNames = (items: { kind: string }[]) => items.filter((i): i is JobItem => i.kind === 'job').map((i) => i.job.name);
const stateOf = (ctrl: ReturnType<typeof createController>, name: string) =>
  (ctrl.current().items.find((i) => i.kind === 'job' && i.job.name === name) as JobItem | undefined)?.job;
const stopped = (name: string, group?: string): JobStatus => ({ name, group, kind: 'service', enabled: true, state: 'stopped', restarts: 0, failures: 0 });
const env = (seq: number, event: Record<string, unknown>) => ({ seq, at, ...event }) as EventEnvelope;

describe('controller', () => {
  it('subscribes before loading and replays only events newer than the snapshot', async () => {
    const snap = deferred<Snapshot>();
    const { ipc, emit } = fakeIpc({ snapshot: vi.fn(() => snap.promise) });
    const ctrl = createController(ipc);
    const started = ctrl.start();
    await vi.waitFor(() => expect(ipc.snapshot).toHaveBeenCalledTimes(1));
    expect(ipc.subscribe).toHaveBeenCalledTimes(1);
    expect(ctrl.current().phase).toBe('loading');
    emit(env(99, { type: 'job_removed', job: 'api' })); // already in the snapshot
    emit(env(101, { type: 'job_removed', job: 'worker' })); // after it
    snap.resolve(sampleSnapshot(NOW, 100));
    await started;
    await vi.waitFor(() => expect(ctrl.current().phase).toBe('ready'));
    const names = jobNames(ctrl.current().items);
    expect(names).toContain('api');
    expect(names).not.toContain('worker');
  });

  it('reloads the snapshot when events were missed, once per burst', async () => {
    let seq = 100;
    const { ipc, emit } = fakeIpc({ snapshot: vi.fn(async () => sampleSnapshot(NOW, seq)) });
    const ctrl = createController(ipc);
    await ctrl.start();
    seq = 200;
    emit({ type: 'missed', count: 5 });
    emit({ type: 'missed', count: 2 }); // while the first reload is in flight
    await vi.waitFor(() => expect(ipc.snapshot).toHaveBeenCalledTimes(3));
    await vi.waitFor(() => expect(ctrl.current().phase).toBe('ready'));
    // Events the new snapshot covers are ignored; later ones apply.
    emit(env(150, { type: 'job_removed', job: 'api' }));
    emit(env(201, { type: 'job_removed', job: 'redis' }));
    await vi.waitFor(() => expect(jobNames(ctrl.current().items)).not.toContain('redis'));
    expect(jobNames(ctrl.current().items)).toContain('api');
  });

  it('shows a job action as pending, then applies the reply', async () => {
    const reply = deferred<ActionResult[]>();
    const { ipc } = fakeIpc({ act: vi.fn(() => reply.promise) });
    const ctrl = createController(ipc);
    await ctrl.start();
    const done = ctrl.jobAction('report', 'start');
    await vi.waitFor(() => expect(ctrl.current().pending.get('report')).toBe('start'));
    // A second click while pending does nothing.
    await ctrl.jobAction('report', 'start');
    expect(ipc.act).toHaveBeenCalledTimes(1);
    expect(ipc.act).toHaveBeenCalledWith('start', { names: ['report'] });
    reply.resolve([{ name: 'report', status: { ...stopped('report', 'data'), kind: 'task', state: 'running', pid: 7, since: at } as JobStatus }]);
    await done;
    await vi.waitFor(() => expect(ctrl.current().pending.has('report')).toBe(false));
    expect(stateOf(ctrl, 'report')?.state).toBe('running');
  });

  it('keeps a newer event over an older action reply', async () => {
    const reply = deferred<ActionResult[]>();
    const { ipc, emit } = fakeIpc({ act: vi.fn(() => reply.promise) });
    const ctrl = createController(ipc);
    await ctrl.start();
    const done = ctrl.jobAction('report', 'start');
    emit(env(101, { type: 'state_changed', status: { ...stopped('report', 'data'), state: 'failed', reason: 'boom', since: at } }));
    reply.resolve([{ name: 'report', status: { ...stopped('report', 'data'), state: 'running', pid: 7, since: at } as JobStatus }]);
    await done;
    await vi.waitFor(() => expect(ctrl.current().pending.size).toBe(0));
    expect(stateOf(ctrl, 'report')?.state).toBe('failed');
  });

  it('keeps an action error until dismissed or retried', async () => {
    const { ipc } = fakeIpc({ act: vi.fn(async () => [{ name: 'report', error: { code: 'spawn', message: 'program not found: foo' } }]) });
    const ctrl = createController(ipc);
    await ctrl.start();
    await ctrl.jobAction('report', 'start');
    await vi.waitFor(() => expect(ctrl.current().errors.get('report')).toBe('program not found: foo'));
    ctrl.dismiss('report');
    await vi.waitFor(() => expect(ctrl.current().errors.has('report')).toBe(false));
    // The whole call failing reads the same.
    vi.mocked(ipc.act).mockRejectedValueOnce({ code: 'shutting_down', message: 'the engine is shutting down' });
    await ctrl.jobAction('report', 'start');
    await vi.waitFor(() => expect(ctrl.current().errors.get('report')).toBe('the engine is shutting down'));
  });

  it('frees ports with the row pending, then says what it stopped until dismissed', async () => {
    const reply = deferred<FreedPorts>();
    const { ipc } = fakeIpc({ freePorts: vi.fn(() => reply.promise) });
    const ctrl = createController(ipc);
    await ctrl.start();
    const done = ctrl.freePorts('api');
    await vi.waitFor(() => expect(ctrl.current().pending.get('api')).toBe('free_ports'));
    // One thing at a time per row.
    await ctrl.jobAction('api', 'stop');
    expect(ipc.act).not.toHaveBeenCalled();
    reply.resolve({ job: 'api', stopped: [{ pid: 123, command: 'python3 -m http.server 8080', job: 'api', orphan: true }], kept: [] });
    await done;
    await vi.waitFor(() => expect(ctrl.current().notices.get('api')).toBe('stopped pid 123 (python3 -m http.server 8080)'));
    expect(ctrl.current().pending.size).toBe(0);
    ctrl.dismiss('api');
    await vi.waitFor(() => expect(ctrl.current().notices.has('api')).toBe(false));

    (ipc.freePorts as ReturnType<typeof vi.fn>).mockRejectedValueOnce({ code: 'not_found', message: 'no job named api' });
    await ctrl.freePorts('api');
    await vi.waitFor(() => expect(ctrl.current().errors.get('api')).toBe('no job named api'));
    expect(ctrl.current().notices.has('api')).toBe(false);
  });

  it('runs a group action with every member pending and reports per-job errors', async () => {
    const reply = deferred<ActionResult[]>();
    const { ipc } = fakeIpc({ act: vi.fn(() => reply.promise) });
    const ctrl = createController(ipc);
    await ctrl.start();
    const done = ctrl.groupAction({ group: 'web' }, 'restart');
    await vi.waitFor(() => expect(ctrl.current().groupPending.get('g:web')).toBe('restart'));
    expect([...ctrl.current().pending.keys()].sort()).toEqual(['api', 'frontend-dev', 'worker']);
    reply.resolve([
      { name: 'api', status: { ...stopped('api', 'web'), state: 'starting' } },
      { name: 'worker', error: { code: 'busy', message: 'worker is stopping' } },
      { name: 'frontend-dev', status: { ...stopped('frontend-dev', 'web'), state: 'starting' } },
    ]);
    await done;
    await vi.waitFor(() => expect(ctrl.current().groupPending.size).toBe(0));
    const state = ctrl.current();
    expect(state.pending.size).toBe(0);
    expect(state.errors.get('worker')).toBe('worker is stopping');
    expect(state.groupErrors.get('g:web')).toBe('1 of 3 failed');
    expect(stateOf(ctrl, 'api')?.state).toBe('starting');
    expect(ipc.act).toHaveBeenCalledWith('restart', { group: 'web' });
  });

  it('brings a project up as one action on its section', async () => {
    const shop = { name: 'shop', file: '/srv/shop/sentinel.toml' };
    const snapshot = sampleSnapshot(NOW, 100);
    snapshot.jobs.push(
      { ...stopped('shop.db', undefined), project: shop },
      { ...stopped('shop.api', 'web'), project: shop },
    );
    const reply = deferred<ActionResult[]>();
    const act = vi.fn(() => reply.promise);
    const { ipc } = fakeIpc({ snapshot: vi.fn(async () => snapshot), act });
    const ctrl = createController(ipc);
    await ctrl.start();
    const done = ctrl.groupAction({ project: 'shop' }, 'start');
    await vi.waitFor(() => expect(ctrl.current().groupPending.get('p:shop')).toBe('start'));
    // Only the project's jobs are pending, not the rest of group web.
    expect([...ctrl.current().pending.keys()].sort()).toEqual(['shop.api', 'shop.db']);
    reply.resolve([
      { name: 'shop.db', status: { ...stopped('shop.db', undefined), project: shop, state: 'starting' } },
      { name: 'shop.api', status: { ...stopped('shop.api', 'web'), project: shop, state: 'starting' } },
    ]);
    await done;
    expect(act).toHaveBeenCalledWith('start', { project: 'shop' });
    expect(stateOf(ctrl, 'shop.api')?.state).toBe('starting');
    expect(ctrl.current().groupPending.size).toBe(0);
  });

  it('says when the engine cannot be reached, and recovers on retry', async () => {
    const subscribe = vi.fn<Ipc['subscribe']>().mockRejectedValueOnce('engine not running');
    const { ipc } = fakeIpc();
    const ok = ipc.subscribe;
    subscribe.mockImplementation(ok);
    ipc.subscribe = subscribe;
    const ctrl = createController(ipc);
    await ctrl.start();
    await vi.waitFor(() => expect(ctrl.current()).toMatchObject({ phase: 'error', error: 'engine not running' }));
    expect(ipc.snapshot).not.toHaveBeenCalled();
    await ctrl.start();
    await vi.waitFor(() => expect(ctrl.current().phase).toBe('ready'));
    expect(ctrl.current().error).toBeNull();
  });

  it('fails the load when the snapshot fails', async () => {
    const { ipc } = fakeIpc({ snapshot: vi.fn(async () => Promise.reject({ code: 'internal', message: 'database is locked' })) });
    const ctrl = createController(ipc);
    await ctrl.start();
    await vi.waitFor(() => expect(ctrl.current()).toMatchObject({ phase: 'error', error: 'database is locked' }));
  });

  it('stops listening when stopped', async () => {
    const { ipc, emit } = fakeIpc();
    const ctrl = createController(ipc);
    await ctrl.start();
    ctrl.stop();
    emit(env(101, { type: 'job_removed', job: 'api' }));
    await Promise.resolve();
    expect(jobNames(ctrl.current().items)).toContain('api');
  });
});
