import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    // Media tests start mediasoup workers and WebRTC peers; on 2 cores, one file at a time.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'sfu',
          include: ['tests/**/*.test.ts'],
          // Containers take minutes: npm run test:deploy.
          exclude: ['tests/deploy/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The image, the compose file: built and started with podman (npm run test:deploy).
        extends: true,
        test: {
          name: 'deploy',
          include: ['tests/deploy/**/*.test.ts'],
          testTimeout: 40 * 60_000,
          hookTimeout: 5 * 60_000,
        },
      },
      {
        // mediasoup's own shipped test suite, against the worker this project built or fetched.
        extends: true,
        test: {
          name: 'mediasoup-upstream',
          include: ['node_modules/mediasoup/node/lib/test/test-*.js'],
          exclude: [],
          globals: true,
          setupFiles: ['tests/mediasoup-upstream/setup.ts'],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
