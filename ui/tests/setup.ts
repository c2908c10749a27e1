import { configure } from '@testing-library/svelte/pure';

// findBy*/waitFor give up after 1 s by default: too close on a busy machine. They return as
// soon as what they wait for is there, so a longer limit costs nothing when all is well.
configure({ asyncUtilTimeout: 5_000 });

// jsdom has no layout and no ResizeObserver (Svelte's bind:clientHeight uses one): a no-op
// observer leaves sizes at 0, and the virtual list falls back to its default height.
if (!('ResizeObserver' in globalThis)) {
  class NoopResizeObserver {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  }
  (globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver = NoopResizeObserver;
}
