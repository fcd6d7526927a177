/**
 * Entity shortcuts built on the HTTP helpers. Each asserts the success status so a failing precondition is reported
 * where it happens rather than as a confusing later mismatch.
 */
import { expect } from 'vitest';
import { describeRes } from './assert.js';
import { ENTITIES, entityPath, get, post, type ReqOptions, type Res } from './http.js';

export type Entity = Record<string, unknown> & { id: string; type: string | string[] };

/** Create Entity (5.6.1) and expect 201. */
export async function createEntity(entity: Record<string, unknown>, opts: ReqOptions = {}): Promise<Res> {
  const res = await post(ENTITIES, { json: entity, ...opts });
  expect(res.status, `precondition: create ${String(entity.id)} -> ${describeRes(res)}`).toBe(201);
  return res;
}

/** Retrieve Entity (5.7.1) with optional query parameters; expects 200 and returns the parsed body. */
export async function retrieve(id: string, query: Record<string, string> = {}, opts: ReqOptions = {}): Promise<any> {
  const res = await retrieveRes(id, query, opts);
  expect(res.status, `retrieve ${id} -> ${describeRes(res)}`).toBe(200);
  return res.body;
}

export async function retrieveRes(id: string, query: Record<string, string> = {}, opts: ReqOptions = {}): Promise<Res> {
  const qs = new URLSearchParams(query).toString();
  return get(entityPath(id) + (qs ? `?${qs}` : ''), opts);
}
