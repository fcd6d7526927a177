import type { Context } from 'hono';
import { invalidRequest } from '../../common/errors.js';
import type { BatchItem, BatchOperation, BatchOutcome, EntityService } from '../../entities/service.js';
import { CORE_CONTEXT_URL } from '../../jsonld/core-context.js';
import type { ContextResolver } from '../../jsonld/resolver.js';
import type { Logger } from '../../logger.js';
import { linkHeader, readBatchBody, readBatchIds, type BrokerEnv } from '../request.js';
import { sendNoContent } from '../respond.js';
import type { RouteTable } from '../route-table.js';
import { forwardContext } from './forward-context.js';

export interface EntityOperationRouteDeps {
  service: EntityService;
  resolver: ContextResolver;
  logger: Logger;
  maxBodyBytes: number;
  /** Most elements one batch request may hold (400 past it). */
  maxBatchEntities: number;
}

const BASE = '/ngsi-ld/v1/entityOperations';

/**
 * Batch entity operations, clauses 6.14-6.17 and 6.31 (behaviour in 5.6.7-5.6.10, 5.6.20): 201/204 when every
 * element succeeded, else 207 with a BatchOperationResult (5.2.16). A body that is not a non-empty array of
 * entities (ids for delete) is a 400 for the whole request.
 */
export function registerEntityOperationRoutes(routes: RouteTable, deps: EntityOperationRouteDeps): void {
  const { service, resolver, logger, maxBodyBytes, maxBatchEntities } = deps;
  // Elements that create, update or delete what a context source owns are forwarded (4.3.6.3, 5.6.1.4, 5.6.6.4);
  // elements carry their own @context, so names travel as the core context compacts them rather than under the request's Link.
  const run = async (c: Context<BrokerEnv>, items: BatchItem[], op: BatchOperation) =>
    service.batch(
      c.get('tenant'),
      items,
      op,
      (err) => logger.error({ err, method: c.req.method, url: c.req.url }, 'batch element failed'),
      forwardContext(c, undefined),
    );
  const entities = (c: Context<BrokerEnv>) => readBatchBody(c, resolver, maxBodyBytes, maxBatchEntities);

  // 6.14.3.1: 201 with the ids of the created entities when all were created.
  routes.add('POST', `${BASE}/create`, async (c) => {
    const items = await entities(c);
    options(c, []);
    const outcome = await run(c, items, { kind: 'create' });
    return outcome.errors.length === 0 ? sendIds(c, outcome.success, 201) : sendBatchResult(c, outcome);
  });

  // 6.15.3.1: 201 with the ids of the created entities only when some were created, 204 when all existed.
  routes.add('POST', `${BASE}/upsert`, async (c) => {
    const items = await entities(c);
    const flags = options(c, ['replace', 'update']);
    if (flags.has('replace') && flags.has('update')) throw invalidRequest('options=replace and options=update exclude each other (clause 6.15.3.1)');
    const outcome = await run(c, items, { kind: 'upsert', mode: flags.has('update') ? 'update' : 'replace' });
    if (outcome.errors.length > 0) return sendBatchResult(c, outcome);
    return outcome.created.length > 0 ? sendIds(c, outcome.created, 201) : sendNoContent(c);
  });

  // 6.16.3.1
  routes.add('POST', `${BASE}/update`, async (c) => {
    const items = await entities(c);
    const flags = options(c, ['noOverwrite']);
    return sendOutcome(c, await run(c, items, { kind: 'update', noOverwrite: flags.has('noOverwrite') }));
  });

  // 6.17.3.1: the body is an array of entity ids; they need no @context.
  routes.add('POST', `${BASE}/delete`, async (c) => {
    const ids = await readBatchIds(c, maxBodyBytes, maxBatchEntities);
    options(c, []);
    const ctx = await resolver.resolve();
    return sendOutcome(c, await run(c, ids.map((body) => ({ body, ctx })), { kind: 'delete' }));
  });

  // 6.31.3.1
  routes.add('POST', `${BASE}/merge`, async (c) => {
    const items = await entities(c);
    options(c, []);
    return sendOutcome(c, await run(c, items, { kind: 'merge' }));
  });
}

/** The options= flags of the request; one the operation does not know is InvalidRequest (as for the entity routes). */
function options(c: Context<BrokerEnv>, known: string[]): Set<string> {
  const flags = new Set((c.req.query('options') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  for (const f of flags) {
    if (!known.includes(f)) throw invalidRequest(`options=${f} is not supported by this operation; supported: ${known.join(', ') || 'none'}`);
  }
  return flags;
}

/** 204 when every element succeeded, else 207 (6.16.3.1, 6.17.3.1, 6.31.3.1). */
function sendOutcome(c: Context<BrokerEnv>, outcome: BatchOutcome): Response {
  return outcome.errors.length === 0 ? sendNoContent(c) : sendBatchResult(c, outcome);
}

/**
 * A String[] of entity ids. It holds no term to compact, so it is application/json whatever the Accept header,
 * with the Link header clause 6.3.6 asks of application/json bodies (the core context).
 */
function sendIds(c: Context<BrokerEnv>, ids: string[], status: 201): Response {
  return c.body(JSON.stringify(ids), status, { 'Content-Type': 'application/json', Link: linkHeader(CORE_CONTEXT_URL) });
}

/** 207 with a BatchOperationResult (5.2.16), application/json and no Link header, as partial success is (6.3.6). */
function sendBatchResult(c: Context<BrokerEnv>, outcome: BatchOutcome): Response {
  const body = { success: outcome.success, errors: outcome.errors };
  return c.body(JSON.stringify(body), 207, { 'Content-Type': 'application/json' });
}
