/**
 * Distributed operations (clauses 4.3.6, 5.6.2.4, 5.7.1.4, 5.7.2.4, 6.3.17-6.3.19): the broker asks registered context
 * sources, merges their data with its own and forwards updates of attributes a source owns. The sources are small
 * scripted HTTP servers (lib/context-source.ts); every describe works in its own tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrPath, attrsPath, createEntity, describeRes, ENTITIES, get, patch, retrieve, retrieveRes, tenant, uid } from './lib/index.js';
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
