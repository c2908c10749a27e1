// Component tests of the popover against Tauri's mocked IPC: the real ipc.ts, Channel and
// controller, with a fake engine behind invoke.
import { clearMocks } from '@tauri-apps/api/mocks';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { readable } from 'svelte/store';
import { afterEach, describe, expect, it } from 'vitest';
import Popover from '../src/components/Popover.svelte';
import { tauriIpc } from '../src/lib/ipc';
import type { ActionResult, FreedPorts, JobStatus, Snapshot } from '../src/lib/types';
import { DOCS_CONFLICT, manyJobs, NOW, sampleSnapshot } from './fixtures';
import { installMockBackend, type MockOptions } from './mock-backend';

const at = new Date(NOW).toISOString();

afterEach(() => {
  clearMocks();
});

function setup(options: Partial<MockOptions> = {}) {
  const backend = installMockBackend({ snapshot: sampleSnapshot(), ...options });
  const result = render(Popover, { props: { ipc: tauriIpc, clock: readable(NOW) } });
  return { backend, ...result };
}

const rows = () => screen.queryAllByTestId('job-row');
const rowOf = (name: string) => {
  const row = rows().find((r) => r.dataset['job'] === name);
  if (!row) throw new Error(`no row for ${name}`);
  return row;
};
const rowNames = () => rows().map((r) => r.dataset['job']);

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('popover', () => {
  it('renders a row per job with its state, timing, health and resources', async () => {
    setup();
    await screen.findAllByTestId('job-row');
    expect(rows()).toHaveLength(12);
    for (const job of sampleSnapshot().jobs) expect(rowOf(job.name).dataset['state']).toBe(job.state);

    const api = within(rowOf('api'));
    expect(api.getByText('api')).toBeTruthy();
    expect(api.getByTestId('health').textContent).toBe('healthy');
    expect(api.getByTestId('detail').textContent).toBe('up 2h 14m · last exit 1 2h 14m ago');
    expect(api.getByTestId('restarts').textContent).toBe('↻ 2');
    expect(api.getByTestId('cpu').textContent).toMatch(/%$/);
    expect(api.getByTestId('mem').textContent).toMatch(/MB$/);
    expect(rowOf('api').querySelectorAll('svg.spark polyline')).toHaveLength(2);

    expect(within(rowOf('worker')).getByTestId('health').textContent).toBe('unhealthy');
    expect(within(rowOf('frontend-dev')).getByTestId('health').textContent).toBe('checking');
    expect(within(rowOf('report')).getByTestId('detail').textContent).toBe('stopped · next in 14m · last exit 0 45m ago');
    expect(within(rowOf('sync-photos')).getByTestId('detail').textContent).toBe('retry #3 in 12s · last exit 1 20s ago');
    expect(within(rowOf('queue-consumer')).getByTestId('detail').textContent).toContain('gave up after 5 failed starts');
    // A job with no health check has no badge; a stopped one shows no metrics.
    expect(within(rowOf('ollama')).queryByTestId('health')).toBeNull();
    expect(within(rowOf('report')).queryByTestId('cpu')).toBeNull();

    expect(screen.getByTestId('overall').textContent).toBe('Needs attention');
    expect(screen.getByTestId('total-running').textContent).toBe('4');
    expect(screen.getByTestId('total-failing').textContent).toBe('3');
    expect(screen.getByTestId('total-jobs').textContent).toBe('12');
  });

  it('sorts failing jobs first and groups the rest under headers with bulk actions', async () => {
    const { backend } = setup();
    await screen.findAllByTestId('job-row');
    expect(rowNames().slice(0, 1)).toEqual(['queue-consumer']);
    const headers = screen.getAllByTestId('group-header').map((h) => h.dataset['group']);
    expect(headers).toEqual(['', 'data', 'web']);
    expect(within(screen.getAllByTestId('group-header')[0]).getByText('Ungrouped')).toBeTruthy();
    // Inside a group, backoff before healthy jobs, unhealthy before the rest.
    expect(rowNames().indexOf('sync-photos')).toBeLessThan(rowNames().indexOf('db-tunnel'));
    expect(rowNames().indexOf('worker')).toBeLessThan(rowNames().indexOf('api'));

    await userEvent.click(screen.getByRole('button', { name: 'Restart all in web' }));
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === 'act')).toBe(true));
    expect(backend.calls.find((c) => c.cmd === 'act')?.args).toEqual({ action: 'restart', selection: { group: 'web' }, engine: null });
  });

  it('shows a project as a section with its directory, Up and Down', async () => {
    const shop = { name: 'shop', file: '/Users/me/code/shop/sentinel.toml' };
    const snapshot = sampleSnapshot();
    const base = snapshot.jobs.find((j) => j.name === 'report')!;
    snapshot.jobs.push({ ...base, name: 'shop.db', group: undefined, project: shop }, { ...base, name: 'shop.api', group: undefined, project: shop });
    const { backend } = setup({ snapshot });
    await screen.findAllByTestId('job-row');
    const header = screen.getAllByTestId('group-header').find((h) => h.dataset['project'] === 'shop')!;
    expect(within(header).getByTestId('project-file').textContent).toBe('/Users/me/code/shop');
    expect(within(header).getByTestId('project-file').getAttribute('title')).toBe(shop.file);
    expect(within(header).queryByRole('button', { name: 'Start all in shop' })).toBeNull();
    await userEvent.click(within(header).getByRole('button', { name: 'Up shop' }));
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === 'act')).toBe(true));
    expect(backend.calls.find((c) => c.cmd === 'act')?.args).toEqual({ action: 'start', selection: { project: 'shop' }, engine: null });
    await userEvent.click(within(header).getByRole('button', { name: 'Down shop' }));
    await waitFor(() => expect(backend.calls.filter((c) => c.cmd === 'act').length).toBe(2));
    expect(backend.calls.filter((c) => c.cmd === 'act')[1]?.args).toEqual({ action: 'stop', selection: { project: 'shop' }, engine: null });
  });

  it('shows a pending action, then its error inline', async () => {
    const reply = deferred<JobStatus>();
    const { backend } = setup({ actOn: () => reply.promise });
    await screen.findAllByTestId('job-row');
    const start = within(rowOf('report')).getByRole('button', { name: 'Start report' });
    await userEvent.click(start);
    await waitFor(() => expect(rowOf('report').getAttribute('aria-busy')).toBe('true'));
    expect(within(rowOf('report')).getByRole('button', { name: 'Start report' }).hasAttribute('disabled')).toBe(true);
    expect(within(rowOf('report')).getByRole('button', { name: 'Restart report' }).hasAttribute('disabled')).toBe(true);
    expect(rowOf('report').querySelector('.spinner')).not.toBeNull();
    expect(backend.calls.find((c) => c.cmd === 'act')?.args).toEqual({ action: 'start', selection: { names: ['report'] }, engine: null });

    reply.reject({ code: 'spawn_failed', message: 'program not found: report.sh' });
    const alert = await within(rowOf('report')).findByRole('alert');
    expect(alert.textContent).toContain('program not found: report.sh');
    expect(rowOf('report').getAttribute('aria-busy')).toBeNull();
    expect(within(rowOf('report')).getByRole('button', { name: 'Start report' }).hasAttribute('disabled')).toBe(false);

    await userEvent.click(within(rowOf('report')).getByRole('button', { name: 'Dismiss error' }));
    await waitFor(() => expect(within(rowOf('report')).queryByRole('alert')).toBeNull());
  });

  it('applies the reply of a successful action at once', async () => {
    setup({
      actOn: (name, action) => ({
        name, group: 'web', kind: 'service', enabled: true, restarts: 0, failures: 0,
        ...(action === 'stop' ? { state: 'stopped' } : { state: 'running', pid: 1, since: at }),
      }) as JobStatus,
    });
    await screen.findAllByTestId('job-row');
    await userEvent.click(within(rowOf('api')).getByRole('button', { name: 'Stop api' }));
    await waitFor(() => expect(rowOf('api').dataset['state']).toBe('stopped'));
    expect(within(rowOf('api')).getByRole('button', { name: 'Start api' })).toBeTruthy();
  });

  it('reports per-job errors of a group action', async () => {
    const results: ActionResult[] = [
      { name: 'api', error: { code: 'busy', message: 'api is stopping' } },
      { name: 'worker', status: { name: 'worker', group: 'web', kind: 'service', enabled: true, state: 'stopped', restarts: 0, failures: 0 } },
      { name: 'frontend-dev', status: { name: 'frontend-dev', group: 'web', kind: 'service', enabled: true, state: 'stopped', restarts: 0, failures: 0 } },
    ];
    setup({ act: () => results });
    await screen.findAllByTestId('job-row');
    await userEvent.click(screen.getByRole('button', { name: 'Stop all in web' }));
    expect((await within(rowOf('api')).findByRole('alert')).textContent).toContain('api is stopping');
    const web = screen.getAllByTestId('group-header').find((h) => h.dataset['group'] === 'web')!;
    expect(within(web).getByRole('alert').textContent).toBe('1 of 3 failed');
    await waitFor(() => expect(rowOf('worker').dataset['state']).toBe('stopped'));
  });

  it('shows a waiting job with its reason, and stops the leftover that holds its port', async () => {
    const reply = deferred<FreedPorts>();
    const { backend } = setup({ freePorts: () => reply.promise });
    await screen.findAllByTestId('job-row');
    const docs = () => within(rowOf('docs'));
    expect(rowOf('docs').dataset['state']).toBe('waiting');
    const dot = docs().getByTestId('state-dot');
    expect(dot.classList.contains('waiting')).toBe(true);
    expect(dot.title).toBe(`waiting: ${DOCS_CONFLICT}`);
    expect(docs().getByTestId('detail').textContent).toBe(`${DOCS_CONFLICT} · last SIGKILL 3h ago`);
    // Blocked, not failing: after the failed job, before the rest of its section.
    expect(rowNames().slice(0, 3)).toEqual(['queue-consumer', 'docs', 'old-script']);
    expect(screen.getByTestId('total-failing').textContent).toBe('3');
    // Stopping a waiting job cancels the wait.
    expect(docs().getByRole('button', { name: 'Stop docs' })).toBeTruthy();

    await userEvent.click(docs().getByRole('button', { name: 'Stop leftover' }));
    await waitFor(() => expect(rowOf('docs').getAttribute('aria-busy')).toBe('true'));
    expect(docs().getByRole('button', { name: 'Stopping…' }).hasAttribute('disabled')).toBe(true);
    expect(docs().getByRole('button', { name: 'Stop docs' }).hasAttribute('disabled')).toBe(true);
    expect(backend.calls.filter((c) => c.cmd === 'free_ports').map((c) => c.args)).toEqual([{ name: 'docs' }]);

    reply.resolve({ job: 'docs', stopped: [{ pid: 3121, command: 'python3 -m mkdocs serve -a 127.0.0.1:8000', job: 'docs', orphan: true }], kept: [] });
    const notice = await docs().findByTestId('notice');
    expect(notice.textContent?.trim()).toBe('stopped pid 3121 (python3 -m mkdocs serve -a 127.0.0.1:8000)');
    expect(rowOf('docs').getAttribute('aria-busy')).toBeNull();

    // The engine rechecks the port and starts the job.
    backend.emit({
      seq: 101, at, type: 'state_changed',
      status: { name: 'docs', kind: 'service', enabled: true, state: 'running', pid: 3200, since: at, restarts: 0, failures: 0 },
    });
    await waitFor(() => expect(rowOf('docs').dataset['state']).toBe('running'));
    expect(docs().queryByRole('button', { name: 'Stop leftover' })).toBeNull();
    await userEvent.click(docs().getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(docs().queryByTestId('notice')).toBeNull());
    expect(docs().getByTestId('detail').textContent).toBe('up 0s');
  });

  it('says why stopping the leftover failed, and offers it only for a leftover', async () => {
    const snapshot = sampleSnapshot();
    const proxy = 'port 8080 is in use by pid 9 (nginx) of job proxy';
    const holder = { pid: 9, command: 'nginx', job: 'proxy', orphan: false };
    snapshot.jobs.push({ name: 'web', kind: 'service', enabled: true, state: 'waiting', reason: { kind: 'port', port: 8080, holder }, message: proxy, since: at, restarts: 0, failures: 0 });
    setup({ snapshot, freePorts: () => Promise.reject({ code: 'not_found', message: 'no job named docs' }) });
    await screen.findAllByTestId('job-row');
    expect(within(rowOf('web')).getByTestId('detail').textContent).toBe(proxy);
    expect(within(rowOf('web')).queryByRole('button', { name: 'Stop leftover' })).toBeNull();

    await userEvent.click(within(rowOf('docs')).getByRole('button', { name: 'Stop leftover' }));
    expect((await within(rowOf('docs')).findByRole('alert')).textContent).toContain('no job named docs');
    expect(within(rowOf('docs')).getByRole('button', { name: 'Stop leftover' }).hasAttribute('disabled')).toBe(false);
  });

  it('marks a job whose log cannot be written, without calling it failing, until an event clears it', async () => {
    const disk = 'cannot write /home/me/.local/share/sentinelzero/logs/api.log: No space left on device (os error 28)';
    const snapshot = sampleSnapshot();
    const api = snapshot.jobs.find((j) => j.name === 'api')!;
    api.log_error = disk;
    const { backend } = setup({ snapshot });
    await screen.findAllByTestId('job-row');
    const marker = within(rowOf('api')).getByTestId('log-error');
    expect(marker.getAttribute('title')).toBe(disk);
    expect(marker.textContent?.trim()).toBe('log not written');
    expect(within(rowOf('api')).getByRole('img', { name: `Log not written: ${disk}` })).toBe(marker);
    expect(rowOf('api').getAttribute('aria-label')).toBe('api (web): running, log not written');
    // The job runs on: its dot, its detail line and the totals are as without the error.
    expect(rowOf('api').dataset['state']).toBe('running');
    expect(within(rowOf('api')).getByTestId('state-dot').classList.contains('running')).toBe(true);
    expect(within(rowOf('api')).getByTestId('detail').textContent).toBe('up 2h 14m · last exit 1 2h 14m ago');
    expect(screen.getByTestId('total-failing').textContent).toBe('3');
    for (const name of ['worker', 'ollama', 'queue-consumer']) expect(within(rowOf(name)).queryByTestId('log-error')).toBeNull();

    const { log_error: _gone, resources: _r, ...writing } = api;
    backend.emit({ seq: 101, at, type: 'state_changed', status: writing as JobStatus });
    await waitFor(() => expect(within(rowOf('api')).queryByTestId('log-error')).toBeNull());
    expect(rowOf('api').getAttribute('aria-label')).toBe('api (web): running');

    backend.emit({ seq: 102, at, type: 'state_changed', status: { ...(writing as JobStatus), log_error: 'cannot write api.log: Read-only file system (os error 30)' } });
    await waitFor(() => expect(within(rowOf('api')).getByTestId('log-error').getAttribute('title')).toBe('cannot write api.log: Read-only file system (os error 30)'));
  });

  it('leads from the empty state to adding a job', async () => {
    const { backend } = setup({ snapshot: { jobs: [], history: {}, seq: 0 } });
    expect(await screen.findByText('No jobs yet')).toBeTruthy();
    expect(screen.getByTestId('overall').textContent).toBe('No jobs');
    await userEvent.click(screen.getByRole('button', { name: 'Add a job…' }));
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === 'open_settings')).toBe(true));
    expect(backend.calls.find((c) => c.cmd === 'open_settings')?.args).toEqual({ job: null, page: 'new' });
  });

  it('says when the engine cannot be reached, and retries', async () => {
    let fail = true;
    const snapshot = (): Snapshot => {
      if (fail) throw { code: 'unavailable', message: 'engine is starting' };
      return sampleSnapshot();
    };
    setup({ snapshot });
    expect(await screen.findByText('Can’t reach the SentinelZero engine')).toBeTruthy();
    expect(screen.getByText('engine is starting')).toBeTruthy();
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(rows()).toHaveLength(12));
  });

  it('is driven from the keyboard', async () => {
    const { backend } = setup();
    await screen.findAllByTestId('job-row');
    const selected = () => rows().find((r) => r.getAttribute('aria-current') === 'true')?.dataset['job'];
    const order = rowNames();
    expect(selected()).toBeUndefined();

    await userEvent.keyboard('{ArrowDown}');
    await waitFor(() => expect(selected()).toBe(order[0]));
    await userEvent.keyboard('{ArrowDown}{ArrowDown}');
    await waitFor(() => expect(selected()).toBe(order[2]));
    await userEvent.keyboard('{ArrowUp}');
    await waitFor(() => expect(selected()).toBe(order[1]));
    await userEvent.keyboard('{End}');
    await waitFor(() => expect(selected()).toBe(order[order.length - 1]));
    await userEvent.keyboard('{Home}');
    await waitFor(() => expect(selected()).toBe('queue-consumer'));

    const actions = () => backend.calls.filter((c) => c.cmd === 'act').map((c) => c.args);
    await userEvent.keyboard('r');
    await waitFor(() => expect(actions()).toEqual([{ action: 'restart', selection: { names: ['queue-consumer'] }, engine: null }]));
    // S toggles: a failed job starts, a running one stops.
    await userEvent.keyboard('s');
    await waitFor(() => expect(actions()).toHaveLength(2));
    expect(actions()[1]).toEqual({ action: 'start', selection: { names: ['queue-consumer'] }, engine: null });
    await userEvent.click(rowOf('api'));
    await waitFor(() => expect(selected()).toBe('api'));
    await userEvent.keyboard('S');
    await waitFor(() => expect(actions()).toHaveLength(3));
    expect(actions()[2]).toEqual({ action: 'stop', selection: { names: ['api'] }, engine: null });

    const settings = () => backend.calls.filter((c) => c.cmd === 'open_settings').map((c) => c.args);
    await userEvent.keyboard('l');
    await waitFor(() => expect(settings()).toEqual([{ job: 'api', page: 'logs' }]));
    await userEvent.keyboard('e');
    await waitFor(() => expect(settings()[1]).toEqual({ job: 'api', page: 'editor' }));

    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === 'hide_popover')).toBe(true));
  });

  it('updates from events: state changes, removals, samples, health, and reloads after missed events', async () => {
    let snapshot = sampleSnapshot(NOW, 100);
    const { backend } = setup({ snapshot: () => snapshot });
    await screen.findAllByTestId('job-row');
    await waitFor(() => expect(backend.subscribers()).toBe(1));

    backend.emit({
      seq: 101, at, type: 'state_changed',
      status: { name: 'queue-consumer', kind: 'service', enabled: true, state: 'running', pid: 5, since: at, restarts: 0, failures: 0 },
    });
    await waitFor(() => expect(rowOf('queue-consumer').dataset['state']).toBe('running'));
    // No longer failing: it leaves the top, and the header follows.
    expect(rowNames()[0]).toBe('sync-photos');
    expect(screen.getByTestId('total-failing').textContent).toBe('2');

    backend.emit({ seq: 102, at, type: 'job_removed', job: 'old-script' });
    await waitFor(() => expect(rowNames()).not.toContain('old-script'));

    backend.emit({ seq: 103, at, type: 'health_changed', job: 'worker', health: 'healthy' });
    await waitFor(() => expect(within(rowOf('worker')).getByTestId('health').textContent).toBe('healthy'));

    backend.emit({
      seq: 104, at, type: 'resources_sampled',
      samples: [{ job: 'api', at, cpu_percent: 87.5, memory_bytes: 1_500_000_000, processes: 2, disk_read_bytes: 0, disk_written_bytes: 0, cpu_seconds: 1 }],
    });
    await waitFor(() => expect(within(rowOf('api')).getByTestId('cpu').textContent).toBe('88%'));
    expect(within(rowOf('api')).getByTestId('mem').textContent).toBe('1.5 GB');

    // An event the snapshot already covered changes nothing.
    backend.emit({ seq: 90, at, type: 'job_removed', job: 'api' });

    const snapshots = () => backend.calls.filter((c) => c.cmd === 'snapshot').length;
    expect(snapshots()).toBe(1);
    snapshot = { ...sampleSnapshot(NOW, 500), jobs: sampleSnapshot().jobs.filter((j) => j.name !== 'redis') };
    backend.emit({ type: 'missed', count: 12 });
    await waitFor(() => expect(rowNames()).not.toContain('redis'));
    expect(snapshots()).toBe(2);
    // The reload replaced the state: removed jobs are back, api is there.
    expect(rowNames()).toContain('old-script');
    expect(rowNames()).toContain('api');
  });

  it('reloads the snapshot when it is shown again', async () => {
    const { backend } = setup();
    await screen.findAllByTestId('job-row');
    const snapshots = () => backend.calls.filter((c) => c.cmd === 'snapshot').length;
    expect(snapshots()).toBe(1);
    const visibility = Object.getOwnPropertyDescriptor(Document.prototype, 'visibilityState');
    try {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
      await waitFor(() => expect(snapshots()).toBe(2));
    } finally {
      delete (document as { visibilityState?: unknown }).visibilityState;
      if (visibility) Object.defineProperty(Document.prototype, 'visibilityState', visibility);
    }
  });

  it('tells the app when it has drawn its jobs, after loading and after each show', async () => {
    const snap = deferred<Snapshot>();
    const { backend } = setup({ handlers: { snapshot: () => snap.promise } });
    const painted = () => backend.calls.filter((c) => c.cmd === 'popover_painted').length;
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === 'snapshot')).toBe(true));
    // Not before the content is there: a blank page is not a paint.
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    expect(painted(), JSON.stringify(backend.calls.map((c) => c.cmd))).toBe(0);
    snap.resolve(sampleSnapshot());
    await screen.findAllByTestId('job-row');
    await waitFor(() => expect(painted()).toBe(1));
    // Shown again (warm): the rows are already drawn; one more report per show.
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === 'plugin:event|listen' && c.args['event'] === 'popover-shown')).toBe(true));
    backend.emitShown();
    await waitFor(() => expect(painted()).toBe(2));
    backend.emitShown();
    await waitFor(() => expect(painted()).toBe(3));
    expect(rows()).toHaveLength(12);
  });

  it('renders only a window of 1,000 jobs and scrolls through them', async () => {
    const { backend } = setup({ snapshot: manyJobs(1000) });
    await screen.findAllByTestId('job-row');
    const count = rows().length;
    expect(count).toBeGreaterThan(5);
    expect(count).toBeLessThan(30);
    expect(screen.getByTestId('total-jobs').textContent).toBe('1000');
    expect(rowNames()[0]).toBe('job-0000');

    const viewport = screen.getByRole('list', { name: 'Jobs' });
    viewport.scrollTop = 20_000;
    await fireEvent.scroll(viewport);
    await waitFor(() => expect(rowNames()).not.toContain('job-0000'));
    expect(rows().length).toBeLessThan(30);

    // Keyboard selection brings the selected row into the window.
    await userEvent.keyboard('{End}');
    await waitFor(() => expect(rowNames()).toContain('job-0999'));
    expect(rowOf('job-0999').getAttribute('aria-current')).toBe('true');
    expect(rows().length).toBeLessThan(30);

    // Events still reach jobs outside the window.
    backend.emit({ seq: 2, at, type: 'job_removed', job: 'job-0000' });
    await waitFor(() => expect(screen.getByTestId('total-jobs').textContent).toBe('999'));
  });
});
