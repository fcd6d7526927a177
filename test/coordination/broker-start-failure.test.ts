import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../src/config/config.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { redisPrefixFor } from '../../src/coordination/index.js';
import { startBroker } from '../../src/server.js';
import { brokerStoreFromEnv } from '../helpers/store-env.js';
import { TempDirs } from '../store/helpers.js';
import { until } from '../notifications/helpers.js';
import { useRedisServer } from './redis-server.js';

/**
 * Regression tests (review finding 6): a start that fails after the stores are open (here: the port is taken) closes
 * what it opened — stores, timers, Redis connections, the leader lease — before it rejects.
 */

const dirs = new TempDirs();
const redis = useRedisServer();
let blocker: Server;
let takenPort: number;

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', () => done()));
  takenPort = (blocker.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((done) => blocker.close(() => done()));
  await dirs.cleanup();
});

const clients = async () => ((await redis.admin.call('CLIENT', 'LIST')) as string).trim().split('\n').length;

describe('a broker start that fails', () => {
  it('with --redis-url: rejects with EADDRINUSE, releases the leader lease and closes its Redis connections', async () => {
    const dataDir = await dirs.make();
    const store = brokerStoreFromEnv();
    try {
      const before = await clients();
      const prefix = redisPrefixFor({ ...store.config, dataDir });
      await expect(
        startBroker({ ...DEFAULT_CONFIG, port: takenPort, host: '127.0.0.1', dataDir, logLevel: 'silent', ...store.config, redisUrl: redis.url }),
      ).rejects.toThrow(/EADDRINUSE/);
      expect(await redis.admin.exists(`${prefix}leader`)).toBe(0);
      // Every connection the coordinator and the delivery opened is gone (QUIT is asynchronous on the server side).
      expect(await until(async () => (await clients()) === before, 3000)).toBe(true);
      // The same store and Redis keys serve a broker started right after.
      const broker = await startBroker({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', ...store.config, redisUrl: redis.url });
      expect(await redis.admin.exists(`${prefix}leader`)).toBe(1);
      await broker.close();
    } finally {
      await store.cleanup();
    }
  });

  it('embedded: rejects and closes the stores it opened, so the data directory serves the next start', async () => {
    const dataDir = await dirs.make();
    let closed = 0;
    // The real stores, with their close() observed.
    const observed = async (config: Config): Promise<Stores> => {
      const stores = await openStores(config);
      const close = stores.close.bind(stores);
      stores.close = async () => {
        closed++;
        await close();
      };
      return stores;
    };
    const config = { ...DEFAULT_CONFIG, port: takenPort, host: '127.0.0.1', dataDir, logLevel: 'silent' as const, store: 'embedded' as const };
    await expect(startBroker(config, { openStores: observed })).rejects.toThrow(/EADDRINUSE/);
    expect(closed).toBe(1);
    const broker = await startBroker({ ...config, port: 0 });
    expect((await fetch(`${broker.url}/ngsi-ld/v1/types`)).status).toBe(200);
    await broker.close();
  });
});
