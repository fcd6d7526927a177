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
import { DeliveryEngine } from './notifications/delivery-engine.js';
import { HttpSender } from './notifications/http-sender.js';
import { MqttSender } from './notifications/mqtt-sender.js';
import { openStores } from './store/index.js';
import { startRetention } from './store/retention.js';
import { SubscriptionEngine } from './subscriptions/engine.js';
import { SubscriptionService } from './subscriptions/service.js';
import { TemporalService } from './temporal/service.js';

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

/** Wires configuration, store, @context resolver and HTTP app, and listens. */
export async function startBroker(config: Config): Promise<RunningBroker> {
  const logger = createLogger(config.logLevel);
  const stores = await openStores(config);
  const store = stores.entities;
  const retention = startRetention(stores.temporal, { days: config.retentionDays, onError: (err) => logger.error({ err }, 'history retention') });
  const resolver = new ContextResolver({ timeoutMs: config.contextTimeoutMs, cacheTtlSec: config.contextCacheTtlSec });
  const limits = { defaultLimit: config.defaultLimit, maxLimit: Math.max(config.maxLimit, config.defaultLimit) };
  const subscriptions = await SubscriptionService.open(stores.subscriptions, {
    resolver,
    limits,
    onError: (err, what) => logger.error({ err }, what),
  });
  const httpSender = new HttpSender();
  const mqttSender = new MqttSender();
  const senders = { http: httpSender, https: httpSender, mqtt: mqttSender, mqtts: mqttSender };
  const delivery = new DeliveryEngine(stores.notifications, senders, {
    maxAttempts: config.notificationMaxAttempts,
    baseBackoffMs: config.notificationBackoffMs,
    maxBackoffMs: Math.max(config.notificationMaxBackoffMs, config.notificationBackoffMs),
    perEndpointConcurrency: config.notificationConcurrency,
    breakerThreshold: config.notificationBreakerThreshold,
    breakerOpenMs: config.notificationBreakerOpenMs,
    defaultTimeoutMs: config.notificationTimeoutMs,
    onOutcome: (outcome) => subscriptions.recordOutcome(outcome),
    onError: (err, what) => logger.error({ err }, `notification delivery: ${what}`),
  });
  // Before listening: whatever was pending at the last stop is on its way again.
  await delivery.start();
  // Changes become notifications: the engine tails the store's change log and hands them to the durable queue.
  const engine = new SubscriptionEngine({ store, resolver, deliver: (items) => delivery.enqueue(items), logger });
  for (const sub of subscriptions.compiled()) engine.upsert(sub);
  subscriptions.onChange((tenant, id, compiled) => (compiled ? engine.upsert(compiled) : engine.remove(tenant, id)));
  engine.start();
  const app = createApp({
    entities: new EntityService(store),
    queries: new QueryService(store, limits),
    discovery: new DiscoveryService(store),
    subscriptions,
    temporal: new TemporalService(stores.temporal, { ...limits, maxInstances: config.temporalMaxInstances }, {
      tenantExists: async (tenant) => (await store.hasTenant(tenant)) === true,
    }),
    resolver,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    maxBatchEntities: config.maxBatchEntities,
    system: { version: VERSION, store: config.store, startedAt: new Date(), storeHealthy: async () => (await store.hasTenant('')) === true },
    deadLetters: { queue: stores.notifications, replay: (tenant, id) => delivery.replay(tenant, id), limits },
  });

  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.info({ port, host: config.host, store: config.store, dataDir: config.dataDir }, 'musubi listening');

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // No new notifications are made once requests stop; unprocessed changes stay in the log for the next start.
        await engine.close();
        // In-flight deliveries finish (or are interrupted, staying queued) and report their outcomes first.
        await delivery.close();
        // Delivery counters still in memory are written before the store goes.
        await subscriptions.close();
        await retention.stop();
        await stores.close();
        logger.flush();
      })()),
  };
}
