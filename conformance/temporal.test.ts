/**
 * Temporal Evolution of Entities (clauses 4.5.6-4.5.9, 4.5.19, 4.11, 5.6.11-5.6.16, 5.7.3-5.7.4, 6.18-6.24, 6.3.10)
 * and the ETSI test purposes TP/NGSI-LD/CI/Prov/TE and TP/NGSI-LD/CI/Cons/TE.
 */
import { describe, expect, test } from 'vitest';
import { API, ENTITIES, del, entityPath, expectProblem, expectStatus, get, patch, post, seg, uid } from './lib/index.js';

const TEMPORAL = `${API}/temporal/entities`;
const temporalPath = (id: string) => `${TEMPORAL}/${seg(id)}`;
const T = (day: number, hour = 0) => `2024-01-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;

/** A temporal entity written through the temporal API: speed 10, 20, ... observed daily from 2024-01-01. */
async function temporalEntity(values: number[]): Promise<string> {
  const id = uid('Vehicle');
  const res = await post(TEMPORAL, {
    json: {
      id,
      type: 'Vehicle',
      speed: values.map((v, i) => ({ type: 'Property', value: v, observedAt: T(i + 1) })),
      owner: [
        { type: 'Relationship', object: 'urn:ngsi-ld:Person:A', observedAt: T(1) },
        { type: 'Relationship', object: 'urn:ngsi-ld:Person:B', observedAt: T(3) },
      ],
    },
  });
  expectStatus(res, 201);
  return id;
}

describe('Create or Update Temporal Evolution (5.6.11, 6.18.3.1)', () => {
  test('201 with Location when created, 204 when updated (TP/NGSI-LD/CI/Prov/TE/001_01)', async () => {
    const id = await temporalEntity([1]);
    const again = await post(TEMPORAL, { json: { id, type: 'Vehicle', speed: [{ type: 'Property', value: 2, observedAt: T(2) }] } });
    expectStatus(again, 204);
    const res = await get(temporalPath(id));
    expectStatus(res, 200);
    expect(res.body.speed.map((i: { value: number }) => i.value)).toEqual([1, 2]);
  });
  test('400 for a body without id (5.6.11.4)', async () => {
    expectProblem(await post(TEMPORAL, { json: { type: 'Vehicle' } }), 400, 'BadRequestData');
  });
});

describe('Retrieve Temporal Evolution of an Entity (5.7.3, 6.19.3.1)', () => {
  test('normalized: every instance with instanceId (4.5.7, 4.5.8; TP/NGSI-LD/CI/Cons/TE/020_01_01)', async () => {
    const id = await temporalEntity([10, 20, 30]);
    const res = await get(temporalPath(id));
    expectStatus(res, 200);
    expect(res.body.id).toBe(id);
    expect(res.body.type).toBe('Vehicle');
    expect(res.body.speed).toHaveLength(3);
    for (const i of res.body.speed) expect(i.instanceId).toMatch(/^urn:/);
    expect(res.body.owner[1]).toMatchObject({ type: 'Relationship', object: 'urn:ngsi-ld:Person:B', observedAt: T(3) });
  });
  test('timerel before / after / between (4.11; TP/NGSI-LD/CI/Cons/TE/020_05)', async () => {
    const id = await temporalEntity([10, 20, 30, 40]);
    const values = async (q: string) => (await get(`${temporalPath(id)}?attrs=speed&${q}`)).body.speed.map((i: { value: number }) => i.value);
    expect(await values(`timerel=before&timeAt=${T(3)}`)).toEqual([10, 20]);
    expect(await values(`timerel=after&timeAt=${T(3)}`)).toEqual([30, 40]);
    expect(await values(`timerel=between&timeAt=${T(2)}&endTimeAt=${T(4)}`)).toEqual([20, 30]);
  });
  test('lastN gives the newest n instances (5.7.3.4)', async () => {
    const id = await temporalEntity([10, 20, 30, 40]);
    const res = await get(`${temporalPath(id)}?attrs=speed&lastN=2`);
    expect(res.body.speed.map((i: { value: number }) => i.value).sort()).toEqual([30, 40]);
  });
  test('temporalValues: values for Properties, objects for Relationships (4.5.9; TP/NGSI-LD/CI/Cons/TE/020_06_01)', async () => {
    const id = await temporalEntity([10, 20]);
    const res = await get(`${temporalPath(id)}?options=temporalValues`);
    expect(res.body.speed).toEqual({ type: 'Property', values: [[10, T(1)], [20, T(2)]] });
    expect(res.body.owner).toEqual({ type: 'Relationship', objects: [['urn:ngsi-ld:Person:A', T(1)], ['urn:ngsi-ld:Person:B', T(3)]] });
  });
  test('aggregatedValues per period (4.5.19)', async () => {
    const id = await temporalEntity([10, 20, 30, 40]);
    const res = await get(`${temporalPath(id)}?attrs=speed&format=aggregatedValues&aggrMethods=sum,max,totalCount&aggrPeriodDuration=P2D&timerel=after&timeAt=${T(1)}`);
    expectStatus(res, 200);
    const period = (a: number, b: number) => [new Date(T(a)).toISOString(), new Date(T(b)).toISOString()];
    const same = (x: unknown[][]) => x.map(([v, s, e]) => [v, new Date(s as string).toISOString(), new Date(e as string).toISOString()]);
    expect(same(res.body.speed.sum)).toEqual([[30, ...period(1, 3)], [70, ...period(3, 5)]]);
    expect(same(res.body.speed.max)).toEqual([[20, ...period(1, 3)], [40, ...period(3, 5)]]);
    expect(same(res.body.speed.totalCount)).toEqual([[2, ...period(1, 3)], [2, ...period(3, 5)]]);
  });
  test('404 for an unknown entity (5.7.3.4; TP/NGSI-LD/CI/Cons/TE/020_08)', async () => {
    expectProblem(await get(temporalPath(uid('Nothing'))), 404, 'ResourceNotFound');
  });
  test.each([
    ['timerel without timeAt (TP/NGSI-LD/CI/Cons/TE/020_09_01)', `timerel=after&timeAt=&endTimeAt=`],
    ['between without endTimeAt', `timerel=between&timeAt=${T(1)}`],
    ['unknown timerel', `timerel=during&timeAt=${T(1)}`],
    ['lastN not a positive integer', 'lastN=0'],
    ['unknown aggregation method', 'format=aggregatedValues&aggrMethods=median'],
    ['aggregatedValues without aggrMethods', 'format=aggregatedValues'],
    ['bad duration', 'format=aggregatedValues&aggrMethods=sum&aggrPeriodDuration=1D'],
  ])('400 BadRequestData: %s (4.11, 4.5.19)', async (_what, q) => {
    const id = await temporalEntity([1]);
    expectProblem(await get(`${temporalPath(id)}?${q}`), 400, 'BadRequestData');
  });
});

describe('history recorded from entity writes', () => {
  test('updates with observedAt become the temporal evolution (4.5.6)', async () => {
    const id = uid('Sensor');
    expectStatus(await post(ENTITIES, { json: { id, type: 'Sensor', temperature: { type: 'Property', value: 20, observedAt: T(1) } } }), 201);
    for (const [v, d] of [[21, 2], [22, 3]] as const) {
      expectStatus(await patch(`${entityPath(id)}/attrs`, { json: { temperature: { type: 'Property', value: v, observedAt: T(d) } } }), 204);
    }
    const res = await get(`${temporalPath(id)}?options=temporalValues&timerel=after&timeAt=${T(1)}`);
    expectStatus(res, 200);
    expect(res.body.temperature.values).toEqual([[20, T(1)], [21, T(2)], [22, T(3)]]);
    const last = await get(`${temporalPath(id)}?lastN=1`);
    expect(last.body.temperature).toHaveLength(1);
    expect(last.body.temperature[0].value).toBe(22);
  });
});

describe('Query Temporal Evolution of Entities (5.7.4, 6.18.3.2, 6.24)', () => {
  test('GET by type and timerel (TP/NGSI-LD/CI/Cons/TE/021_01_01)', async () => {
    const id = await temporalEntity([10, 20]);
    const res = await get(`${TEMPORAL}?type=Vehicle&id=${encodeURIComponent(id)}&timerel=after&timeAt=${T(2)}`);
    expectStatus(res, 200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0].speed.map((i: { value: number }) => i.value)).toEqual([20]);
  });
  test('POST /temporal/entityOperations/query with temporalQ (6.24, 5.2.21)', async () => {
    const id = await temporalEntity([10, 20]);
    const res = await post(`${API}/temporal/entityOperations/query`, {
      json: { type: 'Query', entities: [{ id, type: 'Vehicle' }], temporalQ: { timerel: 'before', timeAt: T(2) } },
    });
    expectStatus(res, 200);
    expect(res.body[0].speed.map((i: { value: number }) => i.value)).toEqual([10]);
  });
  test('400 without a temporal query (5.7.4.4)', async () => {
    expectProblem(await get(`${TEMPORAL}?type=Vehicle`), 400, 'BadRequestData');
  });
});

describe('scopeQ, count, pick/omit and lang on temporal operations (4.19, 6.3.13, 4.21, 4.15; 6.18.3.2, 6.19.3.1)', () => {
  /** Entities of a type of their own, so that other tests' data does not change the counts. */
  async function scoped(type: string, scopes: Array<string | string[]>): Promise<string[]> {
    const ids: string[] = [];
    for (const scope of scopes) {
      const id = uid(type);
      expectStatus(await post(TEMPORAL, { json: { id, type, scope, speed: [{ type: 'Property', value: 1, observedAt: T(1) }] } }), 201);
      ids.push(id);
    }
    return ids;
  }
  const typeName = () => `Scoped${Math.random().toString(36).slice(2, 10)}`;

  test('scopeQ selects temporal entities by scope, in GET and in the POST query (4.19, 6.18.3.2, 5.2.23)', async () => {
    const type = typeName();
    const [garden, porto] = await scoped(type, ['/Madrid/Gardens', '/Porto', '/Madrid']);
    const res = await get(`${TEMPORAL}?type=${type}&timerel=after&timeAt=${T(1)}&scopeQ=${encodeURIComponent('/Madrid/+,/Porto')}`);
    expectStatus(res, 200);
    expect(res.body.map((e: { id: string }) => e.id).sort()).toEqual([garden, porto].sort());
    const posted = await post(`${API}/temporal/entityOperations/query`, {
      json: { type: 'Query', entities: [{ type }], scopeQ: '/Porto', temporalQ: { timerel: 'after', timeAt: T(1) } },
    });
    expectStatus(posted, 200);
    expect(posted.body.map((e: { id: string }) => e.id)).toEqual([porto]);
  });
  test('count=true gives NGSILD-Results-Count, limit=0 only the count (6.3.13)', async () => {
    const type = typeName();
    await scoped(type, ['/A', '/A/B', '/C']);
    const res = await get(`${TEMPORAL}?type=${type}&timerel=after&timeAt=${T(1)}&count=true&limit=1`);
    expectStatus(res, 200);
    expect(res.body).toHaveLength(1);
    expect(res.headers.get('ngsild-results-count')).toBe('3');
    const zero = await get(`${TEMPORAL}?type=${type}&timerel=after&timeAt=${T(1)}&count=true&limit=0&scopeQ=${encodeURIComponent('/A/#')}`);
    expectStatus(zero, 200);
    expect(zero.body).toEqual([]);
    expect(zero.headers.get('ngsild-results-count')).toBe('2');
  });
  test('pick and omit project the temporal representation (4.21, 6.19.3.1)', async () => {
    const id = await temporalEntity([10, 20]);
    const picked = await get(`${temporalPath(id)}?pick=id,speed&lastN=1`);
    expectStatus(picked, 200);
    expect(Object.keys(picked.body).sort()).toEqual(['id', 'speed']);
    const omitted = await get(`${TEMPORAL}?id=${encodeURIComponent(id)}&type=Vehicle&timerel=after&timeAt=${T(1)}&omit=type,owner`);
    expectStatus(omitted, 200);
    expect(Object.keys(omitted.body[0]).sort()).toEqual(['id', 'speed']);
    expectProblem(await get(`${temporalPath(id)}?pick=id&omit=type`), 400, 'InvalidRequest');
  });
  test('lang reduces LanguageProperty instances to one language (4.15, 6.19.3.1)', async () => {
    const id = uid('Vehicle');
    const name = (en: string, fr: string, day: number) => ({ type: 'LanguageProperty', languageMap: { en, fr }, observedAt: T(day) });
    expectStatus(await post(TEMPORAL, { json: { id, type: 'Vehicle', name: [name('Red', 'Rouge', 1), name('Blue', 'Bleu', 2)] } }), 201);
    const res = await get(`${temporalPath(id)}?lang=fr`);
    expectStatus(res, 200);
    expect(res.body.name).toMatchObject([{ type: 'Property', value: 'Rouge', lang: 'fr' }, { type: 'Property', value: 'Bleu', lang: 'fr' }]);
    const values = await get(`${temporalPath(id)}?lang=en&format=temporalValues`);
    expect(values.body.name).toMatchObject({ type: 'Property', values: [['Red', T(1)], ['Blue', T(2)]] });
  });
});

describe('temporal pagination (6.3.10)', () => {
  test('206 with Content-Range "DateTime <start>-<end>/*" when the history is longer than one response', async () => {
    const id = uid('Vehicle');
    const start = Date.parse('2020-01-01T00:00:00Z');
    const speed = Array.from({ length: 1500 }, (_, i) => ({ type: 'Property', value: i, observedAt: new Date(start + i * 60_000).toISOString() }));
    expectStatus(await post(TEMPORAL, { json: { id, type: 'Vehicle', speed } }), 201);
    const res = await get(`${temporalPath(id)}?timerel=after&timeAt=2020-01-01T00:00:00Z`);
    expectStatus(res, 206);
    const range = res.headers.get('content-range');
    expect(range).toMatch(/^DateTime 2020-01-01T00:00:00(\.000)?Z-\S+\/\*$/);
    expect(res.body.speed.length).toBeLessThan(1500);
    const backwards = await get(`${temporalPath(id)}?timerel=before&timeAt=2021-01-01T00:00:00Z&lastN=1500`);
    expectStatus(backwards, 206);
    expect(backwards.headers.get('content-range')).toMatch(/^DateTime 2021-01-01T00:00:00(\.000)?Z-\S+\/1500$/);
  });
});

describe('instance and attribute deletion (5.6.13-5.6.16, 6.21, 6.22)', () => {
  test('PATCH and DELETE one instance, DELETE an attribute, DELETE the entity', async () => {
    const id = await temporalEntity([10, 20]);
    const [first] = (await get(`${temporalPath(id)}?attrs=speed`)).body.speed;
    const instance = `${temporalPath(id)}/attrs/speed/${seg(first.instanceId)}`;
    expectStatus(await patch(instance, { json: { speed: [{ type: 'Property', value: 11, observedAt: T(1) }] } }), 204);
    expect((await get(`${temporalPath(id)}?attrs=speed`)).body.speed[0].value).toBe(11);
    expectStatus(await del(instance), 204);
    expectProblem(await del(instance), 404, 'ResourceNotFound');
    expectStatus(await del(`${temporalPath(id)}/attrs/owner?deleteAll=true`), 204);
    expectStatus(await post(`${temporalPath(id)}/attrs`, { json: { fuel: [{ type: 'Property', value: 3, observedAt: T(5) }] } }), 204);
    expectStatus(await del(temporalPath(id)), 204);
    expectProblem(await get(temporalPath(id)), 404, 'ResourceNotFound');
  });
});
