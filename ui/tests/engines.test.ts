// The popover with remote engines, against Tauri's mocked IPC: a section per engine, this
// Mac's first; a remote job's actions carry its engine; an unreachable engine shows ssh's
// words and its next try; the app's `remote-engines` event keeps the sections current.
import { clearMocks } from '@tauri-apps/api/mocks';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { readable } from 'svelte/store';
import { afterEach, describe, expect, it } from 'vitest';
import Popover from '../src/components/Popover.svelte';
import { allTotals, describeRetry, popoverItems } from '../src/lib/engines';
import { tauriIpc } from '../src/lib/ipc';
import { buildView, fromSnapshot } from '../src/lib/jobs';
import type { ActionResult, RemoteEngines, RemoteView } from '../src/lib/types';
import { NOW, remoteEngines, smallSnapshot } from './fixtures';
import { installMockBackend, type MockOptions } from './mock-backend';

afterEach(() => {
  clearMocks();
});

function setup(options: Partial<MockOptions> = {}) {
  const backend = installMockBackend({ snapshot: smallSnapshot(), remotes: remoteEngines(), ...options });
  const result = render(Popover, { props: { ipc: tauriIpc, clock: readable(NOW) } });
  return { backend, ...result };
}

const headers = () => screen.queryAllByTestId('engine-header');
const headerOf = (engine: string) => {
  const header = headers().find((h) => h.dataset['engine'] === engine);
  if (!header) throw new Error(`no header for ${engine || 'this Mac'}`);
  return header;
};
const rowOf = (engine: string, name: string) => {
  const row = screen.queryAllByTestId('job-row').find((r) => r.dataset['job'] === name && r.dataset['engine'] === engine);
  if (!row) throw new Error(`no row for ${name} on ${engine || 'this Mac'}`);
  return row;
};

describe('the popover with remote engines', () => {
  it('shows each engine as a section with its jobs and totals, this Mac first', async () => {
    setup();
    await waitFor(() => expect(headers()).toHaveLength(3));
    expect(headers().map((h) => h.dataset['engine'])).toEqual(['', 'build-box', 'vps']);
    expect(within(headerOf('')).getByText('This Mac')).toBeTruthy();
    expect(within(headerOf('')).getByTestId('engine-totals').textContent).toMatch(/1 running · 0 failing · 2 jobs/);
    const box = headerOf('build-box');
    expect(box.dataset['link']).toBe('connected');
    expect(within(box).getByText('ssh://deploy@build.example.com')).toBeTruthy();
    expect(within(box).getByTestId('engine-totals').textContent).toMatch(/1 running · 1 failing · 2 jobs/);

    // The same name on two engines is two rows, each in its own section.
    expect(rowOf('', 'ci-runner').dataset['state']).toBe('stopped');
    expect(rowOf('build-box', 'ci-runner').dataset['state']).toBe('running');
    expect(rowOf('build-box', 'artifact-gc').dataset['state']).toBe('failed');
    const order = screen.getAllByRole('listitem').map((i) => i.dataset['engine'] ?? i.dataset['group'] ?? '');
    expect(order.indexOf('build-box')).toBeGreaterThan(order.lastIndexOf(''));

    // The header counts every engine; an unreachable one needs attention too.
    expect(screen.getByTestId('overall').textContent).toBe('Needs attention');
    expect(screen.getByTestId('total-running').textContent).toBe('2');
    expect(screen.getByTestId('total-failing').textContent).toBe('1');
    expect(screen.getByTestId('total-jobs').textContent).toBe('4');
    expect(screen.getByTestId('total-unreachable').textContent).toBe('1');
  });

  it('shows an unreachable engine with the ssh error and when it retries, and retries on request', async () => {
    const { backend } = setup();
    await waitFor(() => expect(headers()).toHaveLength(3));
    const vps = headerOf('vps');
    expect(vps.dataset['link']).toBe('unreachable');
    expect(within(vps).getByTestId('engine-problem').textContent).toBe('ssh: connect to host 203.0.113.7 port 2222: Connection refused');
    expect(within(vps).getByTestId('engine-retry').textContent).toBe('retrying in 12s');
    expect(screen.queryAllByTestId('job-row').filter((r) => r.dataset['engine'] === 'vps')).toHaveLength(0);
    await userEvent.click(within(vps).getByRole('button', { name: 'Retry vps now' }));
    expect(backend.calls.filter((c) => c.cmd === 'retry_engine').map((c) => c.args)).toEqual([{ name: 'vps' }]);
  });

  it('sends a remote job action to its engine, shows it pending, then its error inline', async () => {
    let answer!: (results: ActionResult[]) => void;
    const { backend } = setup({
      actRemote: () =>
        new Promise<ActionResult[]>((resolve) => {
          answer = resolve;
        }),
    });
    await waitFor(() => rowOf('build-box', 'ci-runner'));
    await userEvent.click(screen.getByRole('button', { name: 'Restart ci-runner on build-box' }));
    const acts = () => backend.calls.filter((c) => c.cmd === 'act').map((c) => c.args);
    expect(acts()).toEqual([{ action: 'restart', selection: { names: ['ci-runner'] }, engine: 'build-box' }]);
    await waitFor(() => expect(rowOf('build-box', 'ci-runner').getAttribute('aria-busy')).toBe('true'));
    // The local job of the same name is not busy.
    expect(rowOf('', 'ci-runner').getAttribute('aria-busy')).toBeNull();
    answer([{ name: 'ci-runner', error: { code: 'unreachable', message: 'Connection closed by 10.0.0.5 port 22' } }]);
    await waitFor(() => expect(within(rowOf('build-box', 'ci-runner')).getByRole('alert').textContent).toContain('Connection closed by 10.0.0.5 port 22'));

    // The local row still acts locally.
    await userEvent.click(screen.getByRole('button', { name: 'Start ci-runner' }));
    expect(acts()[1]).toEqual({ action: 'start', selection: { names: ['ci-runner'] }, engine: null });
  });

  it('acts on a remote group at its engine', async () => {
    const { backend } = setup({ actRemote: () => [] });
    await waitFor(() => rowOf('build-box', 'ci-runner'));
    const group = screen.getAllByTestId('group-header').find((g) => g.dataset['group'] === 'ci');
    if (!group) throw new Error('no ci group');
    await userEvent.click(within(group).getByRole('button', { name: /Restart all/ }));
    expect(backend.calls.filter((c) => c.cmd === 'act').map((c) => c.args)).toEqual([{ action: 'restart', selection: { group: 'ci' }, engine: 'build-box' }]);
  });

  it('follows the remote-engines event, keeping the newer of what it has', async () => {
    const { backend } = setup();
    await waitFor(() => rowOf('build-box', 'artifact-gc'));
    const next = remoteEngines(NOW, 5);
    const box = next.engines[0] as Extract<RemoteView, { link: 'connected' }>;
    box.jobs = box.jobs.map((j) => (j.name === 'artifact-gc' ? { ...j, state: 'running', pid: 9, since: new Date(NOW).toISOString() } : j)) as typeof box.jobs;
    next.engines[1] = { context: next.engines[1].context, link: 'connecting', since: new Date(NOW).toISOString() };
    backend.emitRemotes(next);
    await waitFor(() => expect(rowOf('build-box', 'artifact-gc').dataset['state']).toBe('running'));
    expect(headerOf('vps').dataset['link']).toBe('connecting');
    expect(within(headerOf('vps')).getByTestId('engine-connecting').textContent).toBe('Connecting…');
    expect(screen.getByTestId('overall').textContent).toBe('All good');

    // An older revision (an event that was on its way) changes nothing.
    backend.emitRemotes(remoteEngines(NOW, 2));
    await Promise.resolve();
    expect(rowOf('build-box', 'artifact-gc').dataset['state']).toBe('running');

    // An engine removed elsewhere goes away; with none left, no sections.
    backend.emitRemotes({ revision: 6, engines: [] });
    await waitFor(() => expect(headers()).toHaveLength(0));
    expect(screen.queryAllByTestId('job-row').map((r) => r.dataset['job'])).toEqual(['api', 'ci-runner']);
  });

  it('drives a remote job from the keyboard; its logs stay on its machine', async () => {
    const { backend } = setup({ actRemote: () => [] });
    await waitFor(() => rowOf('build-box', 'ci-runner'));
    // Down past this Mac's two jobs, the failing remote job first in its section.
    await userEvent.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(rowOf('build-box', 'artifact-gc').getAttribute('aria-current')).toBe('true');
    await userEvent.keyboard('r');
    await waitFor(() =>
      expect(backend.calls.filter((c) => c.cmd === 'act').map((c) => c.args)).toEqual([{ action: 'restart', selection: { names: ['artifact-gc'] }, engine: 'build-box' }]),
    );
    expect(screen.getByTestId('remote-logs-hint').getAttribute('title')).toContain('sentinel --context build-box logs');
    await userEvent.keyboard('l');
    expect(backend.calls.filter((c) => c.cmd === 'open_settings')).toHaveLength(0);
    await userEvent.keyboard('{ArrowUp}l');
    expect(backend.calls.filter((c) => c.cmd === 'open_settings').map((c) => c.args)).toEqual([{ job: 'ci-runner', page: 'logs' }]);
  });

  it('shows no engine sections without remote engines', async () => {
    setup({ remotes: { revision: 0, engines: [] } });
    await screen.findAllByTestId('job-row');
    expect(headers()).toHaveLength(0);
    expect(screen.queryByTestId('total-unreachable')).toBeNull();
  });

  it('says when an engine has no jobs, this Mac included', async () => {
    const remotes: RemoteEngines = {
      revision: 1,
      engines: [{ context: { name: 'nas', host: 'ssh://nas' }, link: 'connected', version: '0.1.0', since: new Date(NOW).toISOString(), jobs: [] }],
    };
    setup({ snapshot: { jobs: [], history: {}, seq: 0 }, remotes });
    await waitFor(() => expect(screen.getAllByTestId('engine-note').map((n) => n.textContent)).toEqual(['No jobs on This Mac yet', 'No jobs on nas']));
  });
});

describe('engine sections as data', () => {
  const local = buildView(fromSnapshot(smallSnapshot()));

  it('keys every remote item by its engine, so names never collide', () => {
    const items = popoverItems(local, remoteEngines().engines);
    const keys = items.map((i) => i.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('j:ci-runner');
    expect(keys).toContain('e:build-box/j:ci-runner');
    expect(popoverItems(local, [])).toBe(local.items);
  });

  it('adds up every engine, and counts the ones out of reach', () => {
    expect(allTotals(local.totals, remoteEngines().engines)).toEqual({ total: 4, running: 2, failing: 1, unreachable: 1, overall: 'failing' });
    expect(allTotals(local.totals, []).overall).toBe('ok');
  });

  it('says when the next try is', () => {
    expect(describeRetry(new Date(NOW + 12_000).toISOString(), NOW)).toBe('retrying in 12s');
    expect(describeRetry(new Date(NOW + 75_000).toISOString(), NOW)).toBe('retrying in 1m 15s');
    expect(describeRetry(new Date(NOW - 1).toISOString(), NOW)).toBe('retrying…');
    expect(describeRetry(null, NOW)).toBe('');
  });
});
