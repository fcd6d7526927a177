import { badRequest } from '../common/errors.js';
import { isValidName } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import { mqttSettings, parseMqttUri } from '../notifications/mqtt-endpoint.js';
import { DeliveryError, type KeyValue } from '../notifications/types.js';
import type { EndpointSpec, NotificationSpec } from '../model/subscription.js';

/** NotificationParams as the schema lets it through (spec/schemas/subscription.schema.json). */
export interface RawNotification {
  attributes?: string[];
  pick?: string[];
  omit?: string[];
  format?: NotificationSpec['format'];
  sysAttrs?: boolean;
  showChanges?: boolean;
  join?: NotificationSpec['join'];
  joinLevel?: number;
  endpoint?: RawEndpoint;
}

export type RawEndpoint = Partial<EndpointSpec>;

/** Members a fragment deletes with null or "urn:ngsi-ld:null" (clause 5.5.8), per level of nesting. */
export interface Deletions {
  top: Set<string>;
  notification: Set<string>;
  endpoint: Set<string>;
}

/** Names expanded as clause 5.5.7 asks; `what` names the member in the error. */
export function expandNames(names: readonly string[], ctx: LdContext, what: string, keep: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (!isValidName(name)) throw badRequest(`${what} holds ${JSON.stringify(name)}, which is not a valid attribute name (clause 4.6.2)`);
    const expanded = keep.includes(name) ? name : ctx.expand(name);
    if (!out.includes(expanded)) out.push(expanded);
  }
  return out;
}

const MEMBERS = ['id', 'type', 'scope'];

/**
 * pick and omit (clause 4.21): each item an Attribute Projection Language string, so "a,b" or "a|b" hold two names.
 * The linked-entity form "rel{attr}" needs Linked Entity retrieval in notifications, which musubi does not offer.
 */
function projection(items: readonly string[], ctx: LdContext, what: string): string[] {
  const names = items.flatMap((item) => item.split(/[,|]/).map((s) => s.trim()));
  for (const name of names) {
    if (name.includes('{') || name.includes('}')) {
      throw badRequest(`${what} holds ${JSON.stringify(name)}: projecting attributes of linked entities is not supported in notifications (clause 4.21)`);
    }
  }
  return expandNames(names, ctx, what, MEMBERS);
}

/** NotificationParams (5.2.14) merged over the current ones (none when creating), per member (5.5.8). */
export function applyNotification(
  base: NotificationSpec | undefined,
  raw: RawNotification | undefined,
  deletions: Deletions,
  ctx: LdContext,
): Partial<NotificationSpec> {
  const out: Partial<NotificationSpec> = { ...base };
  for (const name of deletions.notification) delete out[name as keyof NotificationSpec];
  if (raw) {
    if (raw.attributes) {
      const reserved = raw.attributes.find((a) => MEMBERS.includes(a));
      if (reserved) throw badRequest(`notification.attributes cannot hold "${reserved}"; use pick for entity members (clause 5.2.14)`);
      out.attributes = expandNames(raw.attributes, ctx, 'notification.attributes');
    }
    if (raw.pick) out.pick = projection(raw.pick, ctx, 'notification.pick');
    if (raw.omit) out.omit = projection(raw.omit, ctx, 'notification.omit');
    for (const key of ['format', 'sysAttrs', 'showChanges', 'join', 'joinLevel'] as const) {
      if (raw[key] !== undefined) (out as Record<string, unknown>)[key] = raw[key];
    }
  }
  const endpoint = applyEndpoint(base?.endpoint, raw?.endpoint, deletions);
  if (endpoint) out.endpoint = endpoint;
  return out;
}

function applyEndpoint(base: EndpointSpec | undefined, raw: RawEndpoint | undefined, deletions: Deletions): EndpointSpec | undefined {
  if (!base && !raw) return undefined;
  const out: Partial<EndpointSpec> = { ...base, ...raw };
  for (const name of deletions.endpoint) delete out[name as keyof EndpointSpec];
  if (out.uri === undefined) throw badRequest('notification.endpoint.uri is missing; the endpoint needs the URI notifications go to (clause 5.2.15)');
  return out as EndpointSpec;
}

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HTTP_FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The rules of NotificationParams and Endpoint that concern more than one member (5.2.14, 5.2.15, 6.3.8, 7.2). */
export function checkNotification(n: NotificationSpec): void {
  if (n.pick && n.omit) throw badRequest('notification.pick and notification.omit cannot be used together (clause 4.21)');
  if (n.showChanges && (n.format === 'keyValues' || n.format === 'simplified')) {
    throw badRequest(`notification.showChanges cannot be true with format "${n.format}" (clause 5.2.14)`);
  }
  if (n.joinLevel !== undefined && n.join !== 'flat' && n.join !== 'inline') {
    throw badRequest('notification.joinLevel needs notification.join "flat" or "inline" (clause 5.2.14)');
  }
  const scheme = checkEndpointUri(n.endpoint.uri);
  const mqtt = scheme === 'mqtt' || scheme === 'mqtts';
  if (mqtt && n.endpoint.accept === 'application/geo+json') {
    throw badRequest('notification.endpoint.accept cannot be application/geo+json for an MQTT endpoint: MQTT notifications are application/json or application/ld+json (clause 7.2)');
  }
  if (!mqtt) checkHeaders(n.endpoint.receiverInfo ?? []);
  // MQTT-Version and MQTT-QoS are checked on every endpoint, as the MQTT sender reads them (Table 7.2-1).
  asBadRequest(() => mqttSettings(n.endpoint.notifierInfo), 'notification.endpoint.');
}

/**
 * A dereferenceable http, https, mqtt or mqtts URI with a host (clauses 5.2.15, 6.3.8, 7.2); returns the scheme.
 * An mqtt(s) URI must also name a topic the MQTT sender can publish to.
 */
function checkEndpointUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw badRequest(`notification.endpoint.uri ${JSON.stringify(uri)} is not a valid absolute URI (clause 5.2.15)`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!['http', 'https', 'mqtt', 'mqtts'].includes(scheme)) {
    throw badRequest(`notification.endpoint.uri ${JSON.stringify(uri)} has scheme "${scheme}"; notifications go to http, https, mqtt or mqtts endpoints (clauses 6.3.8, 7.2)`);
  }
  if (url.hostname === '') throw badRequest(`notification.endpoint.uri ${JSON.stringify(uri)} names no host (clause 5.2.15)`);
  if (scheme === 'mqtt' || scheme === 'mqtts') asBadRequest(() => parseMqttUri(uri), 'notification.endpoint.uri is not a valid MQTT endpoint: ');
  return scheme;
}

/** Runs a check of the MQTT sender (clause 7.2), turning the DeliveryError it refuses with into a BadRequestData. */
function asBadRequest(check: () => unknown, prefix: string): void {
  try {
    check();
  } catch (error) {
    if (error instanceof DeliveryError) throw badRequest(`${prefix}${error.message} (clause 7.2)`);
    throw error;
  }
}

/** receiverInfo of an HTTP endpoint becomes request headers, which must follow IETF RFC 7230 (clause 6.3.8). */
function checkHeaders(info: readonly KeyValue[]): void {
  for (const { key, value } of info) {
    if (!HTTP_TOKEN.test(key)) throw badRequest(`notification.endpoint.receiverInfo key ${JSON.stringify(key)} is not a valid HTTP header name (clause 6.3.8, IETF RFC 7230)`);
    if (!HTTP_FIELD_VALUE.test(value)) {
      throw badRequest(`notification.endpoint.receiverInfo value of ${key} holds characters an HTTP header cannot carry (clause 6.3.8, IETF RFC 7230)`);
    }
  }
}
