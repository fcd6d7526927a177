/**
 * Batch entity operations: create (5.6.7, 6.14), upsert (5.6.8, 6.15), update (5.6.9, 6.16), delete (5.6.10, 6.17)
 * and merge (5.6.20, 6.31); BatchOperationResult (5.2.16) and BatchEntityError (5.2.17); more than one instance of an
 * entity in the array (5.5.11); the BatchEntities test purposes (TP/NGSI-LD/CI/Prov/BE/*).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_VOCAB,
  NGSI_NULL,
  batch,
  batchPath,
  createEntity,
  del,
  describeRes,
  entityPath,
  expectBatchResult,
  expectCreatedIds,
  expectNoContent,
  expectProblem,
  expectStatus,
  get,
  headerOf,
  post,
  rawRequest,
  retrieve,
  retrieveRes,
  startContextServer,
  tenant,
  uid,
  type ContextServer,
} from './lib/index.js';

const NS = 'https://conformance.example.org/batch#';
const OTHER = 'https://conformance.example.org/other#';
/** An @context URL nothing listens on (TP/NGSI-LD/CB/HTTP/043_01). */
const UNREACHABLE_CONTEXT = 'http://127.0.0.1:1/none.jsonld';
const CORE = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';

let ctx: ContextServer;
beforeAll(async () => {
  ctx = await startContextServer({
    'building.jsonld': { '@context': { Building: `${NS}Building`, almostFull: `${NS}almostFull`, name: `${NS}name` } },
    'other.jsonld': { '@context': { Building: `${OTHER}Building`, almostFull: `${OTHER}almostFull` } },
    'device.jsonld': { '@context': { Device: `${NS}Device`, temperature: `${NS}temperature`, humidity: `${NS}humidity`, TimeInstant: `${NS}TimeInstant` } },
  });
});
afterAll(async () => {
  await ctx?.close();
});

const prop = (value: unknown) => ({ type: 'Property', value });
const building = (id = uid('Building'), extra: Record<string, unknown> = {}) => ({ id, type: 'Building', almostFull: prop(true), ...extra });
/** An entity that fails validation (5.5.4): a Property without a value. */
const invalid = (id = uid('Building')) => ({ id, type: 'Building', almostFull: { type: 'Property' } });

async function expectAbsent(id: string, opts: { tenant?: string } = {}): Promise<void> {
  expectProblem(await retrieveRes(id, {}, opts), 404, 'ResourceNotFound');
}

describe('Batch Entity Creation (5.6.7, 6.14.3.1)', () => {
  test('TP/NGSI-LD/CI/Prov/BE/003_01_01 all created: 201 with the array of created entity ids', async () => {
    const a = building();
    const b = building(uid('Building'), { name: prop('B') });
    const res = await batch('create', [a, b]);
    expectCreatedIds(res, [a.id, b.id]);
    expect(res.mediaType).toBe('application/json');
    expect((await retrieve(a.id)).almostFull).toEqual(prop(true));
    expect((await retrieve(b.id)).name).toEqual(prop('B'));
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_02_01 two valid and one invalid entity: 207, the valid ones written, the invalid one not at all', async () => {
    const a = building();
    const b = building();
    const bad = invalid();
    const res = await batch('create', [a, bad, b]);
    expectBatchResult(res, { success: [a.id, b.id], errors: [[bad.id, 'BadRequestData']] });
    await retrieve(a.id);
    await retrieve(b.id);
    await expectAbsent(bad.id);
  });

  test('5.6.7.4 an entity whose id exists already: AlreadyExists in errors, the existing entity unchanged', async () => {
    const existing = building(uid('Building'), { name: prop('old') });
    await createEntity(existing);
    const fresh = building();
    const res = await batch('create', [{ ...existing, name: prop('new') }, fresh]);
    expectBatchResult(res, { success: [fresh.id], errors: [[existing.id, 'AlreadyExists']] });
    expect((await retrieve(existing.id)).name).toEqual(prop('old'));
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_10_01 two instances of one id (5.5.11.1): the first creates, the second is AlreadyExists', async () => {
    const id = uid('Building');
    const other = building();
    const res = await batch('create', [building(id, { name: prop('first') }), other, building(id, { name: prop('second') })]);
    expectBatchResult(res, { success: [id, other.id], errors: [[id, 'AlreadyExists']] });
    expect((await retrieve(id)).name).toEqual(prop('first'));
  });

  test('5.5.11.0 all entities of a batch get the same modifiedAt', async () => {
    const a = building();
    const b = building();
    expectCreatedIds(await batch('create', [a, b]), [a.id, b.id]);
    const ra = await retrieve(a.id, { options: 'sysAttrs' });
    const rb = await retrieve(b.id, { options: 'sysAttrs' });
    expect(ra.modifiedAt).toBe(rb.modifiedAt);
    expect(ra.almostFull.modifiedAt).toBe(rb.almostFull.modifiedAt);
  });

  test('an entity without id is an error of that entity only (5.5.4, 4.5.1)', async () => {
    const a = building();
    const res = await batch('create', [{ type: 'Building' }, a]);
    expect(res.status, describeRes(res)).toBe(207);
    expect(res.body.success).toEqual([a.id]);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].error.type).toBe('https://uri.etsi.org/ngsi-ld/errors/BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_03_01 a body that is not JSON: 400 InvalidRequest', async () => {
    expectProblem(await post(batchPath('create'), { body: '[{"id": "urn:x:1", ', contentType: 'application/ld+json' }), 400, 'InvalidRequest');
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_03_02 an empty array: 400 BadRequestData (5.6.7.4)', async () => {
    expectProblem(await batch('create', []), 400, 'BadRequestData');
  });

  test('5.6.7.3 a body that is not an array: 400 BadRequestData, nothing created', async () => {
    const a = building();
    expectProblem(await batch('create', a), 400, 'BadRequestData');
    await expectAbsent(a.id);
  });

  test('5.6.7.4 an array holding a null: 400 BadRequestData, nothing created', async () => {
    const a = building();
    expectProblem(await batch('create', [a, null]), 400, 'BadRequestData');
    await expectAbsent(a.id);
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_05_01 application/json without Link: the default @context', async () => {
    const a = building();
    expectCreatedIds(await batch('create', [a]), [a.id]);
    const got = await retrieve(a.id);
    expect(got.almostFull).toEqual(prop(true));
    const withOther = await retrieve(a.id, {}, { link: ctx.url('building.jsonld') });
    expect(withOther[`${DEFAULT_VOCAB}almostFull`] ?? withOther['ngsi-ld:default-context/almostFull']).toEqual(prop(true));
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_04_01 TP/NGSI-LD/CI/Prov/BE/003_04_02 application/json: the Link header gives the @context of every entity', async () => {
    const a = building();
    const b = building();
    expectCreatedIds(await batch('create', [a, b], { link: ctx.url('building.jsonld') }), [a.id, b.id]);
    for (const id of [a.id, b.id]) {
      expect((await retrieve(id, {}, { link: ctx.url('building.jsonld') })).almostFull).toEqual(prop(true));
      const plain = await retrieve(id);
      expect(plain.type).toBe(`${NS}Building`);
      expect(plain[`${NS}almostFull`]).toEqual(prop(true));
    }
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_06_01 application/json with an @context in an entity: BadRequestData for that entity (6.3.5)', async () => {
    const a = building();
    const withCtx = { ...building(), '@context': ctx.url('building.jsonld') };
    const res = await batch('create', [withCtx, a]);
    expectBatchResult(res, { success: [a.id], errors: [[withCtx.id, 'BadRequestData']] });
    await expectAbsent(withCtx.id);
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_07_01 TP/NGSI-LD/CI/Prov/BE/003_07_02 application/ld+json: each entity is read with its own inline @context', async () => {
    const a = { ...building(), '@context': ctx.url('building.jsonld') };
    const b = { ...building(), '@context': [ctx.url('other.jsonld'), CORE] };
    expectCreatedIds(await batch('create', [a, b], { contentType: 'application/ld+json' }), [a.id, b.id]);
    expect((await retrieve(a.id, {}, { link: ctx.url('building.jsonld') })).almostFull).toEqual(prop(true));
    const plainA = await retrieve(a.id);
    expect(plainA.type).toBe(`${NS}Building`);
    const plainB = await retrieve(b.id);
    expect(plainB.type).toBe(`${OTHER}Building`);
    expect(plainB[`${OTHER}almostFull`]).toEqual(prop(true));
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_08_01 application/ld+json and an entity without @context: BadRequestData for that entity (6.3.5)', async () => {
    const a = { ...building(), '@context': ctx.url('building.jsonld') };
    const noCtx = building();
    const res = await batch('create', [noCtx, a], { contentType: 'application/ld+json' });
    expectBatchResult(res, { success: [a.id], errors: [[noCtx.id, 'BadRequestData']] });
    await expectAbsent(noCtx.id);
  });

  test('TP/NGSI-LD/CI/Prov/BE/003_09_01 application/ld+json with a Link header: 400 BadRequestData, nothing created (6.3.5)', async () => {
    const a = { ...building(), '@context': ctx.url('building.jsonld') };
    const res = await batch('create', [a], { contentType: 'application/ld+json', link: ctx.url('building.jsonld') });
    expectProblem(res, 400, 'BadRequestData');
    await expectAbsent(a.id);
  });

  test('TP/NGSI-LD/CB/HTTP/043_01_04 an @context that cannot be retrieved: 207 with LdContextNotAvailable for that entity', async () => {
    const lost = { ...building(), '@context': UNREACHABLE_CONTEXT };
    const a = { ...building(), '@context': ctx.url('building.jsonld') };
    const res = await batch('create', [lost, a], { contentType: 'application/ld+json' });
    expectBatchResult(res, { success: [a.id], errors: [[lost.id, 'LdContextNotAvailable']] });
    await expectAbsent(lost.id);
  });

  test('TP/NGSI-LD/CB/HTTP/048_01_05 Content-Type application/xml: 415', async () => {
    const res = await post(batchPath('create'), { body: JSON.stringify([building()]), contentType: 'application/xml' });
    expectStatus(res, 415);
  });

  test('6.3.4 a body without Content-Length (chunked): 411', async () => {
    const res = await rawRequest({
      method: 'POST',
      path: batchPath('create'),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([building()]),
      chunked: true,
    });
    expect(res.status, describeRes(res)).toBe(411);
  });

  test('6.3.2 GET on the resource: 405 with Allow: POST', async () => {
    const res = await get(batchPath('create'));
    expectStatus(res, 405);
    expect(headerOf(res, 'allow')).toContain('POST');
  });

  test('5.6.7 a batch of 1000 entities of about 1 KB each: 201 with 1000 ids, all retrievable', async () => {
    const entities = Array.from({ length: 1000 }, (_, i) => ({
      id: uid('Sensor'),
      type: 'Sensor',
      temperature: { type: 'Property', value: 20 + (i % 10), unitCode: 'CEL', observedAt: '2026-01-01T00:00:00Z' },
      description: prop('x'.repeat(700)),
      location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-3.7 + i / 10_000, 40.4] } },
    }));
    expect(JSON.stringify(entities).length).toBeGreaterThan(900_000);
    const res = await batch('create', entities);
    expectCreatedIds(res, entities.map((e) => e.id));
    for (const i of [0, 499, 999]) expect((await retrieve(entities[i]!.id)).temperature.value).toBe(20 + (i % 10));
  }, 60_000);
});

describe('Batch Entity Creation or Update (Upsert) (5.6.8, 6.15.3.1)', () => {
  test('TP/NGSI-LD/CI/Prov/BE/004_01_01 none existed: 201 with the ids of the created entities', async () => {
    const a = building();
    const b = building();
    expectCreatedIds(await batch('upsert', [a, b]), [a.id, b.id]);
    await retrieve(a.id);
    await retrieve(b.id);
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_03_01 all existed (options=replace): 204, each entity replaced whole', async () => {
    const a = building(uid('Building'), { name: prop('A') });
    await createEntity(a);
    const res = await batch('upsert', [{ id: a.id, type: 'Building', floors: prop(3) }], { query: 'options=replace' });
    expectNoContent(res);
    const got = await retrieve(a.id);
    expect(got.floors).toEqual(prop(3));
    expect(got.name).toBeUndefined();
    expect(got.almostFull).toBeUndefined();
  });

  test('6.15.3.1 replace is the default mode', async () => {
    const a = building(uid('Building'), { name: prop('A') });
    await createEntity(a);
    expectNoContent(await batch('upsert', [{ id: a.id, type: 'Building', floors: prop(3) }]));
    expect((await retrieve(a.id)).name).toBeUndefined();
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_02_01 existing and new entities: 201 with the ids of the created ones only', async () => {
    const existing = building();
    await createEntity(existing);
    const fresh = building();
    const res = await batch('upsert', [{ ...existing, name: prop('replaced') }, fresh]);
    expectCreatedIds(res, [fresh.id]);
    expect((await retrieve(existing.id)).name).toEqual(prop('replaced'));
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_04_01 options=update: attributes of the body are updated, the others stay (5.6.2)', async () => {
    const existing = building(uid('Building'), { name: prop('A') });
    await createEntity(existing);
    const fresh = building();
    const res = await batch('upsert', [{ id: existing.id, type: 'Building', name: prop('B'), floors: prop(2) }, fresh], { query: 'options=update' });
    expectCreatedIds(res, [fresh.id]);
    const got = await retrieve(existing.id);
    expect(got.name).toEqual(prop('B'));
    expect(got.floors).toEqual(prop(2));
    expect(got.almostFull).toEqual(prop(true));
  });

  test('6.15.3.1 options=update on entities that all exist: 204', async () => {
    const existing = building();
    await createEntity(existing);
    expectNoContent(await batch('upsert', [{ id: existing.id, type: 'Building', name: prop('B') }], { query: 'options=update' }));
    expect((await retrieve(existing.id)).almostFull).toEqual(prop(true));
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_05_01 two valid and one invalid entity: 207, the valid ones written, the invalid one not at all', async () => {
    const existing = building(uid('Building'), { name: prop('keep') });
    await createEntity(existing);
    const fresh = building();
    const badNew = invalid();
    const badExisting = { ...invalid(existing.id), name: prop('must not be written') };
    const res = await batch('upsert', [fresh, badNew, badExisting]);
    expectBatchResult(res, { success: [fresh.id], errors: [[badNew.id, 'BadRequestData'], [existing.id, 'BadRequestData']] });
    await retrieve(fresh.id);
    await expectAbsent(badNew.id);
    expect((await retrieve(existing.id)).name).toEqual(prop('keep'));
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_06_02 invalid NGSI-LD (an id that is not a URI): 207 with BadRequestData', async () => {
    const res = await batch('upsert', [{ id: 'not a uri', type: 'Building' }]);
    expectBatchResult(res, { success: [], errors: [['not a uri', 'BadRequestData']] });
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_07_01 two instances of one new id (5.5.11.2): created by the first, replaced by the second, 201 with the id', async () => {
    const id = uid('Building');
    const res = await batch('upsert', [building(id, { name: prop('first') }), { id, type: 'Building', floors: prop(9) }]);
    expectCreatedIds(res, [id]);
    const got = await retrieve(id);
    expect(got.floors).toEqual(prop(9));
    expect(got.name).toBeUndefined();
  });

  test('5.5.11.2 two instances of one id with options=update: both applied in array order', async () => {
    const id = uid('Building');
    const res = await batch('upsert', [building(id, { name: prop('first') }), { id, type: 'Building', name: prop('second'), floors: prop(9) }], {
      query: 'options=update',
    });
    expectCreatedIds(res, [id]);
    const got = await retrieve(id);
    expect(got.name).toEqual(prop('second'));
    expect(got.floors).toEqual(prop(9));
    expect(got.almostFull).toEqual(prop(true));
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_08_01 replacing with new types: 204, the types are those of the body (4.16)', async () => {
    const a = building();
    await createEntity(a);
    expectNoContent(await batch('upsert', [{ id: a.id, type: ['Building', 'Shop'] }]));
    const got = await retrieve(a.id);
    expect([...got.type].sort()).toEqual(['Building', 'Shop']);
  });

  test('TP/NGSI-LD/CI/Prov/BE/004_06_01 a body that is not JSON: 400 InvalidRequest', async () => {
    expectProblem(await post(batchPath('upsert'), { body: '[', contentType: 'application/ld+json' }), 400, 'InvalidRequest');
  });

  test('5.6.8.4 an empty array: 400 BadRequestData', async () => {
    expectProblem(await batch('upsert', []), 400, 'BadRequestData');
  });

  test('the IoT Agent request: POST .../upsert/?options=update, application/ld+json with @context in every entity, NGSILD-Tenant and Fiware-Service', async () => {
    const t = tenant();
    const ids = [uid('Device'), uid('Device')];
    const headers = { 'ngsild-tenant': t, 'fiware-service': t, 'fiware-servicepath': '/', 'ngsild-path': '/' };
    const measures = (temperature: number, extra: Record<string, unknown> = {}) =>
      ids.map((id) => ({
        '@context': ctx.url('device.jsonld'),
        id,
        type: 'Device',
        temperature: { type: 'Property', value: temperature, observedAt: '2026-01-01T00:00:00.000Z' },
        ...extra,
      }));
    const path = `${batchPath('upsert')}/?options=update`;
    // The tenant does not exist yet: the batch creates it (5.5.10) along with the entities.
    const first = await post(path, { body: JSON.stringify(measures(20, { humidity: prop(50) })), contentType: 'application/ld+json', headers });
    expectCreatedIds(first, ids);
    expect(headerOf(first, 'ngsild-tenant')).toBe(t);
    const second = await post(path, { body: JSON.stringify(measures(21)), contentType: 'application/ld+json', headers });
    expectNoContent(second);
    for (const id of ids) {
      const got = await retrieve(id, {}, { tenant: t, link: ctx.url('device.jsonld') });
      expect(got.type).toBe('Device');
      expect(got.temperature.value).toBe(21);
      expect(got.humidity).toEqual(prop(50));
    }
    await expectAbsent(ids[0]!);
  });
});

describe('Batch Entity Update (5.6.9, 6.16.3.1)', () => {
  test('TP/NGSI-LD/CI/Prov/BE/005_01_01 all updated: 204, attributes overwritten or appended, the others kept (5.6.3)', async () => {
    const a = building(uid('Building'), { name: prop('A') });
    const b = building();
    await createEntity(a);
    await createEntity(b);
    const res = await batch('update', [
      { id: a.id, type: 'Building', name: prop('A2') },
      { id: b.id, type: 'Building', floors: prop(4) },
    ]);
    expectNoContent(res);
    const ga = await retrieve(a.id);
    expect(ga.name).toEqual(prop('A2'));
    expect(ga.almostFull).toEqual(prop(true));
    expect((await retrieve(b.id)).floors).toEqual(prop(4));
  });

  test('TP/NGSI-LD/CI/Prov/BE/005_03_01 existing and missing entities: 207, ResourceNotFound for the missing one', async () => {
    const a = building();
    await createEntity(a);
    const missing = uid('Building');
    const res = await batch('update', [
      { id: a.id, type: 'Building', name: prop('A2') },
      { id: missing, type: 'Building', name: prop('X') },
    ]);
    expectBatchResult(res, { success: [a.id], errors: [[missing, 'ResourceNotFound']] });
    expect((await retrieve(a.id)).name).toEqual(prop('A2'));
    await expectAbsent(missing);
  });

  test('TP/NGSI-LD/CI/Prov/BE/005_02_02 options=noOverwrite with new attributes only: 204, appended', async () => {
    const a = building();
    await createEntity(a);
    expectNoContent(await batch('update', [{ id: a.id, type: 'Building', floors: prop(4) }], { query: 'options=noOverwrite' }));
    expect((await retrieve(a.id)).floors).toEqual(prop(4));
  });

  test('TP/NGSI-LD/CI/Prov/BE/005_02_01 options=noOverwrite with existing attributes: 207, the values are kept', async () => {
    const a = building(uid('Building'), { name: prop('A') });
    await createEntity(a);
    const res = await batch('update', [{ id: a.id, type: 'Building', name: prop('B') }], { query: 'options=noOverwrite' });
    expect(res.status, describeRes(res)).toBe(207);
    expect(res.body.errors.map((e: { entityId: string }) => e.entityId)).toEqual([a.id]);
    expect((await retrieve(a.id)).name).toEqual(prop('A'));
  });

  test('TP/NGSI-LD/CI/Prov/BE/005_02_03 options=noOverwrite with new and existing attributes: 207, new appended, existing kept', async () => {
    const a = building(uid('Building'), { name: prop('A') });
    await createEntity(a);
    const res = await batch('update', [{ id: a.id, type: 'Building', name: prop('B'), floors: prop(4) }], { query: 'options=noOverwrite' });
    expect(res.status, describeRes(res)).toBe(207);
    const got = await retrieve(a.id);
    expect(got.name).toEqual(prop('A'));
    expect(got.floors).toEqual(prop(4));
  });

  test('TP/NGSI-LD/CI/Prov/BE/005_05_01 a new type in the body: 204, added to the entity types (4.16)', async () => {
    const a = building();
    await createEntity(a);
    expectNoContent(await batch('update', [{ id: a.id, type: 'Shop', floors: prop(1) }]));
    expect([...(await retrieve(a.id)).type].sort()).toEqual(['Building', 'Shop']);
  });

  test('TP/NGSI-LD/CI/Prov/BE/005_04_02 an invalid entity: 207 BadRequestData, and that entity is not changed at all', async () => {
    const a = building(uid('Building'), { name: prop('A') });
    const b = building();
    await createEntity(a);
    await createEntity(b);
    const res = await batch('update', [
      { id: a.id, type: 'Building', name: prop('changed'), almostFull: { type: 'Property' } },
      { id: b.id, type: 'Building', floors: prop(2) },
    ]);
    expectBatchResult(res, { success: [b.id], errors: [[a.id, 'BadRequestData']] });
    const got = await retrieve(a.id);
    expect(got.name).toEqual(prop('A'));
    expect(got.almostFull).toEqual(prop(true));
    expect((await retrieve(b.id)).floors).toEqual(prop(2));
  });

  test('TP/NGSI-LD/CI/Prov/BE/005_04_01 a body that is not JSON: 400 InvalidRequest', async () => {
    expectProblem(await post(batchPath('update'), { body: '{"id"', contentType: 'application/ld+json' }), 400, 'InvalidRequest');
  });

  test('5.6.9.4 an empty array: 400 BadRequestData', async () => {
    expectProblem(await batch('update', []), 400, 'BadRequestData');
  });

  test('5.5.10 in a tenant that does not exist: 404 NonexistentTenant', async () => {
    const res = await batch('update', [{ id: uid('Building'), type: 'Building', name: prop('x') }], { tenant: tenant() });
    expectProblem(res, 404, 'NonexistentTenant');
  });
});

describe('Batch Entity Delete (5.6.10, 6.17.3.1)', () => {
  test('TP/NGSI-LD/CI/Prov/BE/006_01_01 all deleted: 204', async () => {
    const a = building();
    const b = building();
    await createEntity(a);
    await createEntity(b);
    expectNoContent(await batch('delete', [a.id, b.id]));
    await expectAbsent(a.id);
    await expectAbsent(b.id);
  });

  test('TP/NGSI-LD/CI/Prov/BE/006_02_01 existing and missing ids: 207, ResourceNotFound for the missing one', async () => {
    const a = building();
    await createEntity(a);
    const missing = uid('Building');
    expectBatchResult(await batch('delete', [a.id, missing]), { success: [a.id], errors: [[missing, 'ResourceNotFound']] });
    await expectAbsent(a.id);
  });

  test('TP/NGSI-LD/CI/Prov/BE/006_04_01 one id twice (5.5.11.4): the first deletes, the second is ResourceNotFound', async () => {
    const a = building();
    await createEntity(a);
    expectBatchResult(await batch('delete', [a.id, a.id]), { success: [a.id], errors: [[a.id, 'ResourceNotFound']] });
  });

  test('5.6.10.4 an id that is not a URI: BadRequestData for that id, the others deleted', async () => {
    const a = building();
    await createEntity(a);
    expectBatchResult(await batch('delete', ['not a uri', a.id]), { success: [a.id], errors: [['not a uri', 'BadRequestData']] });
  });

  test('TP/NGSI-LD/CI/Prov/BE/006_03_01 a body that is not JSON: 400 InvalidRequest', async () => {
    expectProblem(await post(batchPath('delete'), { body: '["urn:x:1"', contentType: 'application/ld+json' }), 400, 'InvalidRequest');
  });

  test('TP/NGSI-LD/CI/Prov/BE/006_03_02 an empty array: 400 BadRequestData', async () => {
    expectProblem(await post(batchPath('delete'), { body: '[]', contentType: 'application/ld+json' }), 400, 'BadRequestData');
  });

  test('5.6.10.4 a null among the ids: 400 BadRequestData, nothing deleted', async () => {
    const a = building();
    await createEntity(a);
    expectProblem(await batch('delete', [a.id, null]), 400, 'BadRequestData');
    await retrieve(a.id);
  });

  test('6.17.3.1 a body that is not an array of ids: 400 BadRequestData', async () => {
    expectProblem(await batch('delete', { id: uid() }), 400, 'BadRequestData');
  });

  test('5.6.10 only the tenant of the request is touched (5.5.10)', async () => {
    const t = tenant();
    const a = building();
    await createEntity(a);
    await createEntity(a, { tenant: t });
    expectNoContent(await batch('delete', [a.id], { tenant: t }));
    await expectAbsent(a.id, { tenant: t });
    await retrieve(a.id);
  });
});

describe('Batch Entity Merge (5.6.20, 6.31.3.1)', () => {
  test('TP/NGSI-LD/CI/Prov/BE/057_01_02 all merged: 204; members of the fragment win, NGSI-LD Null deletes, the rest stays (5.6.17)', async () => {
    const a = building(uid('Building'), { name: prop('A'), floors: prop(3) });
    const b = building();
    await createEntity(a);
    await createEntity(b);
    const res = await batch('merge', [
      { id: a.id, type: 'Building', name: prop('A2'), floors: NGSI_NULL, shop: prop(true) },
      { id: b.id, type: 'Building', name: prop('B') },
    ]);
    expectNoContent(res);
    const got = await retrieve(a.id);
    expect(got.name).toEqual(prop('A2'));
    expect(got.floors).toBeUndefined();
    expect(got.shop).toEqual(prop(true));
    expect(got.almostFull).toEqual(prop(true));
    expect((await retrieve(b.id)).name).toEqual(prop('B'));
  });

  test('TP/NGSI-LD/CI/Prov/BE/057_01_01 an entity with nothing but id and type: 204', async () => {
    const a = building();
    await createEntity(a);
    expectNoContent(await batch('merge', [{ id: a.id, type: 'Building' }]));
    expect((await retrieve(a.id)).almostFull).toEqual(prop(true));
  });

  test('TP/NGSI-LD/CI/Prov/BE/057_02_01 existing and missing entities: 207, ResourceNotFound for the missing one', async () => {
    const a = building();
    await createEntity(a);
    const missing = uid('Building');
    const res = await batch('merge', [
      { id: a.id, type: 'Building', name: prop('A') },
      { id: missing, type: 'Building', name: prop('X') },
    ]);
    expectBatchResult(res, { success: [a.id], errors: [[missing, 'ResourceNotFound']] });
    expect((await retrieve(a.id)).name).toEqual(prop('A'));
    await expectAbsent(missing);
  });

  test('5.5.11.5 two instances of one id: merged in array order', async () => {
    const a = building();
    await createEntity(a);
    const res = await batch('merge', [
      { id: a.id, type: 'Building', name: prop('first'), floors: prop(1) },
      { id: a.id, type: 'Building', name: prop('second') },
    ]);
    expectNoContent(res);
    const got = await retrieve(a.id);
    expect(got.name).toEqual(prop('second'));
    expect(got.floors).toEqual(prop(1));
  });

  test('TP/NGSI-LD/CI/Prov/BE/057_03_02 an invalid entity: 207 BadRequestData, that entity unchanged', async () => {
    const a = building(uid('Building'), { name: prop('A') });
    await createEntity(a);
    const res = await batch('merge', [{ id: a.id, type: 'Building', name: prop('B'), almostFull: { type: 'Relationship', object: 'not a uri' } }]);
    expectBatchResult(res, { success: [], errors: [[a.id, 'BadRequestData']] });
    expect((await retrieve(a.id)).name).toEqual(prop('A'));
  });

  test('TP/NGSI-LD/CI/Prov/BE/057_03_01 a body that is not JSON: 400 InvalidRequest', async () => {
    expectProblem(await post(batchPath('merge'), { body: '[{', contentType: 'application/ld+json' }), 400, 'InvalidRequest');
  });

  test('5.6.20 application/ld+json with the @context in each entity', async () => {
    const a = { ...building(), '@context': ctx.url('building.jsonld') };
    await createEntity(a, { contentType: 'application/ld+json' });
    const res = await batch('merge', [{ id: a.id, type: 'Building', name: prop('N'), '@context': ctx.url('building.jsonld') }], {
      contentType: 'application/ld+json',
    });
    expectNoContent(res);
    expect((await retrieve(a.id, {}, { link: ctx.url('building.jsonld') })).name).toEqual(prop('N'));
  });
});

describe('Batch operations and the HTTP binding (6.3)', () => {
  test('6.3.5 a Link header with application/ld+json fails the whole request on every batch resource', async () => {
    for (const op of ['upsert', 'update', 'merge'] as const) {
      const res = await batch(op, [{ ...building(), '@context': CORE }], { contentType: 'application/ld+json', link: ctx.url('building.jsonld') });
      expectProblem(res, 400, 'BadRequestData');
    }
  });

  test('TP/NGSI-LD/CB/HTTP/048_01 an unsupported Content-Type: 415 on every batch resource', async () => {
    for (const op of ['upsert', 'update', 'delete', 'merge'] as const) {
      expectStatus(await post(batchPath(op), { body: '[]', contentType: 'text/plain' }), 415);
    }
  });

  test('6.3.2 DELETE on a batch resource: 405', async () => {
    expectStatus(await del(batchPath('delete')), 405);
  });

  test('6.3.14 the tenant of the request is named in the response', async () => {
    const t = tenant();
    const a = building();
    const res = await batch('create', [a], { tenant: t });
    expectCreatedIds(res, [a.id]);
    expect(headerOf(res, 'ngsild-tenant')).toBe(t);
    await expectAbsent(a.id);
    expectStatus(await get(entityPath(a.id), { tenant: t }), 200);
  });
});
