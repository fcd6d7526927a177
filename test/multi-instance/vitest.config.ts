import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Two broker processes on one MongoDB database and one Redis: needs MUSUBI_STORE=mongo, MUSUBI_MONGO_URL and
// MUSUBI_REDIS_URL, so it is not part of `npm test`; the GitHub workflow's mongo job runs it after the suite
// (`npm run test:multi-instance`). Without those servers it fails at once, saying which is missing.
export default defineConfig({
  test: {
    root: resolve(import.meta.dirname, '../..'),
    include: ['test/multi-instance/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
