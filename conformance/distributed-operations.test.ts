/**
 * Distributed operations (clauses 4.3.6, 5.6.2.4, 5.7.1.4, 5.7.2.4, 6.3.17-6.3.19): the broker asks registered context
 * sources, merges their data with its own and forwards updates of attributes a source owns. The sources are small
 * scripted HTTP servers (lib/context-source.ts); every describe works in its own tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, attrPath, attrsPath, createEntity, del, describeRes, ENTITIES, entityPath, expectProblem, get, patch, post, put, retrieve, retrieveRes, tenant, uid } from './lib/index.js';
import { startContextSource, type ContextSource } from './lib/context-source.js';
import { createRegistration, deleteCreatedRegistrations } from './lib/registrations.js';

const CORE = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld';
const sources: ContextSource[] = [];
const source = async (...args: Parameters<typeof startContextSource>) => {
  const s = await startContextSource(...args);
  sources.push(s);
  return s;
};

afterAll(async () => {
  await deleteCreatedRegistrations();
  await Promise.all(sources.map((s) => s.close()));
});

const ids = (body: Array<{ id: string }>) => body.map((e) => e.id).sort();

describe('4.3.6.2, 5.7.1.4, 5.7.2.4: consumption over an inclusive registration', () => {
  const t = tenant();
  const type = 'Meter';
  const local = uid(type);
  const remote = uid(type);
  const shared = uid(type);
  let src: ContextSource;

  beforeAll(async () => {
    await createEntity({ id: local, type, reading: { type: 'Property', value: 1 } }, { tenant: t });
    await createEntity({ id: shared, type, reading: { type: 'Property', value: 2 } }, { tenant: t });
    src = await source({
      entities: [
        { id: remote, type, reading: { type: 'Property', value: 3 } },
        { id: shared, type, owner: { type: 'Property', value: 'remote' } },
      ],
    });
    await createRegistration({ type: 'ContextSourceRegistration', endpoint: src.endpoint, information: [{ entities: [{ type }] }] }, { tenant: t });
  });

  it('5.7.2.4: Query Entities returns local and remote entities, parts of one entity merged', async () => {
    const res = await get(`${ENTITIES}?type=${type}`, { tenant: t });
    expect(res.status, describeRes(res)).toBe(200);
    expect(ids(res.body)).toEqual([local, remote, shared].sort());
    const merged = res.body.find((e: { id: string }) => e.id === shared);
    expect(merged.reading.value).toBe(2);
    expect(merged.owner.value).toBe('remote');
  });

  it('4.3.6.1: the forwarded query names no more types than the registration', async () => {
    const forwarded = src.requests.filter((r) => r.method === 'GET' && r.path === '/ngsi-ld/v1/entities');
    expect(forwarded.length).toBeGreaterThan(0);
    expect(forwarded.at(-1)!.query.get('type')).toBe(type);
    expect(forwarded.at(-1)!.headers['ngsild-tenant']).toBe(t);
  });

  it('5.7.1.4: Retrieve Entity returns an entity only the source holds, and merges one held by both', async () => {
    expect((await retrieve(remote, {}, { tenant: t })).reading.value).toBe(3);
    const both = await retrieve(shared, {}, { tenant: t });
    expect(both.reading.value).toBe(2);
    expect(both.owner.value).toBe('remote');
  });

  it('6.3.18: local=true asks no context source', async () => {
    const before = src.requests.length;
    const res = await get(`${ENTITIES}?type=${type}&local=true`, { tenant: t });
    expect(ids(res.body)).toEqual([local, shared].sort());
    expect((await retrieveRes(remote, { local: 'true' }, { tenant: t })).status).toBe(404);
    expect(src.requests.length).toBe(before);
  });

  it('6.3.18: forwarded requests carry a Via header; a source already in Via is not asked (4.3.6.4)', async () => {
    const last = src.requests.at(-1)!;
    expect(last.headers.via).toMatch(/^1\.1 \S+/);
    const before = src.requests.length;
    const res = await get(`${ENTITIES}?type=${type}`, { tenant: t, headers: { Via: `1.1 ${src.host}` } });
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual([local, shared].sort());
    expect(src.requests.length).toBe(before);
  });
});

describe('6.3.17: sources that fail give partial results with NGSILD-Warning', () => {
  const t = tenant();
  const type = 'Gauge';
  const id = uid(type);

  beforeAll(async () => {
    await createEntity({ id, type, level: { type: 'Property', value: 5 } }, { tenant: t });
  });

  it('an unreachable source: 200 with the local entities and warning 199', async () => {
    const gone = await source();
    await gone.close();
    await createRegistration({ type: 'ContextSourceRegistration', endpoint: gone.endpoint, information: [{ entities: [{ type }] }] }, { tenant: t });
    const res = await get(`${ENTITIES}?type=${type}`, { tenant: t });
    expect(res.status, describeRes(res)).toBe(200);
    expect(ids(res.body)).toEqual([id]);
    expect(res.headers.get('ngsild-warning')).toMatch(/(^|, )199 /);
    const one = await retrieveRes(id, {}, { tenant: t });
    expect(one.status).toBe(200);
    expect(one.headers.get('ngsild-warning')).toMatch(/(^|, )199 /);
  });

  it('an error answer gives warning 299, a non-NGSI-LD payload warning 111', async () => {
    const t2 = tenant();
    await createEntity({ id, type, level: { type: 'Property', value: 5 } }, { tenant: t2 });
    const forbidden = await source({ failWith: 403 });
    const garbage = await source({ rawBody: '"not entities"' });
    await createRegistration({ type: 'ContextSourceRegistration', endpoint: forbidden.endpoint, information: [{ entities: [{ type }] }] }, { tenant: t2 });
    await createRegistration({ type: 'ContextSourceRegistration', endpoint: garbage.endpoint, information: [{ entities: [{ type }] }] }, { tenant: t2 });
    const res = await get(`${ENTITIES}?type=${type}`, { tenant: t2 });
    expect(res.status, describeRes(res)).toBe(200);
    expect(ids(res.body)).toEqual([id]);
    const warning = res.headers.get('ngsild-warning') ?? '';
    expect(warning).toMatch(/(^|, )299 /);
    expect(warning).toMatch(/(^|, )111 /);
  });
});

describe('4.3.6.3, 5.6.2.4, 5.6.4, 6.3.19: updates of attributes an exclusive registration owns', () => {
  const t = tenant();
  const type = 'Valve';
  const id = uid(type);
  let src: ContextSource;

  beforeAll(async () => {
    await createEntity({ id, type, label: { type: 'Property', value: 'v' } }, { tenant: t });
    src = await source({ entities: [{ id, type, open: { type: 'Property', value: false } }] });
    await createRegistration(
      {
        type: 'ContextSourceRegistration',
        endpoint: src.endpoint,
        mode: 'exclusive',
        operations: ['updateOps', 'retrieveOps'],
        information: [{ entities: [{ id, type }], propertyNames: ['open'] }],
        contextSourceInfo: [
          { key: 'jsonldContext', value: CORE },
          { key: 'X-Api-Key', value: 'k-123' },
        ],
      },
      { tenant: t },
    );
  });

  it('5.6.2.4: Update Attributes sends the owned attribute to the source and applies the rest locally', async () => {
    const res = await patch(attrsPath(id), { json: { open: { type: 'Property', value: true }, label: { type: 'Property', value: 'w' } }, tenant: t });
    expect(res.status, describeRes(res)).toBe(204);
    const sent = src.requests.find((r) => r.method === 'PATCH');
    expect(sent, 'the source received the update').toBeDefined();
    expect(sent!.path).toBe(`/ngsi-ld/v1/entities/${id}/attrs`);
    expect(sent!.body).toEqual({ open: { type: 'Property', value: true } });
    expect(sent!.headers['ngsild-tenant']).toBe(t);
    expect(sent!.headers['x-api-key']).toBe('k-123');
    expect(sent!.headers.link).toContain(`<${CORE}>`);
    expect(sent!.headers['content-type']).toMatch(/^application\/json/);
    const here = await retrieve(id, { local: 'true' }, { tenant: t });
    expect(here.label.value).toBe('w');
    expect(here.open).toBeUndefined();
  });

  it('5.6.4: Partial Attribute Update of the owned attribute goes to the same attribute path of the source', async () => {
    const res = await patch(attrPath(id, 'open'), { json: { value: false }, tenant: t });
    expect(res.status, describeRes(res)).toBe(204);
    const sent = src.requests.filter((r) => r.method === 'PATCH').at(-1)!;
    expect(sent.path).toBe(`/ngsi-ld/v1/entities/${id}/attrs/open`);
    expect(sent.body).toEqual({ value: false });
  });

  it('5.7.1.4: Retrieve Entity shows the owned attribute as the source has it', async () => {
    const body = await retrieve(id, {}, { tenant: t });
    expect(body.open.value).toBe(false);
    expect(body.label.value).toBe('w');
  });

  it('6.3.17: when the source fails, Update Attributes is 207 naming the owned attribute in notUpdated', async () => {
    src.options = { ...src.options, failWith: 500 };
    const res = await patch(attrsPath(id), { json: { open: { type: 'Property', value: true }, label: { type: 'Property', value: 'z' } }, tenant: t });
    src.options = { ...src.options, failWith: undefined };
    expect(res.status, describeRes(res)).toBe(207);
    expect(res.body.notUpdated.map((n: { attributeName: string }) => n.attributeName)).toEqual([expect.stringMatching(/open$/)]);
    expect((await retrieve(id, { local: 'true' }, { tenant: t })).label.value).toBe('z');
  });
});

describe('4.3.6.3, 5.6.5.4, 5.6.6.4, 5.6.1.4, 5.6.18.4: deletion, creation and replacement over proxied registrations', () => {
  const t = tenant();
  const type = 'Pump';
  // Table 4.20-2: redirectionOps holds the provision operations (the default federationOps holds none).
  const register = (endpoint: string, mode: string, information: unknown[], operations = ['redirectionOps']) =>
    createRegistration({ type: 'ContextSourceRegistration', endpoint, mode, operations, information }, { tenant: t });

  it('5.6.5.4: Delete Attribute of an owned attribute goes to the source only, with its URL parameters', async () => {
    const id = uid(type);
    const src = await source();
    await createEntity({ id, type, label: { type: 'Property', value: 'x' } }, { tenant: t });
    await register(src.endpoint, 'exclusive', [{ entities: [{ id, type }], propertyNames: ['speed'] }]);
    const res = await del(`${attrPath(id, 'speed')}?deleteAll=true`, { tenant: t });
    expect(res.status, describeRes(res)).toBe(204);
    expect(src.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE /ngsi-ld/v1/entities/${id}/attrs/speed`]);
    expect(src.requests[0]!.query.get('deleteAll')).toBe('true');
    expect((await retrieve(id, { local: 'true' }, { tenant: t })).label.value).toBe('x');
  });

  it('5.6.5.4: an owning registration without deleteAttrs makes Delete Attribute a Conflict', async () => {
    const id = uid(type);
    const src = await source();
    await register(src.endpoint, 'exclusive', [{ entities: [{ id, type }], propertyNames: ['speed'] }], ['retrieveOps']);
    expectProblem(await del(attrPath(id, 'speed'), { tenant: t }), 409, 'Conflict');
    expect(src.requests).toHaveLength(0);
  });

  it('5.6.6.4: Delete Entity goes to the matching redirect source and deletes locally', async () => {
    const id = uid(type);
    const src = await source();
    await createEntity({ id, type, label: { type: 'Property', value: 'x' } }, { tenant: t });
    await register(src.endpoint, 'redirect', [{ entities: [{ id, type }], propertyNames: ['speed'] }]);
    const res = await del(entityPath(id), { tenant: t });
    expect(res.status, describeRes(res)).toBe(204);
    expect(src.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE /ngsi-ld/v1/entities/${id}`]);
    expect((await retrieveRes(id, { local: 'true' }, { tenant: t })).status).toBe(404);
  });

  it('5.6.6.4, 6.5.3.2, 6.3.17: a failing source beside the local deletion gives 207 with a BatchOperationResult naming the registration', async () => {
    const id = uid(type);
    const src = await source({ failWith: 500 });
    await createEntity({ id, type, label: { type: 'Property', value: 'x' } }, { tenant: t });
    const reg = await register(src.endpoint, 'exclusive', [{ entities: [{ id, type }], propertyNames: ['speed'] }]);
    const res = await del(entityPath(id), { tenant: t });
    expect(res.status, describeRes(res)).toBe(207);
    expect(res.body.success).toEqual([id]);
    expect(res.body.errors).toEqual([expect.objectContaining({ entityId: id, registrationId: reg })]);
  });

  it('5.6.10: Batch Entity Delete forwards elements a redirect registration matches', async () => {
    const id = uid(type);
    const src = await source();
    await register(src.endpoint, 'redirect', [{ entities: [{ id, type }] }]);
    const res = await post(`${API}/entityOperations/delete`, { json: [id], tenant: t });
    expect(res.status, describeRes(res)).toBe(204);
    expect(src.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE /ngsi-ld/v1/entities/${id}`]);
  });

  /** Create Entity of a new entity: `speed` owned by an exclusive registration of a source started with `opts`, `label` local. */
  const createWithOwnedSpeed = async (opts: Parameters<typeof source>[0]) => {
    const id = uid(type);
    const src = await source(opts);
    await register(src.endpoint, 'exclusive', [{ entities: [{ id, type }], propertyNames: ['speed'] }]);
    const res = await post(ENTITIES, { json: { id, type, speed: { type: 'Property', value: 3 }, label: { type: 'Property', value: 'x' } }, tenant: t });
    return { id, src, res };
  };

  it('5.6.1.4: Create Entity creates owned attributes at the source and the rest locally', async () => {
    const { id, src, res } = await createWithOwnedSpeed({ writeStatus: 201 });
    expect(res.status, describeRes(res)).toBe(201);
    expect(src.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /ngsi-ld/v1/entities']);
    expect(src.requests[0]!.body).toEqual({ id, type, speed: { type: 'Property', value: 3 } });
    const here = await retrieve(id, { local: 'true' }, { tenant: t });
    expect(here.label.value).toBe('x');
    expect(here.speed).toBeUndefined();
  });

  it('5.6.1.4, 6.4.3.1: a failing owner beside local attributes makes Create Entity 207; alone, its error', async () => {
    const { id, src, res } = await createWithOwnedSpeed({ failWith: 500 });
    expect(res.status, describeRes(res)).toBe(207);
    expect(res.body.success).toEqual([id]);
    expect(res.body.errors).toHaveLength(1);
    const alone = uid(type);
    await register(src.endpoint, 'exclusive', [{ entities: [{ id: alone, type }], propertyNames: ['speed'] }]);
    const failed = await post(ENTITIES, { json: { id: alone, type, speed: { type: 'Property', value: 3 } }, tenant: t });
    expect(failed.status, describeRes(failed)).toBeGreaterThanOrEqual(500);
  });

  it('5.6.18.4: Replace Entity sends owned attributes to PUT /entities/{id} of the source and replaces the rest locally', async () => {
    const id = uid(type);
    const src = await source();
    await createEntity({ id, type, label: { type: 'Property', value: 'x' }, old: { type: 'Property', value: 1 } }, { tenant: t });
    await register(src.endpoint, 'exclusive', [{ entities: [{ id, type }], propertyNames: ['speed'] }]);
    const res = await put(entityPath(id), { json: { type, speed: { type: 'Property', value: 4 }, label: { type: 'Property', value: 'y' } }, tenant: t });
    expect(res.status, describeRes(res)).toBe(204);
    expect(src.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PUT /ngsi-ld/v1/entities/${id}`]);
    expect(src.requests[0]!.body).toEqual({ type, speed: { type: 'Property', value: 4 } });
    const here = await retrieve(id, { local: 'true' }, { tenant: t });
    expect(here.label.value).toBe('y');
    expect(here.old).toBeUndefined();
  });
});

describe('5.7.5, 5.7.8, 5.7.11: entity types and attributes include what registrations declare', () => {
  const t = tenant();
  // The tenant is fresh, so these names are its only ones.
  beforeAll(async () => {
    await createEntity({ id: uid('Local'), type: 'LocalGauge', here: { type: 'Property', value: 1 } }, { tenant: t });
    await createRegistration(
      { type: 'ContextSourceRegistration', endpoint: 'http://127.0.0.1:9', information: [{ entities: [{ type: 'RemoteGauge' }], propertyNames: ['remoteReading'] }] },
      { tenant: t },
    );
  });

  it('5.7.5.4: GET /types lists local and registered types; local=true only local ones', async () => {
    const res = await get(`${API}/types`, { tenant: t });
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.body.typeList).toEqual(expect.arrayContaining(['LocalGauge', 'RemoteGauge']));
    const local = await get(`${API}/types?local=true`, { tenant: t });
    expect(local.body.typeList).toContain('LocalGauge');
    expect(local.body.typeList).not.toContain('RemoteGauge');
  });

  it('5.7.8.4: GET /attributes lists local and registered attributes; local=true only local ones', async () => {
    const res = await get(`${API}/attributes`, { tenant: t });
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.body.attributeList).toEqual(expect.arrayContaining(['here', 'remoteReading']));
    const local = await get(`${API}/attributes?local=true`, { tenant: t });
    expect(local.body.attributeList).not.toContain('remoteReading');
  });
});
