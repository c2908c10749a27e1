// The settings window's address: `settings.html#job=NAME&page=editor|logs|runs`,
// `#page=new` (with `from=NAME` to duplicate), `#page=app`, `#page=engines`. The app opens and navigates the
// window by setting the hash.

export type JobPage = 'editor' | 'logs' | 'runs';

export type Route =
  | { page: JobPage; job: string; /** Logs: scroll to this time (a run's start). */ at?: string }
  | { page: 'new'; from?: string }
  | { page: 'app' }
  | { page: 'engines' };

export function parseRoute(hash: string): Route {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const page = params.get('page');
  const job = params.get('job');
  if (page === 'new') {
    const from = params.get('from');
    return from ? { page: 'new', from } : { page: 'new' };
  }
  if (page === 'engines') return { page: 'engines' };
  if (job) {
    const p: JobPage = page === 'logs' || page === 'runs' ? page : 'editor';
    const at = params.get('at');
    return p === 'logs' && at ? { page: p, job, at } : { page: p, job };
  }
  // No job and no known page (the popover's gear button): the app's own settings.
  return { page: 'app' };
}

export function formatRoute(route: Route): string {
  const params = new URLSearchParams();
  if (route.page === 'new') {
    params.set('page', 'new');
    if (route.from) params.set('from', route.from);
  } else if (route.page === 'app' || route.page === 'engines') {
    params.set('page', route.page);
  } else {
    params.set('job', route.job);
    params.set('page', route.page);
    if (route.page === 'logs' && route.at) params.set('at', route.at);
  }
  return `#${params.toString()}`;
}
