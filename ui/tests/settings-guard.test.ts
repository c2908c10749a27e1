// Component tests of the settings window's warning before unsaved edits are lost: leaving a
// dirty page (links, buttons, the hash, Cmd/Ctrl+W, the window's close button) asks first.
// The real settings-ipc.ts behind Tauri's mocked IPC, as in settings.test.ts.
import { clearMocks } from '@tauri-apps/api/mocks';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { readable } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsApp from '../src/components/SettingsApp.svelte';
import { tauriSettingsIpc } from '../src/lib/settings-ipc';
import { NOW, sampleSnapshot } from './fixtures';
import { installMockBackend } from './mock-backend';
import { settingsBackend } from './settings-backend';
// What a home with no settings.toml answers, written by the engine's own serialiser
// (`UPDATE_BINDINGS=1 cargo test -p sentinel-app bindings`): unset fields are left out.
import freshHome from './settings-defaults.json';
import type { Settings } from '../src/lib/types';

beforeEach(() => {
  localStorage.clear();
});
afterEach(() => {
  clearMocks();
  history.replaceState(null, '', '#');
});

function setup(hash: string) {
  return setupWith(hash, undefined);
}

function setupWith(hash: string, engineSettings: Settings | undefined) {
  history.replaceState(null, '', hash);
  const snapshot = sampleSnapshot();
  const settings = settingsBackend({ now: NOW, jobs: snapshot.jobs, validate: () => [], settings: engineSettings });
  const backend = installMockBackend({ snapshot, handlers: settings.handlers, window: 'settings' });
  const close = vi.fn();
  const user = userEvent.setup();
  const result = render(SettingsApp, { props: { ipc: tauriSettingsIpc, clock: readable(NOW), close, delay: 20 } });
  const calls = (cmd: string) => backend.calls.filter((c) => c.cmd === cmd);
  return { backend, settings, close, user, calls, ...result };
}

const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const dialog = () => screen.queryByRole('alertdialog');
const sidebarJob = (name: string) => document.querySelector<HTMLElement>(`[data-testid="sidebar-job"][data-job="${name}"]`)!;

/** The api editor, loaded, with its command edited. */
async function dirtyEditor(user: ReturnType<typeof userEvent.setup>) {
  await screen.findByTestId('editor');
  await waitFor(() => expect(sidebarJob('api')).not.toBeNull());
  await user.clear(input('Command'));
  await user.type(input('Command'), 'node server.js --port 9090');
  await waitFor(() => expect(screen.getByTestId('editor-status').textContent).toContain('Unsaved changes'));
}

describe('leaving unsaved edits', () => {
  it('asks before another job is opened; Keep editing stays and puts the address back', async () => {
    const { user } = setup('#job=api&page=editor');
    await dirtyEditor(user);

    await user.click(sidebarJob('worker'));
    const asked = await screen.findByRole('alertdialog');
    expect(within(asked).getByText('Discard unsaved changes to api?')).toBeTruthy();
    // The safe answer has the focus, as in the delete dialog.
    expect(document.activeElement).toBe(within(asked).getByRole('button', { name: 'Keep editing' }));
    // The link has moved the address already; the page has not changed.
    expect(location.hash).toBe('#job=worker&page=editor');
    expect(screen.getByTestId('job-title').textContent).toBe('api');

    await user.click(within(asked).getByRole('button', { name: 'Keep editing' }));
    expect(dialog()).toBeNull();
    expect(location.hash).toBe('#job=api&page=editor');
    expect(screen.getByTestId('job-title').textContent).toBe('api');
    expect(input('Command').value).toBe('node server.js --port 9090');
  });

  it('Discard goes where the user was going', async () => {
    const { user } = setup('#job=api&page=editor');
    await dirtyEditor(user);

    await user.click(screen.getByTestId('tab-logs'));
    await user.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Discard' }));
    expect(dialog()).toBeNull();
    await waitFor(() => expect(location.hash).toBe('#job=api&page=logs'));
    expect((await screen.findAllByTestId('log-line')).length).toBeGreaterThan(0);

    // Back on the editor, the saved command is there again.
    await user.click(screen.getByTestId('tab-editor'));
    await waitFor(() => expect(input('Command').value).toBe('node server.js --port 8080'));
  });

  it('asks for the buttons and shortcuts too, and for a hash set by the app', async () => {
    const { user } = setup('#job=api&page=editor');
    await dirtyEditor(user);
    const keep = async () => user.click(within((await screen.findByRole('alertdialog'))).getByRole('button', { name: 'Keep editing' }));

    await user.click(screen.getByRole('button', { name: /New job/ }));
    await keep();
    await user.click(screen.getByRole('button', { name: /App settings/ }));
    await keep();
    await fireEvent.keyDown(window, { key: 'n', metaKey: true });
    await keep();
    await user.click(screen.getByRole('button', { name: 'Duplicate' }));
    await keep();
    // open_settings from the popover navigates the window by its hash.
    history.replaceState(null, '', '#job=worker&page=logs');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await keep();
    expect(location.hash).toBe('#job=api&page=editor');
    expect(input('Command').value).toBe('node server.js --port 9090');
  });

  it('does not ask when nothing was edited, or an edit was undone', async () => {
    const { user } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    await waitFor(() => expect(sidebarJob('worker')).not.toBeNull());
    await user.type(input('Command'), ' x');
    await user.type(input('Command'), '{Backspace}{Backspace}');
    await waitFor(() => expect(screen.getByTestId('editor-status').textContent).not.toContain('Unsaved changes'));

    await user.click(sidebarJob('worker'));
    await waitFor(() => expect(screen.getByTestId('job-title').textContent).toBe('worker'));
    await waitFor(() => expect(input('Name').value).toBe('worker'));
    expect(dialog()).toBeNull();
    expect(location.hash).toBe('#job=worker&page=editor');
  });

  it('does not ask once the edits are saved', async () => {
    const { user, calls } = setup('#job=api&page=editor');
    await dirtyEditor(user);
    await user.click(screen.getByTestId('save'));
    await screen.findByText('Saved');
    expect(calls('save_job')).toHaveLength(1);
    expect(screen.getByTestId('editor-status').textContent).not.toContain('Unsaved changes');

    await user.click(screen.getByTestId('tab-runs'));
    expect((await screen.findAllByTestId('run-row')).length).toBeGreaterThan(0);
    expect(dialog()).toBeNull();
  });

  it('asks on Cmd/Ctrl+W; Discard closes and the window reopens on the saved job', async () => {
    const { user, close } = setup('#job=api&page=editor');
    await dirtyEditor(user);

    await fireEvent.keyDown(window, { key: 'w', metaKey: true });
    const asked = await screen.findByRole('alertdialog');
    expect(within(asked).getByText('Discard unsaved changes to api?')).toBeTruthy();
    await user.click(within(asked).getByRole('button', { name: 'Keep editing' }));
    expect(close).not.toHaveBeenCalled();

    await fireEvent.keyDown(window, { key: 'w', ctrlKey: true });
    await user.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Discard' }));
    await waitFor(() => expect(close).toHaveBeenCalledTimes(1));
    // The app only hides the window: what it shows next time is the saved job.
    await waitFor(() => expect(input('Command').value).toBe('node server.js --port 8080'));
  });

  it('answers the close button: a dirty page has the app show the window again, and asks', async () => {
    const { user, close, backend, calls } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    await waitFor(() => expect(calls('plugin:event|listen')).toHaveLength(1));

    // Clean: the window goes (the app hides it); the page neither asks nor destroys it.
    await backend.requestClose();
    expect(dialog()).toBeNull();
    expect(calls('keep_settings_open')).toHaveLength(0);
    expect(calls('plugin:window|destroy')).toHaveLength(0);

    await dirtyEditor(user);
    await backend.requestClose();
    expect(calls('keep_settings_open')).toHaveLength(1);
    expect(calls('plugin:window|destroy')).toHaveLength(0);
    await user.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Discard' }));
    await waitFor(() => expect(close).toHaveBeenCalledTimes(1));
  });

  it('guards a new job once anything is typed, and the app settings', async () => {
    const { user } = setup('#page=new');
    await screen.findByTestId('editor');
    await user.click(screen.getByRole('button', { name: /App settings/ }));
    await screen.findByTestId('app-settings');
    expect(dialog()).toBeNull();

    // App settings: an edited field asks, a saved one does not.
    const throttle = (await screen.findByLabelText('At most one per job every')) as HTMLInputElement;
    await user.clear(throttle);
    await user.type(throttle, '10m');
    await user.click(screen.getByRole('button', { name: /New job/ }));
    const asked = await screen.findByRole('alertdialog');
    expect(within(asked).getByText('Discard unsaved changes to the app settings?')).toBeTruthy();
    await user.click(within(asked).getByRole('button', { name: 'Keep editing' }));
    await user.click(screen.getByTestId('save-settings'));
    await screen.findByText('Saved — applies after SentinelZero restarts');

    await user.click(screen.getByRole('button', { name: /New job/ }));
    await screen.findByTestId('editor');
    expect(dialog()).toBeNull();
    await user.type(input('Name'), 'b');
    await user.click(screen.getByRole('button', { name: /App settings/ }));
    expect(within(await screen.findByRole('alertdialog')).getByText('Discard unsaved changes to the new job?')).toBeTruthy();
  });

  it('opens the app settings of a fresh home as the engine runs it, clean until something changes', async () => {
    const { user, settings } = setupWith('#page=app', freshHome as Settings);
    await screen.findByTestId('app-settings');
    const metrics = (await screen.findByTestId('metrics-on')) as HTMLInputElement;
    expect(metrics.checked).toBe(false);
    expect(screen.queryByLabelText('Port')).toBeNull();
    expect(screen.queryByText('Unsaved changes')).toBeNull();
    expect((screen.getByTestId('save-settings') as HTMLButtonElement).disabled).toBe(true);
    // Leaving asks nothing: nothing was touched.
    await user.click(screen.getByRole('button', { name: /New job/ }));
    await screen.findByTestId('editor');
    expect(dialog()).toBeNull();
    // Turning metrics on and off again is no change either.
    await user.click(screen.getByRole('button', { name: /App settings/ }));
    await user.click(await screen.findByTestId('metrics-on'));
    expect(await screen.findByText('Unsaved changes')).toBeTruthy();
    await user.click(screen.getByTestId('metrics-on'));
    await waitFor(() => expect(screen.queryByText('Unsaved changes')).toBeNull());
    expect(settings.state.app.settings).toEqual(freshHome);
  });
});
