// Injected into the page by scripts/screenshots.mjs (as an init script, before the app runs):
// a fake engine behind mockIPC. The production bundle never contains this; without it the
// page talks to real Tauri IPC.
import type { FreedPorts, Action, JobStatus, StreamItem } from '../../src/lib/types';
import { enginesBackend } from '../engines-backend';
import { manyJobs, remoteEngines, sampleSnapshot, smallSnapshot } from '../fixtures';
import { installMockBackend, type MockBackend } from '../mock-backend';
import { settingsBackend, type SettingsBackend } from '../settings-backend';

declare global {
  interface Window {
    __SZ_SCENARIO__?: 'sample' | 'many' | 'empty' | 'engines';
    __szMock?: MockBackend & { seq: number; push(event: Record<string, unknown>): void };
    /** The settings window's commands (logs, runs, specs, app settings). */
    __szSettings?: SettingsBackend;
  }
}

const scenario = window.__SZ_SCENARIO__ ?? 'sample';
const now = Date.now();
let snapshot =
  scenario === 'many'
    ? manyJobs(1000, now)
    : scenario === 'empty'
      ? { jobs: [], history: {}, seq: 0 }
      : scenario === 'engines'
        ? smallSnapshot(now)
        : sampleSnapshot(now, 100);
// Remote engines only in their own scenario: one reached, one not.
const engines = enginesBackend(scenario === 'engines' ? remoteEngines(now).engines : [], now, snapshot.jobs.length);
let seq = snapshot.seq;

// One job whose log file cannot be written (a full disk): it runs on, with a marker on its row.
const OLLAMA_LOG_ERROR = 'cannot write /home/me/.local/share/sentinelzero/logs/ollama.log: No space left on device (os error 28)';
if (scenario === 'sample') {
  snapshot = { ...snapshot, jobs: snapshot.jobs.map((j) => (j.name === 'ollama' ? { ...j, log_error: OLLAMA_LOG_ERROR } : j)) };
}

function statusOf(name: string): JobStatus | undefined {
  return snapshot.jobs.find((j) => j.name === name);
}

/** Puts `next` in the snapshot and tells the page, as the engine would. */
function change(next: JobStatus): void {
  snapshot = { ...snapshot, jobs: snapshot.jobs.map((j) => (j.name === next.name ? next : j)) };
  push({ type: 'state_changed', status: next });
}

function push(event: Record<string, unknown>): void {
  seq += 1;
  backend.emit({ seq, at: new Date().toISOString(), ...event } as StreamItem);
}

// Long enough for a check to see a pending state between two browser commands on a busy machine.
const REPLY_MS = 600;

// api's API_TOKEN is secret (its spec's `secrets`), to show the masking.
const settings = settingsBackend({ now, jobs: snapshot.jobs });

const backend = installMockBackend({
  snapshot: () => ({ ...snapshot, seq }),
  handlers: { ...settings.handlers, ...engines.handlers },
  remotes: engines.remotes,
  window: location.pathname.endsWith('settings.html') ? 'settings' : 'popover',
  actOn(name: string, action: Action) {
    const job = statusOf(name);
    if (!job) return Promise.reject({ code: 'not_found', message: `no job named ${name}` });
    // One job that cannot start, to show an inline error.
    if (name === 'queue-consumer' && action !== 'stop') {
      return new Promise((_, reject) =>
        setTimeout(() => reject({ code: 'spawn_failed', message: 'program not found: consume.py' }), REPLY_MS),
      );
    }
    const since = new Date().toISOString();
    const { resources: _r, ...rest } = job;
    const base = { ...rest } as Record<string, unknown>;
    for (const key of ['pid', 'since', 'next_try_at', 'attempt', 'reason', 'message']) delete base[key];
    const next = (action === 'stop' ? { ...base, state: 'stopped' } : { ...base, state: 'running', pid: 4242, since }) as JobStatus;
    return new Promise((resolve) =>
      setTimeout(() => {
        change(next);
        resolve(next);
      }, REPLY_MS),
    );
  },
  // docs waits for a port its earlier run still holds: stopping that lets it start.
  freePorts(name: string) {
    const job = statusOf(name);
    if (!job) return Promise.reject({ code: 'not_found', message: `no job named ${name}` });
    if (job.state !== 'waiting' || job.reason.kind !== 'port' || !job.reason.holder?.orphan) return { job: name, stopped: [], kept: [] };
    const freed: FreedPorts = { job: name, stopped: [{ pid: 3121, command: 'python3 -m mkdocs serve -a 127.0.0.1:8000', job: name, orphan: true }], kept: [] };
    return new Promise((resolve) =>
      setTimeout(() => {
        resolve(freed);
        const { reason: _r, message: _m, ...rest } = job;
        change({ ...rest, state: 'running', pid: 4243, since: new Date().toISOString() } as JobStatus);
      }, REPLY_MS),
    );
  },
});

window.__szMock = Object.assign(backend, { seq, push });
window.__szSettings = settings;
