import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../src/server.js';
import { API, call, deadEndpoint, register, startCity, startStub, useCityWithStubs } from './helpers.js';

const CORE = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld';
const TIMEOUT = 300;

/** Forwarding against plain HTTP context sources that are slow, down, failing or fine (clauses 4.3.6, 6.3.17-6.3.19). */
describe('forwarding to stub context sources', () => {
  const broker = useCityWithStubs({ forwardTimeoutMs: TIMEOUT, forwardAlias: 'city-a' });
  const stub = broker.stub;

  it('6.3.17: a source slower than --forward-timeout-ms gives the local result and a 199 NGSILD-Warning, not a hang', async () => {
    const slow = await stub(() => ({ status: 200, body: [], delayMs: 5000 }));
    await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Slow:1', type: 'Slow', p: { type: 'Property', value: 1 } } });
    await register(broker.url, { endpoint: slow.url, information: [{ entities: [{ type: 'Slow' }] }] });
    const started = Date.now();
    const res = await call(broker.url, 'GET', `${API}/entities?type=Slow`);
    expect(Date.now() - started).toBeLessThan(TIMEOUT + 1500);
    expect(res.status).toBe(200);
    expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:Slow:1']);
    expect(res.headers.get('ngsild-warning')).toMatch(/^199 /);
    expect(slow.requests).toHaveLength(1);
  });

  it('6.3.17: a source that refuses connections gives the local result and a 199 NGSILD-Warning', async () => {
    const down = await deadEndpoint();
    await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Down:1', type: 'Down', p: { type: 'Property', value: 1 } } });
    await register(broker.url, { endpoint: down, information: [{ entities: [{ type: 'Down' }] }] });
    const res = await call(broker.url, 'GET', `${API}/entities?type=Down`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.headers.get('ngsild-warning')).toMatch(/^199 .*could not be reached/);
    const one = await call(broker.url, 'GET', `${API}/entities/urn:ngsi-ld:Down:1`);
    expect(one.status).toBe(200);
    expect(one.headers.get('ngsild-warning')).toMatch(/^199 /);
  });

  it('6.3.17: an error answer gives 299, a non-NGSI-LD payload 111, and neither breaks the query', async () => {
    const failing = await stub(() => ({ status: 403, body: { type: 'https://uri.etsi.org/ngsi-ld/errors/x', title: 'Forbidden', detail: 'no access' } }));
    const garbage = await stub(() => ({ status: 200, body: { not: 'an array' } }));
    await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Err:1', type: 'Err', p: { type: 'Property', value: 1 } } });
    await register(broker.url, { endpoint: failing.url, information: [{ entities: [{ type: 'Err' }] }] });
    await register(broker.url, { endpoint: garbage.url, information: [{ entities: [{ type: 'Err' }] }] });
    const res = await call(broker.url, 'GET', `${API}/entities?type=Err`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    const warnings = res.headers.get('ngsild-warning') ?? '';
    expect(warnings).toMatch(/299 [^"]+ "[^"]*403[^"]*no access/);
    expect(warnings).toMatch(/111 /);
  });

  it('6.3.17: Retrieve Entity held only by an exclusive source that times out is 504; one that is down is 502', async () => {
    const slow = await stub(() => ({ status: 200, body: {}, delayMs: 5000 }));
    await register(broker.url, { endpoint: slow.url, mode: 'exclusive', information: [{ entities: [{ id: 'urn:ngsi-ld:Lamp:slow', type: 'Lamp' }], propertyNames: ['brightness'] }] });
    const res = await call(broker.url, 'GET', `${API}/entities/urn:ngsi-ld:Lamp:slow`);
    expect(res.status).toBe(504);
    const down = await deadEndpoint();
    await register(broker.url, { endpoint: down, mode: 'exclusive', information: [{ entities: [{ id: 'urn:ngsi-ld:Lamp:down', type: 'Lamp' }], propertyNames: ['brightness'] }] });
    expect((await call(broker.url, 'GET', `${API}/entities/urn:ngsi-ld:Lamp:down`)).status).toBe(502);
  });

  it('4.3.6.3, 4.3.6.5, 6.3.19: attributes an exclusive registration owns are forwarded with Link, tenant, Via and contextSourceInfo headers; the rest is local', async () => {
    const source = await stub(() => ({ status: 204 }));
    const tenant = 'fwdtenant';
    const id = 'urn:ngsi-ld:Lamp:1';
    await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'Lamp', color: { type: 'Property', value: 'red' } }, headers: { 'NGSILD-Tenant': tenant } });
    await register(
      broker.url,
      {
        endpoint: source.url,
        mode: 'exclusive',
        operations: ['updateOps', 'retrieveOps'],
        information: [{ entities: [{ id, type: 'Lamp' }], propertyNames: ['switch'] }],
        contextSourceInfo: [
          { key: 'jsonldContext', value: CORE },
          { key: 'Authorization', value: 'Bearer s3cret' },
          { key: 'X-User', value: 'urn:ngsi-ld:request' },
          { key: 'Content-Length', value: '1' },
        ],
      },
      { 'NGSILD-Tenant': tenant },
    );
    const res = await call(broker.url, 'PATCH', `${API}/entities/${id}/attrs`, {
      json: { switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'green' } },
      headers: { 'NGSILD-Tenant': tenant, 'X-User': 'alice' },
    });
    expect(res.status).toBe(204);
    expect(source.requests).toHaveLength(1);
    const sent = source.requests[0]!;
    expect(sent.method).toBe('PATCH');
    expect(sent.url).toBe(`/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs`);
    expect(sent.body).toEqual({ switch: { type: 'Property', value: 'on' } });
    expect(sent.headers.link).toBe(`<${CORE}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.accept).toBe('application/json');
    expect(sent.headers['ngsild-tenant']).toBe(tenant);
    expect(sent.headers.via).toBe('1.1 city-a (tenant=fwdtenant)');
    expect(sent.headers.authorization).toBe('Bearer s3cret');
    expect(sent.headers['x-user']).toBe('alice');
    const local = await call(broker.url, 'GET', `${API}/entities/${id}?local=true`, { headers: { 'NGSILD-Tenant': tenant } });
    expect(local.body.color.value).toBe('green');
    expect(local.body.switch).toBeUndefined();
  });

  it('5.2.9, 4.3.6.5: the registration\'s tenant member is the NGSILD-Tenant sent to the source', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:Lamp:tenant';
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: ['updateOps'], tenant: 'theirs', information: [{ entities: [{ id, type: 'Lamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'PATCH', `${API}/entities/${id}/attrs/switch`, { json: { value: 'on' } });
    expect(res.status).toBe(204);
    expect(source.requests[0]!.headers['ngsild-tenant']).toBe('theirs');
  });

  it('5.5.4, 5.6.4: a Partial Attribute Update this broker would refuse is refused here, not sent to the owning source', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:Lamp:invalid';
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: ['updateOps'], information: [{ entities: [{ id, type: 'Lamp' }], propertyNames: ['switch'] }] });
    const empty = await call(broker.url, 'PATCH', `${API}/entities/${id}/attrs/switch`, { json: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.type).toBe('https://uri.etsi.org/ngsi-ld/errors/BadRequestData');
    const badType = await call(broker.url, 'PATCH', `${API}/entities/${id}/attrs/switch`, { json: { type: 'Widget', value: 'on' } });
    expect(badType.status).toBe(400);
    expect(badType.body.detail).toMatch(/unknown type "Widget"/);
    expect(source.requests).toHaveLength(0);
  });

  it('5.6.2.5, 6.3.17: a failing owner makes Update Attributes 207 with its attributes in notUpdated; local ones are still written', async () => {
    const failing = await stub(() => ({ status: 500, body: { title: 'boom', detail: 'device offline' } }));
    const id = 'urn:ngsi-ld:Lamp:2';
    await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'Lamp', color: { type: 'Property', value: 'red' } } });
    await register(broker.url, { endpoint: failing.url, mode: 'exclusive', operations: ['updateOps'], information: [{ entities: [{ id, type: 'Lamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'PATCH', `${API}/entities/${id}/attrs`, {
      json: { switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'blue' } },
    });
    expect(res.status).toBe(207);
    expect(res.body.updated).toEqual(['https://uri.etsi.org/ngsi-ld/default-context/color']);
    expect(res.body.notUpdated).toHaveLength(1);
    expect(res.body.notUpdated[0].attributeName).toBe('https://uri.etsi.org/ngsi-ld/default-context/switch');
    expect(res.body.notUpdated[0].reason).toMatch(/500.*device offline/);
    const local = await call(broker.url, 'GET', `${API}/entities/${id}?local=true`);
    expect(local.body.color.value).toBe('blue');
  });

  it('5.6.4, 5.6.19, 6.3.17: PATCH and PUT of an owned attribute go to the attribute path of the source; a timeout is 504', async () => {
    const source = await stub((r) => (r.method === 'PUT' ? { status: 204, delayMs: 5000 } : { status: 204 }));
    const id = 'urn:ngsi-ld:Lamp:3';
    await register(broker.url, { endpoint: source.url, mode: 'redirect', operations: ['redirectionOps'], information: [{ entities: [{ id, type: 'Lamp' }], propertyNames: ['switch'] }] });
    const patched = await call(broker.url, 'PATCH', `${API}/entities/${id}/attrs/switch`, { json: { value: 'off' } });
    expect(patched.status).toBe(204);
    expect(source.requests[0]).toMatchObject({ method: 'PATCH', url: `/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs/switch`, body: { value: 'off' } });
    const put = await call(broker.url, 'PUT', `${API}/entities/${id}/attrs/switch`, { json: { type: 'Property', value: 'on' } });
    expect(put.status).toBe(504);
    expect(put.body.detail).toMatch(/did not answer within/);
  });

  it('5.6.17, 6.3.17: Merge Entity forwards owned attributes to PATCH /entities/{id} of the source', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:Lamp:4';
    await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'Lamp', color: { type: 'Property', value: 'red' } } });
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: ['mergeEntity'], information: [{ entities: [{ id, type: 'Lamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'PATCH', `${API}/entities/${id}`, { json: { switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'white' } } });
    expect(res.status).toBe(204);
    expect(source.requests[0]).toMatchObject({ method: 'PATCH', url: `/ngsi-ld/v1/entities/${encodeURIComponent(id)}`, body: { switch: { type: 'Property', value: 'on' } } });
  });

  it('5.6.2.4: an owner whose registration does not offer the operation leaves the attribute undone with a Conflict reason', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:Lamp:5';
    await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'Lamp', color: { type: 'Property', value: 'red' } } });
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: ['retrieveOps'], information: [{ entities: [{ id, type: 'Lamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'PATCH', `${API}/entities/${id}/attrs`, { json: { switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'x' } } });
    expect(res.status).toBe(207);
    expect(res.body.notUpdated[0].reason).toMatch(/Conflict/);
    expect(source.requests).toHaveLength(0);
  });

  it('4.3.6.4: a source already in the Via header is not asked again', async () => {
    const source = await stub(() => ({ status: 200, body: [] }));
    await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Via:1', type: 'ViaT', p: { type: 'Property', value: 1 } } });
    await register(broker.url, { endpoint: source.url, information: [{ entities: [{ type: 'ViaT' }] }] });
    const host = new URL(source.url).host;
    const res = await call(broker.url, 'GET', `${API}/entities?type=ViaT`, { headers: { Via: `1.1 ${host}` } });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(source.requests).toHaveLength(0);
    await call(broker.url, 'GET', `${API}/entities?type=ViaT`, { headers: { Via: '1.1 elsewhere' } });
    expect(source.requests).toHaveLength(1);
    expect(source.requests[0]!.headers.via).toBe('1.1 elsewhere, 1.1 city-a (tenant=)');
  });

  it('4.3.6.6, 6.3.17: a registration whose jsonldContext cannot be loaded is a failed source (warning), not a failed request', async () => {
    const source = await stub(() => ({ status: 200, body: [] }));
    const nowhere = await deadEndpoint();
    await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Ctx:1', type: 'CtxT', p: { type: 'Property', value: 1 } } });
    await register(broker.url, { endpoint: source.url, information: [{ entities: [{ type: 'CtxT' }] }], contextSourceInfo: [{ key: 'jsonldContext', value: `${nowhere}/ctx.jsonld` }] });
    const res = await call(broker.url, 'GET', `${API}/entities?type=CtxT`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.headers.get('ngsild-warning')).toMatch(/^199 .*could not be asked/);
    expect(source.requests).toHaveLength(0);
  });

  it('4.3.6.2: auxiliary data fills in only attributes nobody else has', async () => {
    const aux = await stub(() => ({
      status: 200,
      body: { id: 'urn:ngsi-ld:Aux:1', type: 'AuxT', p: { type: 'Property', value: 'aux' }, q: { type: 'Property', value: 'aux' } },
    }));
    await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Aux:1', type: 'AuxT', p: { type: 'Property', value: 'local' } } });
    await register(broker.url, { endpoint: aux.url, mode: 'auxiliary', operations: ['retrieveOps'], information: [{ entities: [{ type: 'AuxT' }] }] });
    const res = await call(broker.url, 'GET', `${API}/entities/urn:ngsi-ld:Aux:1`);
    expect(res.body.p.value).toBe('local');
    expect(res.body.q.value).toBe('aux');
  });
});

describe('forwarding of batch elements and Append Attributes (clauses 5.6.3, 5.6.8, 5.6.9, 4.3.6.3)', () => {
  let broker: RunningBroker;
  let source: Awaited<ReturnType<typeof startStub>>;
  const id = 'urn:ngsi-ld:Pump:1';

  beforeAll(async () => {
    broker = await startCity({ forwardTimeoutMs: TIMEOUT });
    source = await startStub(() => ({ status: 204 }));
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: ['updateOps', 'appendAttrs'], information: [{ entities: [{ id, type: 'Pump' }], propertyNames: ['run'] }] });
  });
  afterAll(async () => {
    await source?.close();
    await broker?.close();
  });

  it('5.6.8: Batch Upsert sends the owned attribute to the source as PATCH .../attrs and upserts the rest locally', async () => {
    const res = await call(broker.url, 'POST', `${API}/entityOperations/upsert?options=update`, {
      json: [{ id, type: 'Pump', run: { type: 'Property', value: true }, flow: { type: 'Property', value: 3 } }],
    });
    expect(res.status).toBe(201);
    expect(source.requests.at(-1)).toMatchObject({ method: 'PATCH', url: `/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs`, body: { run: { type: 'Property', value: true } } });
    const local = await call(broker.url, 'GET', `${API}/entities/${id}?local=true`);
    expect(local.body.flow.value).toBe(3);
    expect(local.body.run).toBeUndefined();
  });

  it('5.6.9: Batch Update forwards the owned attribute as PATCH .../attrs; a failing source makes the element an error of the 207', async () => {
    const before = source.requests.length;
    const ok = await call(broker.url, 'POST', `${API}/entityOperations/update`, { json: [{ id, type: 'Pump', run: { type: 'Property', value: false } }] });
    expect(ok.status).toBe(204);
    expect(source.requests.length).toBe(before + 1);
    expect(source.requests.at(-1)).toMatchObject({ method: 'PATCH', url: `/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs`, body: { run: { type: 'Property', value: false } } });
    source.handler = () => ({ status: 503 });
    const failed = await call(broker.url, 'POST', `${API}/entityOperations/update`, {
      json: [{ id, type: 'Pump', run: { type: 'Property', value: true }, flow: { type: 'Property', value: 4 } }],
    });
    source.handler = () => ({ status: 204 });
    expect(failed.status).toBe(207);
    expect(failed.body.errors[0].entityId).toBe(id);
    expect(failed.body.errors[0].error.detail).toMatch(/run.*503/);
    const local = await call(broker.url, 'GET', `${API}/entities/${id}?local=true`);
    expect(local.body.flow.value).toBe(4);
  });

  it('5.6.3: Append Attributes sends the owned attribute as POST .../attrs', async () => {
    const res = await call(broker.url, 'POST', `${API}/entities/${id}/attrs`, { json: { run: { type: 'Property', value: 'x' }, note: { type: 'Property', value: 'n' } } });
    expect(res.status).toBe(204);
    expect(source.requests.at(-1)).toMatchObject({ method: 'POST', body: { run: { type: 'Property', value: 'x' } } });
  });
});

describe('a tenant known only through its registrations (clauses 6.3.14, 5.7.2.4)', () => {
  it('5.7.2.4: Query Entities in a tenant without local entities answers from its sources instead of NonexistentTenant', async () => {
    const broker = await startCity();
    const source = await startStub((r) => ({ status: 200, body: r.url.startsWith('/ngsi-ld/v1/entities?') ? [{ id: 'urn:ngsi-ld:T:1', type: 'T', p: { type: 'Property', value: 1 } }] : undefined }));
    try {
      const headers = { 'NGSILD-Tenant': 'onlyregs' };
      await register(broker.url, { endpoint: source.url, information: [{ entities: [{ type: 'T' }] }] }, headers);
      const res = await call(broker.url, 'GET', `${API}/entities?type=T`, { headers });
      expect(res.status).toBe(200);
      expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:T:1']);
      const other = await call(broker.url, 'GET', `${API}/entities?type=U`, { headers });
      expect(other.status).toBe(404);
      expect(other.body.type).toBe('https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant');
    } finally {
      await source.close();
      await broker.close();
    }
  });
});

describe('per-registration timeout (clause 5.2.34 management.timeout)', () => {
  it('5.2.34, 6.3.17: management.timeout overrides --forward-timeout-ms for that source', async () => {
    const broker = await startCity({ forwardTimeoutMs: 10_000 });
    const slow = await startStub(() => ({ status: 200, body: [], delayMs: 3000 }));
    try {
      await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:M:1', type: 'M', p: { type: 'Property', value: 1 } } });
      await register(broker.url, { endpoint: slow.url, information: [{ entities: [{ type: 'M' }] }], management: { timeout: 200 } });
      const started = Date.now();
      const res = await call(broker.url, 'GET', `${API}/entities?type=M`);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.status).toBe(200);
      expect(res.headers.get('ngsild-warning')).toMatch(/^199 .*within 200 ms/);
    } finally {
      await slow.close();
      await broker.close();
    }
  });
});
