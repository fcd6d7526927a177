import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Config } from './config/config.js';
import { DiscoveryService } from './entities/discovery-service.js';
import { QueryService } from './entities/query-service.js';
import { EntityService } from './entities/service.js';
import { createApp } from './http/app.js';
import { ContextResolver } from './jsonld/resolver.js';
import { createLogger } from './logger.js';
import { openCoordination, redisPrefixFor, runEngineWhileLeader, shareCaches } from './coordination/index.js';
import type { DeliveryEngineOptions } from './notifications/delivery-engine.js';
import { HttpSender } from './notifications/http-sender.js';
import { MqttSender } from './notifications/mqtt-sender.js';
import { openStores, type Stores } from './store/index.js';
import { startRetention } from './store/retention.js';
import { SubscriptionEngine } from './subscriptions/engine.js';
import { SubscriptionService } from './subscriptions/service.js';
import { TemporalService } from './temporal/service.js';
import { defaultForwardAlias, ForwardClient, localHostNames } from './forwarding/client.js';
import { Forwarder } from './forwarding/forwarder.js';
import { RegistrationSources } from './forwarding/sources.js';
import { registeredNamesOf } from './forwarding/registered-names.js';
import { RegistrationService } from './registrations/service.js';
import { CSourceNotifier } from './registrations/csource-notifier.js';

export interface RunningBroker {
  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

// src/server.ts runs from src/ under tsx and from dist/src/ once built: the package.json is one or two levels up.
function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'musubi' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
const VERSION = packageVersion();

/**
 * Wires configuration, store, @context resolver and HTTP app, and listens. `deps.openStores` replaces how the stores
 * are opened (tests run a whole broker over a stand-in backend that way).
 */
export async function startBroker(config: Config, deps: { openStores?: (config: Config) => Promise<Stores> } = {}): Promise<RunningBroker> {
  const logger = createLogger(config.logLevel);
  // What a failed start opened is closed again, newest first (the port in use, Redis refusing a step, ...): the
  // stores, timers, lease and connections must not outlive the error, nor keep the data directory locked.
  const opened: Array<() => unknown> = [];
  try {
    return await assemble(config, deps, logger, opened);
  } catch (err) {
    for (const close of opened.reverse()) {
      try {
        await close();
      } catch (closeErr) {
        logger.error({ err: closeErr }, 'closing after a failed start');
      }
    }
    logger.flush();
    throw err;
  }
}

async function assemble(
  config: Config,
  deps: { openStores?: (config: Config) => Promise<Stores> },
  logger: ReturnType<typeof createLogger>,
  opened: Array<() => unknown>,
): Promise<RunningBroker> {
  const stores = await (deps.openStores ?? openStores)(config);
  opened.push(() => stores.close());
  const store = stores.entities;
  const retention = startRetention(stores.temporal, { days: config.retentionDays, onError: (err) => logger.error({ err }, 'history retention') });
  opened.push(() => retention.stop());
  const resolver = new ContextResolver({ timeoutMs: config.contextTimeoutMs, cacheTtlSec: config.contextCacheTtlSec });
  const limits = { defaultLimit: config.defaultLimit, maxLimit: Math.max(config.maxLimit, config.defaultLimit) };
  const subscriptions = await SubscriptionService.open(stores.subscriptions, {
    resolver,
    limits,
    onError: (err, what) => logger.error({ err }, what),
  });
  opened.push(() => subscriptions.close());
  // CSource subscriptions (5.11) are Subscriptions in a store of their own; the notifier below matches them against registrations.
  const csourceSubscriptions = stores.csourceSubscriptions && (await SubscriptionService.open(stores.csourceSubscriptions, { resolver, limits, onError: (err, what) => logger.error({ err }, what) }));
  opened.push(() => csourceSubscriptions?.close());
  const httpSender = new HttpSender();
  const mqttSender = new MqttSender();
  const senders = { http: httpSender, https: httpSender, mqtt: mqttSender, mqtts: mqttSender };
  const deliveryOptions: DeliveryEngineOptions = {
    maxAttempts: config.notificationMaxAttempts,
    baseBackoffMs: config.notificationBackoffMs,
    maxBackoffMs: Math.max(config.notificationMaxBackoffMs, config.notificationBackoffMs),
    perEndpointConcurrency: config.notificationConcurrency,
    breakerThreshold: config.notificationBreakerThreshold,
    breakerOpenMs: config.notificationBreakerOpenMs,
    defaultTimeoutMs: config.notificationTimeoutMs,
    onOutcome: (outcome) => {
      subscriptions.recordOutcome(outcome);
      csourceSubscriptions?.recordOutcome(outcome);
    },
    onError: (err, what) => logger.error({ err }, `notification delivery: ${what}`),
  };
  // Alone: the store's queue and DeliveryEngine. With --redis-url: several instances as one broker (src/coordination).
  const { coordinator, delivery, deadLetters, deliverAsLeader } = await openCoordination({
    redisUrl: config.redisUrl,
    redisPrefix: redisPrefixFor(config),
    queue: stores.notifications,
    senders,
    delivery: deliveryOptions,
    onError: (err, what) => logger.error({ err }, `coordination: ${what}`),
  });
  // Undone newest first: the coordinator (leadership, lease) before the delivery, as close() does.
  opened.push(() => delivery.close(), () => coordinator.close());
  if (coordinator.shared && config.store === 'embedded') logger.warn('an embedded store is not shared between instances: run several instances with --store mongo');
  // Registration writes of a tenant are serialized across instances by the coordinator's lock (Conflict rules, 4.3.6.3).
  const registrations = await RegistrationService.open(stores.registrations, {
    entities: store,
    limits,
    lock: (name, work) => coordinator.withLock(name, work),
    onError: (err, what) => logger.error({ err }, what),
  });
  opened.push(() => registrations.close());
  // Before listening: whatever was pending at the last stop is on its way again.
  await delivery.start();
  // Changes become notifications: the engine tails the store's change log and hands them to the durable queue.
  // It runs on the leader only (always this instance when alone), so that each change notifies once.
  const stopSharing = shareCaches(coordinator, { subscriptions: csourceSubscriptions ? [subscriptions, csourceSubscriptions] : [subscriptions], registrations, resolver }, (err, what) => logger.error({ err }, what));
  opened.push(stopSharing);
  // So does the CSource notifier (registration changes become CSourceNotifications once, not once per instance).
  const csourceNotifier = csourceSubscriptions && (() => new CSourceNotifier({ registrations, subscriptions: csourceSubscriptions, resolver, deliver: deliverAsLeader, onError: (err, what) => logger.error({ err }, what) }));
  await runEngineWhileLeader({
    coordinator,
    subscriptions,
    store,
    createEngine: (engineStore) => new SubscriptionEngine({ store: engineStore, resolver, deliver: deliverAsLeader, logger }),
    companions: csourceNotifier ? [csourceNotifier] : [],
  });
  // Distributed operations (4.3.6): the Via alias is unique to this process unless configured (loop detection, 4.3.6.4,
  // must not mistake another broker on another machine's 127.0.0.1:port for this one); localHosts name this broker too.
  const alias = config.forwardAlias || defaultForwardAlias();
  let localHosts: string[] = [];
  // Statistics writes of forwarded requests run beside the answers; close waits for them before the store goes.
  const statWrites = new Set<Promise<void>>();
  const recordOutcome = (tenant: string, id: string, ok: boolean) => {
    const write: Promise<void> = registrations
      .recordOutcome(tenant, id, ok)
      .catch((err) => logger.error({ err }, 'registration statistics'))
      .finally(() => statWrites.delete(write));
    statWrites.add(write);
  };
  const forwarder = new Forwarder({
    lookup: new RegistrationSources((tenant) => registrations.allOf(tenant), (tenant) => registrations.hasNone(tenant)),
    client: new ForwardClient({
      timeoutMs: config.forwardTimeoutMs,
      alias: () => alias,
      localHosts: () => localHosts,
      maxBodyBytes: config.maxBodyBytes,
      onOutcome: recordOutcome,
    }),
    resolver,
    maxEntities: limits.maxLimit,
    timeoutMs: config.forwardTimeoutMs,
  });
  const app = createApp({
    entities: new EntityService(store, forwarder),
    queries: new QueryService(store, limits, forwarder),
    discovery: new DiscoveryService(store, registeredNamesOf((tenant) => registrations.allOf(tenant))),
    subscriptions,
    registrations,
    csourceSubscriptions,
    temporal: new TemporalService(stores.temporal, { ...limits, maxInstances: config.temporalMaxInstances }, {
      tenantExists: async (tenant) => (await store.hasTenant(tenant)) === true,
    }),
    resolver,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    maxBatchEntities: config.maxBatchEntities,
    system: { version: VERSION, store: config.store, startedAt: new Date(), storeHealthy: async () => (await store.hasTenant('')) === true },
    deadLetters: { queue: deadLetters, replay: (tenant, id) => delivery.replay(tenant, id), limits },
  });

  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  localHosts = localHostNames(config.host, port);
  logger.info({ port, host: config.host, store: config.store, dataDir: config.dataDir }, 'musubi listening');

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // No new notifications are made once requests stop; unprocessed changes stay in the log for the next start.
        // Stops the subscription engine and the CSource notifier (leadership) and hands the lease to another instance.
        stopSharing();
        await coordinator.close();
        // In-flight deliveries finish (or are interrupted, staying queued) and report their outcomes first.
        await delivery.close();
        // Delivery counters still in memory are written before the store goes.
        await subscriptions.close();
        await csourceSubscriptions?.close();
        await Promise.all(statWrites);
        await registrations.close();
        await retention.stop();
        await stores.close();
        logger.flush();
      })()),
  };
}
