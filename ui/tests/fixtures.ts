// Sample data for tests and screenshots: one job in every state, with health checks,
// resource history, schedules and groups. Times are relative to `now` so text is stable.

import type { JobStatus, RemoteEngines, ResourceSample, Snapshot, WaitReason } from '../src/lib/types';

/** Why `docs` waits: its port is held by what its earlier run left behind. */
export const DOCS_WAIT: WaitReason = {
  kind: 'port',
  port: 8000,
  holder: { pid: 3121, command: 'python3 -m mkdocs serve -a 127.0.0.1:8000', job: 'docs', orphan: true },
};
/** The same, in the engine's words. */
export const DOCS_CONFLICT =
  'port 8000 is in use by pid 3121 (python3 -m mkdocs serve -a 127.0.0.1:8000), left over from an earlier run of docs; `sentinel ports docs --free` stops it';

export const NOW = Date.parse('2025-06-02T10:00:00Z');

const iso = (t: number) => new Date(t).toISOString();
const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

/** A deterministic wobbly series (no Math.random: screenshots must not change run to run). */
export function series(now: number, count: number, cpuBase: number, memBase: number, seed: number): ResourceSample[] {
  const out: ResourceSample[] = [];
  for (let i = 0; i < count; i++) {
    const wave = Math.sin((i + seed) / 3) + 0.5 * Math.sin((i * 7 + seed) / 5);
    out.push({
      at: iso(now - (count - 1 - i) * 5 * s),
      cpu_percent: Math.max(0, cpuBase * (1 + 0.6 * wave)),
      memory_bytes: Math.round(memBase * (1 + 0.04 * wave + i * 0.002)),
      processes: 1 + (seed % 3),
      disk_read_bytes: 1_000_000 * i,
      disk_written_bytes: 500_000 * i,
      cpu_seconds: cpuBase * i * 0.05,
    });
  }
  return out;
}

export function sampleJobs(now: number = NOW): JobStatus[] {
  const exit = (code: number | undefined, ago: number, signal?: number) => ({
    ...(code !== undefined ? { code } : {}),
    ...(signal !== undefined ? { signal } : {}),
    at: iso(now - ago),
    duration_ms: 4200,
  });
  return [
    {
      name: 'api', group: 'web', kind: 'service', enabled: true,
      state: 'running', pid: 4121, since: iso(now - 2 * h - 14 * m),
      restarts: 2, failures: 0, last_exit: exit(1, 2 * h + 14 * m), health: 'healthy',
    },
    {
      name: 'worker', group: 'web', kind: 'service', enabled: true,
      state: 'running', pid: 4188, since: iso(now - 35 * m),
      restarts: 0, failures: 0, health: 'unhealthy',
    },
    {
      name: 'frontend-dev', group: 'web', kind: 'service', enabled: true,
      state: 'starting', restarts: 0, failures: 0, health: 'unknown',
    },
    {
      name: 'db-tunnel', group: 'data', kind: 'service', enabled: true,
      state: 'running', pid: 912, since: iso(now - 3 * d - 4 * h),
      restarts: 0, failures: 0, health: 'healthy',
    },
    {
      name: 'nightly-backup', group: 'data', kind: 'task', enabled: true,
      state: 'exited', since: iso(now - 8 * h), restarts: 0, failures: 0,
      last_exit: exit(0, 8 * h), next_run_at: iso(now + 16 * h),
    },
    {
      name: 'sync-photos', group: 'data', kind: 'service', enabled: true,
      state: 'backoff', next_try_at: iso(now + 12 * s), attempt: 3,
      restarts: 3, failures: 3, last_exit: exit(1, 20 * s),
    },
    {
      name: 'report', group: 'data', kind: 'task', enabled: true,
      state: 'stopped', restarts: 0, failures: 0,
      last_exit: exit(0, 45 * m), next_run_at: iso(now + 14 * m),
    },
    {
      name: 'ollama', kind: 'service', enabled: true,
      state: 'running', pid: 733, since: iso(now - 5 * h - 2 * m), restarts: 0, failures: 0,
    },
    {
      name: 'queue-consumer', kind: 'service', enabled: true,
      state: 'failed', reason: 'gave up after 5 failed starts', since: iso(now - 6 * m),
      restarts: 5, failures: 5, last_exit: exit(undefined, 6 * m, 9),
    },
    {
      name: 'docs', kind: 'service', enabled: true,
      state: 'waiting', reason: DOCS_WAIT, message: DOCS_CONFLICT, since: iso(now - 2 * m),
      restarts: 0, failures: 0, last_exit: exit(undefined, 3 * h, 9),
    },
    {
      name: 'redis', kind: 'service', enabled: true,
      state: 'stopping', pid: 655, restarts: 0, failures: 0,
    },
    {
      name: 'old-script', kind: 'task', enabled: false,
      state: 'stopped', restarts: 0, failures: 0,
    },
  ];
}

export function sampleSnapshot(now: number = NOW, seq = 100): Snapshot {
  const jobs = sampleJobs(now);
  const history: Record<string, ResourceSample[]> = {
    api: series(now, 40, 6, 180_000_000, 1),
    worker: series(now, 40, 35, 410_000_000, 2),
    'db-tunnel': series(now, 40, 0.4, 9_500_000, 3),
    ollama: series(now, 40, 12, 2_300_000_000, 4),
    redis: series(now, 40, 1.5, 24_000_000, 5),
  };
  for (const job of jobs) {
    const samples = history[job.name];
    if (samples) job.resources = samples[samples.length - 1];
  }
  return { jobs, history, seq };
}

/** `count` running jobs in 10 groups, for the virtual list. */
export function manyJobs(count: number, now: number = NOW): Snapshot {
  const jobs: JobStatus[] = [];
  for (let i = 0; i < count; i++) {
    jobs.push({
      name: `job-${String(i).padStart(4, '0')}`,
      group: `group-${i % 10}`,
      kind: 'service',
      enabled: true,
      state: 'running',
      pid: 1000 + i,
      since: iso(now - i * m),
      restarts: 0,
      failures: 0,
    });
  }
  return { jobs, history: {}, seq: 1 };
}

/**
 * Two remote engines: `build-box`, reached, with a failing job and a group; `vps`, which
 * cannot be reached (ssh's own words), tried again in 12 s.
 */
export function remoteEngines(now: number = NOW, revision = 1): RemoteEngines {
  return {
    revision,
    engines: [
      {
        context: { name: 'build-box', host: 'ssh://deploy@build.example.com', description: 'CI runners' },
        link: 'connected',
        version: '0.1.0',
        since: iso(now - 3 * h),
        jobs: [
          { name: 'ci-runner', group: 'ci', kind: 'service', enabled: true, state: 'running', pid: 811, since: iso(now - 3 * h), restarts: 0, failures: 0 },
          { name: 'artifact-gc', group: 'ci', kind: 'service', enabled: true, state: 'failed', reason: 'exit code 2 (restart = never)', since: iso(now - 5 * m), restarts: 0, failures: 1 },
        ],
      },
      {
        context: { name: 'vps', host: 'ssh://me@203.0.113.7:2222' },
        link: 'unreachable',
        problem: { code: 'unreachable', message: 'ssh: connect to host 203.0.113.7 port 2222: Connection refused' },
        since: iso(now - 2 * m),
        next_try_at: iso(now + 12 * s),
        attempt: 4,
      },
    ],
  };
}

/** A small local engine, so every section fits the list's first screen. */
export function smallSnapshot(now: number = NOW): Snapshot {
  return {
    jobs: [
      { name: 'api', kind: 'service', enabled: true, state: 'running', pid: 4242, since: iso(now - 2 * h), restarts: 0, failures: 0 },
      { name: 'ci-runner', kind: 'service', enabled: true, state: 'stopped', restarts: 0, failures: 0 },
    ],
    history: {},
    seq: 10,
  };
}
