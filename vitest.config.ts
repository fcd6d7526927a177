import { defineConfig } from 'vitest/config';

// Two projects: unit tests (test/) and the black-box conformance suite (conformance/), which runs against a broker
// started in-process unless MUSUBI_CONFORMANCE_URL names one (see conformance/run.mjs).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          // Needs MongoDB and Redis servers: run by the GitHub workflow's mongo job (npm run test:multi-instance).
          exclude: ['test/multi-instance/**'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'conformance',
          include: ['conformance/**/*.test.ts'],
          globalSetup: ['conformance/global-setup.ts'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
