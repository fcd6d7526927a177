/**
 * Wiring of the coordination pieces into a broker (src/server.ts): which coordinator and which delivery, the
 * subscription engine on the leader only, and the caches kept current across instances.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { DeliveryEngine, type DeliveryEngineOptions } from '../notifications/delivery-engine.js';
import type { DurableQueue, OutboundNotification, Sender } from '../notifications/types.js';
import type { EntityStore } from '../store/entity-store.js';
import { LocalCoordinator } from './local.js';
import { RedisCoordinator } from './redis.js';
import { StreamDelivery } from './stream-delivery.js';
import type { CacheConcern, Coordinator, DeadLetterStore, Invalidation, NotificationDelivery } from './types.js';

export type { Coordinator, DeadLetterStore, NotificationDelivery } from './types.js';
export { LocalCoordinator } from './local.js';
export { RedisCoordinator } from './redis.js';
export { LockUnavailable } from './redis-lock.js';

export interface CoordinationOptions {
  /** '' (or absent): this instance runs alone. */
  redisUrl?: string;
  /** Key and channel prefix in Redis (see redisPrefixFor; default "musubi:"). */
  redisPrefix?: string;
  /** Leader lease lifetime (default 10 s). */
  leaseMs?: number;
  /** Idle time after which another instance takes over a notification (default: 60 s, or 3x the delivery timeout). */
  claimIdleMs?: number;
  /** The store's own queue: the delivery of a lone instance. */
  queue: DurableQueue;
  senders: Record<string, Sender>;
  delivery: DeliveryEngineOptions;
  onError?: (err: unknown, what: string) => void;
}

export interface Coordination {
  coordinator: Coordinator;
  /** Not started: start() it once everything is wired. */
  delivery: NotificationDelivery;
  /** Where dead letters are kept: the store's queue, or Redis (shared by every instance). */
  deadLetters: DeadLetterStore;
  /** How the subscription engine queues its notifications: with Redis, only while this instance holds the lease. */
  deliverAsLeader: (items: OutboundNotification[]) => Promise<void>;
}

/**
 * The Redis key prefix of a broker: instances share leadership, notifications and dead letters exactly when they
 * share the store, so the prefix names the store. MongoDB: the database (instances of one broker name the same
 * one). Embedded: the data directory, which no other instance can share, so each such broker leads alone (and
 * test brokers on separate databases never steal each other's lease on one Redis).
 */
export function redisPrefixFor(store: { store: 'embedded' | 'mongo'; mongoDb?: string; dataDir: string }): string {
  if (store.store === 'mongo') return `musubi:${store.mongoDb ?? 'musubi'}:`;
  return `musubi:embedded-${createHash('sha256').update(resolve(store.dataDir)).digest('hex').slice(0, 16)}:`;
}

/** Without a Redis URL: today's single instance. With one: Redis coordinator and delivery through a Redis Stream. */
export async function openCoordination(opts: CoordinationOptions): Promise<Coordination> {
  if (!opts.redisUrl) {
    const engine = new DeliveryEngine(opts.queue, opts.senders, opts.delivery);
    return { coordinator: new LocalCoordinator(), delivery: engine, deadLetters: opts.queue, deliverAsLeader: (items) => engine.enqueue(items) };
  }
  const prefix = opts.redisPrefix ?? 'musubi:';
  const coordinator = await RedisCoordinator.connect({ url: opts.redisUrl, prefix, leaseMs: opts.leaseMs, onError: opts.onError });
  try {
    const { delivery, deadLetters } = await StreamDelivery.open({ url: opts.redisUrl, prefix }, opts.senders, {
      ...opts.delivery,
      consumer: coordinator.instanceId,
      claimIdleMs: opts.claimIdleMs ?? Math.max(60_000, 3 * opts.delivery.defaultTimeoutMs),
      fence: () => coordinator.fence(),
    });
    return { coordinator, delivery, deadLetters, deliverAsLeader: (items) => delivery.enqueueAsLeader(items) };
  } catch (err) {
    await coordinator.close();
    throw err;
  }
}

/** The parts of SubscriptionEngine the leadership needs. */
export interface LeaderEngine<S> {
  upsert(sub: S): void;
  remove(tenant: string, id: string): void;
  start(): void;
  close(): Promise<void>;
}

/** The parts of SubscriptionService the coordination needs. */
export interface SubscriptionCache<S> {
  compiled(): S[];
  onChange(listener: (tenant: string, id: string, compiled: S | undefined) => void): () => void;
  onLocalChange(listener: (tenant: string, id: string) => void): () => void;
  onRemoteChange(tenant: string, id: string): Promise<void>;
  resync(): Promise<void>;
}

/**
 * Runs a subscription engine on this instance while it is the leader, fed with the subscriptions as they change;
 * a new engine for each term (an engine that closed does not start again). It resumes from the change log, where
 * the previous leader left it unacknowledged: at-least-once across a failover.
 *
 * With other instances around, every instance keeps the change log on, whatever subscriptions it knows of: a write
 * on an instance that has not yet heard of a new subscription must still reach the leader. The leader's engine gets
 * a view of the store whose setChangeLogging does nothing, so it cannot turn the log off.
 */
export async function runEngineWhileLeader<S>(deps: {
  coordinator: Coordinator;
  subscriptions: Pick<SubscriptionCache<S>, 'compiled' | 'onChange'>;
  store: EntityStore;
  createEngine: (store: EntityStore) => LeaderEngine<S>;
  /**
   * Other work that must run once per deployment, not once per instance (the CSource notifier: it tails the
   * registration change log and notifies new CSource subscriptions): made at the start of each term (running once
   * made), closed at its end.
   */
  companions?: Array<() => { close(): Promise<void> }>;
}): Promise<void> {
  const { coordinator, subscriptions } = deps;
  let store = deps.store;
  if (coordinator.shared) {
    deps.store.setChangeLogging(true);
    store = withChangeLoggingOn(deps.store);
  }
  let engine: LeaderEngine<S> | undefined;
  let running: Array<{ close(): Promise<void> }> = [];
  subscriptions.onChange((tenant, id, compiled) => (compiled ? engine?.upsert(compiled) : engine?.remove(tenant, id)));
  await coordinator.onLeadership(
    () => {
      const next = deps.createEngine(store);
      for (const sub of subscriptions.compiled()) next.upsert(sub);
      engine = next;
      next.start();
      running = (deps.companions ?? []).map((make) => make());
    },
    async () => {
      const ending = engine;
      engine = undefined;
      await ending?.close();
      const companions = running;
      running = [];
      for (const companion of companions) await companion.close();
    },
  );
}

/** The parts of RegistrationService the coordination needs (its per-tenant cache of registrations). */
export interface RegistrationCacheHooks {
  /** Local durable creations, updates, deletions and expiries (not statistics); the registration is `after ?? before`. */
  onChange(listener: (tenant: string, before: { id: string } | undefined, after: { id: string } | undefined) => void): () => void;
  onRemoteChange(tenant: string, id: string): Promise<void>;
  resync(): Promise<void>;
}

/**
 * Keeps this instance's caches current with the other instances' writes: subscription services (the Subscription
 * API's and the CSource subscriptions') publish their changes and reload what others changed; the registration
 * service does the same on its own channel; the @context resolver drops a context another instance saw change.
 *
 * An invalidation can be lost (its publish failed on the writing instance, or the reload failed here): a failed
 * reload is tried once more, and the leader — whose engine must know every subscription — resyncs its
 * subscriptions every `resyncMs` (default 30 s; cheap: unchanged ones are skipped). Returns the function that stops it.
 */
export function shareCaches(
  coordinator: Coordinator,
  caches: {
    subscriptions: Array<SubscriptionCache<unknown>>;
    registrations?: RegistrationCacheHooks;
    resolver?: { evict(url: string): void; clear(): void };
  },
  onError: (err: unknown, what: string) => void = () => undefined,
  options: { resyncMs?: number } = {},
): () => void {
  const publish = (concern: CacheConcern, message: Invalidation) =>
    void coordinator.publish(concern, message).catch((err: unknown) => onError(err, `publishing a ${concern} invalidation`));
  for (const service of caches.subscriptions) {
    service.onLocalChange((tenant, id) => publish('subscriptions', { tenant, id }));
  }
  coordinator.subscribe('subscriptions', (message) => {
    // One channel for both kinds of subscription: a service that does not have the id reloads nothing.
    for (const service of caches.subscriptions) {
      const reload = () => (message.all ? service.resync() : service.onRemoteChange(message.tenant, message.id));
      void reload()
        .catch(() => sleep(RELOAD_RETRY_MS).then(reload))
        .catch((err: unknown) => onError(err, 'reloading a subscription changed by another instance'));
    }
  });
  let resyncing = false;
  const resync = setInterval(() => {
    if (!coordinator.shared || !coordinator.isLeader() || resyncing) return;
    resyncing = true;
    void Promise.all(caches.subscriptions.map((service) => service.resync().catch((err: unknown) => onError(err, 'resyncing subscriptions'))))
      .finally(() => (resyncing = false));
  }, options.resyncMs ?? 30_000);
  resync.unref();
  const registrations = caches.registrations;
  if (registrations) {
    registrations.onChange((tenant, before, after) => publish('registrations', { tenant, id: (after ?? before)?.id ?? '' }));
    coordinator.subscribe('registrations', (message) => {
      const reload = message.all ? registrations.resync() : registrations.onRemoteChange(message.tenant, message.id);
      void reload.catch((err: unknown) => onError(err, 'reloading registrations'));
    });
  }
  const resolver = caches.resolver;
  if (resolver) coordinator.subscribe('contexts', (message) => (message.all ? resolver.clear() : resolver.evict(message.id)));
  return () => clearInterval(resync);
}

const RELOAD_RETRY_MS = 1000;

/** A view of the store in which setChangeLogging does nothing; everything else is the store itself. */
function withChangeLoggingOn(store: EntityStore): EntityStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'setChangeLogging') return () => undefined;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
