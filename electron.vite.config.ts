import fs from 'node:fs';
import path from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

/** drizzle-kit's SQL migrations are read at start-up from next to the main bundle. */
function copyMigrations(): Plugin {
  return {
    name: 'dockside-copy-migrations',
    closeBundle() {
      fs.cpSync(path.resolve('src/main/db/migrations'), path.resolve('out/main/migrations'), { recursive: true });
    },
  };
}

export default defineConfig({
  main: {
    build: {
      // got is ESM-only: bundle it rather than require() it at run time.
      externalizeDeps: { exclude: ['got'] },
      rollupOptions: {
        input: {
          index: path.resolve('src/main/index.ts'),
          host: path.resolve('src/main/host.ts'),
          // Worker threads: imports read and checked, exports written, off the main thread.
          worker: path.resolve('src/main/app/worker.ts'),
        },
      },
    },
    plugins: [copyMigrations()],
  },
  preload: {
    build: {
      // sandbox: true preloads must be CommonJS.
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: path.resolve('src/renderer'),
    build: { rollupOptions: { input: path.resolve('src/renderer/index.html') } },
    plugins: [svelte({ configFile: path.resolve('svelte.config.js') })],
  },
});
