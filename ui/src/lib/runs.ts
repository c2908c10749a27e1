// Rows of the run history table, as plain text.
import { describeExit, formatDuration, parseTime } from './format';
import type { RunRecord, Trigger } from './types';

const TRIGGERS: Record<Trigger, string> = {
  manual: 'manual',
  autostart: 'autostart',
  retry: 'retry',
  restart: 'restart',
  recovery: 'recovery',
  schedule: 'schedule',
  catch_up: 'catch-up',
  memory_limit: 'memory limit',
  health_check: 'health check',
  file_change: 'file change',
};

export interface RunRow {
  id: number;
  started: string;
  duration: string;
  trigger: string;
  exit: string;
  outcome: string;
  reason: string;
  startedAt: string;
}

/** "2025-06-02 09:58:03" in local time: unambiguous and sortable at a glance. */
export function formatStamp(iso: string): string {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function runRow(run: RunRecord, now: number): RunRow {
  const start = parseTime(run.started_at);
  const end = run.ended_at ? parseTime(run.ended_at) : now;
  const running = !run.outcome;
  return {
    id: run.id,
    started: formatStamp(run.started_at),
    duration: Number.isNaN(start) || Number.isNaN(end) ? '' : formatDuration(end - start) + (running ? ' so far' : ''),
    trigger: TRIGGERS[run.trigger] ?? run.trigger,
    exit:
      run.exit_code != null || run.signal != null
        ? describeExit({ code: run.exit_code, signal: run.signal, at: run.ended_at ?? '', duration_ms: 0 })
        : '',
    outcome: running ? 'running' : run.outcome!.replace('_', ' '),
    reason: run.reason ?? '',
    startedAt: run.started_at,
  };
}
