import { defaultSpec } from './toy-defaults';
import { Channel } from '@tauri-apps/api/core';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeWindow, tauriSettingsIpc } from '../src/lib/settings-ipc';
import { installMockBackend } from './mock-backend';

afterEach(() => clearMocks());

describe('tauriSettingsIpc', () => {
  it('invokes each settings command with the argument names the Rust side expects', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, (args ?? {}) as Record<string, unknown>]);
      return cmd === 'validate_job' || cmd === 'job_runs' || cmd === 'log_tail' || cmd === 'job_env' ? [] : null;
    });
    const spec = { ...defaultSpec(), name: 'x', command: 'true' };
    const settings = { monitor: { sample_interval: '5s', unwatched_interval: '1m', history: '10m' }, notifications: { enabled: true, throttle: '5m', recovered: true, webhook: null, webhook_timeout: '10s' }, metrics: { port: null }, logs: { max_age: '14d' }, limits: { max_running: 4096 } };
    await tauriSettingsIpc.getJob('api');
    await tauriSettingsIpc.validateJob(spec, null);
    await tauriSettingsIpc.saveJob(spec, 'x');
    await tauriSettingsIpc.deleteJob('x');
    await tauriSettingsIpc.jobRuns('x', 50);
    await tauriSettingsIpc.logTail('x', 100);
    await tauriSettingsIpc.schedulePreview({ cron: '0 2 * * *', every: null, at: null }, 5);
    await tauriSettingsIpc.appSettings();
    await tauriSettingsIpc.saveSettings(settings);
    await tauriSettingsIpc.setLaunchAtLogin(true);
    await tauriSettingsIpc.regenerateMetricsToken();
    await tauriSettingsIpc.jobEnv('x');
    await tauriSettingsIpc.followLogs('x', 1000, () => {});
    await tauriSettingsIpc.getJob('api', true);
    await tauriSettingsIpc.jobEnv('x', true);
    expect(calls.slice(0, 12)).toEqual([
      // Tauri hands `showSecrets` to the Rust `show_secrets: Option<bool>`.
      ['get_job', { name: 'api', showSecrets: null }],
      ['validate_job', { spec, original: null }],
      ['save_job', { spec, original: 'x' }],
      ['delete_job', { name: 'x' }],
      ['job_runs', { name: 'x', limit: 50 }],
      ['log_tail', { name: 'x', lines: 100 }],
      ['schedule_preview', { cron: '0 2 * * *', every: null, at: null, n: 5 }],
      ['app_settings', {}],
      ['save_settings', { settings }],
      ['set_launch_at_login', { enabled: true }],
      ['regenerate_metrics_token', {}],
      ['job_env', { name: 'x', showSecrets: null }],
    ]);
    const [cmd, args] = calls[12];
    expect(cmd).toBe('follow_logs');
    expect(args['name']).toBe('x');
    expect(args['lines']).toBe(1000);
    expect(args['onLine']).toBeInstanceOf(Channel);
    expect(calls.slice(13)).toEqual([
      ['get_job', { name: 'api', showSecrets: true }],
      ['job_env', { name: 'x', showSecrets: true }],
    ]);
  });

  it('answers close requests itself (the app hides the window) and closes by a close request', async () => {
    const backend = installMockBackend({ snapshot: { jobs: [], history: {}, seq: 0 }, window: 'settings' });
    const cmds = () => backend.calls.map((c) => c.cmd);
    let keep = false;
    const stop = await tauriSettingsIpc.onCloseRequested(() => keep);
    expect(backend.calls.find((c) => c.cmd === 'plugin:event|listen')?.args['event']).toBe('tauri://close-requested');

    // Going: never Tauri's default destroy, which would end the window the app only hides.
    await backend.requestClose();
    expect(cmds()).not.toContain('plugin:window|destroy');
    expect(cmds()).not.toContain('keep_settings_open');
    // Asking: the window, hidden by the app already, is brought back by the app.
    keep = true;
    await backend.requestClose();
    expect(cmds()).not.toContain('plugin:window|destroy');
    await vi.waitFor(() => expect(cmds().filter((c) => c === 'keep_settings_open')).toHaveLength(1));

    stop();
    await vi.waitFor(() => expect(cmds()).toContain('plugin:event|unlisten'));
    closeWindow();
    await vi.waitFor(() => expect(backend.calls.find((c) => c.cmd === 'plugin:window|close')?.args).toEqual({ label: 'settings' }));
  });
});
