import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineConfig(({ isSsrBuild }) => ({
  plugins: [vue()],
  build: {
    target: 'es2022',
    sourcemap: true,
    // the relay's build (vite build --ssr relay/main.ts) is a Node program: no public/ assets
    copyPublicDir: !isSsrBuild,
  },
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: { name: 'unit', environment: 'node', include: ['tests/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'component', environment: 'happy-dom', include: ['tests/component/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'relay',
          environment: 'node',
          include: ['tests/relay/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // real NATS servers and demo platforms: one file at a time on two cores
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          environment: 'node',
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // one Chromium at a time: the machine has two cores
          fileParallelism: false,
        },
      },
    ],
  },
}));
