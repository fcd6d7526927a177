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
import { openStore } from './store/index.js';

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
  const store = await openStore(config);
  const resolver = new ContextResolver({ timeoutMs: config.contextTimeoutMs, cacheTtlSec: config.contextCacheTtlSec });
  const app = createApp({
    entities: new EntityService(store),
    queries: new QueryService(store, { defaultLimit: config.defaultLimit, maxLimit: Math.max(config.maxLimit, config.defaultLimit) }),
    discovery: new DiscoveryService(store),
    resolver,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    maxBatchEntities: config.maxBatchEntities,
    system: { version: VERSION, store: config.store, startedAt: new Date(), storeHealthy: async () => (await store.hasTenant('')) === true },
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
        await store.close();
        logger.flush();
      })()),
  };
}
