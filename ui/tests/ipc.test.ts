import { Channel } from '@tauri-apps/api/core';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { actOn, tauriIpc, toApiError } from '../src/lib/ipc';
import type { ActionResult, JobStatus } from '../src/lib/types';

afterEach(() => clearMocks());

describe('tauriIpc', () => {
  it('invokes each command with the argument names the Rust side expects', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'snapshot' ? { jobs: [], history: {}, seq: 0 } : cmd === 'act' ? [] : null;
    });
    await tauriIpc.freePorts('docs');
    await tauriIpc.snapshot();
    await tauriIpc.act('restart', { names: ['api'] });
    await tauriIpc.act('stop', { group: 'web' });
    await tauriIpc.openSettings({ job: 'api', page: 'logs' });
    await tauriIpc.openSettings();
    await tauriIpc.hidePopover();
    await tauriIpc.subscribe(() => {});
    await tauriIpc.act('start', { names: ['ci'] }, 'build-box');
    await tauriIpc.engines();
    await tauriIpc.retryEngine('build-box');
    expect(calls.slice(0, 7)).toEqual([
      ['free_ports', { name: 'docs' }],
      ['snapshot', {}],
      ['act', { action: 'restart', selection: { names: ['api'] }, engine: null }],
      ['act', { action: 'stop', selection: { group: 'web' }, engine: null }],
      ['open_settings', { job: 'api', page: 'logs' }],
      ['open_settings', { job: null, page: null }],
      ['hide_popover', {}],
    ]);
    const [cmd, args] = calls[7];
    expect(cmd).toBe('subscribe');
    expect((args as { onEvent: unknown }).onEvent).toBeInstanceOf(Channel);
    expect(calls.slice(8)).toEqual([
      ['act', { action: 'start', selection: { names: ['ci'] }, engine: 'build-box' }],
      ['engines', {}],
      ['retry_engine', { name: 'build-box' }],
    ]);
  });

  it('passes command errors through as ApiError', async () => {
    mockIPC(() => Promise.reject({ code: 'not_found', message: 'no job named x', field: 'name' }));
    await expect(tauriIpc.act('start', { names: ['x'] })).rejects.toEqual({ code: 'not_found', message: 'no job named x', field: 'name' });
  });
});

describe('actOn', () => {
  const running = { name: 'api', kind: 'service', enabled: true, state: 'running', pid: 7, since: '2026-01-01T00:00:00Z', restarts: 0, failures: 0 } as JobStatus;
  const answering = (results: ActionResult[]) => ({ ...tauriIpc, act: async () => results });

  it('acts on the one job and resolves to its status, or rejects with its error', async () => {
    mockIPC((cmd, args) => (cmd === 'act' ? [{ name: 'api', status: running }] : Promise.reject(args)));
    await expect(actOn(tauriIpc, 'api', 'start')).resolves.toEqual(running);
    const error = { code: 'spawn_failed', message: 'program not found: api' };
    await expect(actOn(answering([{ name: 'api', error }]), 'api', 'start')).rejects.toEqual(error);
    await expect(actOn(answering([]), 'api', 'start')).rejects.toEqual({ code: 'error', message: 'api: the engine did not answer' });
  });
});

describe('toApiError', () => {
  it('keeps error bodies and wraps anything else', () => {
    expect(toApiError({ code: 'invalid', message: 'bad', field: 'delay' })).toEqual({ code: 'invalid', message: 'bad', field: 'delay' });
    expect(toApiError(new Error('boom'))).toEqual({ code: 'error', message: 'boom' });
    expect(toApiError('plain text')).toEqual({ code: 'error', message: 'plain text' });
    expect(toApiError(undefined)).toEqual({ code: 'error', message: 'Unknown error' });
  });
});
