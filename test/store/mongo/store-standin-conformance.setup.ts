/**
 * Global setup for running the whole conformance suite against a broker on the MongoDB backend's code over the
 * in-process stand-in (store-standin.ts), where no mongod is available:
 *   npx vitest run --config test/store/mongo/store-standin-conformance.config.ts
 * It checks the backend's logic end to end, not MongoDB; the GitHub workflow's mongo job runs the suite on MongoDB.
 */
import type { TestProject } from 'vitest/node';
import type {} from '../../../conformance/lib/http.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { startBroker } = await import('../../../src/server.js');
  const { DEFAULT_CONFIG } = await import('../../../src/config/config.js');
  const { openTestBackend } = await import('./store-backend.js');
  const backend = await openTestBackend();
  const broker = await startBroker(
    { ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', logLevel: 'silent', store: 'mongo', mongoUrl: 'mongodb://stand-in' },
    { openStores: async () => backend.stores },
  );
  project.provide('brokerUrl', broker.url);
  return async () => {
    await broker.close();
    await backend.close();
  };
}
