/**
 * HTTP binding common behaviour (clauses 6.3.2 to 6.3.6) and the CommonBehaviours test purposes
 * (TP/NGSI-LD/CB/HTTP/*): status codes of the HTTP binding, request preconditions, @context resolution, and
 * response requirements.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ENTITIES,
  attrPath,
  attrsPath,
  createEntity,
  del,
  describeRes,
  entityPath,
  expectNoContent,
  expectProblem,
  expectStatus,
  get,
  headerOf,
  patch,
  post,
  put,
  rawRequest,
  req,
  retrieve,
  startContextServer,
  uid,
  type ContextServer,
  type ReqOptions,
  type Res,
} from './lib/index.js';

/** An @context URL nothing listens on (TP/NGSI-LD/CB/HTTP/043_01). */
const UNREACHABLE_CONTEXT = 'http://127.0.0.1:1/none.jsonld';
const DEFAULT_MAX_BODY = 9 * 1024 * 1024;

function maxBodyForTest(): number {
  const raw = process.env.MUSUBI_CONFORMANCE_MAX_BODY;
  if (raw === undefined || raw === '') return DEFAULT_MAX_BODY;
  if (!/^\d+$/.test(raw)) throw new Error(`MUSUBI_CONFORMANCE_MAX_BODY must be a number of bytes, got "${raw}"`);
  return Number(raw);
}

let ctx: ContextServer;
beforeAll(async () => {
  ctx = await startContextServer({ 'a.jsonld': { '@context': { temperature: 'https://conformance.example.org/A#temperature' } } });
});
afterAll(async () => {
  await ctx?.close();
});

async function fresh(): Promise<string> {
  const id = uid('Vehicle');
  await createEntity({ id, type: 'Vehicle', speed: { type: 'Property', value: 1 } });
  return id;
}

/** The methods named by an Allow header (RFC 7231 section 7.4.1). */
function allowed(res: Res): string[] {
  return (res.headers.get('allow') ?? '')
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean);
}

describe('405 Method Not Allowed with an Allow header (6.3.2)', () => {
  test('PATCH /entities', async () => {
    const res = await patch(ENTITIES, { json: { speed: 1 } });
    expectStatus(res, 405);
    // GET (Query Entities, 6.4.3.2) belongs there too once a broker implements it; only the methods under test here are required.
    expect(allowed(res)).toContain('POST');
    expect(allowed(res)).not.toContain('PATCH');
  });

  test('PUT /entities', async () => {
    const res = await put(ENTITIES, { json: { id: uid(), type: 'T' } });
    expectStatus(res, 405);
    expect(allowed(res)).toContain('POST');
    expect(allowed(res)).not.toContain('PUT');
  });

  test('POST /entities/{entityId}', async () => {
    const id = await fresh();
    const res = await post(entityPath(id), { json: { speed: 2 } });
    expectStatus(res, 405);
    expect(allowed(res)).toEqual(expect.arrayContaining(['GET', 'PUT', 'PATCH', 'DELETE']));
    expect(allowed(res)).not.toContain('POST');
  });

  test('GET /entities/{entityId}/attrs', async () => {
    const id = await fresh();
    const res = await get(attrsPath(id));
    expectStatus(res, 405);
    expect(allowed(res)).toEqual(expect.arrayContaining(['POST', 'PATCH']));
  });

  test('TP/NGSI-LD/CI/Prov/EA/013_02_03 DELETE /entities/{entityId}/attrs/ (no attribute name)', async () => {
    const id = await fresh();
    const res = await del(`${attrsPath(id)}/`);
    expectStatus(res, 405);
    expect(allowed(res)).toEqual(expect.arrayContaining(['POST', 'PATCH']));
  });

  test('POST /entities/{entityId}/attrs/{attrId}', async () => {
    const id = await fresh();
    const res = await post(attrPath(id, 'speed'), { json: { value: 3 } });
    expectStatus(res, 405);
    expect(allowed(res)).toEqual(expect.arrayContaining(['PATCH', 'PUT', 'DELETE']));
  });
});

describe('415 Unsupported Media Type (6.3.4, TP/NGSI-LD/CB/HTTP/048_01)', () => {
  const body = (): string => JSON.stringify({ id: uid('Building'), type: 'Building' });

  test('TP/NGSI-LD/CB/HTTP/048_01_03 POST /entities with application/xml', async () => {
    expectStatus(await post(ENTITIES, { body: body(), contentType: 'application/xml' }), 415);
  });

  test('TP/NGSI-LD/CB/HTTP/048_01_01 PATCH /entities/{id}/attrs/{attrId} with application/xml', async () => {
    const id = await fresh();
    expectStatus(await patch(attrPath(id, 'speed'), { body: '{"value": 5}', contentType: 'application/xml' }), 415);
    expect((await retrieve(id)).speed.value, 'nothing changed').toBe(1);
  });

  test('POST /entities/{id}/attrs with text/plain', async () => {
    const id = await fresh();
    expectStatus(await post(attrsPath(id), { body: '{"p": 1}', contentType: 'text/plain' }), 415);
  });

  test('PATCH /entities/{id}/attrs with application/x-www-form-urlencoded', async () => {
    const id = await fresh();
    expectStatus(await patch(attrsPath(id), { body: 'p=1', contentType: 'application/x-www-form-urlencoded' }), 415);
  });

  test('PUT /entities/{id} with text/plain', async () => {
    const id = await fresh();
    expectStatus(await put(entityPath(id), { body: JSON.stringify({ id, type: 'Vehicle' }), contentType: 'text/plain' }), 415);
  });

  test('application/merge-patch+json is only for PATCH: POST /entities gives 415', async () => {
    expectStatus(await post(ENTITIES, { body: body(), contentType: 'application/merge-patch+json' }), 415);
  });

  test('application/merge-patch+json is only for PATCH: PUT /entities/{id}/attrs/{attrId} gives 415', async () => {
    const id = await fresh();
    expectStatus(await put(attrPath(id, 'speed'), { body: '{"type":"Property","value":2}', contentType: 'application/merge-patch+json' }), 415);
  });

  test('a body without Content-Type gives 415', async () => {
    const res = await rawRequest({ method: 'POST', path: ENTITIES, body: body() });
    expect(res.status, describeRes(res)).toBe(415);
  });

  test('media type parameters are allowed: application/json; charset=utf-8', async () => {
    const id = uid('Building');
    const res = await post(ENTITIES, { body: JSON.stringify({ id, type: 'Building' }), contentType: 'application/json; charset=utf-8' });
    expectStatus(res, 201);
  });

  test('media types are case-insensitive: Application/LD+JSON', async () => {
    const id = uid('Building');
    const res = await post(ENTITIES, {
      body: JSON.stringify({ '@context': { Building: 'https://conformance.example.org/A#Building' }, id, type: 'Building' }),
      contentType: 'Application/LD+JSON',
    });
    expectStatus(res, 201);
  });
});

describe('411 Length Required and 413 Request Entity Too Large (6.3.2, 6.3.4)', () => {
  test('POST /entities without Content-Length (chunked) gives 411', async () => {
    const res = await rawRequest({
      method: 'POST',
      path: ENTITIES,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: uid('Building'), type: 'Building' }),
      chunked: true,
    });
    expect(res.status, describeRes(res)).toBe(411);
  });

  test('PATCH /entities/{id}/attrs without Content-Length (chunked) gives 411', async () => {
    const id = await fresh();
    const res = await rawRequest({
      method: 'PATCH',
      path: attrsPath(id),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ speed: { type: 'Property', value: 9 } }),
      chunked: true,
    });
    expect(res.status, describeRes(res)).toBe(411);
    expect((await retrieve(id)).speed.value, 'nothing changed').toBe(1);
  });

  test(`a body larger than the broker limit gives 413 (size from MUSUBI_CONFORMANCE_MAX_BODY, default ${DEFAULT_MAX_BODY})`, async () => {
    const size = maxBodyForTest();
    const id = uid('Building');
    const prefix = JSON.stringify({ id, type: 'Building', blob: { type: 'Property', value: '' } }).slice(0, -3);
    const padding = Math.max(0, size - prefix.length - 3);
    const body = Buffer.from(`${prefix}${'x'.repeat(padding)}"}}`);
    const res = await rawRequest({ method: 'POST', path: ENTITIES, headers: { 'content-type': 'application/json' }, body });
    expect(res.status, describeRes(res)).toBe(413);
    expectProblem(await get(entityPath(id)), 404, 'ResourceNotFound');
  });
});

describe('Malformed and empty bodies (5.5.4): 400 InvalidRequest', () => {
  test('TP/NGSI-LD/CI/Prov/E/001_02_01 malformed JSON on POST /entities', async () => {
    expectProblem(await post(ENTITIES, { body: '{"id": "urn:ngsi-ld:T:1", ', contentType: 'application/json' }), 400, 'InvalidRequest');
  });

  test('TP/NGSI-LD/CI/Prov/E/001_02_02 empty body on POST /entities', async () => {
    expectProblem(await post(ENTITIES, { body: '', contentType: 'application/json' }), 400, 'InvalidRequest');
  });

  test('empty body on PATCH /entities/{id}/attrs', async () => {
    const id = await fresh();
    expectProblem(await patch(attrsPath(id), { body: '', contentType: 'application/json' }), 400, 'InvalidRequest');
  });

  test('empty body on PUT /entities/{id}', async () => {
    const id = await fresh();
    expectProblem(await put(entityPath(id), { body: '', contentType: 'application/json' }), 400, 'InvalidRequest');
  });

  test('trailing garbage after the JSON document', async () => {
    expectProblem(
      await post(ENTITIES, { body: `${JSON.stringify({ id: uid('T'), type: 'T' })} trailing`, contentType: 'application/json' }),
      400,
      'InvalidRequest',
    );
  });

  test('5.5.4 valid JSON that is not an entity (null literal) gives 400 BadRequestData', async () => {
    expectProblem(await post(ENTITIES, { body: 'null', contentType: 'application/json' }), 400, 'BadRequestData');
  });
});

describe('@context resolution for POST, PATCH and PUT (6.3.5): 400 BadRequestData when mixed', () => {
  type Op = [string, (id: string, opts: ReqOptions) => Promise<Res>];
  const ops: Op[] = [
    ['POST /entities/{id}/attrs', (id, o) => post(attrsPath(id), o)],
    ['PATCH /entities/{id}/attrs', (id, o) => patch(attrsPath(id), o)],
    ['PATCH /entities/{id}/attrs/{attrId}', (id, o) => patch(attrPath(id, 'speed'), o)],
    ['PUT /entities/{id}/attrs/{attrId}', (id, o) => put(attrPath(id, 'speed'), o)],
    ['PUT /entities/{id}', (id, o) => put(entityPath(id), o)],
    ['PATCH /entities/{id}', (id, o) => patch(entityPath(id), o)],
  ];
  const payload = (op: string, id: string): Record<string, unknown> =>
    op.includes('{attrId}')
      ? { type: 'Property', value: 7 }
      : op === 'PUT /entities/{id}'
        ? { id, type: 'Vehicle', speed: { type: 'Property', value: 7 } }
        : { speed: { type: 'Property', value: 7 } };

  test.each(ops)('%s: application/json with @context in the body', async (name, send) => {
    const id = await fresh();
    const res = await send(id, { json: { ...payload(name, id), '@context': ctx.url('a.jsonld') } });
    expectProblem(res, 400, 'BadRequestData');
    expect((await retrieve(id)).speed.value, 'nothing changed').toBe(1);
  });

  test.each(ops)('%s: application/ld+json without @context', async (name, send) => {
    const id = await fresh();
    const res = await send(id, { json: payload(name, id), contentType: 'application/ld+json' });
    expectProblem(res, 400, 'BadRequestData');
  });

  test.each(ops)('%s: application/ld+json together with a Link header', async (name, send) => {
    const id = await fresh();
    const res = await send(id, {
      json: { ...payload(name, id), '@context': ctx.url('a.jsonld') },
      contentType: 'application/ld+json',
      link: ctx.url('a.jsonld'),
    });
    expectProblem(res, 400, 'BadRequestData');
  });
});

describe('LdContextNotAvailable when a remote @context cannot be retrieved (TP/NGSI-LD/CB/HTTP/043_01): 503', () => {
  test('TP/NGSI-LD/CB/HTTP/043_01_01 POST /entities, ld+json body naming an unreachable @context', async () => {
    const id = uid('Building');
    const res = await post(ENTITIES, {
      json: { '@context': UNREACHABLE_CONTEXT, id, type: 'Building' },
      contentType: 'application/ld+json',
    });
    expectProblem(res, 503, 'LdContextNotAvailable');
    expectProblem(await get(entityPath(id)), 404, 'ResourceNotFound');
  });

  test('POST /entities, application/json with a Link header to an unreachable @context', async () => {
    const res = await post(ENTITIES, { json: { id: uid('Building'), type: 'Building' }, link: UNREACHABLE_CONTEXT });
    expectProblem(res, 503, 'LdContextNotAvailable');
  });

  test('GET /entities/{id} with a Link header to an unreachable @context', async () => {
    const id = await fresh();
    expectProblem(await get(entityPath(id), { link: UNREACHABLE_CONTEXT }), 503, 'LdContextNotAvailable');
  });

  test('PATCH /entities/{id}/attrs with a Link header to an unreachable @context', async () => {
    const id = await fresh();
    const res = await patch(attrsPath(id), { json: { speed: { type: 'Property', value: 2 } }, link: UNREACHABLE_CONTEXT });
    expectProblem(res, 503, 'LdContextNotAvailable');
    expect((await retrieve(id)).speed.value, 'nothing changed').toBe(1);
  });

  test('DELETE /entities/{id}/attrs/{attrId} with a Link header to an unreachable @context', async () => {
    const id = await fresh();
    expectProblem(await del(attrPath(id, 'speed'), { link: UNREACHABLE_CONTEXT }), 503, 'LdContextNotAvailable');
  });

  test('an @context URL answering 404 is not available either', async () => {
    const res = await post(ENTITIES, { json: { id: uid('Building'), type: 'Building' }, link: ctx.url('missing.jsonld') });
    expectProblem(res, 503, 'LdContextNotAvailable');
  });

  test('an unreachable @context inside an array in the body', async () => {
    const res = await post(ENTITIES, {
      json: { '@context': [{ Building: 'https://conformance.example.org/A#Building' }, UNREACHABLE_CONTEXT], id: uid('Building'), type: 'Building' },
      contentType: 'application/ld+json',
    });
    expectProblem(res, 503, 'LdContextNotAvailable');
  });
});

describe('Response requirements (6.3.3, 6.3.6)', () => {
  test('6.3.6 errors never carry a Link header, even when the request had one', async () => {
    const res = await get(entityPath(uid('Vehicle')), { link: ctx.url('a.jsonld'), accept: 'application/json' });
    expectProblem(res, 404, 'ResourceNotFound');
    expect(res.headers.get('link')).toBeNull();
  });

  test('6.3.6 errors are application/json whatever the Accept header', async () => {
    const res = await get(entityPath(uid('Vehicle')), { accept: 'application/geo+json' });
    expectProblem(res, 404, 'ResourceNotFound');
  });

  test('6.3.6 201 Created carries no Link header and no body', async () => {
    const res = await post(ENTITIES, { json: { id: uid('Vehicle'), type: 'Vehicle' }, link: ctx.url('a.jsonld') });
    expectStatus(res, 201);
    expect(res.headers.get('link')).toBeNull();
    expect(res.text).toBe('');
  });

  test('6.3.6 every 204 of the entity API has no body, no Content-Length and no Link header', async () => {
    const id = await fresh();
    const steps: Array<[string, () => Promise<Res>]> = [
      ['append', () => post(attrsPath(id), { json: { a: { type: 'Property', value: 1 } } })],
      ['update', () => patch(attrsPath(id), { json: { a: { type: 'Property', value: 2 } } })],
      ['partial update', () => patch(attrPath(id, 'a'), { json: { value: 3 } })],
      ['replace attribute', () => put(attrPath(id, 'a'), { json: { type: 'Property', value: 4 } })],
      ['delete attribute', () => del(attrPath(id, 'a'))],
      ['merge', () => patch(entityPath(id), { json: { b: { type: 'Property', value: 1 } } })],
      ['replace entity', () => put(entityPath(id), { json: { id, type: 'Vehicle', c: { type: 'Property', value: 1 } } })],
      ['delete entity', () => del(entityPath(id))],
    ];
    for (const [name, step] of steps) {
      const res = await step();
      expect(res.status, `${name}: ${describeRes(res)}`).toBe(204);
      expectNoContent(res);
    }
  });

  test('6.3.6 a 204 seen on the wire: no Content-Length, no Transfer-Encoding body', async () => {
    const id = await fresh();
    const res = await rawRequest({ method: 'DELETE', path: entityPath(id) });
    expect(res.status, describeRes(res)).toBe(204);
    expect(headerOf(res, 'content-length')).toBeNull();
    expect(res.text).toBe('');
  });

  test('6.3.3 error bodies are JSON objects with type, title and detail (5.5.3)', async () => {
    const res = await req('GET', entityPath(uid('Vehicle')));
    expectProblem(res, 404, 'ResourceNotFound');
    expect(Object.keys(res.body)).toEqual(expect.arrayContaining(['type', 'title', 'detail']));
  });
});
