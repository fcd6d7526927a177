import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// The conformance suite against the MongoDB backend over the in-process stand-in: see store-standin-conformance.setup.ts.
export default defineConfig({
  test: {
    root: resolve(import.meta.dirname, '../../..'),
    include: ['conformance/**/*.test.ts'],
    globalSetup: [resolve(import.meta.dirname, 'store-standin-conformance.setup.ts')],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
