// The wall clock for "up 2h 14m" and "next in 3m". A local tick, not polling: the engine is
// only asked for anything once, at load.
import { readable, type Readable } from 'svelte/store';

export function createClock(intervalMs = 1000): Readable<number> {
  return readable(Date.now(), (set) => {
    const timer = setInterval(() => set(Date.now()), intervalMs);
    return () => clearInterval(timer);
  });
}
