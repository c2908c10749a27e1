// The settings window's job list: in sections per project (`sentinel up`) or group
// (projects first, then groups, alphabetical; the rest last), filtered by the search box.
// States come live from the popover's controller.
import { sectionKey, sectionOf, type SectionSelection } from './jobs';
import type { JobStatus, ProjectRef } from './types';

export interface Section {
  /** `sectionKey` of the selection; '' for the jobs in no section. */
  key: string;
  /** The project's or group's name; null for the rest. */
  group: string | null;
  selection: SectionSelection | null;
  project: ProjectRef | null;
  jobs: JobStatus[];
}

export function sections(jobs: Iterable<JobStatus>, query: string): Section[] {
  const q = query.trim().toLowerCase();
  const byKey = new Map<string, Section>();
  for (const job of jobs) {
    const selection = sectionOf(job);
    const title = selection === null ? '' : 'project' in selection ? selection.project : selection.group;
    if (q && !job.name.toLowerCase().includes(q) && !title.toLowerCase().includes(q)) continue;
    const key = selection === null ? '' : sectionKey(selection);
    let section = byKey.get(key);
    if (!section) {
      section = { key, group: selection === null ? null : title, selection, project: job.project ?? null, jobs: [] };
      byKey.set(key, section);
    }
    section.jobs.push(job);
  }
  // Projects first, then groups, then the jobs in neither.
  const order = (key: string) => (key.startsWith('p:') ? 0 : key.startsWith('g:') ? 1 : 2);
  return [...byKey.values()]
    .sort((a, b) => order(a.key) - order(b.key) || (a.group ?? '').localeCompare(b.group ?? ''))
    .map((section) => ({ ...section, jobs: section.jobs.sort((x, y) => x.name.localeCompare(y.name)) }));
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
