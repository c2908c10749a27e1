// Injected into the page by scripts/screenshots.mjs (as an init script, before the app runs):
// a fake engine behind mockIPC. The production bundle never contains this; without it the
// page talks to real Tauri IPC.
import type { JobAction, JobStatus, StreamItem } from '../../src/lib/types';
import { manyJobs, sampleSnapshot } from '../fixtures';
import { installMockBackend, type MockBackend } from '../mock-backend';
import { settingsBackend, type SettingsBackend } from '../settings-backend';
import { setSecret } from '../../src/lib/secrets';

declare global {
  interface Window {
    __SZ_SCENARIO__?: 'sample' | 'many' | 'empty';
    __szMock?: MockBackend & { seq: number; push(event: Record<string, unknown>): void };
    /** The settings window's commands (logs, runs, specs, app settings). */
    __szSettings?: SettingsBackend;
  }
}

const scenario = window.__SZ_SCENARIO__ ?? 'sample';
const now = Date.now();
let snapshot = scenario === 'many' ? manyJobs(1000, now) : scenario === 'empty' ? { jobs: [], history: {}, seq: 0 } : sampleSnapshot(now, 100);
let seq = snapshot.seq;

function statusOf(name: string): JobStatus | undefined {
  return snapshot.jobs.find((j) => j.name === name);
}

function push(event: Record<string, unknown>): void {
  seq += 1;
  backend.emit({ seq, at: new Date().toISOString(), ...event } as StreamItem);
}

const settings = settingsBackend({ now, jobs: snapshot.jobs });
// One env value marked secret, to show the masking.
setSecret('api', 'API_TOKEN', true);

const backend = installMockBackend({
  snapshot: () => ({ ...snapshot, seq }),
  handlers: settings.handlers,
  window: location.pathname.endsWith('settings.html') ? 'settings' : 'popover',
  jobAction(name: string, action: JobAction) {
    const job = statusOf(name);
    if (!job) return Promise.reject({ code: 'not_found', message: `no job named ${name}` });
    // One job that cannot start, to show an inline error.
    if (name === 'queue-consumer' && action !== 'stop') {
      return new Promise((_, reject) =>
        setTimeout(() => reject({ code: 'spawn_failed', message: 'program not found: consume.py' }), 150),
      );
    }
    const since = new Date().toISOString();
    const { resources: _r, ...rest } = job;
    const base = { ...rest } as Record<string, unknown>;
    for (const key of ['pid', 'since', 'next_try_at', 'attempt', 'reason']) delete base[key];
    const next = (action === 'stop' ? { ...base, state: 'stopped' } : { ...base, state: 'running', pid: 4242, since }) as JobStatus;
    return new Promise((resolve) =>
      setTimeout(() => {
        snapshot = { ...snapshot, jobs: snapshot.jobs.map((j) => (j.name === name ? next : j)) };
        push({ type: 'state_changed', status: next });
        resolve(next);
      }, 150),
    );
  },
});

window.__szMock = Object.assign(backend, { seq, push });
window.__szSettings = settings;
