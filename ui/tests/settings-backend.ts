// The settings window's commands for the fake engine (mock-backend.ts): job definitions, a
// toy validator, runs, logs with a live channel, schedule previews and app settings. Used by
// the component tests and, bundled, by the browser checks.
import { defaultSpec, toyDefaults } from './toy-defaults';
import type { Channel } from '@tauri-apps/api/core';
import { delaySequence, parseDuration, type DelayPolicy } from './toy-duration';
import { MASK } from '../src/lib/secrets';
import type { AppSettings } from '../src/lib/types';
import type { EnvSource, EnvVar, FieldError, JobSpec, JobStatus, LogLine, Missed, RunRecord, SchedulePreview, Settings } from '../src/lib/types';

const iso = (t: number) => new Date(t).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;

export interface SettingsState {
  specs: Map<string, JobSpec>;
  /** The env files on the fake disk, by absolute path. */
  files: Map<string, Record<string, string>>;
  runs: Map<string, RunRecord[]>;
  logs: Map<string, LogLine[]>;
  app: AppSettings;
}

const COMMANDS: Record<string, string> = {
  api: 'node server.js --port 8080',
  worker: 'python3 -m worker --queue "default jobs"',
  'frontend-dev': 'npm run dev',
  'db-tunnel': 'ssh -N -L 5432:localhost:5432 db.internal',
  'nightly-backup': 'restic backup ~/Documents',
  'sync-photos': 'rclone sync ~/Pictures remote:photos',
  report: 'python3 report.py',
  docs: 'python3 -m mkdocs serve -a 127.0.0.1:8000',
  ollama: 'ollama serve',
  'queue-consumer': 'consume.py',
  redis: 'redis-server --port 6380',
  'old-script': 'cleanup.sh',
};

/** A JobSpec per job in the snapshot, with a few fields filled in to show them off. */
export function sampleSpecs(jobs: JobStatus[]): Map<string, JobSpec> {
  const specs = new Map<string, JobSpec>();
  for (const job of jobs) {
    const spec: JobSpec = {
      ...defaultSpec(),
      name: job.name,
      command: COMMANDS[job.name] ?? `${job.name} --run`,
      group: job.group ?? null,
      kind: job.kind,
      enabled: job.enabled,
      autostart: job.kind === 'service',
    };
    if (job.name === 'api') {
      spec.cwd = '/Users/dev/src/api';
      spec.env = { PORT: '8080', NODE_ENV: 'development', API_TOKEN: 's3cr3t-token' };
      spec.secrets = ['API_TOKEN'];
      spec.health = { exec: null, http: 'http://127.0.0.1:8080/health', tcp: null, interval: '10s', timeout: '5s', retries: 3, start_period: '5s', restart: true };
      spec.max_memory = '512MB';
      spec.restart_schedule = '0 4 * * *';
    }
    if (job.name === 'api') {
      // The dev-stack fields, to show them off in the editor.
      spec.depends_on = [{ job: 'db-tunnel', condition: 'started' }, { job: 'redis', condition: 'healthy' }];
      spec.env_files = ['.env', '.env.local'];
      spec.ports = [8080];
      spec.watch = { paths: ['src', 'package.json'], ignore: ['*.log', 'tmp/**'], debounce: '500ms' };
      spec.nice = 5;
      spec.rlimits = { nofile: 4096, core: '0' };
    }
    if (job.name === 'docs') {
      spec.cwd = '/Users/dev/src/handbook';
      spec.ports = [8000];
      spec.depends_on = [{ job: 'api', condition: 'healthy' }];
    }
    if (job.name === 'nightly-backup') {
      spec.schedule = { cron: '0 2 * * *', every: null, at: null, overlap: 'skip', missed: 'run-once' };
      spec.restart = { ...spec.restart, mode: 'never' };
    }
    if (job.name === 'report') spec.schedule = { cron: null, every: '15m', at: null, overlap: 'queue', missed: 'skip' };
    specs.set(job.name, spec);
  }
  return specs;
}

export function sampleRuns(name: string, now: number): RunRecord[] {
  const runs: RunRecord[] = [];
  const outcomes: [RunRecord['outcome'], number | null, number | null, string | null][] = [
    ['failure', 1, null, 'exited with code 1'],
    ['success', 0, null, null],
    ['stopped', null, 15, 'stopped by user'],
    ['spawn_failed', null, null, 'program not found: consume.py'],
    ['failure', null, 9, 'killed by SIGKILL after the stop timeout'],
  ];
  for (let i = 0; i < 12; i++) {
    const [outcome, code, signal, reason] = outcomes[i % outcomes.length];
    const start = now - (i + 1) * 37 * M;
    runs.push({
      id: 500 - i,
      job: name,
      trigger: i % 3 === 0 ? 'retry' : i % 3 === 1 ? 'manual' : 'schedule',
      scheduled_at: i % 3 === 2 ? iso(start) : null,
      started_at: iso(start),
      ended_at: iso(start + (i + 1) * 41 * S),
      pid: 4000 + i,
      outcome,
      exit_code: code,
      signal,
      reason,
    });
  }
  // The newest run is still going.
  runs.unshift({ id: 501, job: name, trigger: 'restart', started_at: iso(now - 12 * M), pid: 4121, outcome: null });
  return runs;
}

const WORDS = ['GET /api/jobs 200 3ms', 'POST /api/jobs/api/restart 200 41ms', 'cache miss key=user:42', 'connected to db', 'GET /health 200 1ms'];

/** `count` log lines over the last `span` ms: some coloured, every seventh on stderr. */
export function sampleLogs(count: number, now: number, span = 8 * H): LogLine[] {
  const lines: LogLine[] = [];
  for (let i = 0; i < count; i++) {
    const ts = iso(now - span + Math.floor((span * i) / Math.max(1, count)));
    if (i % 7 === 6) {
      lines.push({ ts, stream: 'stderr', text: `\x1b[1;31merror\x1b[0m: request ${i} failed: connection reset by peer` });
    } else if (i % 5 === 0) {
      lines.push({ ts, stream: 'stdout', text: `\x1b[32mINFO\x1b[0m  [${String(i).padStart(6, '0')}] ${WORDS[i % WORDS.length]}` });
    } else if (i % 11 === 3) {
      lines.push({ ts, stream: 'stdout', text: `\x1b[33mWARN\x1b[0m  [${String(i).padStart(6, '0')}] slow query took \x1b[1m${120 + i % 400}ms\x1b[22m` });
    } else {
      lines.push({ ts, stream: 'stdout', text: `DEBUG [${String(i).padStart(6, '0')}] ${WORDS[i % WORDS.length]}` });
    }
  }
  return lines;
}

export function sampleSettings(): Settings {
  return {
    monitor: { sample_interval: '5s', unwatched_interval: '1m', history: '10m' },
    notifications: { enabled: true, throttle: '5m', recovered: true, webhook: null, webhook_timeout: '10s' },
    metrics: { port: 9464 },
    // As the engine writes it when unset: no max_age at all.
    logs: {},
    limits: { max_running: 4096 },
  };
}

/** The env files on the fake disk: api's .env.local overrides two keys of its .env. */
export function sampleFiles(): Map<string, Record<string, string>> {
  return new Map<string, Record<string, string>>([
    ['/Users/dev/src/api/.env', { DATABASE_URL: 'postgres://localhost:5432/api', PORT: '3000', LOG_LEVEL: 'info' }],
    ['/Users/dev/src/api/.env.local', { LOG_LEVEL: 'debug', API_TOKEN: 'from-env-local' }],
  ]);
}

/** Like the engine's job_env: env files in order, then `env`; each key says who set it last. */
export function resolveEnv(spec: JobSpec, files: Map<string, Record<string, string>>): EnvVar[] {
  const cwd = spec.cwd ?? '/Users/dev';
  const vars = new Map<string, EnvVar>();
  const set = (key: string, value: string, source: EnvSource) => {
    const before = vars.get(key);
    vars.set(key, { key, value, source, overrides: before ? [...(before.overrides ?? []), before.source] : [], secret: false });
  };
  for (const file of spec.env_files ?? []) {
    const path = file.startsWith('/') ? file : `${cwd}/${file}`;
    const contents = files.get(path);
    if (!contents) {
      const message = `env file ${path}: not found`;
      throw { code: 'invalid', message: `invalid job: env_files: ${message}`, field: 'env_files', errors: [{ field: 'env_files', message }] };
    }
    for (const [key, value] of Object.entries(contents)) set(key, value, { kind: 'file', path });
  }
  for (const [key, value] of Object.entries(spec.env ?? {})) set(key, value, { kind: 'spec' });
  return [...vars.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** Like the engine's with_secrets: each secret value in `env` masked, unless shown. */
export function maskSpec(spec: JobSpec, show: boolean): JobSpec {
  const env = Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, !show && (spec.secrets ?? []).includes(k) ? MASK : v]));
  return { ...spec, env };
}

/** Like the engine's mask_env: secret variables marked, and masked unless shown. */
export function maskEnv(spec: JobSpec, vars: EnvVar[], show: boolean): EnvVar[] {
  return vars.map((v) => {
    const secret = (spec.secrets ?? []).includes(v.key);
    return { ...v, secret, value: secret && !show ? MASK : v.value };
  });
}

/**
 * Like the engine's restore_secrets: a value that is still the mask keeps the stored one; with
 * none stored (a new job or variable) it is refused.
 */
export function restoreSecrets(spec: JobSpec, stored: JobSpec | undefined): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (value !== MASK) continue;
    const real = stored?.env?.[key];
    if (real !== undefined) spec.env![key] = real;
    else errors.push({ field: `env.${key}`, message: `the value is the placeholder of a hidden secret (${MASK}), not a value; give the real one` });
  }
  return errors;
}

export function sampleAppSettings(settings: Settings = sampleSettings()): AppSettings {
  return {
    settings,
    launch_at_login: true,
    metrics_token: 'sz_4f1c2b9e7a6d4c3b8e1f0a9d',
    settings_file: '/Users/dev/Library/Application Support/SentinelZero/settings.toml',
    restart_needed: false,
  };
}

/** A stand-in for the engine's validator, close enough for the UI: the same field paths. */
export function toyValidate(spec: JobSpec, original: string | null, specs: Map<string, JobSpec>): FieldError[] {
  const errors: FieldError[] = [];
  if (!spec.name) errors.push({ field: 'name', message: 'must not be empty' });
  else if (!/^[A-Za-z0-9._-]{1,64}$/.test(spec.name)) errors.push({ field: 'name', message: `"${spec.name}" may only use A-Z a-z 0-9 . _ -` });
  else if (original === null && specs.has(spec.name)) errors.push({ field: 'name', message: `a job named ${spec.name} already exists` });
  else if (original !== null && original !== spec.name) errors.push({ field: 'name', message: 'jobs cannot be renamed' });
  if (!spec.command.trim()) errors.push({ field: 'command', message: 'must not be empty' });
  for (const field of ['delay', 'max_delay', 'min_uptime'] as const) {
    if (parseDuration(spec.restart[field]) === null) {
      errors.push({ field: `restart.${field}`, message: `"${spec.restart[field]}" is not a duration: write a number and a unit, like 30s, 5m or 1h 30m` });
    }
  }
  for (const key of Object.keys(spec.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) errors.push({ field: `env.${key}`, message: `"${key}" is not a valid variable name` });
  }
  (spec.depends_on ?? []).forEach((d, i) => {
    if (d.job === spec.name) errors.push({ field: `depends_on[${i}].job`, message: `${spec.name} cannot wait for itself` });
    else if (spec.depends_on!.slice(0, i).some((e) => e.job === d.job)) errors.push({ field: `depends_on[${i}].job`, message: `${d.job} is listed twice` });
  });
  if (spec.watch) {
    if (spec.kind === 'task') errors.push({ field: 'watch', message: 'is for services; a task runs again on its schedule' });
    if (spec.watch.paths.length === 0) errors.push({ field: 'watch.paths', message: 'is empty; name at least one file or directory ("." is the cwd)' });
    (spec.watch.ignore ?? []).forEach((glob, i) => {
      if (/\[[^\]]*$/.test(glob)) errors.push({ field: `watch.ignore[${i}]`, message: `"${glob}" is not a glob: unclosed character class` });
    });
    const ms = parseDuration(spec.watch.debounce);
    if (ms === null) errors.push({ field: 'watch.debounce', message: `"${spec.watch.debounce}" is not a duration` });
    else if (ms < 10 || ms > 600_000) errors.push({ field: 'watch.debounce', message: `${spec.watch.debounce} is out of range; use 10ms to 10m` });
  }
  (spec.ports ?? []).forEach((port, i) => {
    if (port === 0) errors.push({ field: `ports[${i}]`, message: '0 is not a port; use 1-65535' });
    else if (spec.ports!.slice(0, i).includes(port)) errors.push({ field: `ports[${i}]`, message: `${port} is listed twice` });
  });
  if (spec.nice != null && (spec.nice < -20 || spec.nice > 19)) errors.push({ field: 'nice', message: `${spec.nice} is out of range; use -20 (first) to 19 (last)` });
  if (spec.rlimits?.nofile != null && spec.rlimits.nofile < 3) {
    errors.push({ field: 'rlimits.nofile', message: 'is too low for any process (stdin, stdout and stderr are open files); use at least 3' });
  }
  return errors;
}

/** A toy schedule preview: a few cron forms and intervals. */
export function toyPreview(cron: string | null, every: string | null, at: string | null, n: number, now: number): SchedulePreview {
  if (cron !== null) {
    const fields = cron.trim().split(/\s+/);
    if (fields.length < 5 || fields.length > 6) {
      throw { code: 'invalid', field: 'schedule.cron', message: `"${cron}" is not a cron expression: it needs 5 fields (minute hour day month weekday), or 6 with seconds` };
    }
    const [min, hour] = fields;
    const day = new Date(now);
    const next: string[] = [];
    for (let d = 0; next.length < n; d++) {
      const t = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + d, Number(hour) || 0, Number(min) || 0);
      if (t > now) next.push(iso(t));
    }
    return { description: `At ${String(Number(hour) || 0).padStart(2, '0')}:${String(Number(min) || 0).padStart(2, '0')} every day`, next };
  }
  if (every !== null) {
    const ms = parseDuration(every);
    if (ms === null || ms <= 0) throw { code: 'invalid', field: 'schedule.every', message: `"${every}" is not a duration` };
    return { description: `Every ${every}`, next: Array.from({ length: n }, (_, i) => iso(now + (i + 1) * ms)) };
  }
  if (at !== null) return { description: `Once, at ${at}`, next: [iso(Date.parse(at))] };
  throw { code: 'invalid', field: 'schedule', message: 'no schedule given' };
}

interface TauriInternals {
  runCallback(id: number, data: unknown): void;
}

export interface SettingsBackend {
  state: SettingsState;
  handlers: Record<string, (args: Record<string, unknown>) => unknown>;
  /** Sends log lines to every follower of `job`. */
  emitLog(job: string, item: LogLine | Missed): void;
  followers(job: string): number;
}

export interface SettingsOptions {
  now: number;
  jobs: JobStatus[];
  /** Log lines per job (default 300). */
  logLines?: number;
  validate?: (spec: JobSpec, original: string | null) => FieldError[] | Promise<FieldError[]>;
  /** The engine's settings (default: a home with a settings file that sets some). */
  settings?: Settings;
}

export function settingsBackend(options: SettingsOptions): SettingsBackend {
  const { now } = options;
  const state: SettingsState = {
    specs: sampleSpecs(options.jobs),
    files: sampleFiles(),
    runs: new Map(),
    logs: new Map(),
    app: sampleAppSettings(options.settings),
  };
  const followers: { job: string; channel: Channel<LogLine | Missed>; next: number }[] = [];
  const logsOf = (job: string): LogLine[] => {
    let lines = state.logs.get(job);
    if (!lines) state.logs.set(job, (lines = sampleLogs(options.logLines ?? 300, now)));
    return lines;
  };
  const notFound = (name: string) => Promise.reject({ code: 'not_found', message: `no job named ${name}` });
  const internals = () => (window as unknown as { __TAURI_INTERNALS__: TauriInternals }).__TAURI_INTERNALS__;
  const send = (f: (typeof followers)[number], item: LogLine | Missed) => {
    internals().runCallback(f.channel.id, { index: f.next, message: item });
    f.next += 1;
  };
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  const handlers: SettingsBackend['handlers'] = {
    // The native folder picker (tauri-plugin-dialog), answering as if a folder was chosen.
    'plugin:dialog|open'() {
      return Promise.resolve('/Users/dev/src/picked');
    },
    get_job(args) {
      const name = args['name'] as string;
      const spec = state.specs.get(name);
      if (!spec) return notFound(name);
      const status = options.jobs.find((j) => j.name === name);
      return copy({ spec: maskSpec(spec, args['showSecrets'] === true), status, log_file: `/Users/dev/Library/Logs/SentinelZero/${name}.log` });
    },
    validate_job(args) {
      const spec = args['spec'] as JobSpec;
      const original = args['original'] as string | null;
      return options.validate ? options.validate(spec, original) : toyValidate(spec, original, state.specs);
    },
    save_job(args) {
      const spec = copy(args['spec'] as JobSpec);
      const original = args['original'] as string | null;
      const errors = toyValidate(spec, original, state.specs);
      if (errors.length === 0) errors.push(...restoreSecrets(spec, original === null ? undefined : state.specs.get(original)));
      if (errors.length > 0) return Promise.reject({ code: 'invalid', message: errors[0].message, field: errors[0].field, errors });
      state.specs.set(spec.name, copy(spec));
      return { name: spec.name, kind: spec.kind, enabled: spec.enabled, restarts: 0, failures: 0, state: 'stopped' };
    },
    job_env(args) {
      const name = args['name'] as string;
      const spec = state.specs.get(name);
      if (!spec) return notFound(name);
      try {
        return maskEnv(spec, resolveEnv(spec, state.files), args['showSecrets'] === true);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    delete_job(args) {
      const name = args['name'] as string;
      if (!state.specs.delete(name)) return notFound(name);
      return null;
    },
    job_runs(args) {
      const name = args['name'] as string;
      if (!state.specs.has(name)) return notFound(name);
      let runs = state.runs.get(name);
      if (!runs) state.runs.set(name, (runs = sampleRuns(name, now)));
      return copy(runs.slice(0, args['limit'] as number));
    },
    follow_logs(args) {
      const name = args['name'] as string;
      if (!state.specs.has(name)) return notFound(name);
      const f = { job: name, channel: args['onLine'] as Channel<LogLine | Missed>, next: 0 };
      followers.push(f);
      const lines = logsOf(name);
      for (const line of lines.slice(-(args['lines'] as number))) send(f, line);
      return null;
    },
    log_tail(args) {
      const name = args['name'] as string;
      return copy(logsOf(name).slice(-(args['lines'] as number)));
    },
    job_defaults: () => toyDefaults(),
    restart_preview(args) {
      const preview = delaySequence(args['policy'] as DelayPolicy);
      if (!preview) return Promise.reject({ code: 'invalid', message: 'restart.delay: not a duration', field: 'restart.delay' });
      return { delays_ms: preview.delays, text: preview.text };
    },
    schedule_preview(args) {
      try {
        return toyPreview(args['cron'] as string | null, args['every'] as string | null, args['at'] as string | null, args['n'] as number, now);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    app_settings: () => copy(state.app),
    save_settings(args) {
      const settings = args['settings'] as Settings;
      if (parseDuration(settings.notifications.throttle) === null) {
        return Promise.reject({ code: 'invalid', field: 'notifications.throttle', message: `"${settings.notifications.throttle}" is not a duration` });
      }
      const age = settings.logs.max_age;
      if (age != null) {
        const ms = parseDuration(age);
        if (ms === null) return Promise.reject({ code: 'invalid', field: 'logs.max_age', message: `"${age}" is not a duration` });
        if (ms < 60_000) return Promise.reject({ code: 'invalid', field: 'logs.max_age', message: 'is too short; keep rotated logs for at least 1m' });
      }
      state.app = { ...state.app, settings: copy(settings), restart_needed: true };
      return copy(state.app);
    },
    set_launch_at_login(args) {
      state.app = { ...state.app, launch_at_login: args['enabled'] as boolean };
      return copy(state.app);
    },
    regenerate_metrics_token() {
      state.app = { ...state.app, metrics_token: `sz_${(state.app.metrics_token ?? '').length.toString(16)}new${Math.floor(now / 1000).toString(16)}` };
      return copy(state.app);
    },
  };

  return {
    state,
    handlers,
    emitLog(job, item) {
      if (!('type' in item)) logsOf(job).push(item);
      for (const f of followers) if (f.job === job) send(f, item);
    },
    followers: (job) => followers.filter((f) => f.job === job).length,
  };
}
