// The toy engine's durations and restart delays, for the mock backends only: the app asks the
// real engine (restart_preview, validate_job), which is the authority on both.

const UNITS: Record<string, number> = {
  ns: 1e-6, nsec: 1e-6,
  us: 1e-3, usec: 1e-3,
  ms: 1, msec: 1, millis: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** Milliseconds, or null when the text is not a duration this preview understands. */
export function parseDuration(text: string | null | undefined): number | null {
  if (!text) return null;
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const re = /(\d+(?:\.\d+)?)([a-zA-Z]+)\s*/y;
  let total = 0;
  let pos = 0;
  while (pos < trimmed.length) {
    re.lastIndex = pos;
    const m = re.exec(trimmed);
    if (!m) return null;
    const unit = UNITS[m[2]];
    if (unit === undefined) return null;
    total += parseFloat(m[1]) * unit;
    pos = re.lastIndex;
  }
  return total;
}

const round1 = (x: number): string => String(Math.round(x * 10) / 10);

/** Short form for delay lists: "500ms", "1.5s", "2.3s", "1m 30s", "2h 5m". */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) {
    const s = round1(ms / 1000);
    // 59.96s rounds up to a whole minute.
    return s === '60' ? '1m' : `${s}s`;
  }
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) {
    const m = Math.floor(totalS / 60);
    const s = totalS % 60;
    return s ? `${m}m ${s}s` : `${m}m`;
  }
  const totalM = Math.round(totalS / 60);
  const h = Math.floor(totalM / 60);
  const m = totalM % 60;
  return m ? `${h}h ${m}m` : `${h}h`;
}

export interface DelayPolicy {
  mode: string;
  max_retries: number;
  delay: string;
  backoff: number;
  max_delay: string;
}

export interface DelayPreview {
  /** The delays before each retry, in ms (at most `shown` of them). */
  delays: number[];
  text: string;
}

/** Delays listed before the preview summarises ("…"). */
const SHOWN = 8;

/**
 * The waits before each retry: delay × backoff^n, capped at max_delay; max_retries 0 retries
 * forever. Null when a field does not parse (the field's own error says why).
 */
export function delaySequence(policy: DelayPolicy): DelayPreview | null {
  if (policy.mode === 'never') return { delays: [], text: 'never restarts' };
  const delay = parseDuration(policy.delay);
  const cap = parseDuration(policy.max_delay);
  const backoff = Number(policy.backoff);
  if (delay === null || cap === null || !Number.isFinite(backoff) || backoff <= 0) return null;
  const retries = Math.max(0, Math.floor(Number(policy.max_retries) || 0));
  const forever = retries === 0;
  const count = forever ? SHOWN : Math.min(retries, SHOWN);
  const delays: number[] = [];
  for (let n = 0; n < count; n++) delays.push(Math.min(delay * backoff ** n, cap));
  let list = delays.map(formatDelay).join(', ');
  if (forever || retries > SHOWN) {
    // Once capped, every later wait is the cap: say so rather than listing it forever.
    const last = delays[delays.length - 1];
    list += last >= cap ? ` … then every ${formatDelay(cap)}` : ', …';
  }
  const tail = forever ? 'never gives up' : `gives up after ${retries} ${retries === 1 ? 'failure' : 'failures'}`;
  return { delays, text: `${list} — ${tail}` };
}
