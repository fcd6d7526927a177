import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { OutboundNotification } from '../../src/notifications/types.js';
import { CSourceNotifier } from '../../src/registrations/csource-notifier.js';
import { RegistrationService } from '../../src/registrations/service.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { SubscriptionService } from '../../src/subscriptions/service.js';
import { TempDirs } from '../store/helpers.js';

// CSourceNotifications (5.3.2, 5.11.7) follow the registration store's change log: a notification that was not in
// the durable queue when the broker stopped is sent by the next start, and a failing queue delays it without loss.

const EX = 'https://example.org/ns#';
const limits = { defaultLimit: 20, maxLimit: 100 };
const dirs = new TempDirs();
const resolver = new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 });
let ctx: LdContext;
let dataDir: string;

interface Broker {
  stores: Stores;
  registrations: RegistrationService;
  csubs: SubscriptionService;
  notifier: CSourceNotifier;
  errors: string[];
}
const open: Broker[] = [];

/** The parts of a broker that CSource notifications go through, over `dataDir`, with `deliver` as the durable queue. */
async function start(deliver: (items: OutboundNotification[]) => Promise<void>, clock?: () => number): Promise<Broker> {
  const stores = await openStores({ store: 'embedded', dataDir });
  const errors: string[] = [];
  const onError = (err: unknown, what: string) => errors.push(`${what}: ${String(err)}`);
  const registrations = await RegistrationService.open(stores.registrations, { entities: stores.entities, limits, clock, onError });
  const csubs = await SubscriptionService.open(stores.csourceSubscriptions!, { resolver, limits, onError });
  const notifier = new CSourceNotifier({ registrations, subscriptions: csubs, resolver, deliver, onError, retryMs: 20 });
  const broker = { stores, registrations, csubs, notifier, errors };
  open.push(broker);
  return broker;
}

async function stop(b: Broker): Promise<void> {
  open.splice(open.indexOf(b), 1);
  await b.notifier.close();
  await b.csubs.close();
  await b.registrations.close();
  await b.stores.close();
}

beforeAll(async () => {
  ctx = await resolver.resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed` });
});
beforeEach(async () => {
  dataDir = await dirs.make();
});
afterEach(async () => {
  for (const b of [...open]) await stop(b);
  await dirs.cleanup();
});

const scope = () => ({ tenant: '', ctx });
const registration = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['speed'] }],
  endpoint: 'http://cs.example',
  ...extra,
});
const csub = { type: 'Subscription', entities: [{ type: 'Vehicle' }], notification: { endpoint: { uri: 'http://receiver.example/n', accept: 'application/json' } } };

/** [triggerReason, registration id] of each CSourceNotification. */
const summary = (items: OutboundNotification[]) =>
  items.map((n) => {
    const body = JSON.parse(n.body) as { triggerReason?: string; data: Array<{ id: string }> };
    return [body.triggerReason, body.data.map((d) => d.id).join(',')];
  });

async function until(what: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('CSource notifications are as durable as entity notifications (5.11.7 over the change log)', () => {
  it('a change whose notification was not queued before the stop is notified after the restart, and then acknowledged', async () => {
    // The queue refuses everything, as if the process died before the notification reached it.
    const first = await start(async () => {
      throw new Error('queue unavailable');
    });
    await first.csubs.create(scope(), csub);
    await first.notifier.idle();
    await first.registrations.create(scope(), registration('urn:r:a'));
    await first.registrations.update(scope(), 'urn:r:a', { endpoint: 'http://moved.example' });
    await until(() => first.errors.some((e) => e.includes('queue unavailable')));
    await stop(first);

    const queued: OutboundNotification[] = [];
    const second = await start(async (items) => {
      queued.push(...items);
    });
    await until(() => queued.length >= 2);
    await second.notifier.idle();
    expect(summary(queued)).toEqual([
      ['newlyMatching', 'urn:r:a'],
      ['updated', 'urn:r:a'],
    ]);
    expect(JSON.parse(queued[1]!.body).data[0].endpoint).toBe('http://moved.example');
    expect(await second.stores.registrations.readChanges(0, 100)).toEqual([]);
    expect(second.errors).toEqual([]);
  });

  it('a failing queue delays notifications without losing them or changing their order', async () => {
    let failures = 3;
    const queued: OutboundNotification[] = [];
    const b = await start(async (items) => {
      if (failures-- > 0) throw new Error('disk full');
      queued.push(...items);
    });
    await b.csubs.create(scope(), csub);
    await b.registrations.create(scope(), registration('urn:r:a'));
    await b.registrations.create(scope(), registration('urn:r:b'));
    await b.registrations.delete(scope(), 'urn:r:a');
    await until(() => queued.length >= 3);
    await b.notifier.idle();
    expect(summary(queued)).toEqual([
      ['newlyMatching', 'urn:r:a'],
      ['newlyMatching', 'urn:r:b'],
      ['noLongerMatching', 'urn:r:a'],
    ]);
    expect(b.errors.filter((e) => e.includes('disk full')).length).toBeGreaterThanOrEqual(1);
    expect(await b.stores.registrations.readChanges(0, 100)).toEqual([]);
  });

  it('5.9.2.4: an expiry deletion made while starting, before any notifier runs, is notified (noLongerMatching)', async () => {
    const queued: OutboundNotification[] = [];
    const first = await start(async (items) => {
      queued.push(...items);
    });
    await first.csubs.create(scope(), csub);
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    await first.registrations.create(scope(), registration('urn:r:a', { expiresAt }));
    await until(() => queued.length >= 1);
    await stop(first);

    // Restarted after the registration's expiresAt: RegistrationService.open deletes it before the notifier exists.
    const later = Date.now() + 120_000;
    const second = await start(async (items) => {
      queued.push(...items);
    }, () => later);
    await until(() => queued.length >= 2);
    await second.notifier.idle();
    expect(summary(queued)).toEqual([
      ['newlyMatching', 'urn:r:a'],
      ['noLongerMatching', 'urn:r:a'],
    ]);
    expect(await second.registrations.allOf('')).toEqual([]);
  });
});

describe('temporalQ and datasetId of CSource subscriptions (5.11.2.4, 5.12)', () => {
  const interval = (startAt: string, endAt?: string) => ({ startAt, ...(endAt && { endAt }) });

  it('5.11.2.4: with temporalQ only registrations whose interval fits match; without it only those of latest information', async () => {
    const queued: OutboundNotification[] = [];
    const b = await start(async (items) => {
      queued.push(...items);
    });
    const temporal = await b.csubs.create(scope(), { ...csub, temporalQ: { timerel: 'before', timeAt: '2021-08-01T22:00:00Z' } });
    const managed = await b.csubs.create(scope(), { ...csub, temporalQ: { timerel: 'after', timeAt: '2022-06-01T00:00:00Z', timeproperty: 'modifiedAt' } });
    const latest = await b.csubs.create(scope(), csub);
    await b.registrations.create(scope(), registration('urn:r:observed', { observationInterval: interval('2021-01-01T00:00:00Z', '2021-12-31T00:00:00Z') }));
    await b.registrations.create(scope(), registration('urn:r:later', { observationInterval: interval('2022-01-01T00:00:00Z') }));
    await b.registrations.create(scope(), registration('urn:r:managed', { managementInterval: interval('2022-01-01T00:00:00Z', '2022-12-31T00:00:00Z') }));
    await b.registrations.create(scope(), registration('urn:r:latest'));
    // Moving the observation interval out of the temporalQ is a noLongerMatching for that subscription.
    await b.registrations.update(scope(), 'urn:r:observed', { observationInterval: interval('2023-01-01T00:00:00Z') });
    await b.notifier.idle();
    const to = (id: string) => summary(queued.filter((n) => n.subscriptionId === id));
    expect(to(temporal)).toEqual([
      ['newlyMatching', 'urn:r:observed'],
      ['noLongerMatching', 'urn:r:observed'],
    ]);
    expect(to(managed)).toEqual([['newlyMatching', 'urn:r:managed']]);
    expect(to(latest)).toEqual([['newlyMatching', 'urn:r:latest']]);
    expect(b.errors).toEqual([]);
  });

  it('5.11.3.4: temporalQ can be changed and removed (null) by an update, and is rendered back', async () => {
    const b = await start(async () => undefined);
    const id = await b.csubs.create(scope(), { ...csub, temporalQ: { timerel: 'after', timeAt: '2021-08-01T22:00:00Z' } });
    expect((await b.csubs.retrieve(scope(), id)).subscription.spec.temporalQ).toEqual({ timerel: 'after', timeAt: '2021-08-01T22:00:00Z', timeproperty: 'observedAt' });
    await b.csubs.update(scope(), id, { temporalQ: { timerel: 'between', timeAt: '2021-01-01T00:00:00Z', endTimeAt: '2021-02-01T00:00:00Z', timeproperty: 'createdAt' } });
    expect((await b.csubs.retrieve(scope(), id)).subscription.spec.temporalQ?.timeproperty).toBe('createdAt');
    await b.csubs.update(scope(), id, { temporalQ: null });
    expect((await b.csubs.retrieve(scope(), id)).subscription.spec.temporalQ).toBeUndefined();
  });

  it('5.12: a subscription with datasetId matches registrations sharing one, or naming none', async () => {
    const queued: OutboundNotification[] = [];
    const b = await start(async (items) => {
      queued.push(...items);
    });
    await b.csubs.create(scope(), { ...csub, datasetId: ['urn:ds:a'] });
    await b.registrations.create(scope(), registration('urn:r:a', { datasetId: ['urn:ds:a', 'urn:ds:b'] }));
    await b.registrations.create(scope(), registration('urn:r:b', { datasetId: 'urn:ds:b' }));
    await b.registrations.create(scope(), registration('urn:r:none'));
    await b.notifier.idle();
    expect(summary(queued)).toEqual([
      ['newlyMatching', 'urn:r:a'],
      ['newlyMatching', 'urn:r:none'],
    ]);
  });
});
