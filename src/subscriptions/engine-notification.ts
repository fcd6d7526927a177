/**
 * The Notification (clause 5.3.1) around the rendered entities, serialized once for the wire with the headers of
 * the HTTP binding (6.3.8); the MQTT sender wraps the same body and headers into its {metadata, body} envelope (7.2).
 *
 * - application/json: no @context in the body; `Link` names the subscription's @context when it is one URL, else the
 *   core context (6.3.8: "to the default JSON-LD @context if none available").
 * - application/ld+json: "@context" at the top of the Notification and in every entity of data, so that each entity
 *   stands alone as a JSON-LD document like an ld+json entity response does (TP/NGSI-LD/CI/SUB/046_14_01 looks
 *   for data[0]["@context"]).
 * - application/geo+json: data is a FeatureCollection carrying "@context", or, when receiverInfo has
 *   Prefer: body=json, none and a Link header instead (5.3.1, 6.3.8).
 * - NGSILD-Tenant for a tenant other than the default (6.3.14); every receiverInfo pair as a header (6.3.8).
 */
import { randomUUID } from 'node:crypto';
import { CORE_CONTEXT_URL } from '../jsonld/core-context.js';
import { contextLinkHeader } from '../jsonld/link-header.js';
import type { ContextResolver } from '../jsonld/resolver.js';
import type { LdContext } from '../jsonld/types.js';
import type { Logger } from '../logger.js';
import { DEFAULT_TENANT } from '../model/entity.js';
import type { OutboundNotification } from '../notifications/types.js';
import type { CompiledSubscription } from './compiled.js';
import { renderNotifiedEntity, type NotifiedEntity } from './engine-render.js';

export function notificationId(): string {
  return `urn:ngsi-ld:Notification:${randomUUID()}`;
}

/** Whether the subscription's data is a FeatureCollection (endpoint.accept application/geo+json). */
export function isGeo(sub: CompiledSubscription): boolean {
  return sub.notification.endpoint.accept === 'application/geo+json';
}

/**
 * One queued notification of `data` (rendered entities, or Features when isGeo) for the subscription.
 * `ctx` is the @context the entities were compacted with; its `source` is what the body or Link refers to.
 */
export function buildNotification(
  sub: CompiledSubscription,
  ctx: LdContext,
  data: Array<Record<string, unknown>>,
  nowMs: number,
): OutboundNotification {
  const endpoint = sub.notification.endpoint;
  const accept = endpoint.accept;
  const id = notificationId();
  const notifiedAt = new Date(nowMs).toISOString();
  const headers: Record<string, string> = {};
  // Content-Type is the payload's own (endpoint.accept): a receiverInfo pair cannot contradict it.
  for (const { key, value } of endpoint.receiverInfo ?? []) if (key.toLowerCase() !== 'content-type') headers[key] = value;
  const setHeader = (name: string, value: string) => {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name.toLowerCase()) delete headers[k];
    headers[name] = value;
  };
  const linkUrl = typeof ctx.source === 'string' ? ctx.source : CORE_CONTEXT_URL;

  const notification: Record<string, unknown> = { id, type: 'Notification', subscriptionId: sub.id, notifiedAt };
  if (accept === 'application/geo+json') {
    const collection: Record<string, unknown> = { type: 'FeatureCollection', features: data };
    if (preferBodyJson(endpoint.receiverInfo)) setHeader('Link', contextLinkHeader(linkUrl));
    else collection['@context'] = ctx.source;
    notification.data = collection;
  } else if (accept === 'application/ld+json') {
    notification.data = data.map((e) => ({ ...e, '@context': ctx.source }));
    notification['@context'] = ctx.source;
  } else {
    notification.data = data;
    setHeader('Link', contextLinkHeader(linkUrl));
  }
  if (sub.tenant !== DEFAULT_TENANT) setHeader('NGSILD-Tenant', sub.tenant);
  return {
    id,
    tenant: sub.tenant,
    subscriptionId: sub.id,
    endpoint,
    contentType: accept,
    body: JSON.stringify(notification),
    headers,
    createdAt: notifiedAt,
    attempt: 0,
    notBefore: nowMs,
  };
}

function preferBodyJson(info: ReadonlyArray<{ key: string; value: string }> | undefined): boolean {
  return (info ?? []).some((kv) => kv.key.toLowerCase() === 'prefer' && /\bbody=json\b/.test(kv.value));
}

export interface BuildOptions {
  resolver: ContextResolver;
  logger?: Pick<Logger, 'warn'>;
  /** Most entities in one notification's data. */
  maxEntities: number;
}

/** Renders the entities with the subscription's @context into notifications of at most maxEntities each. */
export async function buildNotifications(
  sub: CompiledSubscription,
  items: readonly NotifiedEntity[],
  nowMs: number,
  opts: BuildOptions,
): Promise<OutboundNotification[]> {
  const ctx = await contextFor(sub, opts);
  const geo = isGeo(sub);
  const out: OutboundNotification[] = [];
  for (let i = 0; i < items.length; i += opts.maxEntities) {
    const data = items.slice(i, i + opts.maxEntities).map((item) => renderNotifiedEntity(sub, ctx, item, geo));
    out.push(buildNotification(sub, ctx, data, nowMs));
  }
  return out;
}

/**
 * The subscription's @context; when it cannot be had (a remote context is down), the core context, so that the
 * notification still goes out and stays correct JSON-LD (full IRIs, and the core context in Link / @context).
 */
async function contextFor(sub: CompiledSubscription, opts: BuildOptions): Promise<LdContext> {
  try {
    return await opts.resolver.resolve(sub.context);
  } catch (error) {
    opts.logger?.warn({ err: error, subscriptionId: sub.id }, 'notification @context unavailable; using the core context');
    return opts.resolver.resolve(undefined);
  }
}
