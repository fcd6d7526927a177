import type { RouteTable } from '../route-table.js';

export interface SystemInfo {
  version: string;
  store: string;
  startedAt: Date;
  /** Whether the store answers; health turns 503 when it does not. */
  storeHealthy: () => Promise<boolean>;
}

/** /version in the shape Orion-LD gives (IoT Agents poll it) and /health for load balancers and orchestrators. */
export function registerSystemRoutes(routes: RouteTable, info: SystemInfo): void {
  routes.add('GET', '/version', (c) =>
    c.json({
      'musubi version': info.version,
      version: info.version,
      'ngsi-ld version': '1.9.1',
      uptime: uptime(info.startedAt),
      node: process.version,
      store: info.store,
      release_date: '2026-11-22',
    }),
  );
  routes.add('GET', '/health', async (c) => {
    const healthy = await info.storeHealthy().catch(() => false);
    return c.json({ status: healthy ? 'ok' : 'degraded', store: info.store, uptimeSeconds: Math.floor((Date.now() - info.startedAt.getTime()) / 1000) }, healthy ? 200 : 503);
  });
}

function uptime(since: Date): string {
  let s = Math.floor((Date.now() - since.getTime()) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  return `${d} d, ${h} h, ${m} m, ${s - m * 60} s`;
}
