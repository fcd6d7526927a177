import { describe, expect, it } from 'vitest';
import { MAX_ANSWER_CONTEXTS } from '../../src/forwarding/forwarder.js';
import { API, call, register, useCityWithStubs } from './helpers.js';

const TIMEOUT = 800;

/**
 * 4.3.6.7, 6.3.17: a context source's answer, @context resolution included, gets one deadline (--forward-timeout-ms):
 * an answer naming many slow @contexts fails like a slow source instead of holding the request.
 */
describe('one deadline for a source answer and its @contexts', () => {
  const broker = useCityWithStubs({ forwardTimeoutMs: TIMEOUT, contextTimeoutMs: 10_000, forwardAlias: 'city-deadline' });
  const contexts = (delayMs: number) => broker.stub(() => ({ status: 200, headers: { 'content-type': 'application/ld+json' }, body: { '@context': { level: 'urn:ngsi-ld:test:level' } }, delayMs }));
  /** A source answering `count` entities of `type`, each with its own @context URL at `ctxBase`. */
  const source = (type: string, count: number, ctxBase: string) =>
    broker.stub(() => ({
      status: 200,
      headers: { 'content-type': 'application/ld+json' },
      body: Array.from({ length: count }, (_, i) => ({ id: `urn:ngsi-ld:${type}:r${i}`, type, level: { type: 'Property', value: i }, '@context': `${ctxBase}/${type}/ctx${i}` })),
    }));
  const setUp = async (type: string, count: number, ctxDelayMs: number) => {
    const ctx = await contexts(ctxDelayMs);
    const src = await source(type, count, ctx.url);
    await register(broker.url, { endpoint: src.url, mode: 'inclusive', information: [{ entities: [{ type }] }] });
    expect((await call(broker.url, 'POST', `${API}/entities`, { json: { id: `urn:ngsi-ld:${type}:local`, type, level: { type: 'Property', value: 0 } } })).status).toBe(201);
  };
  const ids = (body: unknown) => (body as Array<{ id: string }>).map((e) => e.id);

  it('4.3.6.7, 6.3.17: @contexts slower than the deadline make the source fail with a warning, within the deadline', async () => {
    await setUp('DlSlow', 3, 3000);
    const started = Date.now();
    const res = await call(broker.url, 'GET', `${API}/entities?type=DlSlow`);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(['urn:ngsi-ld:DlSlow:local']);
    expect(res.headers.get('ngsild-warning')).toMatch(/^199 city-deadline|^199 /);
    expect(res.headers.get('ngsild-warning')).toContain(`within ${TIMEOUT} ms`);
    expect(elapsed).toBeLessThan(TIMEOUT + 700);
  });

  it('4.3.6.7: the distinct @contexts of an answer are resolved together, so several slowish ones fit in the deadline', async () => {
    await setUp('DlMany', 8, 250);
    const started = Date.now();
    const res = await call(broker.url, 'GET', `${API}/entities?type=DlMany`);
    expect(res.status).toBe(200);
    expect(res.headers.get('ngsild-warning')).toBeNull();
    expect(ids(res.body)).toHaveLength(9);
    expect(Date.now() - started).toBeLessThan(TIMEOUT);
  });

  it(`6.3.17: an answer using more than ${MAX_ANSWER_CONTEXTS} distinct @contexts makes the source fail with a warning`, async () => {
    await setUp('DlCap', MAX_ANSWER_CONTEXTS + 1, 0);
    const res = await call(broker.url, 'GET', `${API}/entities?type=DlCap`);
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(['urn:ngsi-ld:DlCap:local']);
    expect(res.headers.get('ngsild-warning')).toMatch(/^111 /);
    expect(res.headers.get('ngsild-warning')).toContain(`at most ${MAX_ANSWER_CONTEXTS}`);
    // At the cap the answer is taken.
    await setUp('DlAtCap', MAX_ANSWER_CONTEXTS, 0);
    const ok = await call(broker.url, 'GET', `${API}/entities?type=DlAtCap`);
    expect(ok.headers.get('ngsild-warning')).toBeNull();
    expect(ids(ok.body)).toHaveLength(MAX_ANSWER_CONTEXTS + 1);
  });

  it('5.7.1.4, 6.3.17: Retrieve Entity of an entity only a source with slow @contexts has is a 504 within the deadline', async () => {
    const ctx = await contexts(3000);
    const src = await broker.stub(() => ({ status: 200, body: { id: 'urn:ngsi-ld:DlOne:1', type: 'DlOne', '@context': `${ctx.url}/one` } }));
    await register(broker.url, { endpoint: src.url, mode: 'inclusive', information: [{ entities: [{ type: 'DlOne' }] }] });
    const started = Date.now();
    const res = await call(broker.url, 'GET', `${API}/entities/urn:ngsi-ld:DlOne:1?type=DlOne`);
    expect(res.body).toMatchObject({ status: 504 });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(TIMEOUT + 700);
  });
});
