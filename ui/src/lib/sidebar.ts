// The settings window's job list: grouped by group (alphabetical, ungrouped last), filtered by
// the search box. States come live from the popover's controller.
import type { JobStatus } from './types';

export interface Section {
  group: string | null;
  jobs: JobStatus[];
}

export function sections(jobs: Iterable<JobStatus>, query: string): Section[] {
  const q = query.trim().toLowerCase();
  const byGroup = new Map<string | null, JobStatus[]>();
  for (const job of jobs) {
    if (q && !job.name.toLowerCase().includes(q) && !(job.group ?? '').toLowerCase().includes(q)) continue;
    const g = job.group ?? null;
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(job);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)))
    .map(([group, list]) => ({ group, jobs: list.sort((x, y) => x.name.localeCompare(y.name)) }));
}

export type Shortcut = 'close' | 'app' | 'new' | 'search';

/** The window's shortcuts: Cmd (macOS) or Ctrl with W , N F. */
export function shortcutFor(e: { key: string; metaKey?: boolean; ctrlKey?: boolean; altKey?: boolean; shiftKey?: boolean }): Shortcut | null {
  if (!(e.metaKey || e.ctrlKey) || e.altKey || e.shiftKey) return null;
  switch (e.key.toLowerCase()) {
    case 'w':
      return 'close';
    case ',':
      return 'app';
    case 'n':
      return 'new';
    case 'f':
      return 'search';
    default:
      return null;
  }
}
