// The wall clock for "up 2h 14m" and "next in 3m". A local tick, not polling: the engine is
// only asked for anything once, at load. It stops while the page is hidden (a closed popover
// redraws nothing) and catches up at once when it is shown.
import { readable, type Readable } from 'svelte/store';

export function createClock(intervalMs = 1000, doc: Document = document): Readable<number> {
  return readable(Date.now(), (set) => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const sync = (): void => {
      if (doc.visibilityState === 'hidden') {
        clearInterval(timer);
        timer = undefined;
      } else if (timer === undefined) {
        set(Date.now());
        timer = setInterval(() => set(Date.now()), intervalMs);
      }
    };
    sync();
    doc.addEventListener('visibilitychange', sync);
    return () => {
      clearInterval(timer);
      doc.removeEventListener('visibilitychange', sync);
    };
  });
}
