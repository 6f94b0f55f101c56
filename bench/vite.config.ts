import path from 'node:path';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

/** The benchmark pages: genwatch's pipeline, the naive baseline, and the SSE client alone. */
export default defineConfig({
  root: path.resolve(import.meta.dirname, 'pages'),
  plugins: [vue()],
  logLevel: 'warn',
  build: {
    target: 'es2022',
    outDir: path.resolve(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        genwatch: path.resolve(import.meta.dirname, 'pages/index.html'),
        naive: path.resolve(import.meta.dirname, 'pages/naive.html'),
        wire: path.resolve(import.meta.dirname, 'pages/wire.html'),
      },
    },
  },
});
