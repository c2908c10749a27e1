// Component tests of the settings window against Tauri's mocked IPC: the real settings-ipc.ts,
// Channels and controller, with the fake engine (mock-backend + settings-backend) behind invoke.
import { clearMocks } from '@tauri-apps/api/mocks';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { readable } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsApp from '../src/components/SettingsApp.svelte';
import { MASK } from '../src/lib/secrets';
import { tauriSettingsIpc } from '../src/lib/settings-ipc';
import type { FieldError, JobSpec } from '../src/lib/types';
import { NOW, sampleSnapshot } from './fixtures';
import { installMockBackend } from './mock-backend';
import { settingsBackend, type SettingsOptions } from './settings-backend';

beforeEach(() => {
  localStorage.clear();
});
afterEach(() => {
  clearMocks();
  history.replaceState(null, '', '#');
});

function setup(hash: string, options: Partial<SettingsOptions> = {}) {
  history.replaceState(null, '', hash);
  const snapshot = sampleSnapshot();
  const settings = settingsBackend({ now: NOW, jobs: snapshot.jobs, ...options });
  const backend = installMockBackend({ snapshot, handlers: settings.handlers });
  const close = vi.fn();
  const user = userEvent.setup();
  const result = render(SettingsApp, { props: { ipc: tauriSettingsIpc, clock: readable(NOW), close, delay: 20 } });
  const calls = (cmd: string) => backend.calls.filter((c) => c.cmd === cmd);
  return { settings, backend, close, user, calls, ...result };
}

const field = (name: string) => document.querySelector<HTMLElement>(`[data-field="${name}"]`);
const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const go = (hash: string) => {
  history.replaceState(null, '', hash);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
};

async function typeInto(user: ReturnType<typeof userEvent.setup>, el: HTMLElement, text: string) {
  await user.clear(el);
  if (text) await user.type(el, text);
}

describe('settings window: routing and sidebar', () => {
  it('follows the hash: editor, runs, logs, new and app settings', async () => {
    setup('#job=api&page=editor');
    expect(await screen.findByTestId('editor')).toBeTruthy();
    expect(screen.getByTestId('job-title').textContent).toBe('api');
    expect(input('Name').value).toBe('api');
    expect(screen.getByTestId('tab-editor').getAttribute('aria-selected')).toBe('true');

    go('#job=worker&page=runs');
    expect((await screen.findAllByTestId('run-row')).length).toBe(13);
    expect(screen.getByTestId('job-title').textContent).toBe('worker');

    go('#job=worker&page=logs');
    expect((await screen.findAllByTestId('log-line')).length).toBeGreaterThan(0);

    go('#page=new');
    await screen.findByTestId('editor');
    expect(input('Name').value).toBe('');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('New job');

    go('#page=app');
    expect(await screen.findByTestId('app-settings')).toBeTruthy();
  });

  it('lists jobs grouped with live state dots and a search box', async () => {
    const { backend } = setup('#page=app');
    await screen.findAllByTestId('sidebar-job');
    expect(screen.getAllByTestId('sidebar-group').map((g) => g.textContent?.trim())).toEqual(['data', 'web', 'Ungrouped']);
    const api = () => document.querySelector<HTMLElement>('[data-testid="sidebar-job"][data-job="api"]')!;
    expect(api().dataset['state']).toBe('running');
    const status = sampleSnapshot().jobs.find((j) => j.name === 'api')!;
    backend.emit({ seq: 101, at: new Date(NOW).toISOString(), type: 'state_changed', status: { ...status, state: 'failed', reason: 'x', since: new Date(NOW).toISOString() } as typeof status });
    await waitFor(() => expect(api().dataset['state']).toBe('failed'));

    await fireEvent.input(screen.getByTestId('job-search'), { target: { value: 'red' } });
    expect(screen.getAllByTestId('sidebar-job').map((j) => j.dataset['job'])).toEqual(['redis']);
  });

  it('warns above the tabs while the job\'s log cannot be written, until an event clears it', async () => {
    const disk = 'cannot write /home/me/.local/share/sentinelzero/logs/api.log: No space left on device (os error 28); the newest 1 MiB of output is kept in memory and written once the file can be written again';
    const { backend } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    expect(screen.queryByTestId('log-error-banner')).toBeNull();
    const status = sampleSnapshot().jobs.find((j) => j.name === 'api')!;
    const at = new Date(NOW).toISOString();
    backend.emit({ seq: 101, at, type: 'state_changed', status: { ...status, log_error: disk } });
    const banner = await screen.findByTestId('log-error-banner');
    expect(banner.textContent?.trim()).toBe(`Writing the log fails: ${disk}`);
    expect(banner.getAttribute('role')).toBe('status');
    // The state is the job's own: still running.
    expect(screen.getByTestId('job-detail').textContent).toBe('up 2h 14m · last exit 1 2h 14m ago');
    expect(document.querySelector('header [data-testid="state-dot"]')?.classList.contains('running')).toBe(true);

    // The Logs page shows it too; another job's page does not.
    go('#job=api&page=logs');
    await screen.findByTestId('log-search');
    expect(screen.getByTestId('log-error-banner').textContent).toContain(disk);
    go('#job=worker&page=logs');
    await waitFor(() => expect(screen.getByTestId('job-title').textContent).toBe('worker'));
    expect(screen.queryByTestId('log-error-banner')).toBeNull();

    go('#job=api&page=logs');
    await screen.findByTestId('log-error-banner');
    backend.emit({ seq: 102, at, type: 'state_changed', status });
    await waitFor(() => expect(screen.queryByTestId('log-error-banner')).toBeNull());
  });

  it('has the window shortcuts', async () => {
    const { close } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    await fireEvent.keyDown(window, { key: ',', ctrlKey: true });
    expect(await screen.findByTestId('app-settings')).toBeTruthy();
    expect(location.hash).toBe('#page=app');
    await fireEvent.keyDown(window, { key: 'n', metaKey: true });
    await waitFor(() => expect(location.hash).toBe('#page=new'));
    await fireEvent.keyDown(window, { key: 'f', ctrlKey: true });
    expect(document.activeElement).toBe(screen.getByTestId('job-search'));
    await fireEvent.keyDown(window, { key: 'w', metaKey: true });
    expect(close).toHaveBeenCalledTimes(1);
  });
});

describe('job editor', () => {
  it('validates live through validate_job and shows each message under its field', async () => {
    const validate = vi.fn((spec: JobSpec): FieldError[] => {
      const errors: FieldError[] = [];
      if (spec.restart.delay === '5 hours') errors.push({ field: 'restart.delay', message: '"5 hours" is not a duration: write 5h' });
      if ('MY KEY' in (spec.env ?? {})) errors.push({ field: 'env.MY KEY', message: '"MY KEY" is not a valid variable name' });
      if (spec.schedule?.cron === 'nope') errors.push({ field: 'schedule.cron', message: '"nope" is not a cron expression' });
      if (spec.health?.http === 'ftp://x') errors.push({ field: 'health.http', message: 'only http:// URLs' });
      return errors;
    });
    const { user, calls } = setup('#job=api&page=editor', { validate });
    await screen.findByTestId('editor');
    const save = () => screen.getByTestId('save') as HTMLButtonElement;

    await typeInto(user, input('Delay'), '5 hours');
    await waitFor(() => expect(field('restart.delay')?.textContent).toBe('"5 hours" is not a duration: write 5h'));
    expect(save().disabled).toBe(true);
    expect(input('Delay').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('editor-status').textContent).toContain('1 problem to fix');
    // Debounced: typing seven characters did not ask seven times.
    const asked = calls('validate_job');
    expect(asked.length).toBeLessThan(7);
    expect(asked[asked.length - 1].args['original']).toBe('api');

    await typeInto(user, input('Delay'), '5h');
    await waitFor(() => expect(field('restart.delay')).toBeNull());
    expect(save().disabled).toBe(false);

    await user.click(screen.getByRole('button', { name: 'Add variable' }));
    const rows = screen.getAllByTestId('env-row');
    await user.type(within(rows[rows.length - 1]).getByLabelText('Variable name'), 'MY KEY');
    await waitFor(() => expect(field('env.MY KEY')?.textContent).toBe('"MY KEY" is not a valid variable name'));
    expect(save().disabled).toBe(true);
    await user.click(within(screen.getAllByTestId('env-row')[3]).getByRole('button', { name: 'Remove MY KEY' }));
    await waitFor(() => expect(field('env.MY KEY')).toBeNull());

    await user.selectOptions(screen.getByLabelText('Check'), 'http');
    await typeInto(user, screen.getByLabelText('Health check target'), 'ftp://x');
    await waitFor(() => expect(field('health')?.textContent).toBe('only http:// URLs'));
  });

  it('keeps Save possible when the validator itself fails, and says so', async () => {
    const { user } = setup('#job=api&page=editor', { validate: () => Promise.reject({ code: 'internal', message: 'engine busy' }) });
    await screen.findByTestId('editor');
    await typeInto(user, input('Delay'), '2s');
    expect((await screen.findByRole('alert')).textContent).toBe('Could not check the job: engine busy');
    expect((screen.getByTestId('save') as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows the argv and the delay sequence as the policy changes', async () => {
    const { user } = setup('#job=worker&page=editor');
    await screen.findByTestId('editor');
    const argv = () => [...screen.getByTestId('argv').querySelectorAll('code')].map((c) => c.textContent);
    expect(argv()).toEqual(['python3', '-m', 'worker', '--queue', 'default jobs']);
    await user.click(screen.getByLabelText(/Run through/));
    expect(argv()).toEqual(['/bin/sh', '-c', 'python3 -m worker --queue "default jobs"']);

    const preview = () => screen.getByTestId('delay-preview').textContent?.trim();
    await waitFor(() => expect(preview()).toBe('1s, 1.5s, 2.3s, 3.4s, 5.1s — gives up after 5 failures'));
    await typeInto(user, input('Max delay'), '5s');
    await waitFor(() => expect(preview()).toBe('1s, 1.5s, 2.3s, 3.4s, 5s — gives up after 5 failures'));
    await typeInto(user, input('Max retries'), '0');
    await waitFor(() => expect(preview()).toBe('1s, 1.5s, 2.3s, 3.4s, 5s, 5s, 5s, 5s … then every 5s — never gives up'));
    await typeInto(user, input('Delay'), 'soon');
    await waitFor(() => expect(preview()).toBe('Fix the delays above to see the retry sequence.'));
    await user.selectOptions(screen.getByLabelText('Restart'), 'never');
    await waitFor(() => expect(preview()).toBe('never restarts'));
  });

  it('previews schedules with their description and next five times', async () => {
    const { user, calls } = setup('#job=nightly-backup&page=editor');
    await screen.findByTestId('editor');
    await waitFor(() => expect(screen.getByTestId('schedule-description').textContent).toBe('At 02:00 every day'));
    expect(screen.getAllByTestId('schedule-next')).toHaveLength(5);
    expect(calls('schedule_preview')[0].args).toEqual({ cron: '0 2 * * *', every: null, at: null, n: 5 });

    await typeInto(user, screen.getByLabelText('Schedule'), '0 2 *');
    await waitFor(() => expect(screen.getByTestId('schedule-preview').textContent).toContain('is not a cron expression'));
    expect(screen.queryAllByTestId('schedule-next')).toHaveLength(0);

    await user.selectOptions(screen.getByLabelText('Runs'), 'every');
    await typeInto(user, screen.getByLabelText('Schedule'), '15m');
    await waitFor(() => expect(screen.getByTestId('schedule-description').textContent).toBe('Every 15m'));
    expect(screen.getAllByTestId('schedule-next')).toHaveLength(5);
  });

  it('fills the working directory from the folder picker', async () => {
    const { user, calls } = setup('#job=api&page=editor');
    const cwd = (await screen.findByLabelText('Working directory')) as HTMLInputElement;
    await user.click(screen.getByTestId('choose-cwd'));
    await waitFor(() => expect(cwd.value).toBe('/Users/dev/src/picked'));
    const asked = calls('plugin:dialog|open')[0]?.args as { options?: { directory?: boolean } };
    expect(asked.options?.directory).toBe(true);
  });

  it('opens secret env values masked with their secret boxes set, and saves the mask back untouched', async () => {
    const { user, calls, settings } = setup('#job=api&page=editor', { validate: () => [] });
    await screen.findByTestId('editor');
    // The engine masks them: nothing asks for the values to be shown.
    expect(calls('get_job')[0].args).toEqual({ name: 'api', showSecrets: null });
    const valueOf = (key: string) => screen.getByLabelText(`Value of ${key}`) as HTMLInputElement;
    expect(valueOf('API_TOKEN').type).toBe('password');
    expect(valueOf('API_TOKEN').value).toBe(MASK);
    expect(input('Secret API_TOKEN').checked).toBe(true);
    expect(valueOf('PORT').type).toBe('text');
    expect(input('Secret PORT').checked).toBe(false);
    await waitFor(() => expect(screen.getByTestId('editor-status').textContent).toBe(''));

    await user.click(input('Secret PORT'));
    expect(valueOf('PORT').type).toBe('password');
    await waitFor(() => expect(screen.getByTestId('editor-status').textContent).toBe('Unsaved changes'));
    await user.click(screen.getByTestId('save'));
    await screen.findByText('Saved');
    const sent = calls('save_job')[0].args['spec'] as JobSpec;
    expect(sent.secrets).toEqual(['PORT', 'API_TOKEN']);
    expect(sent.env).toEqual({ PORT: '8080', NODE_ENV: 'development', API_TOKEN: MASK });
    // Nothing is kept in the window any more.
    expect(localStorage.length).toBe(0);
    // The engine kept the stored value for the mask.
    expect(settings.state.specs.get('api')?.env?.['API_TOKEN']).toBe('s3cr3t-token');
    expect(settings.state.specs.get('api')?.secrets).toEqual(['PORT', 'API_TOKEN']);
  });

  it('reveals secret values by asking the engine once, with no edit made', async () => {
    const { user, calls } = setup('#job=api&page=editor', { validate: () => [] });
    await screen.findByTestId('editor');
    const valueOf = (key: string) => screen.getByLabelText(`Value of ${key}`) as HTMLInputElement;
    await user.click(screen.getByRole('button', { name: 'Reveal API_TOKEN' }));
    await waitFor(() => expect(valueOf('API_TOKEN').type).toBe('text'));
    expect(valueOf('API_TOKEN').value).toBe('s3cr3t-token');
    expect(calls('get_job').map((c) => c.args)).toEqual([
      { name: 'api', showSecrets: null },
      { name: 'api', showSecrets: true },
    ]);
    await waitFor(() => expect(screen.getByTestId('editor-status').textContent).toBe(''));
    await user.click(screen.getByRole('button', { name: 'Hide API_TOKEN' }));
    expect(valueOf('API_TOKEN').type).toBe('password');
    expect(valueOf('API_TOKEN').value).toBe('s3cr3t-token');
    await user.click(screen.getByRole('button', { name: 'Reveal API_TOKEN' }));
    expect(valueOf('API_TOKEN').type).toBe('text');
    expect(calls('get_job')).toHaveLength(2);

    // Now the value can be edited like any other.
    await typeInto(user, valueOf('API_TOKEN'), 'n3w-token');
    await waitFor(() => expect(screen.getByTestId('editor-status').textContent).toBe('Unsaved changes'));
    await user.click(screen.getByTestId('save'));
    await screen.findByText('Saved');
    expect((calls('save_job')[0].args['spec'] as JobSpec).env?.['API_TOKEN']).toBe('n3w-token');
  });

  it('keeps a secret masked when its value cannot be had', async () => {
    const { user, settings } = setup('#job=api&page=editor');
    const getJob = settings.handlers['get_job'];
    settings.handlers['get_job'] = (args) => (args['showSecrets'] ? Promise.reject({ code: 'error', message: 'engine gone' }) : getJob(args));
    await screen.findByTestId('editor');
    await user.click(screen.getByRole('button', { name: 'Reveal API_TOKEN' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Cannot show the secret values: engine gone');
    const value = screen.getByLabelText('Value of API_TOKEN') as HTMLInputElement;
    expect(value.type).toBe('password');
    expect(value.value).toBe(MASK);
  });

  it('saves the spec, and shows save errors inline and in a toast', async () => {
    const { user, calls, settings } = setup('#job=api&page=editor', { validate: () => [] });
    await screen.findByTestId('editor');
    await typeInto(user, input('Command'), 'node server.js --port 9090');
    await user.click(screen.getByTestId('save'));
    await screen.findByText('Saved');
    const saved = calls('save_job')[0].args;
    expect(saved['original']).toBe('api');
    expect((saved['spec'] as JobSpec).command).toBe('node server.js --port 9090');
    expect((saved['spec'] as JobSpec).env).toEqual({ PORT: '8080', NODE_ENV: 'development', API_TOKEN: MASK });
    expect(settings.state.specs.get('api')?.command).toBe('node server.js --port 9090');
    expect(settings.state.specs.get('api')?.env?.['API_TOKEN']).toBe('s3cr3t-token');

    // The validator here lets a rename through; the engine's save refuses it.
    await typeInto(user, input('Name'), 'api2');
    await user.click(screen.getByTestId('save'));
    await waitFor(() => expect(field('name')?.textContent).toBe('jobs cannot be renamed'));
    expect((await screen.findByRole('alert')).textContent).toContain('Not saved: name: jobs cannot be renamed');
  });

  it('creates a new job and opens it', async () => {
    const { user, calls } = setup('#page=new');
    await screen.findByTestId('editor');
    expect(calls('validate_job')).toHaveLength(0);
    await user.type(input('Name'), 'backup');
    await user.type(input('Command'), 'restic backup ~');
    await waitFor(() => expect((screen.getByTestId('save') as HTMLButtonElement).disabled).toBe(false));
    await user.click(screen.getByTestId('save'));
    await screen.findByText('Created backup');
    expect(calls('save_job')[0].args['original']).toBeNull();
    await waitFor(() => expect(location.hash).toBe('#job=backup&page=editor'));
  });

  it('duplicates into a prefilled new job', async () => {
    const { user } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    await user.click(screen.getByRole('button', { name: 'Duplicate' }));
    await waitFor(() => expect(location.hash).toBe('#page=new&from=api'));
    await waitFor(() => expect(input('Name').value).toBe('api-copy'));
    expect(input('Command').value).toBe('node server.js --port 8080');
    expect((screen.getByTestId('save') as HTMLButtonElement).textContent).toBe('Create');
  });

  it('duplicates with the real secret values, still secret', async () => {
    const { user, calls } = setup('#page=new&from=api', { validate: () => [] });
    await waitFor(() => expect(input('Name').value).toBe('api-copy'));
    // A new job has no stored value for the mask to keep: the copy asks for the real ones.
    expect(calls('get_job').map((c) => c.args)).toEqual([{ name: 'api', showSecrets: true }]);
    const token = screen.getByLabelText('Value of API_TOKEN') as HTMLInputElement;
    expect(token.type).toBe('password');
    expect(token.value).toBe('s3cr3t-token');
    expect(input('Secret API_TOKEN').checked).toBe(true);
    await user.click(screen.getByTestId('save'));
    await screen.findByText('Created api-copy');
    const sent = calls('save_job')[0].args['spec'] as JobSpec;
    expect(sent.env?.['API_TOKEN']).toBe('s3cr3t-token');
    expect(sent.secrets).toEqual(['API_TOKEN']);
  });

  it('shows the refusal of a mask as a new job\'s value under its row', async () => {
    const { user } = setup('#page=new', { validate: () => [] });
    await screen.findByTestId('editor');
    await user.type(input('Name'), 'x');
    await user.type(input('Command'), 'true');
    await user.click(screen.getByRole('button', { name: 'Add variable' }));
    await user.type(screen.getByLabelText('Variable name'), 'TOKEN');
    await user.type(screen.getByLabelText('Value of TOKEN'), MASK);
    await user.click(screen.getByTestId('save'));
    await waitFor(() => expect(field('env.TOKEN')?.textContent).toContain('the value is the placeholder of a hidden secret'));
  });

  it('asks before deleting, in its own dialog', async () => {
    const { user, calls } = setup('#job=redis&page=editor');
    await screen.findByTestId('editor');
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    const dialog = screen.getByRole('alertdialog');
    expect(within(dialog).getByText('Delete redis?')).toBeTruthy();
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(calls('delete_job')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alertdialog')).toBeNull();

    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete' }));
    await screen.findByText('Deleted redis');
    expect(calls('delete_job')[0].args).toEqual({ name: 'redis' });
    await waitFor(() => expect(location.hash).not.toContain('job=redis'));
  });
});

describe('logs viewer', () => {
  it('renders a window of 100,000 lines, live', async () => {
    const { settings } = setup('#job=api&page=logs', { logLines: 100_000 });
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toContain('10,000 lines'));
    // The backlog is 10,000 lines; the other 90,000 arrive live.
    const started = performance.now();
    for (let i = 0; i < 90_000; i++) settings.emitLog('api', { ts: new Date(NOW + i).toISOString(), stream: i % 2 ? 'stdout' : 'stderr', text: `live ${i}` });
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toContain('100,000 lines'));
    expect(performance.now() - started).toBeLessThan(10_000);
    const rendered = screen.getAllByTestId('log-line').length;
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(100);
  });

  it('colours ANSI, tints stderr, searches, filters and copies', async () => {
    const { user } = setup('#job=api&page=logs', { logLines: 300 });
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toContain('300 lines'));
    const lines = () => screen.getAllByTestId('log-line');
    const err = lines().find((l) => l.dataset['stream'] === 'stderr')!;
    expect(err.classList.contains('err')).toBe(true);
    const red = err.querySelector('.fg1.b');
    expect(red?.textContent).toBe('error');
    expect(err.textContent).not.toContain('\x1b');

    await user.type(screen.getByTestId('log-search'), 'connection reset');
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toBe('42 matches · 300 lines'));
    expect(document.querySelectorAll('mark, .mark').length).toBeGreaterThan(0);
    await user.click(screen.getByTestId('log-only-matches'));
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toBe('42 matches · 42 lines'));
    expect(lines().every((l) => l.textContent?.includes('connection reset'))).toBe(true);

    await user.click(screen.getByTestId('log-only-matches'));
    await user.clear(screen.getByTestId('log-search'));
    await user.selectOptions(screen.getByTestId('log-stream'), 'stderr');
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toBe('42 lines'));
    expect(lines().every((l) => l.dataset['stream'] === 'stderr')).toBe(true);

    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await user.click(lines()[0]);
    await fireEvent.click(lines()[2], { shiftKey: true });
    expect(screen.getByTestId('log-copy').textContent).toBe('Copy 3');
    await user.click(screen.getByTestId('log-copy'));
    await screen.findByText('Copied 3 selected lines');
    expect((writeText.mock.calls[0] as unknown as [string])[0].split('\n')).toHaveLength(3);
    expect(screen.getByTestId('log-follow').getAttribute('aria-pressed')).toBe('true');
    await user.click(screen.getByTestId('log-follow'));
    expect(screen.getByTestId('log-follow').getAttribute('aria-pressed')).toBe('false');
  });
});

describe('run history', () => {
  it('lists runs and opens the logs at a run start', async () => {
    const { user } = setup('#job=api&page=runs');
    const rows = await screen.findAllByTestId('run-row');
    expect(rows).toHaveLength(13);
    const cells = (row: HTMLElement) => [...row.querySelectorAll('td')].map((td) => td.textContent);
    expect(cells(rows[0]).slice(1)).toEqual(['12m so far', 'restart', '', 'running', '']);
    expect(cells(rows[1]).slice(1)).toEqual(['41s', 'retry', 'exit 1', 'failure', 'exited with code 1']);
    expect(cells(rows[3]).slice(3, 6)).toEqual(['SIGTERM', 'stopped', 'stopped by user']);

    await user.click(rows[6]);
    const start = new Date(NOW - 6 * 37 * 60_000).toISOString();
    await waitFor(() => expect(location.hash).toBe(`#job=api&page=logs&at=${encodeURIComponent(start)}`));
    await waitFor(() => expect(document.querySelector('[data-testid="log-line"].target')).not.toBeNull());
    expect(screen.getByTestId('log-follow').getAttribute('aria-pressed')).toBe('false');
    const first = document.querySelector<HTMLElement>('[data-testid="log-line"].target')!.textContent;

    // Another run of the same job: the same Logs page scrolls to it.
    const later = new Date(NOW - 2 * 37 * 60_000).toISOString();
    go(`#job=api&page=logs&at=${encodeURIComponent(later)}`);
    await waitFor(() => expect(document.querySelector<HTMLElement>('[data-testid="log-line"].target')?.textContent).not.toBe(first));
  });
});

describe('app settings', () => {
  it('toggles launch at login, regenerates the token and saves settings', async () => {
    const { user, calls } = setup('#page=app');
    await screen.findByTestId('app-settings');
    const login = await screen.findByTestId('launch-at-login') as HTMLInputElement;
    expect(login.checked).toBe(true);
    await user.click(login);
    await screen.findByText('SentinelZero will not start at login');
    expect(calls('set_launch_at_login')[0].args).toEqual({ enabled: false });
    expect(login.checked).toBe(false);

    expect(screen.getByTestId('metrics-token').textContent).toBe('••••••••');
    await user.click(screen.getByRole('button', { name: 'Reveal' }));
    expect(screen.getByTestId('metrics-token').textContent).toBe('sz_4f1c2b9e7a6d4c3b8e1f0a9d');
    await user.click(screen.getByTestId('regenerate-token'));
    await waitFor(() => expect(screen.getByTestId('metrics-token').textContent).not.toBe('sz_4f1c2b9e7a6d4c3b8e1f0a9d'));
    expect(calls('regenerate_metrics_token')).toHaveLength(1);

    expect((screen.getByTestId('save-settings') as HTMLButtonElement).disabled).toBe(true);
    await typeInto(user, screen.getByLabelText('At most one per job every'), 'often');
    await user.click(screen.getByTestId('save-settings'));
    await waitFor(() => expect(field('notifications.throttle')?.textContent).toBe('"often" is not a duration'));
    await typeInto(user, screen.getByLabelText('At most one per job every'), '10m');
    await user.click(screen.getByTestId('metrics-on'));
    await user.click(screen.getByTestId('save-settings'));
    await screen.findByText('Saved — applies after SentinelZero restarts');
    const sent = calls('save_settings').at(-1)!.args['settings'] as { notifications: { throttle: string }; metrics: { port: number | null } };
    expect(sent.notifications.throttle).toBe('10m');
    expect(sent.metrics.port).toBeNull();
    expect(screen.getByTestId('restart-needed').textContent).toContain('apply after SentinelZero restarts');
  });

  it('applies the theme as data-theme and stores it', async () => {
    const { user } = setup('#page=app');
    await screen.findByTestId('theme');
    expect(['light', 'dark']).toContain(document.documentElement.dataset['theme']);
    await user.selectOptions(screen.getByTestId('theme'), 'dark');
    expect(document.documentElement.dataset['theme']).toBe('dark');
    expect(localStorage.getItem('sentinel.theme')).toBe('dark');
    await user.selectOptions(screen.getByTestId('theme'), 'light');
    expect(document.documentElement.dataset['theme']).toBe('light');
  });
});
