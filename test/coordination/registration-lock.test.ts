import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { LocalCoordinator, LockUnavailable, RedisCoordinator } from '../../src/coordination/index.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { RegistrationService } from '../../src/registrations/service.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { sleep, until } from '../notifications/helpers.js';
import { startRedisServer, useRedisServer } from './redis-server.js';

/**
 * Coordinator.withLock: one lock across broker instances over one real Redis (redis-lock.ts), and the registration
 * service's Conflict check + write run under it, so that conflicting exclusive registrations created at the same
 * moment on two instances cannot both succeed (4.3.6.3, 5.9.2.4, 5.9.3.4).
 */

const redis = useRedisServer();
const EX = 'https://example.org/ns#';
const limits = { defaultLimit: 20, maxLimit: 100 };
let testNo = 0;
let ctx: LdContext;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 }).resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed` });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface LockOptions {
  lockTtlMs?: number;
  lockTimeoutMs?: number;
  errors?: Array<[unknown, string]>;
  url?: string;
}

/** `n` coordinators of one broker (one prefix per test), as `n` instances would have. */
async function coordinators(n: number, opts: LockOptions = {}): Promise<RedisCoordinator[]> {
  const prefix = `lk${++testNo}:`;
  const made: RedisCoordinator[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RedisCoordinator.connect({
      url: opts.url ?? redis.url,
      prefix,
      leaseMs: 600,
      instanceId: `i${i}`,
      lockTtlMs: opts.lockTtlMs,
      lockTimeoutMs: opts.lockTimeoutMs,
      onError: (err, what) => opts.errors?.push([err, what]),
    });
    cleanups.push(() => c.close());
    made.push(c);
  }
  return made;
}

/** A promise and the function that settles it: the body of a lock holder the test decides when to end. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof NgsiError) return err.kind;
    throw err;
  }
}

describe('Coordinator.withLock across instances over one Redis (redis-lock.ts)', () => {
  it('critical sections of one name never overlap, across instances and within one; other names are not held up', async () => {
    const [a, b, c] = await coordinators(3);
    let inside = 0;
    let most = 0;
    let counter = 0;
    // Read, yield, write: without mutual exclusion increments are lost.
    const increment = async () => {
      inside++;
      most = Math.max(most, inside);
      const seen = counter;
      await sleep(1);
      counter = seen + 1;
      inside--;
    };
    await Promise.all([a!, b!, c!].flatMap((co) => Array.from({ length: 20 }, () => co.withLock('counter', increment))));
    expect(counter).toBe(60);
    expect(most).toBe(1);
    // Another name is not held up by a held one.
    const holding = gate();
    const entered = gate();
    const held = a!.withLock('counter', async () => {
      entered.open();
      await holding.opened;
    });
    await entered.opened;
    expect(await b!.withLock('other', async () => 'beside')).toBe('beside');
    holding.open();
    await held;
    // Every lock was released: nothing left under the prefix.
    expect(await redis.admin.keys(`lk${testNo}:lock:*`)).toEqual([]);
  });

  it('a holder running longer than the ttl keeps the lock by renewing it', async () => {
    const [a, b] = await coordinators(2, { lockTtlMs: 150, lockTimeoutMs: 3000 });
    const order: string[] = [];
    const first = a!.withLock('long', async () => {
      order.push('a in');
      await sleep(600);
      order.push('a out');
    });
    await until(() => order.length > 0);
    await b!.withLock('long', async () => void order.push('b'));
    await first;
    expect(order).toEqual(['a in', 'a out', 'b']);
  });

  it('a lock not had within the timeout fails with Conflict (409) and a detail, without running the work', async () => {
    const [a, b] = await coordinators(2, { lockTimeoutMs: 300 });
    const holding = gate();
    const entered = gate();
    const held = a!.withLock('busy', async () => {
      entered.open();
      await holding.opened;
    });
    await entered.opened;
    let ran = false;
    const started = Date.now();
    const err = await b!.withLock('busy', async () => void (ran = true)).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(err).toBeInstanceOf(LockUnavailable);
    expect(err).toBeInstanceOf(NgsiError);
    const problem = (err as NgsiError).toProblem();
    expect(problem).toMatchObject({ type: 'https://uri.etsi.org/ngsi-ld/errors/Conflict', status: 409 });
    expect(problem.detail).toMatch(/still in progress after 300 ms; retry/);
    expect(ran).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(2000);
    holding.open();
    await held;
    // Released: the next one gets in at once.
    expect(await b!.withLock('busy', async () => 'in')).toBe('in');
  });

  it('a holder that dies (stops renewing) blocks the others only until its lock expires', async () => {
    const [a, b] = await coordinators(2, { lockTtlMs: 400, lockTimeoutMs: 4000 });
    const entered = gate();
    const never = new Promise<void>(() => undefined);
    void a!.withLock('orphan', async () => {
      entered.open();
      await never;
    });
    await entered.opened;
    // Its connection gone for good: no renewal, no release, as when the process is killed.
    a!.redis.disconnect();
    const started = Date.now();
    expect(await b!.withLock('orphan', async () => 'taken over')).toBe('taken over');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(3000);
  });

  it('only the holder releases: a holder whose lock expired does not delete the next holder’s lock', async () => {
    const errors: Array<[unknown, string]> = [];
    const [a, b, c] = await coordinators(3, { lockTtlMs: 300, lockTimeoutMs: 300, errors });
    const aHolding = gate();
    const aEntered = gate();
    const aRun = a!.withLock('stolen', async () => {
      aEntered.open();
      await aHolding.opened;
    });
    await aEntered.opened;
    // As if a's lock had expired (a paused longer than the ttl): the key goes, b takes the name.
    const key = `lk${testNo}:lock:stolen`;
    expect(await redis.admin.del(key)).toBe(1);
    const bHolding = gate();
    const bEntered = gate();
    const bRun = b!.withLock('stolen', async () => {
      bEntered.open();
      await bHolding.opened;
    });
    await bEntered.opened;
    const bToken = await redis.admin.get(key);
    expect(bToken).toMatch(/^i1:/);
    // a's renewal finds b's token: reported, not extended.
    expect(await until(() => errors.some(([err]) => String(err).includes('expired while held')), 2000)).toBe(true);
    aHolding.open();
    await aRun;
    expect(await redis.admin.get(key)).toBe(bToken);
    // b still holds it: c cannot get in.
    expect(await outcome(c!.withLock('stolen', async () => undefined))).toBe('Conflict');
    bHolding.open();
    await bRun;
    expect(await redis.admin.get(key)).toBeNull();
  });

  it('Redis out of reach: Conflict (409) with a detail naming Redis within the timeout, never a hang or a crash', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const [a] = await coordinators(1, { lockTimeoutMs: 500, url: server.url });
    await server.kill();
    let ran = false;
    const started = Date.now();
    const err = await a!.withLock('gone', async () => void (ran = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockUnavailable);
    expect((err as NgsiError).status).toBe(409);
    expect((err as NgsiError).message).toMatch(/Redis did not answer/);
    expect(ran).toBe(false);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('the local coordinator serializes within the process', async () => {
    const local = new LocalCoordinator();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        local.withLock('x', async () => {
          most = Math.max(most, ++inside);
          await sleep(1);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    await local.close();
  });
});

describe('registration writes serialized across instances by the coordinator lock (4.3.6.3, 5.9.2.4, 5.9.3.4)', () => {
  /** Two instances' registration services over ONE store, each with its own coordinator's lock. */
  async function twoServices(opts: LockOptions = {}): Promise<{ services: RegistrationService[]; coordinators: RedisCoordinator[]; stores: Stores }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'musubi-reglock-'));
    const stores = await openStores({ store: 'embedded', dataDir });
    cleanups.push(async () => {
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const cos = await coordinators(2, opts);
    const services: RegistrationService[] = [];
    for (const co of cos) {
      const service = await RegistrationService.open(stores.registrations, { entities: stores.entities, limits, lock: (name, work) => co.withLock(name, work) });
      cleanups.push(() => service.close());
      services.push(service);
    }
    return { services, coordinators: cos, stores };
  }

  const scope = (tenant = '') => ({ tenant, ctx });
  const exclusive = (id: string, entity: string) => ({
    id,
    type: 'ContextSourceRegistration',
    mode: 'exclusive',
    information: [{ entities: [{ id: entity, type: 'Vehicle' }], propertyNames: ['speed'] }],
    endpoint: 'http://cs.example',
  });

  it('4.3.6.3, 5.9.2.4: conflicting exclusive registrations created at once on two instances: exactly one succeeds, every round', async () => {
    const { services, stores } = await twoServices();
    for (let round = 0; round < 25; round++) {
      const entity = `urn:ngsi-ld:Vehicle:${round}`;
      const creations = [0, 1, 2, 3, 4, 5].map((n) => services[n % 2]!.create(scope(), exclusive(`urn:r:${round}:${n}`, entity)));
      const outcomes = await Promise.all(creations.map(outcome));
      expect(outcomes.filter((o) => o === 'ok'), `round ${round}: ${outcomes.join(',')}`).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'Conflict')).toHaveLength(5);
      const stored = (await stores.registrations.list('')).filter((r) => r.spec.information[0]!.entities![0]!.id === entity);
      expect(stored).toHaveLength(1);
    }
  });

  it('5.9.3.4: two updates on two instances that would make exclusive registrations overlap: exactly one succeeds', async () => {
    const { services } = await twoServices();
    for (let round = 0; round < 10; round++) {
      await services[0]!.create(scope(), exclusive(`urn:r:${round}:a`, `urn:v:${round}:a`));
      await services[1]!.create(scope(), exclusive(`urn:r:${round}:b`, `urn:v:${round}:b`));
      const onto = { information: [{ entities: [{ id: `urn:v:${round}:shared`, type: 'Vehicle' }], propertyNames: ['speed'] }] };
      const outcomes = await Promise.all([
        outcome(services[0]!.update(scope(), `urn:r:${round}:a`, onto)),
        outcome(services[1]!.update(scope(), `urn:r:${round}:b`, onto)),
      ]);
      expect(outcomes.sort()).toEqual(['Conflict', 'ok']);
    }
  });

  it('a write whose tenant lock another instance holds too long fails with Conflict and writes nothing; other tenants go on', async () => {
    const { services, coordinators: cos, stores } = await twoServices({ lockTimeoutMs: 300 });
    const holding = gate();
    const entered = gate();
    // Instance 0 holds tenant t1's registration lock (as a long Conflict check would).
    const held = cos[0]!.withLock('registrations:t1', async () => {
      entered.open();
      await holding.opened;
    });
    await entered.opened;
    const err = await services[1]!.create(scope('t1'), exclusive('urn:r:late', 'urn:v:late')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgsiError);
    expect((err as NgsiError).kind).toBe('Conflict');
    expect((err as NgsiError).message).toMatch(/registrations:t1/);
    expect(await stores.registrations.get('t1', 'urn:r:late')).toBeUndefined();
    expect(await outcome(services[1]!.create(scope('t2'), exclusive('urn:r:other', 'urn:v:late')))).toBe('ok');
    holding.open();
    await held;
    expect(await outcome(services[1]!.create(scope('t1'), exclusive('urn:r:late', 'urn:v:late')))).toBe('ok');
  });
});
