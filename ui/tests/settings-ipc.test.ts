import { Channel } from '@tauri-apps/api/core';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { tauriSettingsIpc } from '../src/lib/settings-ipc';
import { defaultSpec } from '../src/lib/editor';

afterEach(() => clearMocks());

describe('tauriSettingsIpc', () => {
  it('invokes each settings command with the argument names the Rust side expects', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, (args ?? {}) as Record<string, unknown>]);
      return cmd === 'validate_job' || cmd === 'job_runs' || cmd === 'log_tail' ? [] : null;
    });
    const spec = { ...defaultSpec(), name: 'x', command: 'true' };
    const settings = { monitor: { sample_interval: '5s', history: '10m' }, notifications: { enabled: true, throttle: '5m', recovered: true, webhook: null, webhook_timeout: '10s' }, metrics: { port: null } };
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
    await tauriSettingsIpc.followLogs('x', 1000, () => {});
    expect(calls.slice(0, 11)).toEqual([
      ['get_job', { name: 'api' }],
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
    ]);
    const [cmd, args] = calls[11];
    expect(cmd).toBe('follow_logs');
    expect(args['name']).toBe('x');
    expect(args['lines']).toBe(1000);
    expect(args['onLine']).toBeInstanceOf(Channel);
  });
});
