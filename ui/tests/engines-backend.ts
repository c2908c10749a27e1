// The app's engine commands for the settings window's tests (and its screenshots): the remote
// engines kept in memory, with a toy of the engine's checks (the real ones are proto's,
// tested in Rust) and test connections that reach a host unless its name says otherwise.
import type { EngineContext, EngineList, ErrorBody, FieldError, RemoteEngines, RemoteView } from '../src/lib/types';

export interface EnginesBackend {
  handlers: Record<string, (args: Record<string, unknown>) => unknown>;
  remotes(): RemoteEngines;
}

/** What the engine says of a context, by field, like `EngineContext::problems`. */
export function toyEngineProblems(context: EngineContext, taken: string[]): FieldError[] {
  const problems: FieldError[] = [];
  if (context.name === '') problems.push({ field: 'name', message: 'is empty' });
  else if (context.name === 'default') problems.push({ field: 'name', message: '"default" is the local engine\'s name; choose another' });
  else if (taken.includes(context.name)) problems.push({ field: 'name', message: `"${context.name}" is a context already; remove it first to change it` });
  if (!/^(ssh:\/\/[A-Za-z0-9._@-]+(:\d+)?|unix:\/\/\/.+)$/.test(context.host)) {
    problems.push({ field: 'host', message: `"${context.host}" is not an engine's address; use ssh://[user@]host[:port] or unix:///path` });
  }
  return problems;
}

function invalid(errors: FieldError[]): ErrorBody {
  return { code: 'invalid', message: errors.map((e) => `${e.field}: ${e.message}`).join('; '), field: errors[0]?.field, errors };
}

export function enginesBackend(initial: RemoteView[], now: number, localJobs: number): EnginesBackend {
  let engines = [...initial];
  let revision = 1;
  const remotes = (): RemoteEngines => ({ revision, engines });
  const list = (): EngineList => ({
    local: { version: '0.1.0', jobs: localJobs },
    remotes: JSON.parse(JSON.stringify(remotes())),
    contexts_file: '/Users/me/Library/Application Support/SentinelZero/contexts.toml',
    problem: null,
  });
  const handlers: EnginesBackend['handlers'] = {
    engines: () => list(),
    add_engine: (args) => {
      const context = args['context'] as EngineContext;
      const problems = toyEngineProblems(context, engines.map((e) => e.context.name));
      if (problems.length > 0) return Promise.reject(invalid(problems));
      engines = [...engines, { context, link: 'connecting', since: new Date(now).toISOString() }];
      revision += 1;
      return list();
    },
    remove_engine: (args) => {
      const name = args['name'] as string;
      if (!engines.some((e) => e.context.name === name)) return Promise.reject({ code: 'not_found', message: `no engine named "${name}"` });
      engines = engines.filter((e) => e.context.name !== name);
      revision += 1;
      return list();
    },
    test_engine: (args) => {
      const context = args['context'] as EngineContext;
      const problems = toyEngineProblems({ ...context, name: 'x' }, []);
      if (problems.length > 0) return Promise.reject(invalid(problems));
      if (context.host.includes('unreachable')) {
        return Promise.reject({ code: 'unreachable', message: 'ssh: Could not resolve hostname unreachable.example: Name or service not known' });
      }
      return { version: '0.1.0', jobs: 3 };
    },
  };
  return { handlers, remotes };
}
