// Component tests of the settings window's dev-stack parts: the editor's dependencies, file
// watch, env files (with the resolved environment), ports, priority and limits; a waiting job's
// header; log retention in app settings. The real settings-ipc.ts behind Tauri's mocked IPC.
import { clearMocks } from '@tauri-apps/api/mocks';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { readable } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsApp from '../src/components/SettingsApp.svelte';
import { tauriSettingsIpc } from '../src/lib/settings-ipc';
import type { FieldError, FreedPorts, JobSpec, Settings, Snapshot } from '../src/lib/types';
import { DOCS_CONFLICT, NOW, sampleSnapshot } from './fixtures';
import { installMockBackend, type MockOptions } from './mock-backend';
import { settingsBackend, type SettingsBackend, type SettingsOptions } from './settings-backend';

beforeEach(() => {
  localStorage.clear();
});
afterEach(() => {
  clearMocks();
  history.replaceState(null, '', '#');
});

interface Extra {
  mock?: Partial<MockOptions>;
  snapshot?: Snapshot;
  /** Changes the fake engine's state before the window opens. */
  before?: (settings: SettingsBackend) => void;
}

function setup(hash: string, options: Partial<SettingsOptions> = {}, { mock = {}, snapshot = sampleSnapshot(), before }: Extra = {}) {
  history.replaceState(null, '', hash);
  const settings = settingsBackend({ now: NOW, jobs: snapshot.jobs, ...options });
  before?.(settings);
  const backend = installMockBackend({ snapshot, handlers: settings.handlers, window: 'settings', ...mock });
  const user = userEvent.setup();
  const result = render(SettingsApp, { props: { ipc: tauriSettingsIpc, clock: readable(NOW), close: vi.fn(), delay: 20 } });
  const calls = (cmd: string) => backend.calls.filter((c) => c.cmd === cmd);
  /** The spec of the newest validate_job call. */
  const validated = () => calls('validate_job').at(-1)?.args['spec'] as JobSpec | undefined;
  return { settings, backend, user, calls, validated, ...result };
}

// Field paths have brackets ("ports[1]"), so no attribute selector.
const field = (name: string) => [...document.querySelectorAll<HTMLElement>('[data-field]')].find((el) => el.dataset['field'] === name) ?? null;
const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const select = (label: string) => screen.getByLabelText(label) as HTMLSelectElement;
const save = () => screen.getByTestId('save') as HTMLButtonElement;
const status = () => screen.getByTestId('editor-status').textContent ?? '';

async function typeInto(user: ReturnType<typeof userEvent.setup>, el: HTMLElement, text: string) {
  await user.clear(el);
  if (text) await user.type(el, text);
}

describe('job editor: dependencies', () => {
  it('lists, adds and removes dependencies chosen from the jobs, with errors on their rows', async () => {
    const { user, validated } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    expect(select('Dependency 1').value).toBe('db-tunnel');
    expect(select('Condition of dependency 1').value).toBe('started');
    expect(select('Dependency 2').value).toBe('redis');
    expect(select('Condition of dependency 2').value).toBe('healthy');
    // Every other job, not the one being edited.
    const options = [...select('Dependency 1').options].map((o) => o.value);
    expect(options).toContain('worker');
    expect(options).not.toContain('api');
    await waitFor(() => expect(status()).toBe(''));

    // A row with no job chosen is not an edit yet.
    await user.click(screen.getByRole('button', { name: 'Add dependency' }));
    expect(select('Dependency 3').value).toBe('');
    expect(status()).toBe('');
    await user.selectOptions(select('Dependency 3'), 'db-tunnel');
    await user.selectOptions(select('Condition of dependency 3'), 'completed');
    await waitFor(() => expect(field('depends_on[2]')?.textContent).toBe('db-tunnel is listed twice'));
    expect(select('Dependency 3').getAttribute('aria-invalid')).toBe('true');
    expect(save().disabled).toBe(true);
    await waitFor(() =>
      expect(validated()?.depends_on).toEqual([
        { job: 'db-tunnel', condition: 'started' },
        { job: 'redis', condition: 'healthy' },
        { job: 'db-tunnel', condition: 'completed' },
      ]),
    );

    // Removing the first row renumbers: the problem follows its row.
    await user.click(screen.getByRole('button', { name: 'Remove dependency 1' }));
    await waitFor(() => expect(validated()?.depends_on).toEqual([{ job: 'redis', condition: 'healthy' }, { job: 'db-tunnel', condition: 'completed' }]));
    await waitFor(() => expect(save().disabled).toBe(false));
    expect(field('depends_on[1]')).toBeNull();
    await waitFor(() => expect(status()).toBe('Unsaved changes'));
  });

  it('keeps a dependency on a job that is gone, marked', async () => {
    const { user } = setup('#job=worker&page=editor', {}, {
      before: (settings) => (settings.state.specs.get('worker')!.depends_on = [{ job: 'old-db', condition: 'started' }]),
    });
    await screen.findByTestId('editor');
    await waitFor(() => expect(select('Dependency 1').value).toBe('old-db'));
    expect(select('Dependency 1').selectedOptions[0].textContent).toBe('old-db (no such job)');
    await waitFor(() => expect(status()).toBe(''));
    await user.click(screen.getByRole('button', { name: 'Remove dependency 1' }));
    expect(screen.queryByLabelText('Dependency 1')).toBeNull();
    await waitFor(() => expect(status()).toBe('Unsaved changes'));
  });
});

describe('job editor: file watch', () => {
  it('edits paths, ignore globs and the debounce, with errors by field', async () => {
    const { user, validated } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    const section = within(screen.getByTestId('section-watch'));
    expect((section.getByTestId('watch-enabled') as HTMLInputElement).checked).toBe(true);
    expect(input('Watched path 1').value).toBe('src');
    expect(input('Watched path 2').value).toBe('package.json');
    expect(input('Ignore glob 2').value).toBe('tmp/**');
    expect(section.getByText('node_modules')).toBeTruthy();

    await typeInto(user, input('Debounce'), '5ms');
    await waitFor(() => expect(field('watch.debounce')?.textContent).toBe('5ms is out of range; use 10ms to 10m'));
    expect(input('Debounce').getAttribute('aria-invalid')).toBe('true');
    await typeInto(user, input('Debounce'), '1s');
    await waitFor(() => expect(field('watch.debounce')).toBeNull());

    // A blank row in between is left out: the engine's index names the row after it.
    await user.click(section.getByRole('button', { name: 'Add glob' }));
    await user.click(section.getByRole('button', { name: 'Add glob' }));
    // user-event reads "[[" as one "[".
    await user.type(input('Ignore glob 4'), 'src/[[');
    await waitFor(() => expect(field('watch.ignore[2]')?.textContent).toContain('is not a glob'));
    expect(input('Ignore glob 4').getAttribute('aria-invalid')).toBe('true');
    expect(input('Ignore glob 3').getAttribute('aria-invalid')).toBe('false');
    await waitFor(() => expect(validated()?.watch).toEqual({ paths: ['src', 'package.json'], ignore: ['*.log', 'tmp/**', 'src/['], debounce: '1s' }));
    await user.click(section.getByRole('button', { name: 'Remove ignore glob 4' }));
    await waitFor(() => expect(field('watch.ignore[2]')).toBeNull());

    await user.click(section.getByRole('button', { name: 'Remove watched path 1' }));
    await user.click(section.getByRole('button', { name: 'Remove watched path 1' }));
    await waitFor(() => expect(field('watch.paths')?.textContent).toContain('is empty'));
    await user.click(section.getByRole('button', { name: 'Add path' }));
    await user.type(input('Watched path 1'), '.');
    await waitFor(() => expect(field('watch.paths')).toBeNull());

    await user.click(section.getByTestId('watch-enabled'));
    expect(screen.queryByLabelText('Debounce')).toBeNull();
    await waitFor(() => expect(validated()?.watch).toBeNull());
  });

  it('is only for services: hidden for a task, and kept for when it is a service again', async () => {
    const { user, validated } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    await user.selectOptions(select('Kind'), 'task');
    expect(screen.queryByTestId('section-watch')).toBeNull();
    await waitFor(() => expect(validated()?.kind).toBe('task'));
    expect(validated()?.watch).toBeNull();
    await user.selectOptions(select('Kind'), 'service');
    expect(input('Watched path 1').value).toBe('src');
    await waitFor(() => expect(validated()?.kind).toBe('service'));
    expect(validated()?.watch?.paths).toEqual(['src', 'package.json']);
    await waitFor(() => expect(status()).toBe(''));
  });

  it('is not there for a task', async () => {
    setup('#job=report&page=editor');
    await screen.findByTestId('editor');
    expect(select('Kind').value).toBe('task');
    expect(screen.queryByTestId('section-watch')).toBeNull();
    expect(screen.queryByText('Restart when files change')).toBeNull();
    // The rest of the dev-stack fields apply to tasks too.
    expect(screen.getByTestId('section-dependencies')).toBeTruthy();
    expect(screen.getByTestId('section-limits')).toBeTruthy();
  });
});

describe('job editor: env files and the resolved environment', () => {
  it('shows where each variable comes from, masks secrets, and says when an env file is missing', async () => {
    const { user, calls } = setup('#job=api&page=editor', { validate: () => [] });
    await screen.findByTestId('editor');
    expect(input('Env file 1').value).toBe('.env');
    expect(input('Env file 2').value).toBe('.env.local');
    // Asked only when opened.
    expect(calls('job_env')).toHaveLength(0);
    await user.click(screen.getByText('Resolved environment'));
    await waitFor(() => expect(screen.getAllByTestId('resolved-var').length).toBeGreaterThan(0));
    expect(calls('job_env')[0].args).toEqual({ name: 'api', showSecrets: null });
    // Key, value, from, overrides (the fifth cell holds a file variable's secret box).
    const row = (key: string) => [...document.querySelector(`[data-testid="resolved-var"][data-key="${key}"]`)!.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent);
    // Files under the cwd are named as the list above names them; the full path is the tooltip.
    expect(row('LOG_LEVEL')).toEqual(['LOG_LEVEL', 'debug', '.env.local', '.env']);
    expect(document.querySelector<HTMLElement>('[data-key="LOG_LEVEL"] td:nth-child(3)')!.title).toBe('/Users/dev/src/api/.env.local');
    expect(row('DATABASE_URL')).toEqual(['DATABASE_URL', 'postgres://localhost:5432/api', '.env', '']);
    expect(row('PORT')).toEqual(['PORT', '8080', 'env', '.env']);
    // Secret in the job: the engine masks it.
    expect(row('API_TOKEN')).toEqual(['API_TOKEN', '••••••••', 'env', '.env.local']);
    // Marked secret in the editor, not saved yet: masked here already.
    await user.click(screen.getByLabelText('Secret PORT'));
    expect(row('PORT')[1]).toBe('••••••••');
    // A variable from an env file is marked here (the table above has no row for it).
    expect(screen.queryByLabelText('Secret API_TOKEN from its env file')).toBeNull();
    expect(screen.queryByTestId('file-secrets')).toBeNull();
    await user.click(screen.getByLabelText('Secret DATABASE_URL from its env file'));
    expect(row('DATABASE_URL')[1]).toBe('••••••••');
    expect(screen.getByTestId('file-secrets').textContent).toContain('DATABASE_URL');

    await user.click(screen.getByRole('button', { name: 'Add env file' }));
    await user.type(input('Env file 3'), 'missing.env');
    expect(screen.getByTestId('resolved-env').textContent).toContain('As saved: save to see your edits here.');
    await waitFor(() => expect(save().disabled).toBe(false));
    await user.click(save());
    // Saved: asked again, and the engine cannot read the new file.
    expect((await screen.findByTestId('resolved-env-error')).textContent).toBe('env file /Users/dev/src/api/missing.env: not found');
    expect(calls('job_env')).toHaveLength(2);
    expect(screen.getByTestId('resolved-env').textContent).not.toContain('As saved');
    expect((calls('save_job')[0].args['spec'] as JobSpec).secrets).toEqual(['PORT', 'API_TOKEN', 'DATABASE_URL']);
  });

  it('shows an env file problem under its row, blank rows aside', async () => {
    const validate = (spec: JobSpec): FieldError[] =>
      (spec.env_files ?? []).flatMap((f, i) => (f.includes(' ') ? [{ field: `env_files[${i}]`, message: `"${f}" has a space` }] : []));
    const { user } = setup('#page=new', { validate });
    await screen.findByTestId('editor');
    expect(screen.queryByTestId('resolved-env')).toBeNull();
    await user.type(input('Name'), 'x');
    await user.click(screen.getByRole('button', { name: 'Add env file' }));
    await user.click(screen.getByRole('button', { name: 'Add env file' }));
    await user.type(input('Env file 2'), 'my env');
    await waitFor(() => expect(field('env_files[0]')?.textContent).toBe('"my env" has a space'));
    expect(input('Env file 2').getAttribute('aria-invalid')).toBe('true');
    expect(input('Env file 1').getAttribute('aria-invalid')).toBe('false');
  });
});

describe('job editor: ports, priority and limits', () => {
  it('edits ports, nice and rlimits with errors by field, and saves them', async () => {
    const { user, calls, validated } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    expect(input('Ports').value).toBe('8080');
    expect(input('Nice').value).toBe('5');
    expect(input('Open files').value).toBe('4096');
    expect(input('Core dump size').value).toBe('0');

    await typeInto(user, input('Ports'), '8080, 9090, 8080');
    await waitFor(() => expect(field('ports')?.textContent).toBe('8080 is listed twice'));
    expect(input('Ports').getAttribute('aria-invalid')).toBe('true');
    await typeInto(user, input('Ports'), '8080 http');
    await waitFor(() => expect(field('ports')?.textContent).toBe('"http" is not a port (1–65535)'));
    await typeInto(user, input('Ports'), '8080, 9090');
    await waitFor(() => expect(field('ports')).toBeNull());

    await typeInto(user, input('Nice'), '25');
    await waitFor(() => expect(field('nice')?.textContent).toBe('25 is out of range; use -20 (first) to 19 (last)'));
    await typeInto(user, input('Nice'), '-3');
    await waitFor(() => expect(field('nice')).toBeNull());
    await typeInto(user, input('Open files'), '2');
    await waitFor(() => expect(field('rlimits.nofile')?.textContent).toContain('use at least 3'));
    expect(save().disabled).toBe(true);
    await typeInto(user, input('Open files'), '');
    await waitFor(() => expect(field('rlimits.nofile')).toBeNull());
    await typeInto(user, input('Core dump size'), '1GiB');
    await waitFor(() => expect(validated()?.rlimits).toEqual({ nofile: null, core: '1GiB' }));

    await user.click(save());
    await screen.findByText('Saved');
    const sent = calls('save_job')[0].args['spec'] as JobSpec;
    expect(sent).toMatchObject({ ports: [8080, 9090], nice: -3, rlimits: { nofile: null, core: '1GiB' } });
    await waitFor(() => expect(status()).toBe(''));
  });

  it('shows an engine error about a limit it cannot read under its field', async () => {
    const validate = (spec: JobSpec): FieldError[] =>
      spec.rlimits?.core === 'lots' ? [{ field: 'rlimits.core', message: 'invalid size "lots": write a number and a unit, like 0, 512KiB or 1GiB' }] : [];
    const { user } = setup('#job=api&page=editor', { validate });
    await screen.findByTestId('editor');
    await typeInto(user, input('Core dump size'), 'lots');
    await waitFor(() => expect(field('rlimits.core')?.textContent).toContain('invalid size "lots"'));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('counts the new fields as unsaved edits, and no longer once put back', async () => {
    const { user } = setup('#job=api&page=editor');
    await screen.findByTestId('editor');
    await typeInto(user, input('Nice'), '6');
    await waitFor(() => expect(status()).toBe('Unsaved changes'));
    await typeInto(user, input('Nice'), '5');
    await waitFor(() => expect(status()).toBe(''));
    await typeInto(user, input('Env file 2'), '.env.dev');
    await waitFor(() => expect(status()).toBe('Unsaved changes'));
  });
});

describe('a waiting job in the settings window', () => {
  it('shows the wait in the sidebar and header, and stops the leftover that holds its port', async () => {
    let free!: (freed: FreedPorts) => void;
    const { user, calls } = setup('#job=docs&page=runs', {}, { mock: { freePorts: () => new Promise((resolve) => (free = resolve)) } });
    await screen.findAllByTestId('sidebar-job');
    const side = document.querySelector<HTMLElement>('[data-testid="sidebar-job"][data-job="docs"]')!;
    const sideDot = within(side).getByTestId('state-dot');
    expect(sideDot.classList.contains('waiting')).toBe(true);
    expect(sideDot.title).toBe(`waiting: ${DOCS_CONFLICT}`);
    await waitFor(() => expect(screen.getByTestId('job-detail').textContent).toBe(`${DOCS_CONFLICT} · last SIGKILL 3h ago`));
    expect(screen.getByTestId('job-detail').title).toContain('left over from an earlier run of docs');
    expect(screen.getByRole('button', { name: 'Stop' })).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Stop leftover' }));
    await waitFor(() => expect(calls('free_ports')).toHaveLength(1));
    expect(calls('free_ports')[0].args).toEqual({ name: 'docs' });
    expect((screen.getByRole('button', { name: 'Stopping…' }) as HTMLButtonElement).disabled).toBe(true);
    free({ job: 'docs', stopped: [{ pid: 3121, command: 'python3 -m mkdocs serve -a 127.0.0.1:8000', job: 'docs', orphan: true }], kept: [] });
    await screen.findByText('docs: stopped pid 3121 (python3 -m mkdocs serve -a 127.0.0.1:8000)');
    expect((screen.getByRole('button', { name: 'Stop leftover' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('offers no Stop leftover for a wait on a dependency', async () => {
    const snapshot = sampleSnapshot();
    const docs = snapshot.jobs.find((j) => j.name === 'docs')!;
    Object.assign(docs, {
      reason: { kind: 'dependency', job: 'api', condition: 'healthy', now: { state: 'starting' } },
      message: 'waiting for api to be healthy (api is starting)',
    });
    setup('#job=docs&page=runs', {}, { snapshot });
    await waitFor(() => expect(screen.getByTestId('job-detail').textContent).toContain('waiting for api to be healthy'));
    expect(screen.queryByRole('button', { name: 'Stop leftover' })).toBeNull();
  });
});

describe('app settings: log retention', () => {
  it('edits logs.max_age: empty keeps by count, errors by field, save and revert', async () => {
    const { user, calls } = setup('#page=app');
    await screen.findByTestId('app-settings');
    const age = () => input('Delete rotated logs after');
    const saveButton = () => screen.getByTestId('save-settings') as HTMLButtonElement;
    await waitFor(() => expect(age().value).toBe(''));
    expect(saveButton().disabled).toBe(true);

    await user.type(age(), '30s');
    expect(saveButton().disabled).toBe(false);
    await user.click(saveButton());
    await waitFor(() => expect(field('logs.max_age')?.textContent).toBe('is too short; keep rotated logs for at least 1m'));
    expect(age().getAttribute('aria-invalid')).toBe('true');

    await typeInto(user, age(), '14d');
    await user.click(saveButton());
    await screen.findByText('Saved — applies after SentinelZero restarts');
    expect((calls('save_settings').at(-1)!.args['settings'] as Settings).logs).toEqual({ max_age: '14d' });
    expect(field('logs.max_age')).toBeNull();
    expect(saveButton().disabled).toBe(true);

    // Emptied: sent without max_age, as the engine writes "keep by count".
    await typeInto(user, age(), '');
    expect(saveButton().disabled).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Revert' }));
    expect(age().value).toBe('14d');
    await typeInto(user, age(), ' ');
    await user.click(saveButton());
    await waitFor(() => expect(calls('save_settings')).toHaveLength(3));
    expect((calls('save_settings').at(-1)!.args['settings'] as Settings).logs).toEqual({});
  });
});
