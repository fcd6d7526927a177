import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NgsiError, type ErrorKind } from '../../src/common/errors.js';
import { CORE_CONTEXT_URL } from '../../src/jsonld/core-context.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { ContextDefinition } from '../../src/jsonld/types.js';

const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const hits = new Map<string, number>();
let server: Server;
let base: string;
let closedPort: string;

const ctx = (c: unknown) => JSON.stringify({ '@context': c });
const ROUTES: Record<string, { status?: number; headers?: Record<string, string>; body: string } | 'hang'> = {
  '/ctx.jsonld': { body: ctx({ myName: 'https://example.org/myName' }) },
  '/shared.jsonld': { body: ctx({ shared: 'https://example.org/shared' }) },
  '/concurrent.jsonld': { body: ctx({ c: 'https://example.org/c' }) },
  '/nested.jsonld': { body: ctx(['/ctx.jsonld', { other: 'https://example.org/other' }]) },
  '/redirect': { status: 302, headers: { location: '/ctx.jsonld' }, body: '' },
  '/missing': { status: 404, body: 'not here' },
  '/hang': 'hang',
  '/invalid-json': { body: '{"@context": {' },
  '/invalid-term': { body: ctx({ x: 5 }) },
  '/invalid-container': { body: ctx({ x: { '@id': 'https://example.org/x', '@container': '@bogus' } }) },
  '/not-object': { body: '[1, 2]' },
  '/no-context': { body: '{"name": "https://example.org/name"}' },
  '/big': { body: ctx({ big: 'x'.repeat(5000) }) },
  '/no-store': { headers: { 'cache-control': 'no-store' }, body: ctx({ ns: 'https://example.org/ns' }) },
  '/max-age': { headers: { 'cache-control': 'public, max-age=600' }, body: ctx({ ma: 'https://example.org/ma' }) },
  '/scoped': { body: ctx({ s: { '@id': 'https://example.org/s', '@context': { location: 'https://example.org/loc' } } }) },
  '/protected': { body: ctx({ '@protected': true, location: 'https://example.org/loc' }) },
  '/core-first': { body: ctx([`${NGSI}v1/ngsi-ld-core-context-v1.8.jsonld`, { myProp: 'ngsi-ld:myProp', location: 'https://example.org/loc' }]) },
  '/cycle-a': { body: ctx('/cycle-b') },
  '/cycle-b': { body: ctx('/cycle-a') },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = ROUTES[path];
    if (route === 'hang') return; // never answers
    if (!route) return void res.writeHead(404).end();
    res.writeHead(route.status ?? 200, { 'content-type': 'application/ld+json', ...route.headers }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const newResolver = (over: Partial<ConstructorParameters<typeof ContextResolver>[0]> = {}) =>
  new ContextResolver({ timeoutMs: 2000, cacheTtlSec: 60, maxBytes: 4000, ...over });

async function failure(resolver: ContextResolver, def: unknown, kind: ErrorKind): Promise<string> {
  const e = await resolver.resolve(def as ContextDefinition).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${kind} for ${JSON.stringify(def)}`).toBeInstanceOf(NgsiError);
  expect((e as NgsiError).kind).toBe(kind);
  return (e as NgsiError).message;
}

describe('ContextResolver: built-in and inline contexts', () => {
  const offline: typeof fetch = () => Promise.reject(new Error('the network must not be used'));

  it.each([
    undefined,
    CORE_CONTEXT_URL,
    `${NGSI}v1/ngsi-ld-core-context.jsonld`,
    `${NGSI}v1/ngsi-ld-core-context-v1.3.jsonld`,
    `${NGSI}v1/ngsi-ld-core-context-v1.7.jsonld`,
    [`${NGSI}v1/ngsi-ld-core-context-v1.4.jsonld`],
  ])('resolves %s offline to the core context', async (def) => {
    const c = await newResolver({ fetch: offline }).resolve(def);
    expect(c.expand('location')).toBe(`${NGSI}location`);
    expect(c.expand('Building')).toBe(`${NGSI}default-context/Building`);
    expect(c.compact(`${NGSI}observedAt`)).toBe('observedAt');
    expect(c.source).toEqual(def ?? CORE_CONTEXT_URL);
  });

  it('hands out the same processed context for the same definition', async () => {
    const r = newResolver({ fetch: offline });
    expect(r.cached(undefined)).toBeUndefined();
    const core = await r.resolve(undefined);
    expect(await r.resolve(undefined)).toBe(core);
    expect(r.cached(undefined)).toBe(core);
    const def = { name: 'https://schema.org/name' };
    const a = await r.resolve(def);
    expect(await r.resolve({ name: 'https://schema.org/name' })).toBe(a);
    expect(a.expand('name')).toBe('https://schema.org/name');
    expect(a.key).toBe(JSON.stringify(def));
  });

  it('resolves inline arrays, later entries winning and the core winning over all', async () => {
    const c = await newResolver({ fetch: offline }).resolve([
      { schema: 'https://schema.org/', name: 'https://example.org/name' },
      { name: 'schema:name', location: 'https://example.org/loc' },
    ]);
    expect(c.expand('name')).toBe('https://schema.org/name');
    expect(c.expand('location')).toBe(`${NGSI}location`);
    expect(c.expand('schema:x')).toBe('https://schema.org/x');
  });

  it('lets user terms after a core URL use core prefixes and silently keeps core terms (clause 4.4)', async () => {
    const c = await newResolver({ fetch: offline }).resolve([CORE_CONTEXT_URL, { myProp: 'ngsi-ld:myProp', location: 'https://example.org/loc' }]);
    expect(c.expand('myProp')).toBe(`${NGSI}myProp`);
    expect(c.expand('location')).toBe(`${NGSI}location`);
  });

  it.each([
    [{ x: 5 }, /term "x" is a number/],
    [{ x: [1] }, /term "x" is an array/],
    [{ x: { '@id': 'https://example.org/x', '@container': '@bogus' } }, /container/],
    [{ x: { '@id': 'https://example.org/x', bogus: true } }, /bogus/],
    [{ '@protected': true, location: 'https://example.org/loc' }, /protected term "location"/],
    [{ '@version': 2 }, /version/i],
    [{ a: { '@id': 'https://example.org/a', '@context': { b: 'https://example.org/b' } } }, /scoped context for term "a"/],
    [42, /not a number/],
    [null, /not null/],
    [[[CORE_CONTEXT_URL]], /URLs and objects only/],
    ['file:///etc/passwd', /not an absolute http\(s\) URL/],
    ['relative/ctx.jsonld', /not an absolute http\(s\) URL/],
  ])('rejects the invalid context %j with BadRequestData', async (def, message) => {
    expect(await failure(newResolver({ fetch: offline }), def, 'BadRequestData')).toMatch(message);
  });

  it('throws for a term mapped to null rather than inventing an IRI', async () => {
    const c = await newResolver({ fetch: offline }).resolve({ hidden: null });
    expect(() => c.expand('hidden')).toThrow(NgsiError);
  });
});

describe('ContextResolver: remote contexts', () => {
  it('fetches a remote context once, then serves it from the cache', async () => {
    const r = newResolver();
    const url = `${base}/ctx.jsonld`;
    const first = await r.resolve(url);
    expect(first.expand('myName')).toBe('https://example.org/myName');
    expect(await r.resolve(url)).toBe(first);
    // A different definition naming the same URL is processed anew but not fetched again.
    const other = await r.resolve([url, { extra: 'https://example.org/extra' }]);
    expect(other.expand('myName')).toBe('https://example.org/myName');
    expect(hits.get('/ctx.jsonld')).toBe(1);
  });

  it('shares one fetch between concurrent requests for the same URL', async () => {
    const r = newResolver();
    const url = `${base}/concurrent.jsonld`;
    const all = await Promise.all([r.resolve(url), r.resolve(url), r.resolve([url, { a: 'https://example.org/a' }]), r.resolve([url])]);
    expect(all[0]).toBe(all[1]);
    expect(all.every((c) => c.expand('c') === 'https://example.org/c')).toBe(true);
    expect(hits.get('/concurrent.jsonld')).toBe(1);
  });

  it('follows nested remote contexts (relative URLs resolved against the document) and redirects', async () => {
    const c = await newResolver().resolve(`${base}/nested.jsonld`);
    expect(c.expand('myName')).toBe('https://example.org/myName');
    expect(c.expand('other')).toBe('https://example.org/other');
    expect((await newResolver().resolve(`${base}/redirect`)).expand('myName')).toBe('https://example.org/myName');
  });

  it('serves core URLs nested in remote contexts from the built-in copy', async () => {
    const c = await newResolver().resolve(`${base}/core-first`);
    expect(c.expand('myProp')).toBe(`${NGSI}myProp`);
    expect(c.expand('location')).toBe(`${NGSI}location`);
  });

  it('honours Cache-Control: no-store, max-age, and a zero TTL', async () => {
    const r = newResolver();
    await r.resolve(`${base}/no-store`);
    await r.resolve(`${base}/no-store`);
    expect(hits.get('/no-store')).toBe(2);
    await r.resolve(`${base}/max-age`);
    await r.resolve(`${base}/max-age`);
    expect(hits.get('/max-age')).toBe(1);
    const uncached = newResolver({ cacheTtlSec: 0 });
    await uncached.resolve(`${base}/shared.jsonld`);
    await uncached.resolve(`${base}/shared.jsonld`);
    expect(hits.get('/shared.jsonld')).toBe(2);
  });

  it('reports LdContextNotAvailable for a 404, naming the URL and the status', async () => {
    expect(await failure(newResolver(), `${base}/missing`, 'LdContextNotAvailable')).toMatch(new RegExp(`${base}/missing.*404`));
  });

  it('reports LdContextNotAvailable when the server never answers, after the timeout', async () => {
    const started = Date.now();
    const message = await failure(newResolver({ timeoutMs: 300 }), [{ a: 'https://example.org/a' }, `${base}/hang`], 'LdContextNotAvailable');
    expect(message).toMatch(/within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports LdContextNotAvailable for a refused connection and for a context over the size cap', async () => {
    expect(await failure(newResolver(), `${closedPort}/ctx.jsonld`, 'LdContextNotAvailable')).toMatch(/ECONNREFUSED/);
    expect(await failure(newResolver(), `${base}/big`, 'LdContextNotAvailable')).toMatch(/larger than 4000 bytes/);
    expect(await failure(newResolver(), `${base}/nested-missing-parent`, 'LdContextNotAvailable')).toMatch(/404/);
  });

  it.each([
    ['/invalid-json', /not valid JSON/],
    ['/invalid-term', /term "x" is a number/],
    ['/invalid-container', /container/],
    ['/not-object', /not a JSON object/],
    ['/no-context', /no "@context" member/],
    ['/scoped', /scoped context for term "s"/],
    ['/protected', /protected term "location"/],
    ['/cycle-a', /cycl|overflow/i],
  ])('reports BadRequestData for the invalid remote context %s, naming it', async (path, message) => {
    const text = await failure(newResolver(), `${base}${path}`, 'BadRequestData');
    expect(text).toMatch(message);
    expect(text).toContain(`${base}/`);
  });
});
