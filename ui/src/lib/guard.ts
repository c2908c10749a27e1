// Leaving a page with unsaved edits asks first. This decides whether a move leaves the page at
// all and what to ask; the pages (JobEditor, AppSettingsView) say whether their draft differs
// from what is saved, and SettingsApp shows the question.
import { formatRoute, type Route } from './route';

/** Where the window is about to go: another page, or 'close' (the window closes). */
export type Destination = Route | 'close';

export interface Question {
  title: string;
  message: string;
}

/** The page on screen stays: Logs at another run's time is still the same Logs page. */
export function samePage(a: Route, b: Route): boolean {
  const key = (r: Route) => formatRoute(r.page === 'logs' ? { page: 'logs', job: r.job } : r);
  return key(a) === key(b);
}

/** What the draft on `route` is called in the question. */
function subject(route: Route): string {
  switch (route.page) {
    case 'app':
      return 'the app settings';
    case 'engines':
      return 'the new engine';
    case 'new':
      return route.from ? `the copy of ${route.from}` : 'the new job';
    default:
      return route.job;
  }
}

/** The question to ask before going from `from` to `to` when the page's draft is `dirty`; null: just go. */
export function leaveQuestion(from: Route, to: Destination, dirty: boolean): Question | null {
  if (!dirty) return null;
  if (to !== 'close' && samePage(from, to)) return null;
  return {
    title: `Discard unsaved changes to ${subject(from)}?`,
    message: to === 'close' ? 'Your edits are lost when the window closes.' : 'Your edits are lost when you leave this page.',
  };
}
