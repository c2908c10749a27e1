// The popover's state, as plain data: the job map built from one snapshot and kept current by
// applying events, plus the derived, sorted list the UI renders. No DOM, no IPC.
import { describeExit, formatAgo, formatIn, formatSince } from './format';
import type {
  FreedPorts,
  HistoryPoint,
  PortHolder,
  JobStatus,
  Snapshot,
  StateName,
  StreamItem,
} from './types';

/** Samples kept per job for sparklines: about a minute or two at typical sampling rates. */
export const HISTORY_LIMIT = 60;

export interface Model {
  jobs: Map<string, JobStatus>;
  history: Map<string, HistoryPoint[]>;
  /** The last event applied (or the snapshot's seq). */
  seq: number;
}

export function fromSnapshot(snapshot: Snapshot): Model {
  const jobs = new Map<string, JobStatus>();
  for (const job of snapshot.jobs) jobs.set(job.name, job);
  const history = new Map<string, HistoryPoint[]>();
  for (const [name, samples] of Object.entries(snapshot.history ?? {})) {
    if (jobs.has(name)) history.set(name, samples.slice(-HISTORY_LIMIT));
  }
  return { jobs, history, seq: snapshot.seq };
}

/**
 * What applying one stream item did: nothing visible, a visible change, or a change the
 * events cannot describe (lost events, a new or edited definition) that needs a new snapshot.
 */
export type Effect = 'none' | 'changed' | 'reload';

function isActive(state: StateName): boolean {
  return state === 'starting' || state === 'running' || state === 'stopping';
}

/**
 * Applies a status to the model, keeping what only other events carry. A status sent `whole`
 * (after an edit) is the engine's word on health too; only the newest resource sample is kept.
 */
export function putStatus(model: Model, status: JobStatus, { whole = false } = {}): void {
  const previous = model.jobs.get(status.name);
  let next = status;
  if (previous) {
    // Resources and health arrive on their own events; a transition that does not repeat
    // them must not blank them. A removed health check comes with job_updated, whole.
    if (next.resources === undefined && previous.resources && isActive(next.state)) {
      next = { ...next, resources: previous.resources };
    }
    if (!whole && next.health === undefined && previous.health !== undefined) {
      next = { ...next, health: previous.health };
    }
  }
  if (!isActive(next.state) && next.resources) {
    const { resources: _dropped, ...rest } = next;
    next = rest as JobStatus;
  }
  model.jobs.set(status.name, next);
}

/** Applies one item from the event channel, mutating `model` (job objects are replaced). */
export function applyItem(model: Model, item: StreamItem): Effect {
  if (item.type === 'missed') return 'reload';
  // The snapshot already contains everything up to its seq.
  if (item.seq <= model.seq) return 'none';
  model.seq = item.seq;
  switch (item.type) {
    case 'job_added':
    case 'job_updated':
      // The whole status as the engine has it after the change: group, kind, enabled and
      // health may all be new (a removed health check leaves none).
      putStatus(model, item.status, { whole: true });
      return 'changed';
    case 'job_removed': {
      const had = model.jobs.delete(item.job);
      model.history.delete(item.job);
      return had ? 'changed' : 'none';
    }
    case 'state_changed':
      putStatus(model, item.status);
      return 'changed';
    case 'run_exited': {
      const job = model.jobs.get(item.job);
      if (!job) return 'none';
      model.jobs.set(item.job, { ...job, last_exit: item.exit });
      return 'changed';
    }
    case 'resources_sampled': {
      let changed = false;
      for (const { job: name, ...sample } of item.samples) {
        const job = model.jobs.get(name);
        if (!job) continue;
        const past = model.history.get(name) ?? [];
        const kept = past.length >= HISTORY_LIMIT ? past.slice(past.length - HISTORY_LIMIT + 1) : past;
        // History keeps only what sparklines draw; the full sample is the job's `resources`.
        const point: HistoryPoint = { at: sample.at, cpu_percent: sample.cpu_percent, memory_bytes: sample.memory_bytes, processes: sample.processes };
        model.history.set(name, [...kept, point]);
        model.jobs.set(name, { ...job, resources: sample });
        changed = true;
      }
      return changed ? 'changed' : 'none';
    }
    case 'health_changed': {
      const job = model.jobs.get(item.job);
      if (!job) return 'none';
      model.jobs.set(item.job, { ...job, health: item.health });
      return 'changed';
    }
    case 'run_started':
    case 'spawn_failed':
    case 'schedule_skipped':
      // The state_changed that accompanies these carries everything the popover shows.
      return 'none';
    default:
      return 'none';
  }
}

/** Failed, waiting to retry, or failing its health check. */
export function isFailing(job: JobStatus): boolean {
  return job.state === 'failed' || job.state === 'backoff' || job.health === 'unhealthy';
}

/**
 * Sort rank: failed first, then backoff, then unhealthy, then waiting (blocked on a dependency
 * or a port, not failing yet), then everything else.
 */
export function rank(job: JobStatus): number {
  if (job.state === 'failed') return 0;
  if (job.state === 'backoff') return 1;
  if (job.health === 'unhealthy') return 2;
  if (job.state === 'waiting') return 3;
  return 4;
}

export function compareJobs(a: JobStatus, b: JobStatus): number {
  return rank(a) - rank(b) || a.name.localeCompare(b.name);
}

/** What a section header's actions apply to: a group's jobs or a project's. */
export type SectionSelection = { group: string } | { project: string };

/** The key a section's pending action and error are kept under: the header's `key`. */
export function sectionKey(selection: SectionSelection): string {
  return 'project' in selection ? `p:${selection.project}` : `g:${selection.group}`;
}

/** A project's section, or a group's; `null`: the jobs in neither. */
export function sectionOf(job: JobStatus): SectionSelection | null {
  if (job.project) return { project: job.project.name };
  if (job.group) return { group: job.group };
  return null;
}

export interface GroupItem {
  kind: 'group';
  key: string;
  /** The remote engine it is on (absent: this machine's). */
  engine?: string;
  /** The section's title; null: the jobs in no group or project. */
  group: string | null;
  /** What the header's actions apply to (null: nothing; the ungrouped have no bulk actions). */
  selection: SectionSelection | null;
  /** A project's file, shown under its name (`sentinel up` made it). */
  file: string | null;
  total: number;
  running: number;
  failing: number;
}

export interface JobItem {
  kind: 'job';
  key: string;
  /** The remote engine it is on (absent: this machine's). */
  engine?: string;
  job: JobStatus;
  history: HistoryPoint[];
}

/** An engine's section header, shown once there are remote engines (engines.ts). */
export interface EngineItem {
  kind: 'engine';
  key: string;
  /** The remote engine's name; null: this machine's. */
  engine: string | null;
  label: string;
  /** Its address (`ssh://…`); null for this machine. */
  host: string | null;
  description: string;
  link: 'local' | 'connecting' | 'connected' | 'unreachable';
  total: number;
  running: number;
  failing: number;
  /** Why it cannot be reached, and when it is tried again (`unreachable`). */
  problem: { code: string; message: string } | null;
  nextTryAt: string | null;
}

/** A line of text in place of an engine's jobs ("No jobs on build-box"). */
export interface NoteItem {
  kind: 'note';
  key: string;
  text: string;
}

export type ListItem = GroupItem | JobItem | EngineItem | NoteItem;

export type Overall = 'empty' | 'ok' | 'failing';

export interface Totals {
  total: number;
  running: number;
  failing: number;
  overall: Overall;
}

export interface View {
  items: ListItem[];
  totals: Totals;
}

const NO_HISTORY: HistoryPoint[] = [];

/**
 * The rows to render: jobs sorted failing first, in sections per project (`sentinel up`) or
 * group. Sections are ordered by their worst job, so a failing job is always near the top.
 * Headers appear only once at least one job has a section; the others sit under "Ungrouped".
 */
export function buildView(model: Model): View {
  const sorted = [...model.jobs.values()].sort(compareJobs);
  let running = 0;
  let failing = 0;
  let anyGroup = false;
  const sections = new Map<string, JobStatus[]>();
  for (const job of sorted) {
    if (job.state === 'running') running += 1;
    if (isFailing(job)) failing += 1;
    const section = sectionOf(job);
    if (section !== null) anyGroup = true;
    const key = section === null ? '' : sectionKey(section);
    let list = sections.get(key);
    if (!list) sections.set(key, (list = []));
    list.push(job);
  }
  const total = sorted.length;
  const totals: Totals = {
    total,
    running,
    failing,
    overall: total === 0 ? 'empty' : failing > 0 ? 'failing' : 'ok',
  };
  const jobItem = (job: JobStatus): JobItem => ({
    kind: 'job',
    key: `j:${job.name}`,
    job,
    history: model.history.get(job.name) ?? NO_HISTORY,
  });
  if (!anyGroup) return { items: sorted.map(jobItem), totals };

  // Each section's jobs are already sorted, so its first job is its worst.
  const ordered = [...sections.entries()].sort(([ga, ja], [gb, jb]) => {
    const byRank = rank(ja[0]) - rank(jb[0]);
    if (byRank !== 0) return byRank;
    if (ga === '') return 1;
    if (gb === '') return -1;
    return ga.slice(2).localeCompare(gb.slice(2)) || ga.localeCompare(gb);
  });
  const items: ListItem[] = [];
  for (const [key, jobs] of ordered) {
    const selection = sectionOf(jobs[0]);
    items.push({
      kind: 'group',
      key: key === '' ? 'g:' : key,
      group: selection === null ? null : 'project' in selection ? selection.project : selection.group,
      selection,
      file: jobs[0].project?.file ?? null,
      total: jobs.length,
      running: jobs.filter((j) => j.state === 'running').length,
      failing: jobs.filter(isFailing).length,
    });
    for (const job of jobs) items.push(jobItem(job));
  }
  return { items, totals };
}

/**
 * The key of the job `delta` rows away from the job keyed `current` (headers and notes
 * skipped), clamped to the list. Keys, not names: two engines may both have an `api`.
 */
export function moveSelection(items: ListItem[], current: string | null, delta: number): string | null {
  const keys = items.filter((i): i is JobItem => i.kind === 'job').map((i) => i.key);
  if (keys.length === 0) return null;
  const at = current === null ? -1 : keys.indexOf(current);
  if (at === -1) return delta >= 0 ? keys[0] : keys[keys.length - 1];
  const next = Math.min(keys.length - 1, Math.max(0, at + delta));
  return keys[next];
}

/**
 * Whether the one-click toggle should stop: a process may be alive, a retry is due, or a start
 * is waiting (stopping cancels the wait).
 */
export function canStop(job: JobStatus): boolean {
  return isActive(job.state) || job.state === 'backoff' || job.state === 'waiting';
}

/** The state dot's tooltip: a waiting job says what it waits for. */
export function stateTitle(job: JobStatus): string {
  return job.state === 'waiting' ? `waiting: ${job.message}` : job.state;
}

/**
 * Why the job's log file cannot be written (the OS's words, a full disk say), or null while it
 * can. Not a failure: the job runs on and its output waits in memory.
 */
export function logError(job: JobStatus): string | null {
  const error = job.log_error?.trim();
  return error ? error : null;
}

/** The settings window's warning about a log file that cannot be written, in the engine's words. */
export function describeLogError(error: string): string {
  return `Writing the log fails: ${error}`;
}

export interface PortConflict {
  /** The engine's words: "port 8080 is in use by pid 123 (…)…". */
  reason: string;
  /** The holder is left over from an earlier run of the job: free_ports may stop it. */
  leftover: boolean;
}

/** Why a waiting job cannot start, when it is one of its ports (ports.rs `conflict`). */
export function portConflict(job: JobStatus): PortConflict | null {
  if (job.state !== 'waiting' || job.reason.kind !== 'port') return null;
  return { reason: job.message, leftover: job.reason.holder?.orphan ?? false };
}

const holder = (h: PortHolder): string => `pid ${h.pid} (${h.command})`;

/** What free_ports did, in a line: "stopped pid 123 (python3 -m http.server 8080)". */
export function describeFreed(freed: FreedPorts): string {
  const parts: string[] = [];
  if (freed.stopped.length > 0) parts.push(`stopped ${freed.stopped.map(holder).join(', ')}`);
  if (freed.kept.length > 0) parts.push(`left ${freed.kept.map(holder).join(', ')} running (not a leftover of ${freed.job})`);
  return parts.length > 0 ? parts.join('; ') : 'no leftover holds its ports now';
}

/** Words for the row's second line, most important first. */
export function describeJob(job: JobStatus, now: number): string[] {
  const parts: string[] = [];
  switch (job.state) {
    case 'running':
      parts.push(`up ${formatSince(job.since, now)}`);
      break;
    case 'starting':
      parts.push('starting…');
      break;
    case 'stopping':
      parts.push('stopping…');
      break;
    case 'backoff':
      parts.push(`retry #${job.attempt} ${formatIn(job.next_try_at, now)}`);
      break;
    case 'failed':
      // The red dot and text already say failed; the reason is what matters.
      parts.push(job.reason || 'failed');
      break;
    case 'waiting':
      // The engine's words: "waiting for db to be healthy (db is starting)", "port 8080 is in use by …".
      parts.push(job.message || 'waiting');
      break;
    case 'exited':
      parts.push(`done ${formatAgo(job.since, now)}`);
      break;
    case 'stopped':
      parts.push(job.enabled ? 'stopped' : 'disabled');
      break;
  }
  if (job.next_run_at) parts.push(`next ${formatIn(job.next_run_at, now)}`);
  // A running job's last exit matters only when it was restarted (it says why).
  const showExit = job.state === 'running' ? job.restarts > 0 : job.state !== 'starting';
  if (job.last_exit && showExit) {
    parts.push(`last ${describeExit(job.last_exit)} ${formatAgo(job.last_exit.at, now)}`);
  }
  return parts;
}
