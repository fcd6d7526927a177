/**
 * Global setup of the conformance project: points the suite at MUSUBI_CONFORMANCE_URL when set, otherwise starts a
 * musubi broker in-process on a free port with a throw-away data directory, and stops it afterwards.
 * This is the only file of the suite that touches broker internals.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type {} from './lib/http.js'; // declares ProvidedContext.brokerUrl (type-only, erased at runtime)

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.MUSUBI_CONFORMANCE_URL?.trim();
  if (external) {
    let parsed: URL;
    try {
      parsed = new URL(external);
    } catch {
      throw new Error(`MUSUBI_CONFORMANCE_URL is not a URL: "${external}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`MUSUBI_CONFORMANCE_URL must be http(s), got "${external}"`);
    }
    project.provide('brokerUrl', external.replace(/\/+$/, ''));
    return undefined;
  }

  const dataDir = await mkdtemp(path.join(tmpdir(), 'musubi-conformance-'));
  const { startBroker } = await import('../src/server.js');
  const { DEFAULT_CONFIG } = await import('../src/config/config.js');
  // MUSUBI_STORE=mongo + MUSUBI_MONGO_URL (the GitHub workflow's mongo job) run the suite on MongoDB, in a fresh database.
  const { brokerStoreFromEnv } = await import('../test/helpers/store-env.js');
  const store = brokerStoreFromEnv();
  const cleanup = async () => {
    await rm(dataDir, { recursive: true, force: true });
    await store.cleanup();
  };
  let broker: Awaited<ReturnType<typeof startBroker>>;
  try {
    broker = await startBroker({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', ...store.config });
  } catch (err) {
    await cleanup();
    throw err;
  }
  project.provide('brokerUrl', broker.url.replace(/\/+$/, ''));
  return async () => {
    await broker.close();
    await cleanup();
  };
}
