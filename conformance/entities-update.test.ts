/**
 * Entity modification: Append Attributes (5.6.3, 6.6.3.1), Update Attributes (5.6.2, 6.6.3.2), Partial Attribute
 * Update (5.6.4, 6.7.3.1), Replace Attribute (5.6.19, 6.7.3.3), Delete Attribute (5.6.5, 6.7.3.2), Replace Entity
 * (5.6.18, 6.5.3.3), Merge Entity (5.6.17, 6.5.3.4) and Delete Entity (5.6.6, 6.5.3.2), with the partial update
 * patch (5.5.8) and merge patch (5.5.12) semantics, NGSI-LD Null and multi-attribute (datasetId, 4.5.5) behaviour.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_VOCAB,
  ENTITIES,
  NGSI_NULL,
  asArray,
  attrPath,
  attrsPath,
  byDataset,
  createEntity,
  datasetId,
  del,
  describeRes,
  entityPath,
  expectNoContent,
  expectProblem,
  expectStatus,
  patch,
  post,
  put,
  retrieve,
  retrieveRes,
  startContextServer,
  uid,
  type ContextServer,
  type Res,
} from './lib/index.js';

const NS_A = 'https://conformance.example.org/A#';
let ctx: ContextServer;
beforeAll(async () => {
  ctx = await startContextServer({ 'a.jsonld': { '@context': { temperature: `${NS_A}temperature` } } });
});
afterAll(async () => {
  await ctx?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Creates a fresh Vehicle with the given attributes and returns its id. */
async function fresh(attrs: Record<string, unknown> = {}, type: string | string[] = 'Vehicle'): Promise<string> {
  const id = uid('Vehicle');
  await createEntity({ id, type, ...attrs });
  return id;
}

const speedKmh = { type: 'Property', value: 80, unitCode: 'KMH', observedAt: '2024-01-01T00:00:00Z' };
const brand = { type: 'Property', value: 'Mercedes' };
const parked = { type: 'Relationship', object: 'urn:ngsi-ld:OffStreetParking:Downtown1' };
const street = { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } };
const location = { type: 'GeoProperty', value: { type: 'Point', coordinates: [13.39, 52.55] } };

/** A 207 UpdateResult (5.2.18) in application/json (6.3.6), names as Fully Qualified Names (6.3.6). */
function expectUpdateResult(res: Res, updated: string[], notUpdated: string[]): void {
  expectStatus(res, 207);
  expect(res.mediaType, '207 responses are application/json (6.3.6)').toBe('application/json');
  expect(res.body, describeRes(res)).toBeTypeOf('object');
  expect([...(res.body.updated ?? [])].sort(), 'UpdateResult.updated (FQNs, 6.3.6)').toEqual(updated.map((n) => DEFAULT_VOCAB + n).sort());
  const nu = asArray<any>(res.body.notUpdated);
  expect(nu.map((d) => d.attributeName).sort(), 'NotUpdatedDetails.attributeName (FQNs, 6.3.6)').toEqual(
    notUpdated.map((n) => DEFAULT_VOCAB + n).sort(),
  );
  for (const d of nu) expect(typeof d.reason === 'string' && d.reason.length > 0, 'NotUpdatedDetails.reason (5.2.19)').toBe(true);
}

describe('Append Attributes — POST /entities/{id}/attrs (5.6.3, 6.6.3.1)', () => {
  test('TP/NGSI-LD/CI/Prov/EA/010_01_01 a new attribute is appended: 204', async () => {
    const id = await fresh({ brandName: brand });
    expectNoContent(await post(attrsPath(id), { json: { speed: speedKmh } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand, speed: speedKmh });
  });

  test('5.6.3.4 an existing attribute is replaced as a whole by default', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await post(attrsPath(id), { json: { speed: { type: 'Property', value: 90 } } }));
    expect((await retrieve(id)).speed).toEqual({ type: 'Property', value: 90 });
  });

  test('5.6.3.4 overwriting keeps the attribute createdAt and advances modifiedAt', async () => {
    const id = await fresh({ speed: speedKmh });
    const before = await retrieve(id, { options: 'sysAttrs' });
    await sleep(15);
    expectNoContent(await post(attrsPath(id), { json: { speed: { type: 'Property', value: 90 } } }));
    const after = await retrieve(id, { options: 'sysAttrs' });
    expect(after.speed.createdAt).toBe(before.speed.createdAt);
    expect(Date.parse(after.speed.modifiedAt)).toBeGreaterThan(Date.parse(before.speed.modifiedAt));
    expect(after.createdAt, 'entity createdAt is unchanged').toBe(before.createdAt);
    expect(Date.parse(after.modifiedAt), 'entity modifiedAt advances (4.8)').toBeGreaterThan(Date.parse(before.modifiedAt));
  });

  test('TP/NGSI-LD/CI/Prov/EA/010_04_01 options=noOverwrite leaves existing attributes alone: 207 UpdateResult', async () => {
    const id = await fresh({ speed: speedKmh });
    const res = await post(`${attrsPath(id)}?options=noOverwrite`, {
      json: { speed: { type: 'Property', value: 1 }, brandName: brand },
    });
    expectUpdateResult(res, ['brandName'], ['speed']);
    const got = await retrieve(id);
    expect(got.speed).toEqual(speedKmh);
    expect(got.brandName).toEqual(brand);
  });

  test('5.6.3.5 noOverwrite with only existing attributes: 207, nothing updated', async () => {
    const id = await fresh({ speed: speedKmh });
    const res = await post(`${attrsPath(id)}?options=noOverwrite`, { json: { speed: { type: 'Property', value: 1 } } });
    expectUpdateResult(res, [], ['speed']);
    expect((await retrieve(id)).speed).toEqual(speedKmh);
  });

  test('TP/NGSI-LD/CI/Prov/EA/010_04_02 noOverwrite with a new datasetId appends the instance: 204', async () => {
    const id = await fresh({ speed: speedKmh });
    const ds = datasetId('gps');
    expectNoContent(await post(`${attrsPath(id)}?options=noOverwrite`, { json: { speed: { type: 'Property', value: 81, datasetId: ds } } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(byDataset([speedKmh, { type: 'Property', value: 81, datasetId: ds }]));
  });

  test('TP/NGSI-LD/CI/Prov/EA/010_01_02 an instance with another datasetId is added next to the default one', async () => {
    const id = await fresh({ speed: speedKmh });
    const ds = datasetId('gps');
    expectNoContent(await post(attrsPath(id), { json: { speed: { type: 'Property', value: 81, datasetId: ds } } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(byDataset([speedKmh, { type: 'Property', value: 81, datasetId: ds }]));
  });

  test('4.5.5 appending with an existing datasetId replaces only that instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await post(attrsPath(id), { json: { speed: { type: 'Property', value: 99, datasetId: ds } } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(byDataset([speedKmh, { type: 'Property', value: 99, datasetId: ds }]));
  });

  test('TP/NGSI-LD/CI/Prov/EA/010_06_01 a LanguageProperty can be appended', async () => {
    const id = await fresh();
    expectNoContent(await post(attrsPath(id), { json: { street } }));
    expect((await retrieve(id)).street).toEqual(street);
  });

  test('5.6.3.4 a type in the fragment adds the entity type', async () => {
    const id = await fresh({}, 'Vehicle');
    expectNoContent(await post(attrsPath(id), { json: { type: 'Car', brandName: brand } }));
    const got = await retrieve(id);
    expect(asArray(got.type).sort()).toEqual(['Car', 'Vehicle']);
    expect(got.brandName).toEqual(brand);
  });

  test('4.5.2.3 concise attributes can be appended', async () => {
    const id = await fresh();
    expectNoContent(await post(attrsPath(id), { json: { speed: 10, isParked: { object: parked.object } } }));
    const got = await retrieve(id);
    expect(got.speed).toEqual({ type: 'Property', value: 10 });
    expect(got.isParked).toEqual(parked);
  });

  test('TP/NGSI-LD/CI/Prov/EA/010_03_01 unknown entity: 404 ResourceNotFound', async () => {
    expectProblem(await post(attrsPath(uid('Vehicle')), { json: { speed: speedKmh } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/010_02_02 entity id not a URI: 400 BadRequestData', async () => {
    expectProblem(await post(attrsPath('thisisaninvaliduri'), { json: { speed: speedKmh } }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/EA/010_05_01 invalid JSON: 400 InvalidRequest', async () => {
    const id = await fresh();
    expectProblem(await post(attrsPath(id), { body: '{"speed": {', contentType: 'application/json' }), 400, 'InvalidRequest');
  });

  test('5.5.4 an invalid attribute gives 400 BadRequestData and changes nothing', async () => {
    const id = await fresh({ brandName: brand });
    expectProblem(await post(attrsPath(id), { json: { speed: { type: 'Property', value: null } } }), 400, 'BadRequestData');
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('5.5.4 NGSI-LD Null is not allowed when appending', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await post(attrsPath(id), { json: { speed: { type: 'Property', value: NGSI_NULL } } }), 400, 'BadRequestData');
  });
});

describe('Update Attributes — PATCH /entities/{id}/attrs (5.6.2, 6.6.3.2, 5.5.8)', () => {
  test('TP/NGSI-LD/CI/Prov/EA/011_01_01 an existing attribute is replaced as a whole (5.5.8 example 2): 204', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    expectNoContent(await patch(attrsPath(id), { json: { speed: { type: 'Property', value: 100, observedAt: '2024-03-14T13:00:00Z' } } }));
    const got = await retrieve(id);
    expect(got.speed, 'unitCode is gone: the whole attribute is replaced').toEqual({
      type: 'Property',
      value: 100,
      observedAt: '2024-03-14T13:00:00Z',
    });
    expect(got.brandName).toEqual(brand);
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_01_02 an instance with datasetId is replaced, the default one is untouched', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await patch(attrsPath(id), { json: { speed: { type: 'Property', value: 70, datasetId: ds } } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(byDataset([speedKmh, { type: 'Property', value: 70, datasetId: ds }]));
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_01_03 attributes the entity lacks are appended (5.6.2.4): 204', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await patch(attrsPath(id), { json: { speed: { type: 'Property', value: 1 }, brandName: brand } }));
    const got = await retrieve(id);
    expect(got.speed).toEqual({ type: 'Property', value: 1 });
    expect(got.brandName).toEqual(brand);
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_01_04 the type of an existing attribute can change', async () => {
    const id = await fresh({ owner: { type: 'Property', value: 'Alice' } });
    expectNoContent(await patch(attrsPath(id), { json: { owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' } } }));
    expect((await retrieve(id)).owner).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' });
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_07_01 NGSI-LD Null as Property value deletes the attribute', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    expectNoContent(await patch(attrsPath(id), { json: { speed: { type: 'Property', value: NGSI_NULL } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_07_02 NGSI-LD Null as Relationship object deletes the attribute', async () => {
    const id = await fresh({ isParked: parked, brandName: brand });
    expectNoContent(await patch(attrsPath(id), { json: { isParked: { type: 'Relationship', object: NGSI_NULL } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_07_03 NGSI-LD Null as GeoProperty value deletes the attribute', async () => {
    const id = await fresh({ location, brandName: brand });
    expectNoContent(await patch(attrsPath(id), { json: { location: { type: 'GeoProperty', value: NGSI_NULL } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_07_04 {"@none": NGSI-LD Null} languageMap deletes the LanguageProperty', async () => {
    const id = await fresh({ street, brandName: brand });
    expectNoContent(
      await patch(attrsPath(id), { json: { street: { type: 'LanguageProperty', languageMap: { '@none': NGSI_NULL } } } }),
    );
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('4.5.3.3 a concise "urn:ngsi-ld:null" member deletes the attribute', async () => {
    const id = await fresh({ isParked: parked, brandName: brand });
    expectNoContent(await patch(attrsPath(id), { json: { isParked: NGSI_NULL } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_08_01 NGSI-LD Null with datasetId deletes only that instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await patch(attrsPath(id), { json: { speed: { type: 'Property', value: NGSI_NULL, datasetId: ds } } }));
    expect(asArray((await retrieve(id)).speed)).toEqual([speedKmh]);
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_09_01 NGSI-LD Null without datasetId deletes only the default instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await patch(attrsPath(id), { json: { speed: { type: 'Property', value: NGSI_NULL } } }));
    expect(asArray((await retrieve(id)).speed)).toEqual([{ type: 'Property', value: 81, datasetId: ds }]);
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_06_01 a type in the fragment adds the entity type', async () => {
    const id = await fresh({ speed: speedKmh }, 'Vehicle');
    expectNoContent(await patch(attrsPath(id), { json: { type: 'Car', speed: { type: 'Property', value: 5 } } }));
    expect(asArray((await retrieve(id)).type).sort()).toEqual(['Car', 'Vehicle']);
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_06_03 a type the entity already has is not duplicated', async () => {
    const id = await fresh({ speed: speedKmh }, 'Vehicle');
    expectNoContent(await patch(attrsPath(id), { json: { type: 'Vehicle', speed: { type: 'Property', value: 5 } } }));
    expect((await retrieve(id)).type).toBe('Vehicle');
  });

  test('5.6.2.4 createdAt of the attribute stays, modifiedAt advances', async () => {
    const id = await fresh({ speed: speedKmh });
    const before = await retrieve(id, { options: 'sysAttrs' });
    await sleep(15);
    expectNoContent(await patch(attrsPath(id), { json: { speed: { type: 'Property', value: 1 } } }));
    const after = await retrieve(id, { options: 'sysAttrs' });
    expect(after.speed.createdAt).toBe(before.speed.createdAt);
    expect(Date.parse(after.speed.modifiedAt)).toBeGreaterThan(Date.parse(before.speed.modifiedAt));
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_05_02 scope for an entity without scope is ignored: 207', async () => {
    const id = await fresh({ speed: speedKmh });
    const res = await patch(attrsPath(id), { json: { scope: '/Madrid' } });
    expectStatus(res, 207);
    expect(res.mediaType).toBe('application/json');
    expect(asArray<any>(res.body.notUpdated).map((d) => d.attributeName), 'scope not updated (FQN, 6.3.6)').toEqual([
      'https://uri.etsi.org/ngsi-ld/scope',
    ]);
    expect((await retrieve(id)).scope).toBeUndefined();
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_03_01 unknown entity: 404 ResourceNotFound', async () => {
    expectProblem(await patch(attrsPath(uid('Vehicle')), { json: { speed: speedKmh } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_02_02 entity id not a URI: 400 BadRequestData', async () => {
    expectProblem(await patch(attrsPath('thisisaninvaliduri'), { json: { speed: speedKmh } }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/EA/011_04_01 invalid JSON: 400 InvalidRequest', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(attrsPath(id), { body: '{"speed":', contentType: 'application/json' }), 400, 'InvalidRequest');
  });

  test('5.5.4 an invalid attribute gives 400 BadRequestData and changes nothing', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(attrsPath(id), { json: { speed: { type: 'Relationship', object: 'not a uri' } } }), 400, 'BadRequestData');
    expect((await retrieve(id)).speed).toEqual(speedKmh);
  });
});

describe('Partial Attribute Update — PATCH /entities/{id}/attrs/{attrId} (5.6.4, 6.7.3.1, 5.5.8)', () => {
  test('TP/NGSI-LD/CI/Prov/EA/012_01_01 only the given members change; others stay (5.5.8 example 1): 204', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await patch(attrPath(id, 'speed'), { json: { type: 'Property', value: 100, observedAt: '2024-03-14T13:00:00Z' } }));
    expect((await retrieve(id)).speed).toEqual({ type: 'Property', value: 100, unitCode: 'KMH', observedAt: '2024-03-14T13:00:00Z' });
  });

  test('5.6.4 a fragment without type updates the value', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await patch(attrPath(id, 'speed'), { json: { value: 42 } }));
    expect((await retrieve(id)).speed).toEqual({ ...speedKmh, value: 42 });
  });

  test('5.5.8 a sub-Property can be added while the others stay', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await patch(attrPath(id, 'speed'), { json: { accuracy: { type: 'Property', value: 0.5 } } }));
    expect((await retrieve(id)).speed).toEqual({ ...speedKmh, accuracy: { type: 'Property', value: 0.5 } });
  });

  test('TP/NGSI-LD/CB/HTTP/044_01_01 Content-Type application/merge-patch+json is accepted (6.3.4)', async () => {
    const id = await fresh({ brandName: brand });
    expectNoContent(await patch(attrPath(id, 'brandName'), { json: { value: 'Audi' }, contentType: 'application/merge-patch+json' }));
    expect((await retrieve(id)).brandName).toEqual({ type: 'Property', value: 'Audi' });
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_01_02 a datasetId in the fragment targets that instance only', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await patch(attrPath(id, 'speed'), { json: { value: 77, datasetId: ds } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(byDataset([speedKmh, { type: 'Property', value: 77, datasetId: ds }]));
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_03_03 a datasetId the attribute lacks gives 404 ResourceNotFound', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(attrPath(id, 'speed'), { json: { value: 77, datasetId: datasetId('none') } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_02_03 the attribute type cannot change: 400 BadRequestData', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(
      await patch(attrPath(id, 'speed'), { json: { type: 'Relationship', object: 'urn:ngsi-ld:Thing:1' } }),
      400,
      'BadRequestData',
    );
    expect((await retrieve(id)).speed).toEqual(speedKmh);
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_04_01 a LanguageProperty languageMap can be updated', async () => {
    const id = await fresh({ street });
    expectNoContent(await patch(attrPath(id, 'street'), { json: { type: 'LanguageProperty', languageMap: { en: 'Big Square' } } }));
    expect((await retrieve(id)).street).toEqual({ type: 'LanguageProperty', languageMap: { en: 'Big Square' } });
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_05_01 NGSI-LD Null value deletes the attribute', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    expectNoContent(await patch(attrPath(id, 'speed'), { json: { type: 'Property', value: NGSI_NULL } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_05_02 NGSI-LD Null Relationship object deletes the attribute', async () => {
    const id = await fresh({ isParked: parked, brandName: brand });
    expectNoContent(await patch(attrPath(id, 'isParked'), { json: { type: 'Relationship', object: NGSI_NULL } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_07_01 NGSI-LD Null without datasetId deletes only the default instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await patch(attrPath(id, 'speed'), { json: { type: 'Property', value: NGSI_NULL } }));
    expect(asArray((await retrieve(id)).speed)).toEqual([{ type: 'Property', value: 81, datasetId: ds }]);
  });

  test('5.6.4 createdAt of the attribute stays, modifiedAt advances', async () => {
    const id = await fresh({ speed: speedKmh });
    const before = await retrieve(id, { options: 'sysAttrs' });
    await sleep(15);
    expectNoContent(await patch(attrPath(id, 'speed'), { json: { value: 3 } }));
    const after = await retrieve(id, { options: 'sysAttrs' });
    expect(after.speed.createdAt).toBe(before.speed.createdAt);
    expect(Date.parse(after.speed.modifiedAt)).toBeGreaterThan(Date.parse(before.speed.modifiedAt));
  });

  test('5.6.4.4 / 5.5.7 the attribute name is expanded with the Link @context', async () => {
    const id = uid('Sensor');
    await createEntity({ id, type: 'Sensor', [`${NS_A}temperature`]: { type: 'Property', value: 20 } });
    expectNoContent(await patch(attrPath(id, 'temperature'), { json: { value: 25 }, link: ctx.url('a.jsonld') }));
    expect((await retrieve(id))[`${NS_A}temperature`]).toEqual({ type: 'Property', value: 25 });
    expectProblem(await patch(attrPath(id, 'temperature'), { json: { value: 26 } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_03_02 no default instance and no datasetId: 404 ResourceNotFound', async () => {
    const id = await fresh({ speed: { type: 'Property', value: 81, datasetId: datasetId('gps') } });
    expectProblem(await patch(attrPath(id, 'speed'), { json: { value: 1 } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_02_04 an empty fragment: 400 BadRequestData', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(attrPath(id, 'speed'), { json: {} }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_03_04 unknown attribute: 404 ResourceNotFound', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(attrPath(id, 'doesNotExist'), { json: { value: 1 } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_03_01 unknown entity: 404 ResourceNotFound', async () => {
    expectProblem(await patch(attrPath(uid('Vehicle'), 'speed'), { json: { value: 1 } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/012_02_02 entity id not a URI: 400 BadRequestData', async () => {
    expectProblem(await patch(attrPath('thisisaninvaliduri', 'speed'), { json: { value: 1 } }), 400, 'BadRequestData');
  });

  test('5.6.4.4 target attribute scope: 400 BadRequestData', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(attrPath(id, 'scope'), { json: { value: '/Madrid' } }), 400, 'BadRequestData');
  });

  test('5.5.4 invalid JSON: 400 InvalidRequest', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(attrPath(id, 'speed'), { body: '{"value": ', contentType: 'application/json' }), 400, 'InvalidRequest');
  });
});

describe('Replace Attribute — PUT /entities/{id}/attrs/{attrId} (5.6.19, 6.7.3.3)', () => {
  test('TP/NGSI-LD/CI/Prov/EA/055_01_01 the attribute is replaced completely, createdAt is kept: 204', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    const before = await retrieve(id, { options: 'sysAttrs' });
    await sleep(15);
    expectNoContent(await put(attrPath(id, 'speed'), { json: { type: 'Property', value: 12 } }));
    const after = await retrieve(id, { options: 'sysAttrs' });
    expect(after.speed.value).toBe(12);
    expect(after.speed.unitCode, 'sub-attributes not in the new content are gone').toBeUndefined();
    expect(after.speed.observedAt).toBeUndefined();
    expect(after.speed.createdAt).toBe(before.speed.createdAt);
    expect(Date.parse(after.speed.modifiedAt)).toBeGreaterThan(Date.parse(before.speed.modifiedAt));
    expect((await retrieve(id)).brandName).toEqual(brand);
  });

  test('5.6.19 a Relationship can be replaced with new sub-attributes', async () => {
    const id = await fresh({ isParked: parked });
    const replacement = {
      type: 'Relationship',
      object: 'urn:ngsi-ld:OffStreetParking:Other',
      observedAt: '2024-02-02T00:00:00Z',
      spot: { type: 'Property', value: 'B2' },
    };
    expectNoContent(await put(attrPath(id, 'isParked'), { json: replacement }));
    expect((await retrieve(id)).isParked).toEqual(replacement);
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_01_02 the replacement may have another attribute type', async () => {
    const id = await fresh({ isParked: { type: 'Property', value: 'yes' } });
    const before = await retrieve(id, { options: 'sysAttrs' });
    expectNoContent(await put(attrPath(id, 'isParked'), { json: parked }));
    const after = await retrieve(id, { options: 'sysAttrs' });
    expect(after.isParked.type).toBe('Relationship');
    expect(after.isParked.object).toBe(parked.object);
    expect(after.isParked.createdAt).toBe(before.isParked.createdAt);
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_02_01 without datasetId only the default instance is replaced', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await put(attrPath(id, 'speed'), { json: { type: 'Property', value: 5 } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(byDataset([{ type: 'Property', value: 5 }, { type: 'Property', value: 81, datasetId: ds }]));
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_02_02 a datasetId in the body replaces only that instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await put(attrPath(id, 'speed'), { json: { type: 'Property', value: 5, datasetId: ds } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(byDataset([speedKmh, { type: 'Property', value: 5, datasetId: ds }]));
  });

  test('5.6.19.4 a datasetId the attribute lacks gives 404 ResourceNotFound', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await put(attrPath(id, 'speed'), { json: { type: 'Property', value: 5, datasetId: datasetId('x') } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_03_02 unknown entity: 404', async () => {
    expectProblem(await put(attrPath(uid('Vehicle'), 'speed'), { json: { type: 'Property', value: 1 } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_03_04 unknown attribute: 404', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await put(attrPath(id, 'brandName'), { json: { type: 'Property', value: 'x' } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_03_01 entity id not a URI: 400', async () => {
    expectProblem(await put(attrPath('invalidUri', 'speed'), { json: { type: 'Property', value: 1 } }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_03_03 invalid attribute name @invalid: 400', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await put(attrPath(id, '@invalid'), { json: { type: 'Property', value: 1 } }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/EA/055_03_05 attribute scope: 400', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await put(attrPath(id, 'scope'), { json: { type: 'Property', value: '/Madrid' } }), 400, 'BadRequestData');
  });

  test('5.5.4 an invalid attribute body (Property without value): 400 BadRequestData', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await put(attrPath(id, 'speed'), { json: { type: 'Property', unitCode: 'KMH' } }), 400, 'BadRequestData');
    expect((await retrieve(id)).speed).toEqual(speedKmh);
  });

  test('5.5.4 invalid JSON: 400 InvalidRequest', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await put(attrPath(id, 'speed'), { body: '[', contentType: 'application/json' }), 400, 'InvalidRequest');
  });
});

describe('Delete Attribute — DELETE /entities/{id}/attrs/{attrId} (5.6.5, 6.7.3.2)', () => {
  test('TP/NGSI-LD/CI/Prov/EA/013_01_01 the attribute is deleted: 204', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    expectNoContent(await del(attrPath(id, 'speed')));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('5.6.5.4 without datasetId only the default instance is deleted', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await del(attrPath(id, 'speed')));
    expect(asArray((await retrieve(id)).speed)).toEqual([{ type: 'Property', value: 81, datasetId: ds }]);
  });

  test('TP/NGSI-LD/CI/Prov/EA/013_01_02 datasetId=<uri> deletes only that instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await del(`${attrPath(id, 'speed')}?datasetId=${encodeURIComponent(ds)}`));
    expect(asArray((await retrieve(id)).speed)).toEqual([speedKmh]);
  });

  test('TP/NGSI-LD/CI/Prov/EA/013_01_03 deleteAll=true deletes every instance', async () => {
    const ds1 = datasetId('a');
    const ds2 = datasetId('b');
    const id = await fresh({
      speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds1 }, { type: 'Property', value: 82, datasetId: ds2 }],
      brandName: brand,
    });
    expectNoContent(await del(`${attrPath(id, 'speed')}?deleteAll=true`));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('5.5.7 the attribute name is expanded with the Link @context', async () => {
    const id = uid('Sensor');
    await createEntity({ id, type: 'Sensor', [`${NS_A}temperature`]: { type: 'Property', value: 20 } });
    expectProblem(await del(attrPath(id, 'temperature')), 404, 'ResourceNotFound');
    expectNoContent(await del(attrPath(id, 'temperature'), { link: ctx.url('a.jsonld') }));
    expect(await retrieve(id)).toEqual({ id, type: 'Sensor' });
  });

  test('5.5.7 the attribute can be named by its full IRI', async () => {
    const id = uid('Sensor');
    await createEntity({ id, type: 'Sensor', [`${NS_A}temperature`]: { type: 'Property', value: 20 } });
    expectNoContent(await del(attrPath(id, `${NS_A}temperature`)));
    expect(await retrieve(id)).toEqual({ id, type: 'Sensor' });
  });

  test('TP/NGSI-LD/CI/Prov/EA/013_03_01 unknown entity: 404', async () => {
    expectProblem(await del(attrPath(uid('Vehicle'), 'speed')), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/013_03_02 unknown attribute: 404', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await del(attrPath(id, 'notFound')), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/013_03_03 no instance with that datasetId: 404', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await del(`${attrPath(id, 'speed')}?datasetId=${encodeURIComponent(datasetId('none'))}`), 404, 'ResourceNotFound');
    expect((await retrieve(id)).speed).toEqual(speedKmh);
  });

  test('5.6.5.4 no default instance (only datasetId instances): 404', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: { type: 'Property', value: 81, datasetId: ds } });
    expectProblem(await del(attrPath(id, 'speed')), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/EA/013_02_02 entity id not a URI: 400', async () => {
    expectProblem(await del(attrPath('thisIsAnInvalidURI', 'speed')), 400, 'BadRequestData');
  });
});

describe('Replace Entity — PUT /entities/{id} (5.6.18, 6.5.3.3)', () => {
  test('TP/NGSI-LD/CI/Prov/E/054_01_01 the content is replaced completely, createdAt is kept: 204', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    const before = await retrieve(id, { options: 'sysAttrs' });
    await sleep(15);
    expectNoContent(await put(entityPath(id), { json: { id, type: 'Vehicle', isParked: parked } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', isParked: parked });
    const after = await retrieve(id, { options: 'sysAttrs' });
    expect(after.createdAt).toBe(before.createdAt);
    expect(Date.parse(after.modifiedAt)).toBeGreaterThan(Date.parse(before.modifiedAt));
  });

  test('5.6.18.4 the entity type is replaced too', async () => {
    const id = await fresh({ speed: speedKmh }, 'Vehicle');
    expectNoContent(await put(entityPath(id), { json: { id, type: 'Car', speed: { type: 'Property', value: 1 } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Car', speed: { type: 'Property', value: 1 } });
  });

  test('5.6.18 ld+json with its @context in the body', async () => {
    const id = await fresh({ speed: speedKmh });
    const res = await put(entityPath(id), {
      json: { '@context': ctx.url('a.jsonld'), id, type: 'Vehicle', temperature: { type: 'Property', value: 3 } },
      contentType: 'application/ld+json',
    });
    expectNoContent(res);
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', [`${NS_A}temperature`]: { type: 'Property', value: 3 } });
  });

  test('TP/NGSI-LD/CI/Prov/E/054_02_03 unknown entity: 404 ResourceNotFound', async () => {
    const id = uid('Vehicle');
    expectProblem(await put(entityPath(id), { json: { id, type: 'Vehicle', speed: speedKmh } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/E/054_02_01 entity id not a URI: 400 BadRequestData', async () => {
    expectProblem(await put(entityPath('invalidUri'), { json: { type: 'Vehicle', speed: speedKmh } }), 400, 'BadRequestData');
  });

  test('5.6.18.4 NGSI-LD Null is not supported: 400 BadRequestData', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await put(entityPath(id), { json: { id, type: 'Vehicle', speed: { type: 'Property', value: NGSI_NULL } } }), 400, 'BadRequestData');
    expect((await retrieve(id)).speed).toEqual(speedKmh);
  });

  test('5.5.4 invalid JSON: 400 InvalidRequest', async () => {
    const id = await fresh();
    expectProblem(await put(entityPath(id), { body: '{', contentType: 'application/json' }), 400, 'InvalidRequest');
  });
});

describe('Merge Entity — PATCH /entities/{id} (5.6.17, 6.5.3.4, 5.5.12)', () => {
  test('5.6.17.4 new attributes are added, untouched ones stay: 204', async () => {
    const id = await fresh({ brandName: brand });
    expectNoContent(await patch(entityPath(id), { json: { speed: speedKmh } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand, speed: speedKmh });
  });

  test('5.5.12 example 1: merging keeps sub-attributes the fragment does not mention', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await patch(entityPath(id), { json: { speed: { type: 'Property', value: 100, observedAt: '2024-03-14T13:00:00Z' } } }));
    expect((await retrieve(id)).speed).toEqual({ type: 'Property', value: 100, unitCode: 'KMH', observedAt: '2024-03-14T13:00:00Z' });
  });

  test('5.5.12 example 2: JSON object values are merge-patched; NGSI-LD Null removes a key', async () => {
    const id = await fresh({
      address: { type: 'Property', value: { street: 'Straße des 17. Juni', city: 'Berlin', country: 'Germany' } },
    });
    expectNoContent(
      await patch(entityPath(id), { json: { address: { type: 'Property', value: { street: 'Pariser Platz', country: NGSI_NULL } } } }),
    );
    expect((await retrieve(id)).address).toEqual({ type: 'Property', value: { street: 'Pariser Platz', city: 'Berlin' } });
  });

  test('TP/NGSI-LD/CI/Prov/E/056_03_01 NGSI-LD Null Property value deletes the attribute', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    expectNoContent(await patch(entityPath(id), { json: { speed: { type: 'Property', value: NGSI_NULL } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/E/056_03_02 NGSI-LD Null Relationship object deletes the attribute', async () => {
    const id = await fresh({ isParked: parked, brandName: brand });
    expectNoContent(await patch(entityPath(id), { json: { isParked: { type: 'Relationship', object: NGSI_NULL } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/E/056_03_03 NGSI-LD Null GeoProperty value deletes the attribute', async () => {
    const id = await fresh({ location, brandName: brand });
    expectNoContent(await patch(entityPath(id), { json: { location: { type: 'GeoProperty', value: NGSI_NULL } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/E/056_03_04 {"@none": NGSI-LD Null} deletes the LanguageProperty', async () => {
    const id = await fresh({ street, brandName: brand });
    expectNoContent(await patch(entityPath(id), { json: { street: { type: 'LanguageProperty', languageMap: { '@none': NGSI_NULL } } } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('4.5.3.3 a concise "urn:ngsi-ld:null" member deletes the attribute', async () => {
    const id = await fresh({ speed: speedKmh, brandName: brand });
    expectNoContent(await patch(entityPath(id), { json: { speed: NGSI_NULL } }));
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', brandName: brand });
  });

  test('TP/NGSI-LD/CI/Prov/E/056_04_01 NGSI-LD Null with datasetId deletes only that instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await patch(entityPath(id), { json: { speed: { type: 'Property', value: NGSI_NULL, datasetId: ds } } }));
    expect(asArray((await retrieve(id)).speed)).toEqual([speedKmh]);
  });

  test('TP/NGSI-LD/CI/Prov/E/056_05_01 NGSI-LD Null without datasetId deletes only the default instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, datasetId: ds }] });
    expectNoContent(await patch(entityPath(id), { json: { speed: { type: 'Property', value: NGSI_NULL } } }));
    expect(asArray((await retrieve(id)).speed)).toEqual([{ type: 'Property', value: 81, datasetId: ds }]);
  });

  test('5.5.12 a datasetId instance is merged without touching the default instance', async () => {
    const ds = datasetId('gps');
    const id = await fresh({ speed: [speedKmh, { type: 'Property', value: 81, unitCode: 'KMH', datasetId: ds }] });
    expectNoContent(await patch(entityPath(id), { json: { speed: { type: 'Property', value: 90, datasetId: ds } } }));
    expect(byDataset((await retrieve(id)).speed)).toEqual(
      byDataset([speedKmh, { type: 'Property', value: 90, unitCode: 'KMH', datasetId: ds }]),
    );
  });

  test('TP/NGSI-LD/CB/HTTP/044_01 Content-Type application/merge-patch+json is accepted (6.3.4)', async () => {
    const id = await fresh({ brandName: brand });
    expectNoContent(await patch(entityPath(id), { json: { speed: speedKmh }, contentType: 'application/merge-patch+json' }));
    expect((await retrieve(id)).speed).toEqual(speedKmh);
  });

  test('5.6.17.4 a type in the fragment adds the entity type', async () => {
    const id = await fresh({ brandName: brand }, 'Vehicle');
    expectNoContent(await patch(entityPath(id), { json: { type: 'Car' } }));
    expect(asArray((await retrieve(id)).type).sort()).toEqual(['Car', 'Vehicle']);
  });

  test('6.5.3.4 format=simplified keeps the type of existing attributes', async () => {
    const id = await fresh({ owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' }, speed: speedKmh });
    expectNoContent(await patch(`${entityPath(id)}?format=simplified`, { json: { owner: 'urn:ngsi-ld:Person:Zoe', speed: 5 } }));
    const got = await retrieve(id);
    expect(got.owner).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:Person:Zoe' });
    expect(got.speed).toEqual({ ...speedKmh, value: 5 });
  });

  test('6.5.3.4 lang= sets one key of an existing languageMap from a string', async () => {
    const id = await fresh({ street });
    expectNoContent(await patch(`${entityPath(id)}?lang=de`, { json: { street: 'Großer Markt' } }));
    expect((await retrieve(id)).street).toEqual({
      type: 'LanguageProperty',
      languageMap: { fr: 'Grand Place', nl: 'Grote Markt', de: 'Großer Markt' },
    });
  });

  test('6.5.3.4 observedAt= updates observedAt of merged attributes that had one', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await patch(`${entityPath(id)}?observedAt=2025-05-05T05:05:05Z`, { json: { speed: { type: 'Property', value: 7 } } }));
    expect((await retrieve(id)).speed).toEqual({ type: 'Property', value: 7, unitCode: 'KMH', observedAt: '2025-05-05T05:05:05Z' });
  });

  test('5.6.17 the entity createdAt is kept', async () => {
    const id = await fresh({ speed: speedKmh });
    const before = await retrieve(id, { options: 'sysAttrs' });
    await sleep(15);
    expectNoContent(await patch(entityPath(id), { json: { brandName: brand } }));
    const after = await retrieve(id, { options: 'sysAttrs' });
    expect(after.createdAt).toBe(before.createdAt);
    expect(Date.parse(after.modifiedAt)).toBeGreaterThan(Date.parse(before.modifiedAt));
  });

  test('TP/NGSI-LD/CI/Prov/E/056_02_03 unknown entity: 404 ResourceNotFound', async () => {
    expectProblem(await patch(entityPath(uid('Vehicle')), { json: { speed: speedKmh } }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/E/056_02_01 entity id not a URI: 400 BadRequestData', async () => {
    expectProblem(await patch(entityPath('invalidUri'), { json: { speed: speedKmh } }), 400, 'BadRequestData');
  });

  test('5.5.4 invalid JSON: 400 InvalidRequest', async () => {
    const id = await fresh();
    expectProblem(await patch(entityPath(id), { body: '{"speed"', contentType: 'application/json' }), 400, 'InvalidRequest');
  });

  test('5.5.4 an invalid attribute gives 400 BadRequestData and changes nothing', async () => {
    const id = await fresh({ speed: speedKmh });
    expectProblem(await patch(entityPath(id), { json: { location: { type: 'GeoProperty', value: { type: 'Point', coordinates: 'x' } } } }), 400, 'BadRequestData');
    expect(await retrieve(id)).toEqual({ id, type: 'Vehicle', speed: speedKmh });
  });
});

describe('Delete Entity — DELETE /entities/{id} (5.6.6, 6.5.3.2)', () => {
  test('TP/NGSI-LD/CI/Prov/E/002_01_01 204, then the entity is gone (404)', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await del(entityPath(id)));
    expectProblem(await retrieveRes(id), 404, 'ResourceNotFound');
  });

  test('5.6.6.4 deleting twice: the second time gives 404 ResourceNotFound', async () => {
    const id = await fresh();
    expectNoContent(await del(entityPath(id)));
    expectProblem(await del(entityPath(id)), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/E/002_03_01 unknown entity: 404 ResourceNotFound', async () => {
    expectProblem(await del(entityPath(uid('Vehicle'))), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Prov/E/002_02_02 entity id not a URI: 400 BadRequestData', async () => {
    expectProblem(await del(`${ENTITIES}/thisisaninvaliduri`), 400, 'BadRequestData');
  });

  test('5.6.6 the id can be reused after deletion, without the old attributes', async () => {
    const id = await fresh({ speed: speedKmh });
    expectNoContent(await del(entityPath(id)));
    await createEntity({ id, type: 'Car' });
    expect(await retrieve(id)).toEqual({ id, type: 'Car' });
  });

  test('5.6.6 other entities are not affected', async () => {
    const keep = await fresh({ brandName: brand });
    const drop = await fresh({ brandName: brand });
    expectNoContent(await del(entityPath(drop)));
    expect(await retrieve(keep)).toEqual({ id: keep, type: 'Vehicle', brandName: brand });
  });
});
