import { createHash } from 'node:crypto';
import type { OutboundNotification, StreamRef } from './types.js';

/**
 * The lane of an endpoint: what shares a concurrency cap, a circuit breaker and a cooldown. For http(s) it is
 * origin + path, so two subscriptions that differ only in a query string or in credentials share the lane of
 * the receiver they both reach; any other URI is its own lane.
 */
export function laneKeyOf(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.protocol === 'http:' || u.protocol === 'https:') return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    // not a URL: the sender will refuse it, the lane is still well defined
  }
  return uri;
}

export function streamOf(n: OutboundNotification): StreamRef {
  return { tenant: n.tenant, subscriptionId: n.subscriptionId, uri: n.endpoint.uri };
}

/**
 * A fixed-size key for a stream. Tenant, subscription id and URI together can exceed lmdb's key limit, and a
 * hash keeps the stream index compact. Readers compare the stream itself too, so even a collision would cost a
 * wasted read, never a wrong or lost item.
 */
export function streamKeyOf(stream: StreamRef): string {
  return createHash('sha256').update(`${stream.tenant}\u0000${stream.subscriptionId}\u0000${stream.uri}`).digest('base64url').slice(0, 22);
}
