import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// One HTML entry per Tauri window: popover.html and settings.html.
export default defineConfig(({ mode }) => ({
  plugins: [svelte(), svelteTesting()],
  // Relative asset URLs: the bundle works from Tauri's custom protocol and any static server.
  base: './',
  clearScreen: false,
  // A fixed port, for tauri.conf.json's devUrl.
  server: { port: 1420, strictPort: true },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: { popover: 'popover.html', settings: 'settings.html' },
    },
  },
  // Svelte 5 components must resolve to their browser build under jsdom (vitest runs in 'test').
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    // The settings tests make dozens of user-event steps under jsdom; on a busy 2-core machine
    // the 5 s default is too close to their ~1.5 s.
    testTimeout: 20_000,
    // `npm run coverage`: line coverage of src/ by the component tests, written to ui/coverage/.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.{ts,svelte}'],
      // Generated IPC bindings, type declarations, and the window entries (which only mount).
      exclude: ['src/lib/bindings.ts', 'src/**/*.d.ts', 'src/popover.ts', 'src/settings.ts'],
      reporter: ['text-summary', 'json-summary', 'html'],
      reportsDirectory: 'coverage',
    },
  },
}));
