/**
 * Context Source Registration helpers (clauses 5.9, 5.10, 6.8, 6.9) and CSource subscription helpers (5.11, 6.12,
 * 6.13). Import from './lib/registrations.js' (not re-exported by index.ts).
 *
 * Registrations and CSource subscriptions created through these helpers are remembered; call `deleteCreatedRegistrations()`
 * in an afterAll so a shared broker is not left with them.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { describeRes } from './assert.js';
import { API, del, get, post, seg, type ReqOptions, type Res } from './http.js';
import { qs, type Params } from './query.js';
import type { Inbox, ReceivedRequest } from './receiver.js';

export const CSR = `${API}/csourceRegistrations`;
export const csrPath = (id: string): string => `${CSR}/${seg(id)}`;
export const CSUBS = `${API}/csourceSubscriptions`;
export const csubPath = (id: string): string => `${CSUBS}/${seg(id)}`;

/** A fresh registration id (a URI). */
export function regId(): string {
  return `urn:ngsi-ld:ContextSourceRegistration:${randomUUID()}`;
}

const created: Array<{ path: string; tenant?: string }> = [];

/** The id of what a POST created: the body's id when given, else the last segment of Location (as IoT Agents read it). */
function createdId(body: unknown, res: Res): string {
  const given = (body as { id?: unknown } | null)?.id;
  if (typeof given === 'string') return given;
  return decodeURIComponent((res.headers.get('location') ?? '').split('/').pop() ?? '');
}

/** POST /csourceRegistrations without checking the outcome (a 201 is remembered for clean-up). */
export async function createRegistrationRes(body: unknown, opts: ReqOptions = {}): Promise<Res> {
  const res = await post(CSR, { json: body, ...opts });
  if (res.status === 201) created.push({ path: csrPath(createdId(body, res)), tenant: opts.tenant });
  return res;
}

/** POST /csourceRegistrations, expecting 201; returns the id. */
export async function createRegistration(body: Record<string, unknown>, opts: ReqOptions = {}): Promise<string> {
  const res = await createRegistrationRes(body, opts);
  expect(res.status, `precondition: create registration -> ${describeRes(res)}`).toBe(201);
  return createdId(body, res);
}

/** GET /csourceRegistrations/{id}, expecting 200; returns the body. */
export async function retrieveRegistration(id: string, query: Params = {}, opts: ReqOptions = {}): Promise<any> {
  const res = await get(csrPath(id) + qs(query), opts);
  expect(res.status, `retrieve registration ${id} -> ${describeRes(res)}`).toBe(200);
  return res.body;
}

/** GET /csourceRegistrations with query parameters. */
export function queryRegistrationsRes(query: Params, opts: ReqOptions = {}): Promise<Res> {
  return get(CSR + qs(query), opts);
}

/** The ids of the registrations a query returns (expects 200). */
export async function queryRegistrationIds(query: Params, opts: ReqOptions = {}): Promise<string[]> {
  const res = await queryRegistrationsRes(query, opts);
  expect(res.status, `query registrations -> ${describeRes(res)}`).toBe(200);
  return (res.body as Array<{ id: string }>).map((r) => r.id);
}

/** POST /csourceSubscriptions without checking the outcome (a 201 is remembered for clean-up). */
export async function createCSourceSubscriptionRes(body: unknown, opts: ReqOptions = {}): Promise<Res> {
  const res = await post(CSUBS, { json: body, ...opts });
  if (res.status === 201) created.push({ path: csubPath(createdId(body, res)), tenant: opts.tenant });
  return res;
}

/** POST /csourceSubscriptions, expecting 201; returns the id. */
export async function createCSourceSubscription(body: Record<string, unknown>, opts: ReqOptions = {}): Promise<string> {
  const res = await createCSourceSubscriptionRes(body, opts);
  expect(res.status, `precondition: create CSource subscription -> ${describeRes(res)}`).toBe(201);
  return createdId(body, res);
}

/** A CSourceSubscription body (5.2.12) on entity type `type`, notifying `inbox` (or a URI) in plain JSON. */
export function csourceSubscription(type: string, inbox: Inbox | string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const uri = typeof inbox === 'string' ? inbox : inbox.uri;
  return { type: 'Subscription', entities: [{ type }], notification: { endpoint: { uri, accept: 'application/json' } }, ...extra };
}

/** Predicate: a CSourceNotification (5.3.2) about registration `id` with triggerReason `reason`. */
export const aboutRegistration =
  (id: string, reason: string) =>
  (r: ReceivedRequest): boolean =>
    r.body?.triggerReason === reason && Array.isArray(r.body?.data) && r.body.data.some((reg: { id?: string }) => reg.id === id);

/** Polls the CSource subscription until `predicate(body)` holds or `timeoutMs` elapses; returns the last body seen. */
export async function pollCSourceSubscription(id: string, predicate: (body: any) => boolean, opts: ReqOptions = {}, timeoutMs = 5000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await get(csubPath(id), opts);
    if (predicate(body) || Date.now() >= deadline) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deletes every registration and CSource subscription this module created (best effort). */
export async function deleteCreatedRegistrations(): Promise<void> {
  const all = created.splice(0);
  await Promise.all(all.map(({ path, tenant }) => del(path, tenant ? { tenant } : {}).catch(() => undefined)));
}
