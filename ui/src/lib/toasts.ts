// Short-lived messages at the bottom of the settings window: every action says how it went.
import { writable, type Readable } from 'svelte/store';

export interface Toast {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

export interface Toasts extends Readable<Toast[]> {
  show(kind: Toast['kind'], text: string): void;
  dismiss(id: number): void;
}

/** Errors stay longer: they usually say what to change. */
export function createToasts(okMs = 2500, errorMs = 6000): Toasts {
  const store = writable<Toast[]>([]);
  let next = 0;
  const dismiss = (id: number): void => store.update((list) => list.filter((t) => t.id !== id));
  return {
    subscribe: store.subscribe,
    show(kind, text) {
      const id = ++next;
      // At most three at once; the oldest goes first.
      store.update((list) => [...list.slice(-2), { id, kind, text }]);
      setTimeout(() => dismiss(id), kind === 'error' ? errorMs : okMs);
    },
    dismiss,
  };
}
