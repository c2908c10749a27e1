// The settings window's Engines page against Tauri's mocked IPC: this Mac and the remote
// engines with their state, adding one (mistakes under their fields), testing before and
// after adding, removing after a confirmation.
import { clearMocks } from '@tauri-apps/api/mocks';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { readable } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import SettingsApp from '../src/components/SettingsApp.svelte';
import { tauriSettingsIpc } from '../src/lib/settings-ipc';
import { NOW, remoteEngines, sampleSnapshot } from './fixtures';
import { enginesBackend } from './engines-backend';
import { installMockBackend } from './mock-backend';
import { settingsBackend } from './settings-backend';

afterEach(() => {
  clearMocks();
  history.replaceState(null, '', '#');
});

function setup() {
  history.replaceState(null, '', '#page=engines');
  const snapshot = sampleSnapshot();
  const settings = settingsBackend({ now: NOW, jobs: snapshot.jobs });
  const engines = enginesBackend(remoteEngines().engines, NOW, snapshot.jobs.length);
  const backend = installMockBackend({ snapshot, handlers: { ...settings.handlers, ...engines.handlers }, window: 'settings' });
  const user = userEvent.setup();
  render(SettingsApp, { props: { ipc: tauriSettingsIpc, clock: readable(NOW), close: vi.fn(), delay: 20 } });
  const calls = (cmd: string) => backend.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
  return { backend, engines, user, calls };
}

const engineRows = () => screen.queryAllByTestId('engine');
const rowOf = (name: string) => {
  const row = engineRows().find((r) => r.dataset['engine'] === name);
  if (!row) throw new Error(`no engine ${name}`);
  return row;
};
const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;

describe('settings window: Engines', () => {
  it('lists this Mac, then each remote engine with its state', async () => {
    setup();
    await waitFor(() => expect(engineRows()).toHaveLength(3));
    expect(engineRows().map((r) => r.dataset['engine'])).toEqual(['', 'build-box', 'vps']);
    expect(rowOf('').textContent).toContain('This Mac');
    expect(rowOf('').textContent).toContain('12 jobs');
    expect(within(rowOf('build-box')).getByTestId('engine-state').textContent).toBe('Connected · SentinelZero 0.1.0 · 2 jobs');
    expect(rowOf('build-box').textContent).toContain('CI runners');
    expect(within(rowOf('vps')).getByTestId('engine-state').textContent).toBe('Unreachable · retrying in 12s');
    expect(within(rowOf('vps')).getByTestId('engine-problem').textContent).toBe('ssh: connect to host 203.0.113.7 port 2222: Connection refused');
    expect(screen.getByTestId('engines-page').textContent).toContain('contexts.toml');
    expect(screen.getByTestId('nav-engines').classList.contains('active')).toBe(true);
  });

  it('shows mistakes under their fields, then adds the engine', async () => {
    const { user, calls } = setup();
    await waitFor(() => expect(engineRows()).toHaveLength(3));
    await user.type(input('Name'), 'default');
    await user.clear(input('Address'));
    await user.type(input('Address'), 'ftp://nas');
    await user.click(screen.getByTestId('add-engine'));
    await waitFor(() => expect(document.querySelector('[data-field="host"]')?.textContent).toContain('not an engine\'s address'));
    expect(document.querySelector('[data-field="name"]')?.textContent).toContain('the local engine\'s name');
    expect(input('Address').getAttribute('aria-invalid')).toBe('true');
    expect(engineRows()).toHaveLength(3);

    await user.clear(input('Name'));
    await user.type(input('Name'), 'nas');
    await user.clear(input('Address'));
    await user.type(input('Address'), 'ssh://admin@nas.local');
    await user.type(input('Description'), 'the closet');
    await user.click(screen.getByTestId('add-engine'));
    await waitFor(() => expect(engineRows()).toHaveLength(4));
    expect(calls('add_engine').at(-1)).toEqual({ context: { name: 'nas', host: 'ssh://admin@nas.local', description: 'the closet' } });
    expect(rowOf('nas').dataset['link']).toBe('connecting');
    expect(document.querySelector('[data-field]')).toBeNull();
    expect(input('Name').value).toBe('');
  });

  it('tests an engine before it is added, and one that is', async () => {
    const { user, calls } = setup();
    await waitFor(() => expect(engineRows()).toHaveLength(3));
    await user.clear(input('Address'));
    await user.type(input('Address'), 'ssh://me@unreachable.example');
    await user.click(screen.getByTestId('test-new'));
    await waitFor(() => expect(screen.getByTestId('test-result').textContent).toContain('Could not resolve hostname'));
    expect(calls('test_engine')).toEqual([{ context: { name: '', host: 'ssh://me@unreachable.example' } }]);

    await user.click(within(rowOf('build-box')).getByTestId('test-build-box'));
    await waitFor(() => expect(within(rowOf('build-box')).getByTestId('test-result').textContent).toBe('Reached SentinelZero 0.1.0: 3 jobs'));
    expect(calls('test_engine').at(-1)).toEqual({ context: { name: 'build-box', host: 'ssh://deploy@build.example.com', description: 'CI runners' } });
  });

  it('removes an engine after asking', async () => {
    const { user, calls } = setup();
    await waitFor(() => expect(engineRows()).toHaveLength(3));
    await user.click(within(rowOf('vps')).getByTestId('remove-vps'));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('Remove vps?');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls('remove_engine')).toEqual([]);
    await user.click(within(rowOf('vps')).getByTestId('remove-vps'));
    await user.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(engineRows().map((r) => r.dataset['engine'])).toEqual(['', 'build-box']));
    expect(calls('remove_engine')).toEqual([{ name: 'vps' }]);
  });

  it('follows the engines as they change', async () => {
    const { backend } = setup();
    await waitFor(() => expect(engineRows()).toHaveLength(3));
    const next = remoteEngines(NOW, 9);
    next.engines[1] = { context: next.engines[1].context, link: 'connected', version: '0.1.0', since: new Date(NOW).toISOString(), jobs: [] };
    backend.emitRemotes(next);
    await waitFor(() => expect(within(rowOf('vps')).getByTestId('engine-state').textContent).toBe('Connected · SentinelZero 0.1.0 · 0 jobs'));
  });
});
