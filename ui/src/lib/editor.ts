// The job editor's form: a flat, string-friendly mirror of JobSpec that inputs bind to, and the
// conversions both ways. The engine validates (validate_job); this only catches what cannot be
// expressed as a JobSpec at all (a non-numeric exit code, a duplicate env key).
import { MASK } from './secrets';
import type { Condition, Dependency, FieldError, JobDefaults, JobKind, JobSpec, MissedPolicy, Overlap, RestartMode, WatchSpec } from './types';

export type ScheduleKind = 'none' | 'cron' | 'every' | 'at';
export type HealthKind = 'none' | 'exec' | 'http' | 'tcp';

export interface EnvRow {
  /** Stable key for the list while names are being typed. */
  id: number;
  key: string;
  /** MASK while the job's secret values have not been asked for (get_job masks them). */
  value: string;
  /** Listed in the spec's `secrets` (by this row's key). */
  secret: boolean;
}

/** One row of a list of strings (paths, globs, env files). */
export interface ListRow {
  id: number;
  value: string;
}

export interface DependencyRow {
  id: number;
  /** '' until a job is chosen. */
  job: string;
  condition: Condition;
}

export interface JobForm {
  name: string;
  command: string;
  shell: boolean;
  cwd: string;
  env: EnvRow[];
  /**
   * Names in the spec's `secrets` besides the env rows' (variables set by env files), kept as
   * they are. A row with one of these names counts as secret too.
   */
  file_secrets: string[];
  group: string;
  kind: JobKind;
  enabled: boolean;
  autostart: boolean;
  restart: {
    mode: RestartMode;
    max_retries: number;
    delay: string;
    backoff: number;
    max_delay: string;
    /** "0, 2" */
    success_exit_codes: string;
    min_uptime: string;
  };
  stop_signal: string;
  stop_timeout: string;
  logs: { max_size: string; max_files: number };
  schedule: { kind: ScheduleKind; value: string; overlap: Overlap; missed: MissedPolicy };
  restart_schedule: string;
  health: {
    kind: HealthKind;
    target: string;
    interval: string;
    timeout: string;
    retries: number;
    start_period: string;
    restart: boolean;
  };
  max_memory: string;
  notify: boolean;
  webhook: string;
  depends_on: DependencyRow[];
  /** Kept while the kind is task (so switching back restores it), but only a service sends it. */
  watch: { enabled: boolean; paths: ListRow[]; ignore: ListRow[]; debounce: string };
  env_files: ListRow[];
  /** "8080, 8443" */
  ports: string;
  /** Empty (null; a number input may also leave undefined): the engine's own priority. */
  nice: number | null | undefined;
  rlimits: { nofile: number | null | undefined; core: string };
}

let rowIds = 0;
export function envRow(key = '', value = '', secret = false): EnvRow {
  rowIds += 1;
  return { id: rowIds, key, value, secret };
}

export function listRow(value = ''): ListRow {
  rowIds += 1;
  return { id: rowIds, value };
}

export function dependencyRow(job = '', condition: Condition = 'started'): DependencyRow {
  rowIds += 1;
  return { id: rowIds, job, condition };
}

/**
 * The form for `spec`. Where the spec has no health check or file watch, their inputs start
 * from the engine's defaults (job_defaults), shown once the user turns one on.
 */
export function formFromSpec(spec: JobSpec, defaults: JobDefaults): JobForm {
  const schedule = spec.schedule;
  const scheduleKind: ScheduleKind = schedule?.cron ? 'cron' : schedule?.every ? 'every' : schedule?.at ? 'at' : 'none';
  const health = spec.health;
  const healthKind: HealthKind = health?.exec ? 'exec' : health?.http ? 'http' : health?.tcp ? 'tcp' : 'none';
  return {
    name: spec.name,
    command: spec.command,
    shell: spec.shell,
    cwd: spec.cwd ?? '',
    env: Object.entries(spec.env ?? {}).map(([k, v]) => envRow(k, v, (spec.secrets ?? []).includes(k))),
    file_secrets: (spec.secrets ?? []).filter((name) => !Object.hasOwn(spec.env ?? {}, name)),
    group: spec.group ?? '',
    kind: spec.kind,
    enabled: spec.enabled,
    autostart: spec.autostart,
    restart: {
      mode: spec.restart.mode,
      max_retries: spec.restart.max_retries,
      delay: spec.restart.delay,
      backoff: spec.restart.backoff,
      max_delay: spec.restart.max_delay,
      success_exit_codes: spec.restart.success_exit_codes.join(', '),
      min_uptime: spec.restart.min_uptime,
    },
    stop_signal: spec.stop_signal,
    stop_timeout: spec.stop_timeout,
    logs: { max_size: spec.logs.max_size, max_files: spec.logs.max_files },
    schedule: {
      kind: scheduleKind,
      value: (scheduleKind === 'none' ? '' : schedule?.[scheduleKind]) ?? '',
      overlap: schedule?.overlap ?? 'skip',
      missed: schedule?.missed ?? 'run-once',
    },
    restart_schedule: spec.restart_schedule ?? '',
    health: {
      kind: healthKind,
      target: (healthKind === 'none' ? '' : health?.[healthKind]) ?? '',
      interval: health?.interval ?? defaults.health.interval,
      timeout: health?.timeout ?? defaults.health.timeout,
      retries: health?.retries ?? defaults.health.retries,
      start_period: health?.start_period ?? defaults.health.start_period,
      restart: health?.restart ?? defaults.health.restart,
    },
    max_memory: spec.max_memory ?? '',
    notify: spec.notify ?? true,
    webhook: spec.webhook ?? '',
    depends_on: (spec.depends_on ?? []).map((d) => dependencyRow(d.job, d.condition)),
    watch: {
      enabled: !!spec.watch,
      paths: (spec.watch?.paths ?? defaults.watch.paths).map((p) => listRow(p)),
      ignore: (spec.watch?.ignore ?? defaults.watch.ignore ?? []).map((g) => listRow(g)),
      debounce: spec.watch?.debounce ?? defaults.watch.debounce,
    },
    env_files: (spec.env_files ?? []).map((f) => listRow(f)),
    ports: (spec.ports ?? []).join(', '),
    nice: spec.nice ?? null,
    rlimits: { nofile: spec.rlimits?.nofile ?? null, core: spec.rlimits?.core ?? '' },
  };
}

const orNull = (s: string): string | null => (s.trim() === '' ? null : s.trim());

/** A number input's value: null when empty (or left undefined by the input). */
const numberOrNull = (n: number | null | undefined): number | null => (n === null || n === undefined || Number.isNaN(n) ? null : n);

/**
 * Each row's index in the spec's list, null for a blank row: blank rows are left out (like
 * blank env rows), so the engine's `env_files[1]` names the second row that is not blank.
 */
export function specIndexes(values: readonly string[]): (number | null)[] {
  let next = 0;
  return values.map((v) => (v.trim() === '' ? null : next++));
}

const kept = (rows: readonly ListRow[]): string[] => rows.map((r) => r.value.trim()).filter((v) => v !== '');

export interface Converted {
  spec: JobSpec;
  /** Problems found before the engine could even be asked. */
  errors: FieldError[];
}

/** The JobSpec the form describes. `base` keeps fields this form does not know about. */
export function specFromForm(form: JobForm, base?: JobSpec): Converted {
  const errors: FieldError[] = [];
  const codes: number[] = [];
  for (const part of form.restart.success_exit_codes.split(/[\s,]+/).filter(Boolean)) {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 0 || n > 255) {
      errors.push({ field: 'restart.success_exit_codes', message: `"${part}" is not an exit code (0–255)` });
    } else codes.push(n);
  }
  const env: Record<string, string> = {};
  for (const row of form.env) {
    if (row.key === '' && row.value === '') continue;
    if (Object.hasOwn(env, row.key)) {
      errors.push({ field: `env.${row.key}`, message: `"${row.key}" is set twice` });
      continue;
    }
    env[row.key] = row.value;
  }
  const secrets = secretNames(form);
  const ports: number[] = [];
  for (const part of form.ports.split(/[\s,]+/).filter(Boolean)) {
    const n = Number(part);
    // 0 and duplicates are the engine's to report (ports[i]); this only keeps what fits a u16.
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      errors.push({ field: 'ports', message: `"${part}" is not a port (1–65535)` });
    } else ports.push(n);
  }
  const nice = numberOrNull(form.nice);
  if (nice !== null && !Number.isInteger(nice)) errors.push({ field: 'nice', message: `${nice} is not a whole number` });
  const nofile = numberOrNull(form.rlimits.nofile);
  if (nofile !== null && (!Number.isInteger(nofile) || nofile < 0)) {
    errors.push({ field: 'rlimits.nofile', message: `${nofile} is not a number of files` });
  }
  const w = form.watch;
  const watch: WatchSpec | null =
    w.enabled && form.kind === 'service' ? { paths: kept(w.paths), ignore: kept(w.ignore), debounce: w.debounce.trim() } : null;
  const depends_on: Dependency[] = form.depends_on.filter((d) => d.job !== '').map((d) => ({ job: d.job, condition: d.condition }));
  const s = form.schedule;
  const h = form.health;
  const spec: JobSpec = {
    ...(base ?? {}),
    name: form.name.trim(),
    command: form.command,
    shell: form.shell,
    cwd: orNull(form.cwd),
    env,
    secrets,
    group: orNull(form.group),
    enabled: form.enabled,
    autostart: form.autostart,
    kind: form.kind,
    restart: {
      mode: form.restart.mode,
      max_retries: Number(form.restart.max_retries),
      delay: form.restart.delay.trim(),
      backoff: Number(form.restart.backoff),
      max_delay: form.restart.max_delay.trim(),
      success_exit_codes: codes,
      min_uptime: form.restart.min_uptime.trim(),
    },
    stop_signal: form.stop_signal.trim(),
    stop_timeout: form.stop_timeout.trim(),
    logs: { max_size: form.logs.max_size.trim(), max_files: Number(form.logs.max_files) },
    schedule:
      s.kind === 'none'
        ? null
        : {
            cron: s.kind === 'cron' ? s.value.trim() : null,
            every: s.kind === 'every' ? s.value.trim() : null,
            at: s.kind === 'at' ? s.value.trim() : null,
            overlap: s.overlap,
            missed: s.missed,
          },
    restart_schedule: orNull(form.restart_schedule),
    health:
      h.kind === 'none'
        ? null
        : {
            exec: h.kind === 'exec' ? h.target : null,
            http: h.kind === 'http' ? h.target.trim() : null,
            tcp: h.kind === 'tcp' ? h.target.trim() : null,
            interval: h.interval.trim(),
            timeout: h.timeout.trim(),
            retries: Number(h.retries),
            start_period: h.start_period.trim(),
            restart: h.restart,
          },
    max_memory: orNull(form.max_memory),
    notify: form.notify,
    webhook: orNull(form.webhook),
    depends_on,
    watch,
    env_files: kept(form.env_files),
    ports,
    nice: nice !== null && Number.isInteger(nice) ? nice : null,
    rlimits: {
      nofile: nofile !== null && Number.isInteger(nofile) && nofile >= 0 ? nofile : null,
      core: orNull(form.rlimits.core),
    },
  };
  return { spec, errors };
}

/** Whether a row's value is secret: marked so, or its name is among the file secrets. */
export function isSecretRow(row: EnvRow, fileSecrets: readonly string[]): boolean {
  return row.secret || (row.key !== '' && fileSecrets.includes(row.key));
}

/** The spec's `secrets`: the keys of the rows marked secret, then the file secrets. */
export function secretNames(form: JobForm): string[] {
  const names: string[] = [];
  for (const row of form.env) if (row.key !== '' && row.secret && !names.includes(row.key)) names.push(row.key);
  for (const name of form.file_secrets) if (!names.includes(name)) names.push(name);
  return names;
}

/**
 * Marks a variable secret or not by name: the env rows that set it, or else (a variable from
 * an env file) the file secrets.
 */
export function markSecret(form: JobForm, key: string, secret: boolean): void {
  const rows = form.env.filter((r) => r.key === key);
  for (const row of rows) row.secret = secret;
  if (!secret) form.file_secrets = form.file_secrets.filter((name) => name !== key);
  else if (rows.length === 0 && !form.file_secrets.includes(key)) form.file_secrets = [...form.file_secrets, key];
}

/**
 * Puts the real values (`env` of the spec fetched with secrets shown) into the rows that still
 * hold the mask. Rows edited since, or renamed, are left alone.
 */
export function unmaskRows(rows: EnvRow[], env: Record<string, string>): void {
  for (const row of rows) {
    if (row.value === MASK && Object.hasOwn(env, row.key) && env[row.key] !== MASK) row.value = env[row.key];
  }
}

/**
 * A draftKey with the same real values put in where it holds the mask: what the draft as
 * loaded would have been had the values been shown, so showing them is no edit.
 */
export function unmaskDraftKey(key: string, env: Record<string, string>): string {
  const draft = JSON.parse(key) as { spec: JobSpec };
  const values = draft.spec.env ?? {};
  for (const [k, v] of Object.entries(values)) {
    if (v === MASK && Object.hasOwn(env, k) && env[k] !== MASK) values[k] = env[k];
  }
  return JSON.stringify(draft);
}

/** The form for Duplicate: the same job under "NAME-copy". */
export function duplicateSpec(spec: JobSpec): JobSpec {
  return { ...structuredClone(spec), name: `${spec.name}-copy` };
}

/**
 * Error messages for one field path ("restart.delay"); `prefix` also takes its children
 * ("env.KEY", "ports[1]", "depends_on[0].job").
 */
export function errorsFor(errors: readonly FieldError[], field: string, prefix = false): string[] {
  return errors
    .filter((e) => e.field === field || (prefix && (e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}[`))))
    .map((e) => e.message);
}

/**
 * errorsFor over one list of errors, for the editor's sections: several fields at once (the
 * schedule's, the health target's) give all their messages.
 */
export function messagesIn(errors: readonly FieldError[]): (field: string | readonly string[], prefix?: boolean) => string[] {
  return (field, prefix = false) => (typeof field === 'string' ? [field] : field).flatMap((f) => errorsFor(errors, f, prefix));
}

/** Where the schedule's errors are shown: the engine names the field of the kind in use. */
export const SCHEDULE_FIELDS = ['schedule', 'schedule.cron', 'schedule.every', 'schedule.at'];
export const HEALTH_TARGET_FIELDS = ['health', 'health.exec', 'health.http', 'health.tcp'];

/**
 * Field paths the form shows under an input; anything else goes to the banner. Lists are named
 * by index (`ports[1]`, `depends_on[0].job`, `watch.ignore[2]`).
 */
export const SHOWN_FIELDS =
  /^(name|command|shell|cwd|env\..*|group|kind|enabled|autostart|restart\.[a-z_]+|restart|stop_signal|stop_timeout|logs\.[a-z_]+|schedule(\.[a-z]+)?|restart_schedule|health(\.[a-z_]+)?|max_memory|notify|webhook|depends_on(\[\d+\](\.[a-z]+)?)?|watch(\.(paths|ignore)(\[\d+\])?|\.debounce)?|env_files(\[\d+\])?|ports(\[\d+\])?|nice|rlimits\.(nofile|core))$/;

/**
 * The draft as Save would store it (the spec, its `secrets` too), for telling whether it
 * differs from what was loaded or last saved. A form that cannot be converted at all (an
 * unparsable exit code, a key set twice) never comes from a saved spec, so its errors are part
 * of the key.
 */
export function draftKey(form: JobForm, base?: JobSpec): string {
  const { spec, errors } = specFromForm(form, base);
  return JSON.stringify({ spec, errors });
}
