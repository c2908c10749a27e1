import { describe, expect, it } from 'vitest';
import {
  HISTORY_LIMIT,
  applyItem,
  buildView,
  canStop,
  describeFreed,
  describeJob,
  describeLogError,
  fromSnapshot,
  isFailing,
  logError,
  moveSelection,
  portConflict,
  stateTitle,
  type JobItem,
  type ListItem,
} from '../src/lib/jobs';
import type { EventEnvelope, JobSample, JobStatus, WaitReason } from '../src/lib/types';
import { DOCS_CONFLICT, NOW, sampleSnapshot } from './fixtures';

const at = new Date(NOW).toISOString();
const env = (seq: number, event: Record<string, unknown>) => ({ seq, at, ...event }) as EventEnvelope;
const names = (items: ListItem[]) =>
  items.map((i) => (i.kind === 'group' ? `[${i.group ?? '-'}]` : i.kind === 'job' ? i.job.name : `<${i.key}>`));

function job(name: string, extra: Partial<JobStatus> = {}): JobStatus {
  return { name, kind: 'service', enabled: true, state: 'stopped', restarts: 0, failures: 0, ...extra } as JobStatus;
}

/** A waiting job's state: why, as data and in the engine's words. */
function waiting(reason: WaitReason, message: string): Partial<JobStatus> {
  return { state: 'waiting', reason, message, since: at } as Partial<JobStatus>;
}

function sample(name: string, cpu: number): JobSample {
  return { job: name, at, cpu_percent: cpu, memory_bytes: 1000, processes: 1, disk_read_bytes: 0, disk_written_bytes: 0, cpu_seconds: 1 };
}

describe('applyItem', () => {
  it('ignores events the snapshot already holds', () => {
    const model = fromSnapshot(sampleSnapshot(NOW, 100));
    const effect = applyItem(model, env(100, { type: 'job_removed', job: 'api' }));
    expect(effect).toBe('none');
    expect(model.jobs.has('api')).toBe(true);
    expect(model.seq).toBe(100);
  });

  it('replaces a status on state_changed and adds unknown jobs', () => {
    const model = fromSnapshot(sampleSnapshot());
    const before = model.jobs.get('report');
    const status = job('report', { group: 'data', kind: 'task', state: 'running', pid: 9, since: at } as Partial<JobStatus>);
    expect(applyItem(model, env(101, { type: 'state_changed', status }))).toBe('changed');
    expect(model.jobs.get('report')?.state).toBe('running');
    expect(model.jobs.get('report')).not.toBe(before);
    expect(applyItem(model, env(102, { type: 'state_changed', status: job('brand-new') }))).toBe('changed');
    expect(model.jobs.has('brand-new')).toBe(true);
    expect(model.seq).toBe(102);
  });

  it('keeps resources and health that a transition does not repeat', () => {
    const model = fromSnapshot(sampleSnapshot());
    const api = model.jobs.get('api')!;
    const status = { ...api, resources: undefined, health: undefined, restarts: 3 } as JobStatus;
    applyItem(model, env(101, { type: 'state_changed', status }));
    expect(model.jobs.get('api')?.resources).toEqual(api.resources);
    expect(model.jobs.get('api')?.health).toBe('healthy');
    // Once stopped, the last sample no longer describes anything running.
    applyItem(model, env(102, { type: 'state_changed', status: job('api', { group: 'web' }) }));
    expect(model.jobs.get('api')?.resources).toBeUndefined();
  });

  it('removes a job and its history', () => {
    const model = fromSnapshot(sampleSnapshot());
    expect(applyItem(model, env(101, { type: 'job_removed', job: 'api' }))).toBe('changed');
    expect(model.jobs.has('api')).toBe(false);
    expect(model.history.has('api')).toBe(false);
    expect(applyItem(model, env(102, { type: 'job_removed', job: 'ghost' }))).toBe('none');
  });

  it('asks for a snapshot only when it missed events', () => {
    const model = fromSnapshot(sampleSnapshot());
    expect(applyItem(model, { type: 'missed', count: 3 })).toBe('reload');
  });

  it('adds and edits jobs from the status their events carry, without a snapshot', () => {
    const model = fromSnapshot(sampleSnapshot());
    const added = job('new', { group: 'web' });
    expect(applyItem(model, env(101, { type: 'job_added', job: 'new', status: added }))).toBe('changed');
    expect(model.jobs.get('new')).toEqual(added);
    // An edit moves the job to another group, disables it and removes its health check.
    model.jobs.set('api', { ...model.jobs.get('api')!, health: 'healthy' });
    const edited = job('api', { group: 'data', enabled: false });
    expect(applyItem(model, env(102, { type: 'job_updated', job: 'api', restarted: false, status: edited }))).toBe('changed');
    expect(model.jobs.get('api')?.group).toBe('data');
    expect(model.jobs.get('api')?.enabled).toBe(false);
    expect(model.jobs.get('api')?.health).toBeUndefined();
  });

  it('appends samples to a bounded history and updates resources', () => {
    const model = fromSnapshot({ jobs: [job('a', { state: 'running', pid: 1, since: at } as Partial<JobStatus>)], history: {}, seq: 0 });
    for (let i = 1; i <= HISTORY_LIMIT + 5; i++) {
      applyItem(model, env(i, { type: 'resources_sampled', samples: [sample('a', i), sample('gone', 1)] }));
    }
    const history = model.history.get('a')!;
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history[history.length - 1].cpu_percent).toBe(HISTORY_LIMIT + 5);
    expect(history[0].cpu_percent).toBe(6);
    expect(Object.keys(history[0]).sort()).toEqual(['at', 'cpu_percent', 'memory_bytes', 'processes']);
    expect(model.jobs.get('a')?.resources?.cpu_percent).toBe(HISTORY_LIMIT + 5);
    expect(model.history.has('gone')).toBe(false);
  });

  it('applies health changes and exits', () => {
    const model = fromSnapshot(sampleSnapshot());
    expect(applyItem(model, env(101, { type: 'health_changed', job: 'worker', health: 'healthy' }))).toBe('changed');
    expect(model.jobs.get('worker')?.health).toBe('healthy');
    const exit = { code: 3, at, duration_ms: 10 };
    expect(applyItem(model, env(102, { type: 'run_exited', job: 'api', run_id: 1, outcome: 'failure', exit }))).toBe('changed');
    expect(model.jobs.get('api')?.last_exit).toEqual(exit);
    expect(applyItem(model, env(103, { type: 'run_started', job: 'api', run_id: 2, pid: 5, trigger: 'retry' }))).toBe('none');
  });
});

describe('buildView', () => {
  it('puts failing jobs first, in sections ordered by their worst job', () => {
    const view = buildView(fromSnapshot(sampleSnapshot()));
    expect(names(view.items)).toEqual([
      '[-]', 'queue-consumer', 'docs', 'old-script', 'ollama', 'redis',
      '[data]', 'sync-photos', 'db-tunnel', 'nightly-backup', 'report',
      '[web]', 'worker', 'api', 'frontend-dev',
    ]);
    // Waiting is neither running nor failing.
    expect(view.totals).toEqual({ total: 12, running: 4, failing: 3, overall: 'failing' });
    const data = view.items.find((i) => i.kind === 'group' && i.group === 'data');
    expect(data).toMatchObject({ total: 4, running: 1, failing: 1 });
  });

  it('puts a project\'s jobs in its own section, whatever their group', () => {
    const shop = { name: 'shop', file: '/Users/me/code/shop/sentinel.toml' };
    const model = fromSnapshot({
      jobs: [
        job('shop.db', { project: shop, group: 'data' }),
        job('shop.api', { project: shop, state: 'failed', reason: 'x', since: at } as Partial<JobStatus>),
        job('backup', { group: 'data' }),
        job('loose'),
      ],
      history: {},
      seq: 0,
    });
    const view = buildView(model);
    expect(names(view.items)).toEqual(['[shop]', 'shop.api', 'shop.db', '[data]', 'backup', '[-]', 'loose']);
    const header = view.items[0];
    expect(header).toMatchObject({ key: 'p:shop', selection: { project: 'shop' }, file: shop.file, total: 2, failing: 1 });
    expect(view.items[3]).toMatchObject({ key: 'g:data', selection: { group: 'data' }, file: null });
    expect(view.items[5]).toMatchObject({ key: 'g:', selection: null });
  });

  it('shows no headers when no job has a group', () => {
    const model = fromSnapshot({
      jobs: [job('b'), job('a', { state: 'backoff', next_try_at: at, attempt: 1 } as Partial<JobStatus>), job('c', { state: 'failed', reason: 'x', since: at } as Partial<JobStatus>)],
      history: {},
      seq: 0,
    });
    expect(names(buildView(model).items)).toEqual(['c', 'a', 'b']);
    model.jobs.set('d', job('d', waiting({ kind: 'dependency', job: 'c', condition: 'started', now: { state: 'failed', reason: 'x' } }, 'waiting for c to be running (c failed: x)')));
    expect(names(buildView(model).items)).toEqual(['c', 'a', 'd', 'b']);
  });

  it('reports an empty model and an all-good one', () => {
    expect(buildView(fromSnapshot({ jobs: [], history: {}, seq: 0 })).totals.overall).toBe('empty');
    expect(buildView(fromSnapshot({ jobs: [job('a')], history: {}, seq: 0 })).totals.overall).toBe('ok');
  });
});

describe('moveSelection', () => {
  const items = buildView(fromSnapshot(sampleSnapshot())).items;
  const jobs = items.filter((i): i is JobItem => i.kind === 'job').map((i) => i.key);

  it('starts at the top going down and at the bottom going up', () => {
    expect(moveSelection(items, null, 1)).toBe(jobs[0]);
    expect(moveSelection(items, null, -1)).toBe(jobs[jobs.length - 1]);
  });

  it('skips group headers and clamps at the ends', () => {
    expect(moveSelection(items, 'j:redis', 1)).toBe('j:sync-photos');
    expect(moveSelection(items, jobs[0], -1)).toBe(jobs[0]);
    expect(moveSelection(items, jobs[jobs.length - 1], 10)).toBe(jobs[jobs.length - 1]);
  });

  it('has nothing to select in an empty list', () => {
    expect(moveSelection([], null, 1)).toBeNull();
  });
});

describe('describeJob', () => {
  const byName = new Map(sampleSnapshot().jobs.map((j) => [j.name, j]));
  const text = (name: string) => describeJob(byName.get(name)!, NOW).join(' · ');

  it('says what each state means', () => {
    expect(text('api')).toBe('up 2h 14m · last exit 1 2h 14m ago');
    expect(text('worker')).toBe('up 35m');
    expect(text('frontend-dev')).toBe('starting…');
    expect(text('redis')).toBe('stopping…');
    expect(text('sync-photos')).toBe('retry #3 in 12s · last exit 1 20s ago');
    expect(text('queue-consumer')).toBe('gave up after 5 failed starts · last SIGKILL 6m ago');
    expect(text('nightly-backup')).toBe('done 8h ago · next in 16h · last exit 0 8h ago');
    expect(text('report')).toBe('stopped · next in 14m · last exit 0 45m ago');
    expect(text('old-script')).toBe('disabled');
    expect(text('docs')).toBe(`${DOCS_CONFLICT} · last SIGKILL 3h ago`);
    const web = job('web', waiting({ kind: 'dependency', job: 'api', condition: 'healthy', now: { state: 'starting' } }, 'waiting for api to be healthy (api is starting)'));
    expect(describeJob(web, NOW)).toEqual(['waiting for api to be healthy (api is starting)']);
    expect(stateTitle(web)).toBe('waiting: waiting for api to be healthy (api is starting)');
    expect(stateTitle(byName.get('api')!)).toBe('running');
  });

  it('finds port conflicts and whether the holder is a leftover', () => {
    expect(portConflict(byName.get('docs')!)).toEqual({ reason: DOCS_CONFLICT, leftover: true });
    const proxy = 'port 8080 is in use by pid 9 (nginx) of job proxy';
    const other = job('api', waiting({ kind: 'port', port: 8080, holder: { pid: 9, command: 'nginx', job: 'proxy', orphan: false } }, proxy));
    expect(portConflict(other)).toEqual({ reason: proxy, leftover: false });
    const unseen = 'port 8080 is in use by a process this user cannot see';
    expect(portConflict(job('api', waiting({ kind: 'port', port: 8080 }, unseen)))).toEqual({ reason: unseen, leftover: false });
    expect(portConflict(job('api', waiting({ kind: 'dependency', job: 'db', condition: 'started', now: { state: 'stopped' } }, 'waiting for db to be running (db is stopped)')))).toBeNull();
    expect(portConflict(job('api', waiting({ kind: 'slot', max_running: 2 }, 'waiting for a free slot (max_running = 2); waiting jobs start in the order they asked')))).toBeNull();
    expect(portConflict(byName.get('queue-consumer')!)).toBeNull();
  });

  it('says what freeing ports did', () => {
    const leftover = { pid: 3121, command: 'python3 -m mkdocs serve', job: 'docs', orphan: true };
    const stranger = { pid: 77, command: 'nginx', orphan: false };
    expect(describeFreed({ job: 'docs', stopped: [leftover], kept: [] })).toBe('stopped pid 3121 (python3 -m mkdocs serve)');
    expect(describeFreed({ job: 'docs', stopped: [leftover], kept: [stranger] })).toBe(
      'stopped pid 3121 (python3 -m mkdocs serve); left pid 77 (nginx) running (not a leftover of docs)',
    );
    expect(describeFreed({ job: 'docs', stopped: [], kept: [] })).toBe('no leftover holds its ports now');
  });

  it('offers stop while a process may be alive, a retry is pending or a start waits', () => {
    expect(canStop(byName.get('api')!)).toBe(true);
    expect(canStop(byName.get('docs')!)).toBe(true);
    expect(canStop(byName.get('sync-photos')!)).toBe(true);
    expect(canStop(byName.get('queue-consumer')!)).toBe(false);
    expect(canStop(byName.get('report')!)).toBe(false);
  });

  it('reads a log that cannot be written as a warning, not a failure', () => {
    const disk = 'cannot write /home/me/.local/share/sentinelzero/logs/api.log: No space left on device (os error 28); the newest 1 MiB of output is kept in memory and written once the file can be written again';
    const failing = { ...byName.get('api')!, log_error: disk };
    expect(logError(failing)).toBe(disk);
    expect(logError(byName.get('api')!)).toBeNull();
    expect(logError({ ...byName.get('api')!, log_error: null })).toBeNull();
    expect(logError({ ...byName.get('api')!, log_error: ' ' })).toBeNull();
    expect(isFailing(failing)).toBe(false);
    // The engine's words, whole: what is kept and for how long is its rule, not the UI's.
    expect(describeLogError(disk)).toBe(`Writing the log fails: ${disk}`);
  });

  it('takes log_error from each state_changed, so one without it clears it', () => {
    const model = fromSnapshot(sampleSnapshot());
    const api = model.jobs.get('api')!;
    applyItem(model, env(101, { type: 'state_changed', status: { ...api, log_error: 'disk full' } }));
    expect(model.jobs.get('api')!.log_error).toBe('disk full');
    expect(buildView(model).totals).toEqual(buildView(fromSnapshot(sampleSnapshot())).totals);
    applyItem(model, env(102, { type: 'state_changed', status: api }));
    expect(logError(model.jobs.get('api')!)).toBeNull();
  });
});
