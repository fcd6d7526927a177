/**
 * Subscription helpers (clauses 5.8, 6.10, 6.11) and checks of received notifications (5.3.1, 6.3.8). Import from
 * './lib/subscriptions.js' (not re-exported by index.ts).
 *
 * Subscriptions created through `createSubscription` are remembered; call `deleteCreatedSubscriptions()` in an
 * afterAll so a shared broker is not left with subscriptions pointing at a receiver that is gone (a periodic one would
 * go on notifying it forever).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { DATE_TIME, describeRes } from './assert.js';
import { API, NGSI_NULL, del, get, post, seg, type ReqOptions, type Res } from './http.js';
import { summarize, type Inbox, type ReceivedRequest } from './receiver.js';

export const SUBSCRIPTIONS = `${API}/subscriptions`;
export const subscriptionPath = (id: string): string => `${SUBSCRIPTIONS}/${seg(id)}`;

/** A fresh subscription id (a URI). */
export function subId(): string {
  return `urn:ngsi-ld:Subscription:${randomUUID()}`;
}

/** A fresh entity type name, so that a type-based subscription only ever matches the test's own entities. */
export function uniqueType(prefix = 'T'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** A fresh attribute name. */
export function uniqueAttr(prefix = 'a'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** Loose URI check (RFC 3986 scheme ":" something, no spaces). */
export const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

const created: Array<{ id: string; tenant?: string }> = [];

/** POST /subscriptions, expecting 201; returns the id (from the body when given, else from the Location header). */
export async function createSubscription(body: Record<string, unknown>, opts: ReqOptions = {}): Promise<string> {
  const res = await createSubscriptionRes(body, opts);
  expect(res.status, `precondition: create subscription -> ${describeRes(res)}`).toBe(201);
  const location = res.headers.get('location');
  const id = typeof body.id === 'string' ? body.id : decodeURIComponent((location ?? '').split('/').pop() ?? '');
  expect(id, `a subscription id (Location: ${location})`).toMatch(URI);
  return id;
}

/** POST /subscriptions without checking the outcome (a 201 is still remembered for clean-up). */
export async function createSubscriptionRes(body: unknown, opts: ReqOptions = {}): Promise<Res> {
  const res = await post(SUBSCRIPTIONS, { json: body, ...opts });
  if (res.status === 201) {
    const location = res.headers.get('location');
    const given = (body as { id?: unknown } | null)?.id;
    const id = typeof given === 'string' ? given : decodeURIComponent((location ?? '').split('/').pop() ?? '');
    if (id) created.push({ id, tenant: opts.tenant });
  }
  return res;
}

/** GET /subscriptions/{id} with optional query parameters. */
export function retrieveSubscriptionRes(id: string, query: Record<string, string> = {}, opts: ReqOptions = {}): Promise<Res> {
  const qs = new URLSearchParams(query).toString();
  return get(subscriptionPath(id) + (qs ? `?${qs}` : ''), opts);
}

/** GET /subscriptions/{id}, expecting 200; returns the body. */
export async function retrieveSubscription(id: string, query: Record<string, string> = {}, opts: ReqOptions = {}): Promise<any> {
  const res = await retrieveSubscriptionRes(id, query, opts);
  expect(res.status, `retrieve subscription ${id} -> ${describeRes(res)}`).toBe(200);
  return res.body;
}

/** Polls the subscription until `predicate(body)` holds or `timeoutMs` elapses; returns the last body seen. */
export async function pollSubscription(
  id: string,
  predicate: (sub: any) => boolean,
  opts: ReqOptions = {},
  timeoutMs = 5000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  for (;;) {
    const res = await retrieveSubscriptionRes(id, {}, opts);
    last = res.body;
    if (res.status === 200) {
      try {
        if (predicate(last)) return last;
      } catch {
        // not there yet
      }
    }
    if (Date.now() >= deadline) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deletes every subscription this module created (best effort). */
export async function deleteCreatedSubscriptions(): Promise<void> {
  const all = created.splice(0);
  await Promise.all(all.map(({ id, tenant }) => del(subscriptionPath(id), tenant ? { tenant } : {}).catch(() => undefined)));
}

// ---------------------------------------------------------------------------------------------------------------------
// Received notifications

/** The entities of a notification (`data`, clause 5.3.1), [] when it has none or is not a notification. */
export function dataOf(r: ReceivedRequest): any[] {
  const data = r.body?.data;
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.features)) return data.features;
  return [];
}

/** The entity (or GeoJSON Feature) with this id in a notification, undefined when absent. */
export function entityIn(r: ReceivedRequest, id: string): any {
  return dataOf(r).find((e) => e?.id === id);
}

/** Predicate: the notification carries the entity `id` and, when given, `check(entity)` holds. */
export function about(id: string, check?: (entity: any) => boolean): (r: ReceivedRequest) => boolean {
  return (r) => {
    const e = entityIn(r, id);
    return e !== undefined && (check === undefined || check(e));
  };
}

/** The value of a Property in any representation (normalized {value}, concise {value} or bare, simplified). */
export function valueOf(attr: any): unknown {
  if (attr !== null && typeof attr === 'object' && !Array.isArray(attr) && 'value' in attr) return attr.value;
  return attr;
}

/**
 * Whether an attribute of a notification stands for a deleted attribute (5.8.6): the bare URI "urn:ngsi-ld:null" or
 * an object whose value / object is that URI (or whose languageMap is {"@none": "urn:ngsi-ld:null"}).
 */
export function isDeletedAttr(attr: any): boolean {
  if (attr === NGSI_NULL) return true;
  if (attr === null || typeof attr !== 'object') return false;
  if (Array.isArray(attr)) return attr.length > 0 && attr.every(isDeletedAttr);
  return attr.value === NGSI_NULL || attr.object === NGSI_NULL || attr.languageMap?.['@none'] === NGSI_NULL;
}

/**
 * The notification shape of 5.3.1 sent as 6.3.8 requires: an HTTP POST whose body has an id (URI), type
 * "Notification", the subscriptionId, notifiedAt (DateTime) and data.
 */
export function expectNotification(r: ReceivedRequest, subscriptionId: string): void {
  const where = summarize(r);
  expect(r.method, `6.3.8 a notification is an HTTP POST: ${where}`).toBe('POST');
  expect(r.body, `5.3.1 a JSON body: ${where}`).toBeTypeOf('object');
  expect(r.body.id, `5.3.1 id is a URI: ${where}`).toMatch(URI);
  expect(r.body.type, `5.3.1 type: ${where}`).toBe('Notification');
  expect(r.body.subscriptionId, `5.3.1 subscriptionId: ${where}`).toBe(subscriptionId);
  expect(r.body.notifiedAt, `5.3.1 notifiedAt is a DateTime (4.6.3): ${where}`).toMatch(DATE_TIME);
  expect(r.body.data, `5.3.1 data: ${where}`).toBeDefined();
}

/** Summary of every notification of an inbox, for assertion messages. */
export function inboxLog(inbox: Inbox): string {
  return inbox.requests.length === 0 ? '(no notifications)' : inbox.requests.map((r, i) => `#${i + 1} ${summarize(r)}`).join('\n');
}
