import { Channel } from '@tauri-apps/api/core';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { tauriIpc, toApiError } from '../src/lib/ipc';

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
    await tauriIpc.jobAction('api', 'restart');
    await tauriIpc.act('stop', { group: 'web' });
    await tauriIpc.openSettings({ job: 'api', page: 'logs' });
    await tauriIpc.openSettings();
    await tauriIpc.hidePopover();
    await tauriIpc.subscribe(() => {});
    expect(calls.slice(0, 7)).toEqual([
      ['free_ports', { name: 'docs' }],
      ['snapshot', {}],
      ['job_action', { name: 'api', action: 'restart' }],
      ['act', { action: 'stop', selection: { group: 'web' } }],
      ['open_settings', { job: 'api', page: 'logs' }],
      ['open_settings', { job: null, page: null }],
      ['hide_popover', {}],
    ]);
    const [cmd, args] = calls[7];
    expect(cmd).toBe('subscribe');
    expect((args as { onEvent: unknown }).onEvent).toBeInstanceOf(Channel);
  });

  it('passes command errors through as ApiError', async () => {
    mockIPC(() => Promise.reject({ code: 'not_found', message: 'no job named x', field: 'name' }));
    await expect(tauriIpc.jobAction('x', 'start')).rejects.toEqual({ code: 'not_found', message: 'no job named x', field: 'name' });
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
