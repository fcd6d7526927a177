/**
 * musubi extension, beyond ETSI GS CIM 009: paging guarantees of Query Entities.
 *
 * Clause 5.5.9.1 only says results may change between page requests ("implementations may detect those situations").
 * musubi promises more: its rel="next"/rel="prev" Link targets (6.3.10) carry keyset cursors (`pageAfter`,
 * `pageBefore`) instead of offsets, so an entity that exists during the whole walk is returned exactly once even when
 * other entities of the same type are created or deleted between page requests. Also musubi's page sizes: 20 by
 * default, at most 1000 (403 TooManyResults past it). Skipped when MUSUBI_CONFORMANCE_EXTENSIONS=0.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { ENTITIES, createEntity, del, entityPath, expectProblem, expectStatus, extensionsEnabled, tenant, uid } from '../lib/index.js';
import { absolute, createAll, getUrl, pageLinks, qs, query, queryRes, walkPages } from '../lib/query.js';

describe.skipIf(!extensionsEnabled)('musubi extension: page sizes (5.5.9.1 Md, 6.3.10)', () => {
  const T = tenant();
  const opts = { tenant: T };

  beforeAll(async () => {
    await createAll(
      Array.from({ length: 25 }, (_, i) => ({ id: uid('Sized'), type: 'Sized', n: { type: 'Property', value: i } })),
      opts,
    );
  });

  test('the default page size is 20', async () => {
    const res = await queryRes({ type: 'Sized' }, opts);
    expectStatus(res, 200);
    expect(res.body).toHaveLength(20);
    expect(pageLinks(res, absolute(ENTITIES + qs({ type: 'Sized' }))).next).toBeDefined();
  });

  test('limit=1000 is accepted', async () => {
    expect(await query({ type: 'Sized', limit: 1000 }, opts)).toHaveLength(25);
  });

  test('limit=1001 is over the maximum: 403 TooManyResults', async () => {
    expectProblem(await queryRes({ type: 'Sized', limit: 1001 }, opts), 403, 'TooManyResults');
  });
});

describe.skipIf(!extensionsEnabled)('musubi extension: keyset paging is stable under concurrent changes (5.5.9.1, 6.3.10)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const stable: string[] = [];
  const volatile: string[] = [];

  beforeAll(async () => {
    const list: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 40; i++) {
      const id = uid('Churn');
      stable.push(id);
      list.push({ id, type: 'Churn', role: { type: 'Property', value: 'stable' } });
    }
    for (let i = 0; i < 30; i++) {
      const id = uid('Churn');
      volatile.push(id);
      list.push({ id, type: 'Churn', role: { type: 'Property', value: 'volatile' } });
    }
    await createAll(list, opts);
  });

  test('the Link targets carry pageAfter / pageBefore cursors', async () => {
    const path = ENTITIES + qs({ type: 'Churn', limit: 10 });
    const first = await queryRes({ type: 'Churn', limit: 10 }, opts);
    expectStatus(first, 200);
    const next = pageLinks(first, absolute(path)).next;
    expect(next, 'rel="next"').toBeDefined();
    expect(new URL(next!.url).searchParams.get('pageAfter'), next!.raw).toBeTruthy();
    const second = await getUrl(next!.url, opts);
    expectStatus(second, 200);
    const prev = pageLinks(second, next!.url).prev;
    expect(prev, 'rel="prev"').toBeDefined();
    expect(new URL(prev!.url).searchParams.get('pageBefore'), prev!.raw).toBeTruthy();
  });

  test('entities existing throughout the walk appear exactly once while others are created and deleted between pages', async () => {
    const deleted = new Set<string>();
    const created: string[] = [];
    const pages = await walkPages(ENTITIES + qs({ type: 'Churn', limit: 7 }), opts, 100, async (soFar) => {
      const seen = new Set(soFar.flatMap((p) => p.ids));
      const pick = (wantSeen: boolean): string | undefined => volatile.find((id) => seen.has(id) === wantSeen && !deleted.has(id));
      // Alternately: delete two entities already returned (under offset paging, later entities would shift onto pages
      // already read and be skipped), or create two whose ids sort before all others (entities already read would
      // shift onto the next page and come back). Each time also delete one entity not yet returned and create one
      // sorting after all others.
      const deletions = soFar.length % 2 === 1 ? [true, true, false] : [false];
      const prefixes = soFar.length % 2 === 1 ? ['zzz'] : ['000', '000', 'zzz'];
      for (const wantSeen of deletions) {
        const id = pick(wantSeen);
        if (id === undefined) continue;
        deleted.add(id);
        expectStatus(await del(entityPath(id), opts), 204);
      }
      for (const prefix of prefixes) {
        const id = `urn:ngsi-ld:Churn:${prefix}-${randomUUID()}`;
        created.push(id);
        await createEntity({ id, type: 'Churn', role: { type: 'Property', value: 'new' } }, opts);
      }
    });

    expect(pages.length, 'the walk had several pages').toBeGreaterThan(5);
    expect(deleted.size, 'entities were deleted during the walk').toBeGreaterThan(4);
    const all = pages.flatMap((p) => p.ids);
    const counts = new Map<string, number>();
    for (const id of all) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1).map(([id]) => id), 'no entity is returned twice').toEqual([]);
    expect(stable.filter((id) => !counts.has(id)), 'every stable entity is returned').toEqual([]);
    const known = new Set([...stable, ...volatile, ...created]);
    expect(all.filter((id) => !known.has(id)), 'only entities of this walk').toEqual([]);
  });
});
