import { afterEach, describe, expect, it } from 'vitest';
import { LockUnavailable, RedisCoordinator } from '../../src/coordination/index.js';
import { startRedisServer } from './redis-server.js';

/**
 * Regression test (review finding 3): when Redis stops answering, registration writes queued on one instance behind
 * each other each fail within the lock timeout counted from their call, not one after another.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('lock acquire deadline with Redis gone (4.3.6.3 Conflict check under a lock)', () => {
  it('concurrent withLock calls of one name all fail with Conflict within the timeout, not k × timeout', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    // leaseMs 3000: the coordinator's commands time out after 1000 ms, longer than the lock timeout.
    const coordinator = await RedisCoordinator.connect({ url: server.url, prefix: 'dl:', leaseMs: 3000, instanceId: 'i0', lockTimeoutMs: 400, onError: () => undefined });
    cleanups.push(() => coordinator.close());
    await server.kill();
    const started = Date.now();
    let ran = 0;
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        coordinator.withLock('registrations:', async () => void ran++).then(
          () => ({ err: undefined as unknown, ms: Date.now() - started }),
          (err: unknown) => ({ err, ms: Date.now() - started }),
        ),
      ),
    );
    expect(ran).toBe(0);
    for (const { err, ms } of results) {
      expect(err).toBeInstanceOf(LockUnavailable);
      expect(ms).toBeLessThan(900);
    }
  });
});
