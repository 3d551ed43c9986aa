import { defineConfig } from 'vite';

// The apiserver serves dist/ under /ui/ (internal/api/web.go); `make web-check` rebuilds and
// compares, so the output must depend only on the sources and the lockfile.
export default defineConfig({
  base: '/ui/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
} as import('vite').UserConfig);
