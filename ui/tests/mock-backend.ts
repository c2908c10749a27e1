// A fake engine behind Tauri's IPC (mockIPC), for component tests and the browser
// screenshots: answers the popover's commands and pushes events through the real Channel.
import { mockIPC } from '@tauri-apps/api/mocks';
import type { Channel } from '@tauri-apps/api/core';
import type { BulkResult, JobAction, JobStatus, Snapshot, StreamItem } from '../src/lib/types';

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

export interface MockOptions {
  snapshot: Snapshot | (() => Snapshot);
  /** Answers job_action; the default returns the job's current status unchanged. */
  jobAction?: (name: string, action: JobAction) => JobStatus | Promise<JobStatus>;
  groupAction?: (group: string, action: JobAction) => BulkResult[] | Promise<BulkResult[]>;
  /** More commands (the settings window's), by name; consulted before the popover's. */
  handlers?: Record<string, (args: Record<string, unknown>) => unknown>;
}

export interface MockBackend {
  calls: Call[];
  /** Sends one item down every subscribed channel, in order. */
  emit(item: StreamItem): void;
  subscribers(): number;
}

interface TauriInternals {
  runCallback(id: number, data: unknown): void;
}

export function installMockBackend(options: MockOptions): MockBackend {
  const calls: Call[] = [];
  const channels: { channel: Channel<StreamItem>; next: number }[] = [];
  const snapshot = () => (typeof options.snapshot === 'function' ? options.snapshot() : options.snapshot);

  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const extra = options.handlers?.[cmd];
    if (extra) return extra(args);
    switch (cmd) {
      case 'snapshot':
        // A deep copy, as over the wire: the page must not share objects with the test.
        return JSON.parse(JSON.stringify(snapshot()));
      case 'subscribe':
        channels.push({ channel: args['onEvent'] as Channel<StreamItem>, next: 0 });
        return null;
      case 'job_action': {
        const name = args['name'] as string;
        const action = args['action'] as JobAction;
        if (options.jobAction) return options.jobAction(name, action);
        const job = snapshot().jobs.find((j) => j.name === name);
        if (!job) return Promise.reject({ code: 'not_found', message: `no job named ${name}` });
        return job;
      }
      case 'group_action':
        if (options.groupAction) return options.groupAction(args['group'] as string, args['action'] as JobAction);
        return [];
      case 'open_settings':
      case 'hide_popover':
        return null;
      default:
        return Promise.reject({ code: 'unknown_command', message: `unknown command ${cmd}` });
    }
  });

  const internals = (window as unknown as { __TAURI_INTERNALS__: TauriInternals }).__TAURI_INTERNALS__;
  return {
    calls,
    emit(item) {
      // The same framing Rust uses, so the Channel's ordering logic runs as in the app.
      for (const sub of channels) {
        internals.runCallback(sub.channel.id, { index: sub.next, message: item });
        sub.next += 1;
      }
    },
    subscribers: () => channels.length,
  };
}
