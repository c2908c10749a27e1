// Which env values the user marked secret. UI-only for now (the engine stores env values in
// plain text): the marker lives in localStorage, keyed by job and variable, and only masks the
// value on screen.

const PREFIX = 'sentinel.secret:';

const keyOf = (job: string, name: string): string => `${PREFIX}${job}\u0000${name}`;

export function isSecret(job: string, name: string, storage: Storage = localStorage): boolean {
  return storage.getItem(keyOf(job, name)) === '1';
}

export function setSecret(job: string, name: string, secret: boolean, storage: Storage = localStorage): void {
  if (secret) storage.setItem(keyOf(job, name), '1');
  else storage.removeItem(keyOf(job, name));
}

/** Replaces a job's markers with `names` (after a save, so removed or renamed keys go away). */
export function saveSecrets(job: string, names: string[], storage: Storage = localStorage): void {
  const prefix = `${PREFIX}${job}\u0000`;
  const stale: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    if (k?.startsWith(prefix)) stale.push(k);
  }
  for (const k of stale) storage.removeItem(k);
  for (const name of names) setSecret(job, name, true, storage);
}

/** What a masked value looks like: its length is not given away. */
export const MASK = '••••••••';
