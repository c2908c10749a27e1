// The settings window's theme: system (follows prefers-color-scheme), light or dark. Stored in
// localStorage and applied as `data-theme` on <html>, which settings.css keys its colours on.

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'sentinel.theme';

export function loadTheme(storage: Storage = localStorage): ThemeChoice {
  const v = storage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

export function saveTheme(choice: ThemeChoice, storage: Storage = localStorage): void {
  if (choice === 'system') storage.removeItem(KEY);
  else storage.setItem(KEY, choice);
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): 'light' | 'dark' {
  return choice === 'system' ? (prefersDark ? 'dark' : 'light') : choice;
}

/** Applies the choice now and whenever the system setting changes; returns a cleanup. */
export function applyTheme(choice: ThemeChoice, root: HTMLElement = document.documentElement): () => void {
  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  const apply = (): void => {
    root.dataset['theme'] = resolveTheme(choice, media?.matches ?? false);
  };
  apply();
  media?.addEventListener?.('change', apply);
  return () => media?.removeEventListener?.('change', apply);
}
