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
