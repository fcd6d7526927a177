import type { Context } from 'hono';
import { NgsiError } from '../../common/errors.js';
import { parsePaging, type PagingLimits } from '../../entities/query-params.js';
import type { DeadLetter, NotificationQueue } from '../../notifications/types.js';
import { negotiate } from '../negotiation.js';
import type { BrokerEnv } from '../request.js';
import { pagingLinks, sendNoContent } from '../respond.js';
import type { RouteTable } from '../route-table.js';

export interface DeadLetterRouteDeps {
  /** Listing, reading and deleting. */
  queue: Pick<NotificationQueue, 'deadLetters' | 'getDeadLetter' | 'removeDeadLetter'>;
  /** Replaying: the delivery engine, which queues the notification again and picks it up at once. */
  replay: (tenant: string, id: string) => Promise<boolean>;
  limits: PagingLimits;
}

const BASE = '/ngsi-ld/ex/v1/deadLetters';

/**
 * musubi extension: the notifications that ran out of retries (or were refused with a non-retryable error), per
 * tenant, to inspect, replay or delete. Answers are application/json; errors are ProblemDetails.
 */
export function registerDeadLetterRoutes(routes: RouteTable, deps: DeadLetterRouteDeps): void {
  const { queue, replay, limits } = deps;
  const id = (c: Context<BrokerEnv>) => c.req.param('id')!;
  const notFound = (c: Context<BrokerEnv>) => new NgsiError('ResourceNotFound', `There is no dead letter ${id(c)}`);

  routes.add('GET', BASE, async (c) => {
    negotiate(c.req.header('accept'), false);
    const paging = parsePaging(c.req.query(), limits);
    const page = await queue.deadLetters(c.get('tenant'), { limit: paging.limit, offset: paging.offset });
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    const next = paging.offset + paging.limit < page.count && paging.limit > 0 ? { offset: String(paging.offset + paging.limit) } : undefined;
    const prev = paging.offset > 0 && paging.limit > 0 ? { offset: String(Math.max(0, paging.offset - paging.limit)) } : undefined;
    const links = pagingLinks(c.req.url, 'application/json', { next, prev });
    if (links.length > 0) headers.Link = links.join(', ');
    if (paging.count) headers['NGSILD-Results-Count'] = String(page.count);
    return c.body(JSON.stringify(page.items.map(renderDeadLetter)), 200, headers);
  });

  routes.add('GET', `${BASE}/:id`, async (c) => {
    negotiate(c.req.header('accept'), false);
    const letter = await queue.getDeadLetter(c.get('tenant'), id(c));
    if (!letter) throw notFound(c);
    return c.body(JSON.stringify(renderDeadLetter(letter)), 200, { 'Content-Type': 'application/json' });
  });

  // 202: the notification is queued again; its delivery is still to come.
  routes.add('POST', `${BASE}/:id/replay`, async (c) => {
    if (!(await replay(c.get('tenant'), id(c)))) throw notFound(c);
    return c.body(null, 202);
  });

  routes.add('DELETE', `${BASE}/:id`, async (c) => {
    if (!(await queue.removeDeadLetter(c.get('tenant'), id(c)))) throw notFound(c);
    return sendNoContent(c);
  });
}

/**
 * The endpoint in the terms of clause 5.2.15, and the notification itself parsed when it is JSON (it always is
 * over HTTP), so a user sees what the receiver would have got.
 */
export function renderDeadLetter(d: DeadLetter): Record<string, unknown> {
  const { uri, accept, receiverInfo, notifierInfo, timeoutMs, cooldownMs } = d.endpoint;
  let notification: unknown = d.body;
  try {
    notification = JSON.parse(d.body);
  } catch {
    // kept as the text that was to be sent
  }
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    endpoint: {
      uri,
      accept,
      ...(receiverInfo ? { receiverInfo } : {}),
      ...(notifierInfo ? { notifierInfo } : {}),
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
      ...(cooldownMs !== undefined ? { cooldown: cooldownMs } : {}),
    },
    createdAt: d.createdAt,
    failedAt: d.failedAt,
    attempts: d.attempt,
    lastError: d.lastError,
    contentType: d.contentType,
    notification,
  };
}
