// Unit tests of the settings window's pure modules.
import { defaultSpec, toyDefaults } from './toy-defaults';
import { describe, expect, it } from 'vitest';
import { highlight, parseAnsi, stripAnsi } from '../src/lib/ansi';
import { commandArgv, splitCommand } from '../src/lib/argv';
import {
  dependencyRow,
  draftKey,
  duplicateSpec,
  envRow,
  errorsFor,
  formFromSpec,
  isSecretRow,
  listRow,
  markSecret,
  messagesIn,
  SCHEDULE_FIELDS,
  SHOWN_FIELDS,
  specFromForm,
  specIndexes,
  unmaskDraftKey,
  unmaskRows,
} from '../src/lib/editor';
import { copyText, filterLines, indexAtTime, LogBuffer } from '../src/lib/logbuffer';
import { formatRoute, parseRoute } from '../src/lib/route';
import { runRow } from '../src/lib/runs';
import { MASK } from '../src/lib/secrets';
import { sections, shortcutFor } from '../src/lib/sidebar';
import { resolveTheme } from '../src/lib/theme';
import type { JobSpec, JobStatus } from '../src/lib/types';

describe('command splitting', () => {
  it('splits like a POSIX shell', () => {
    expect(splitCommand('python3 -m http.server 8000')).toEqual(['python3', '-m', 'http.server', '8000']);
    expect(splitCommand(`echo "a b" 'c d' e\\ f`)).toEqual(['echo', 'a b', 'c d', 'e f']);
    expect(splitCommand(`say "it's \\"fine\\""`)).toEqual(['say', `it's "fine"`]);
    expect(splitCommand(`a""b ''`)).toEqual(['ab', '']);
    expect(splitCommand('run # comment')).toEqual(['run']);
    expect(splitCommand('  ')).toEqual([]);
    expect(splitCommand('echo "open')).toBeNull();
    expect(splitCommand("echo 'open")).toBeNull();
  });

  it('shows /bin/sh -c with shell on', () => {
    expect(commandArgv('ls | wc -l', true)).toEqual(['/bin/sh', '-c', 'ls | wc -l']);
    expect(commandArgv('ls -l', false)).toEqual(['ls', '-l']);
  });
});

describe('ANSI SGR parser', () => {
  it('passes plain text through', () => {
    expect(parseAnsi('hello')).toEqual([{ text: 'hello', fg: null, bg: null, bold: false }]);
    expect(parseAnsi('')).toEqual([]);
  });

  it('reads foreground, background, bright, bold and resets', () => {
    expect(parseAnsi('\x1b[31mred\x1b[0m plain')).toEqual([
      { text: 'red', fg: 1, bg: null, bold: false },
      { text: ' plain', fg: null, bg: null, bold: false },
    ]);
    expect(parseAnsi('\x1b[1;92;44mx\x1b[22my\x1b[39mz\x1b[49mw')).toEqual([
      { text: 'x', fg: 10, bg: 4, bold: true },
      { text: 'y', fg: 10, bg: 4, bold: false },
      { text: 'z', fg: null, bg: 4, bold: false },
      { text: 'w', fg: null, bg: null, bold: false },
    ]);
    expect(parseAnsi('\x1b[mreset')).toEqual([{ text: 'reset', fg: null, bg: null, bold: false }]);
    expect(parseAnsi('\x1b[97;100mhi')[0]).toMatchObject({ fg: 15, bg: 8 });
  });

  it('skips 256-colour arguments and drops other escapes', () => {
    expect(parseAnsi('\x1b[38;5;196mx\x1b[32my')).toEqual([
      { text: 'x', fg: null, bg: null, bold: false },
      { text: 'y', fg: 2, bg: null, bold: false },
    ]);
    expect(parseAnsi('\x1b[2K\x1b[1Gprogress\x1b]0;title\x07!')).toEqual([
      { text: 'progress', fg: null, bg: null, bold: false },
      { text: '!', fg: null, bg: null, bold: false },
    ]);
    expect(stripAnsi('\x1b[1;31merror\x1b[0m: x')).toBe('error: x');
  });

  it('marks search matches across segments, case-insensitively', () => {
    const pieces = highlight(parseAnsi('\x1b[31mErr\x1b[0mor error'), 'error');
    expect(pieces.map((p) => [p.text, p.mark, p.fg])).toEqual([
      ['Err', true, 1],
      ['or', true, null],
      [' ', false, null],
      ['error', true, null],
    ]);
    expect(highlight(parseAnsi('nothing'), 'zzz')).toEqual([{ text: 'nothing', fg: null, bg: null, bold: false, mark: false }]);
  });
});

describe('log buffer and filters', () => {
  const line = (i: number, stream: 'stdout' | 'stderr' = 'stdout') => ({ ts: new Date(1_000_000 + i * 1000).toISOString(), stream, text: `line ${i}` });

  it('keeps at most its cap, dropping the oldest in chunks', () => {
    const buffer = new LogBuffer(100);
    for (let i = 0; i < 250; i++) buffer.push(line(i));
    expect(buffer.lines.length).toBeLessThanOrEqual(100);
    expect(buffer.lines[buffer.lines.length - 1].text).toBe('line 249');
    expect(buffer.dropped + buffer.lines.length).toBe(250);
    // Ids keep increasing across drops.
    expect(buffer.lines[buffer.lines.length - 1].id).toBe(249);
  });

  it('filters by stream and query, and finds a time', () => {
    const buffer = new LogBuffer();
    for (let i = 0; i < 30; i++) buffer.push(line(i, i % 3 === 0 ? 'stderr' : 'stdout'));
    buffer.push({ ts: new Date(2_000_000).toISOString(), stream: 'stdout', text: '\x1b[31mRED\x1b[0m alert' });
    const all = buffer.lines;
    expect(filterLines(all, { stream: 'all', query: 'line 1', onlyMatches: false })).toBe(all);
    expect(filterLines(all, { stream: 'stderr', query: '', onlyMatches: false })).toHaveLength(10);
    expect(filterLines(all, { stream: 'all', query: 'LINE 1', onlyMatches: true }).map((l) => l.text)).toEqual(
      ['line 1', ...Array.from({ length: 10 }, (_, i) => `line ${10 + i}`)],
    );
    expect(filterLines(all, { stream: 'all', query: 'red alert', onlyMatches: true })).toHaveLength(1);
    expect(indexAtTime(all, new Date(1_000_000 + 12_500).toISOString())).toBe(13);
    expect(indexAtTime(all, new Date(9_000_000).toISOString())).toBe(-1);
    expect(copyText(all.slice(0, 1))).toBe(`${new Date(1_000_000).toISOString()} ERR line 0`);
  });
});

describe('routes', () => {
  it('parses and formats every page', () => {
    expect(parseRoute('#job=api&page=logs')).toEqual({ page: 'logs', job: 'api' });
    expect(parseRoute('#job=api')).toEqual({ page: 'editor', job: 'api' });
    expect(parseRoute('#job=a%20b&page=runs')).toEqual({ page: 'runs', job: 'a b' });
    expect(parseRoute('#page=new')).toEqual({ page: 'new' });
    expect(parseRoute('#page=new&from=api')).toEqual({ page: 'new', from: 'api' });
    expect(parseRoute('#page=app')).toEqual({ page: 'app' });
    expect(parseRoute('')).toEqual({ page: 'app' });
    expect(parseRoute('#page=editor')).toEqual({ page: 'app' });
    const at = '2025-06-02T09:00:00.000Z';
    expect(parseRoute(formatRoute({ page: 'logs', job: 'x', at }))).toEqual({ page: 'logs', job: 'x', at });
    expect(formatRoute({ page: 'editor', job: 'api' })).toBe('#job=api&page=editor');
  });
});

describe('editor form', () => {
  const spec: JobSpec = {
    ...defaultSpec(),
    name: 'api',
    command: 'node server.js',
    env: { A: '1', SECRET: 'x' },
    secrets: ['SECRET', 'FROM_FILE'],
    schedule: { cron: '0 2 * * *', every: null, at: null, overlap: 'queue', missed: 'skip' },
    health: { exec: null, http: 'http://x/health', tcp: null, interval: '5s', timeout: '1s', retries: 2, start_period: '0s', restart: false },
  };

  it('round-trips a spec', () => {
    const form = formFromSpec(spec, toyDefaults());
    expect(form.schedule).toEqual({ kind: 'cron', value: '0 2 * * *', overlap: 'queue', missed: 'skip' });
    expect(form.health.kind).toBe('http');
    expect(form.env.map((r) => [r.key, r.secret])).toEqual([['A', false], ['SECRET', true]]);
    // A secret no env row sets (an env file's variable) is kept.
    expect(form.file_secrets).toEqual(['FROM_FILE']);
    expect(specFromForm(form, spec)).toEqual({ spec, errors: [] });
  });

  it('writes secrets from the rows marked secret and keeps the env files\' ones', () => {
    const form = formFromSpec(spec, toyDefaults());
    form.env[0].secret = true;
    form.env[1].secret = false;
    form.env.push(envRow('', '', true), envRow('NEW', 'v', true), envRow('FROM_FILE', 'set here'));
    expect(specFromForm(form).spec.secrets).toEqual(['A', 'NEW', 'FROM_FILE']);
    // A row setting a file secret's name is secret too, until it is unmarked.
    expect(isSecretRow(form.env[4], form.file_secrets)).toBe(true);
    markSecret(form, 'FROM_FILE', false);
    expect(form.file_secrets).toEqual([]);
    expect(specFromForm(form).spec.secrets).toEqual(['A', 'NEW']);
    // By name: a row's marker, or else a file secret.
    markSecret(form, 'LOG_LEVEL', true);
    markSecret(form, 'NEW', false);
    expect(form.file_secrets).toEqual(['LOG_LEVEL']);
    expect(specFromForm(form).spec.secrets).toEqual(['A', 'LOG_LEVEL']);
  });

  it('puts the shown values into masked rows, and into the draft as loaded', () => {
    const masked: JobSpec = { ...spec, env: { A: '1', SECRET: MASK, OTHER: MASK } };
    const loaded = draftKey(formFromSpec(masked, toyDefaults()), masked);
    const form = formFromSpec(masked, toyDefaults());
    form.env[2].value = 'typed';
    unmaskRows(form.env, { A: '1', SECRET: 'real', OTHER: 'real2' });
    expect(form.env.map((r) => r.value)).toEqual(['1', 'real', 'typed']);
    const unmasked = unmaskDraftKey(loaded, { A: '1', SECRET: 'real', OTHER: 'real2' });
    form.env[2].value = 'real2';
    expect(draftKey(form, masked)).toBe(unmasked);
    expect(unmasked).not.toContain(MASK);
  });

  it('turns empty text into null and reports what cannot be a spec', () => {
    const form = formFromSpec(defaultSpec(), toyDefaults());
    form.name = ' x ';
    form.cwd = '  ';
    form.restart.success_exit_codes = '0, 2 x';
    form.env = [...form.env];
    const { spec: out, errors } = specFromForm(form);
    expect(out.name).toBe('x');
    expect(out.cwd).toBeNull();
    expect(out.restart.success_exit_codes).toEqual([0, 2]);
    expect(errors).toEqual([{ field: 'restart.success_exit_codes', message: '"x" is not an exit code (0–255)' }]);
  });

  it('round-trips dependencies, file watch, env files, ports, nice and rlimits', () => {
    const stack: JobSpec = {
      ...spec,
      schedule: null,
      depends_on: [{ job: 'db', condition: 'healthy' }, { job: 'migrate', condition: 'completed' }],
      watch: { paths: ['src', 'package.json'], ignore: ['*.log'], debounce: '250ms' },
      env_files: ['.env', '.env.local'],
      ports: [8080, 8443],
      nice: -5,
      rlimits: { nofile: 4096, core: '0' },
    };
    const form = formFromSpec(stack, toyDefaults());
    expect(form.depends_on.map((d) => [d.job, d.condition])).toEqual([['db', 'healthy'], ['migrate', 'completed']]);
    expect(form.watch.enabled).toBe(true);
    expect(form.watch.paths.map((r) => r.value)).toEqual(['src', 'package.json']);
    expect(form.env_files.map((r) => r.value)).toEqual(['.env', '.env.local']);
    expect(form.ports).toBe('8080, 8443');
    expect(form.nice).toBe(-5);
    expect(form.rlimits).toEqual({ nofile: 4096, core: '0' });
    expect(specFromForm(form, stack)).toEqual({ spec: stack, errors: [] });

    // The engine leaves empty fields out of what it sends: the form fills in the defaults.
    const bare = formFromSpec({ name: 'x', command: 'y', shell: false, enabled: true, autostart: true, kind: 'service', restart: spec.restart, stop_signal: 'TERM', stop_timeout: '10s', logs: spec.logs }, toyDefaults());
    expect(bare.watch).toMatchObject({ enabled: false, debounce: '500ms' });
    expect(bare.watch.paths.map((r) => r.value)).toEqual(['.']);
    const out = specFromForm(bare).spec;
    expect(out).toMatchObject({ depends_on: [], watch: null, env_files: [], ports: [], nice: null, rlimits: { nofile: null, core: null } });
  });

  it('leaves blank rows out and names rows by their index in the spec', () => {
    const form = formFromSpec(defaultSpec(), toyDefaults());
    form.env_files = [listRow('.env'), listRow('  '), listRow('.env.local')];
    form.depends_on = [dependencyRow(''), dependencyRow('db', 'healthy')];
    form.watch = { enabled: true, paths: [listRow(''), listRow('src')], ignore: [listRow('*.log ')], debounce: ' 1s ' };
    const { spec: out } = specFromForm(form);
    expect(out.env_files).toEqual(['.env', '.env.local']);
    expect(out.depends_on).toEqual([{ job: 'db', condition: 'healthy' }]);
    expect(out.watch).toEqual({ paths: ['src'], ignore: ['*.log'], debounce: '1s' });
    expect(specIndexes(form.env_files.map((r) => r.value))).toEqual([0, null, 1]);
    expect(specIndexes(form.depends_on.map((r) => r.job))).toEqual([null, 0]);
    // A blank row is not an edit.
    const before = draftKey(formFromSpec(defaultSpec(), toyDefaults()));
    const blank = formFromSpec(defaultSpec(), toyDefaults());
    blank.env_files = [listRow()];
    expect(draftKey(blank)).toBe(before);
    blank.nice = 3;
    expect(draftKey(blank)).not.toBe(before);
  });

  it('sends a watch only for services, and reports ports and numbers that cannot be a spec', () => {
    const form = formFromSpec({ ...defaultSpec(), watch: { paths: ['.'], ignore: [], debounce: '500ms' } }, toyDefaults());
    form.kind = 'task';
    expect(specFromForm(form).spec.watch).toBeNull();
    // Kept in the form: a service again watches as before.
    form.kind = 'service';
    expect(specFromForm(form).spec.watch).toEqual({ paths: ['.'], ignore: [], debounce: '500ms' });

    form.ports = '8080,  x 70000 0';
    form.nice = 1.5;
    form.rlimits.nofile = -1;
    form.rlimits.core = ' 1GiB ';
    const { spec: out, errors } = specFromForm(form);
    // 0 is the engine's to refuse (ports[i]); a non-number or a number beyond 65535 cannot be sent.
    expect(out.ports).toEqual([8080, 0]);
    expect(out.nice).toBeNull();
    expect(out.rlimits).toEqual({ nofile: null, core: '1GiB' });
    expect(errors).toEqual([
      { field: 'ports', message: '"x" is not a port (1–65535)' },
      { field: 'ports', message: '"70000" is not a port (1–65535)' },
      { field: 'nice', message: '1.5 is not a whole number' },
      { field: 'rlimits.nofile', message: '-1 is not a number of files' },
    ]);
    form.nice = undefined;
    form.rlimits.nofile = undefined;
    expect(specFromForm(form).spec).toMatchObject({ nice: null, rlimits: { nofile: null } });
  });

  it('knows which engine fields have a place in the form', () => {
    const shown = ['depends_on[0].job', 'depends_on[3]', 'watch', 'watch.paths', 'watch.paths[1]', 'watch.ignore[0]', 'watch.debounce', 'env_files[2]', 'ports[1]', 'ports', 'nice', 'rlimits.nofile', 'rlimits.core'];
    for (const field of shown) expect(SHOWN_FIELDS.test(field), field).toBe(true);
    for (const field of ['depends_on.x', 'watch.nope', 'rlimits', 'ports[x]', 'logs.max_age_x[1]']) expect(SHOWN_FIELDS.test(field), field).toBe(false);
    const errors = [{ field: 'ports[1]', message: '8080 is listed twice' }, { field: 'ports', message: 'bad' }, { field: 'portsx', message: 'no' }];
    expect(errorsFor(errors, 'ports', true)).toEqual(['8080 is listed twice', 'bad']);
  });

  it('duplicates as NAME-copy and finds errors by field', () => {
    expect(duplicateSpec(spec).name).toBe('api-copy');
    expect(duplicateSpec(spec).env).not.toBe(spec.env);
    const errors = [{ field: 'env.MY KEY', message: 'bad' }, { field: 'restart.delay', message: 'nope' }];
    expect(errorsFor(errors, 'restart.delay')).toEqual(['nope']);
    expect(errorsFor(errors, 'env', true)).toEqual(['bad']);
    expect(errorsFor(errors, 'env')).toEqual([]);
    const msgs = messagesIn([...errors, { field: 'schedule.cron', message: 'not cron' }, { field: 'schedule', message: 'none' }]);
    expect(msgs('restart.delay')).toEqual(['nope']);
    expect(msgs('env', true)).toEqual(['bad']);
    expect(msgs(SCHEDULE_FIELDS)).toEqual(['none', 'not cron']);
  });
});

describe('sidebar, shortcuts, runs, theme', () => {
  it('groups and searches jobs', () => {
    const job = (name: string, group?: string) => ({ name, group, kind: 'service', enabled: true, restarts: 0, failures: 0, state: 'stopped' }) as JobStatus;
    const jobs = [job('b', 'web'), job('a'), job('c', 'data'), job('a2', 'web')];
    expect(sections(jobs, '').map((s) => [s.group, s.jobs.map((j) => j.name)])).toEqual([
      ['data', ['c']],
      ['web', ['a2', 'b']],
      [null, ['a']],
    ]);
    expect(sections(jobs, 'A').map((s) => s.jobs.map((j) => j.name))).toEqual([['c'], ['a2'], ['a']]);
    expect(sections(jobs, 'web').flatMap((s) => s.jobs.map((j) => j.name))).toEqual(['a2', 'b']);
    // A project's jobs make its own section, first, whatever their group; its name is searched.
    const shop = { name: 'shop', file: '/srv/shop/sentinel.toml' };
    const withProject = [...jobs, { ...job('shop.db', 'data'), project: shop }];
    const listed = sections(withProject, '');
    expect(listed.map((s) => [s.key, s.group])).toEqual([['p:shop', 'shop'], ['g:data', 'data'], ['g:web', 'web'], ['', null]]);
    expect(listed[0]).toMatchObject({ selection: { project: 'shop' }, project: shop });
    expect(sections(withProject, 'shop').flatMap((s) => s.jobs.map((j) => j.name))).toEqual(['shop.db']);
  });

  it('maps Cmd/Ctrl shortcuts only', () => {
    expect(shortcutFor({ key: 'w', metaKey: true })).toBe('close');
    expect(shortcutFor({ key: ',', ctrlKey: true })).toBe('app');
    expect(shortcutFor({ key: 'N', ctrlKey: true })).toBe('new');
    expect(shortcutFor({ key: 'f', metaKey: true })).toBe('search');
    expect(shortcutFor({ key: 'f' })).toBeNull();
    expect(shortcutFor({ key: 'w', metaKey: true, shiftKey: true })).toBeNull();
  });

  it('describes runs', () => {
    const now = Date.parse('2025-06-02T10:00:00Z');
    const row = runRow({ id: 1, job: 'x', trigger: 'memory_limit', started_at: '2025-06-02T09:00:00Z', ended_at: '2025-06-02T09:02:30Z', outcome: 'failure', signal: 9, reason: 'over 512MB' }, now);
    expect(row).toMatchObject({ duration: '2m 30s', trigger: 'memory limit', exit: 'SIGKILL', outcome: 'failure', reason: 'over 512MB' });
    const running = runRow({ id: 2, job: 'x', trigger: 'manual', started_at: '2025-06-02T09:59:00Z' }, now);
    expect(running).toMatchObject({ duration: '1m so far', outcome: 'running', exit: '' });
    expect(runRow({ id: 4, job: 'x', trigger: 'file_change', started_at: '2025-06-02T09:59:00Z' }, now).trigger).toBe('file change');
    expect(runRow({ id: 3, job: 'x', trigger: 'retry', started_at: '2025-06-02T09:59:00Z', ended_at: '2025-06-02T09:59:01Z', outcome: 'spawn_failed' }, now).outcome).toBe('spawn failed');
  });

  it('resolves the theme', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });
});
