/**
 * Batch entity operations (clauses 5.6.7-5.6.10, 5.6.20; resources 6.14-6.17, 6.31): paths, a request shortcut and
 * the check of a BatchOperationResult (5.2.16).
 */
import { expect } from 'vitest';
import { describeRes, headerOf } from './assert.js';
import { API, ERROR_BASE, post, type ReqOptions, type Res } from './http.js';

export type BatchOp = 'create' | 'upsert' | 'update' | 'delete' | 'merge';

export const ENTITY_OPERATIONS = `${API}/entityOperations`;
export const batchPath = (op: BatchOp): string => `${ENTITY_OPERATIONS}/${op}`;

/** POST /entityOperations/{op} with a JSON body (Content-Type application/json unless opts say otherwise). */
export function batch(op: BatchOp, body: unknown, opts: ReqOptions & { query?: string } = {}): Promise<Res> {
  const { query, ...rest } = opts;
  return post(batchPath(op) + (query ? `?${query}` : ''), { json: body, ...rest });
}

/** The entity ids of a 201 body (6.14.3.1, 6.15.3.1): a JSON array of strings, in any order. */
export function expectCreatedIds(res: Res, ids: string[]): void {
  expect(res.status, describeRes(res)).toBe(201);
  expect(Array.isArray(res.body), `201 body is an array of entity ids: ${describeRes(res)}`).toBe(true);
  for (const id of res.body) expect(typeof id, 'each element is an entity id (string)').toBe('string');
  expect([...res.body].sort()).toEqual([...ids].sort());
}

/**
 * A 207 Multi-Status with a BatchOperationResult (5.2.16, 5.2.17): application/json without a Link header (6.3.6),
 * `success` holding exactly the given ids (order-free, each counted once) and `errors` one BatchEntityError per
 * [entityId, error type suffix] pair (order-free), each error a ProblemDetails with a title.
 */
export function expectBatchResult(res: Res, expected: { success: string[]; errors: Array<[string, string]> }): void {
  expect(res.status, describeRes(res)).toBe(207);
  expect(res.mediaType, `207 is application/json (6.3.6): ${describeRes(res)}`).toBe('application/json');
  expect(headerOf(res, 'link'), 'a partial-success response carries no Link header (6.3.6)').toBeNull();
  expect(Array.isArray(res.body?.success), `success is an array: ${describeRes(res)}`).toBe(true);
  expect(Array.isArray(res.body?.errors), `errors is an array: ${describeRes(res)}`).toBe(true);
  expect([...new Set(res.body.success as string[])].sort(), `success: ${describeRes(res)}`).toEqual([...new Set(expected.success)].sort());
  const errors = (res.body.errors as Array<{ entityId: string; error: { type: string; title: unknown } }>).map((e) => {
    expect(typeof e.error?.title === 'string' && e.error.title.length > 0, `ProblemDetails with a title: ${JSON.stringify(e)}`).toBe(true);
    return `${e.entityId} ${e.error?.type}`;
  });
  expect(errors.sort(), `errors: ${describeRes(res)}`).toEqual(expected.errors.map(([id, type]) => `${id} ${ERROR_BASE}${type}`).sort());
}
