import { describe, expect, it } from 'vitest';
import type { Attribute, Entity } from '../../src/model/entity.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { type RenderOptions, renderEntities, renderEntity } from '../../src/entities/render.js';
import {
  DEFAULT_GEOMETRY_PROPERTY,
  renderFeature,
  renderFeatureCollection,
  selectGeometry,
} from '../../src/entities/geojson.js';
import { parseLangFilter, pickLanguage } from '../../src/entities/render-lang.js';

// ---------------------------------------------------------------------------------------------------------------
// A fake LdContext: a few user terms, the core "location", and the default @vocab as fallback.

const CORE = 'https://uri.etsi.org/ngsi-ld/';
const DEF = 'https://uri.etsi.org/ngsi-ld/default-context/';
const EX = 'http://example.org/';

const TERMS: Record<string, string> = {
  location: `${CORE}location`,
  Vehicle: `${EX}Vehicle`,
  speed: `${EX}speed`,
  source: `${EX}hasSource`,
  brandName: `${EX}brandName`,
  OffStreetParking: `${EX}OffStreetParking`,
};

function fakeContext(terms: Record<string, string> = TERMS): LdContext {
  const byIri = new Map<string, string>();
  for (const [term, iri] of Object.entries(terms)) byIri.set(iri, term);
  const expandMap = new Map(Object.entries(terms));
  const compact = (iri: string): string => byIri.get(iri) ?? (iri.startsWith(DEF) ? iri.slice(DEF.length) : iri);
  const expand = (term: string): string => expandMap.get(term) ?? (term.includes(':') ? term : DEF + term);
  const mapKeys = (v: unknown, f: (k: string) => string): unknown => {
    if (Array.isArray(v)) return v.map((e) => mapKeys(e, f));
    if (typeof v !== 'object' || v === null) return v;
    const o: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) o[f(k)] = mapKeys(e, f);
    return o;
  };
  return {
    source: 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld',
    key: 'fake',
    expand,
    compact,
    expandValue: (v) => mapKeys(v, (k) => (k === 'type' ? '@type' : expand(k))),
    compactValue: (v) => mapKeys(v, (k) => (k === '@type' ? 'type' : compact(k))),
  };
}

const ctx = fakeContext();
const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-01-02T00:00:00.000Z';

type AttrInit = Omit<Attribute, 'createdAt' | 'modifiedAt'> & { createdAt?: string; modifiedAt?: string };

function attr(a: AttrInit): Attribute {
  return { createdAt: T0, modifiedAt: T1, ...a };
}

function entity(id: string, type: string | string[], attrs: Record<string, AttrInit | AttrInit[]>): Entity {
  const out: Record<string, Attribute[]> = {};
  for (const [name, a] of Object.entries(attrs)) out[name] = (Array.isArray(a) ? a : [a]).map(attr);
  return { id, type: Array.isArray(type) ? type : [type], createdAt: T0, modifiedAt: T1, attrs: out };
}

const normalized: RenderOptions = { format: 'normalized', sysAttrs: false };
const concise: RenderOptions = { format: 'concise', sysAttrs: false };
const simplified: RenderOptions = { format: 'simplified', sysAttrs: false };

// ---------------------------------------------------------------------------------------------------------------
// C.2.2 Vehicle entity (valueType dropped: not in the internal model)

const vehicle = entity('urn:ngsi-ld:Vehicle:A4567', `${EX}Vehicle`, {
  [`${EX}brandName`]: { type: 'Property', value: 'Mercedes' },
  [`${DEF}street`]: { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
  [`${DEF}isParked`]: {
    type: 'Relationship',
    objectType: `${DEF}OffStreetParking`,
    object: 'urn:ngsi-ld:OffStreetParking:Downtown1',
    observedAt: '2017-07-29T12:00:04Z',
    sub: { [`${DEF}providedBy`]: attr({ type: 'Relationship', object: 'urn:ngsi-ld:Person:Bob' }) },
  },
  [`${DEF}category`]: { type: 'VocabProperty', vocab: `${DEF}non-commercial` },
  [`${DEF}tyreTreadDepths`]: { type: 'ListProperty', valueList: [300, 300, 120, 6], unitCode: 'MMT' },
  [`${DEF}passengers`]: {
    type: 'Relationship',
    objectType: `${DEF}Person`,
    object: ['urn:ngsi-ld:Person:Alice', 'urn:ngsi-ld:Person:Bob'],
  },
  [`${DEF}route`]: {
    type: 'ListRelationship',
    objectType: `${DEF}City`,
    objectList: ['urn:ngsi-ld:City:Antwerp', 'urn:ngsi-ld:City:Rotterdam', 'urn:ngsi-ld:City:Amsterdam'],
  },
});

// C.2.3 Parking entity
const parking = entity('urn:ngsi-ld:OffStreetParking:Downtown1', `${EX}OffStreetParking`, {
  [`${DEF}name`]: { type: 'Property', value: 'Downtown One' },
  [`${DEF}availableSpotNumber`]: {
    type: 'Property',
    value: 121,
    observedAt: '2017-07-29T12:05:02Z',
    sub: {
      [`${DEF}reliability`]: attr({ type: 'Property', value: 0.7 }),
      [`${DEF}providedBy`]: attr({ type: 'Relationship', object: 'urn:ngsi-ld:Camera:C1' }),
    },
  },
  [`${DEF}totalSpotNumber`]: { type: 'Property', value: 200 },
  [`${CORE}location`]: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-8.5, 41.2] } },
});

// C.2.2 multiple attribute example
const speedy = entity('urn:ngsi-ld:Vehicle:A4567', `${EX}Vehicle`, {
  [`${EX}speed`]: [
    {
      type: 'Property',
      value: 55,
      datasetId: 'urn:ngsi-ld:Property:speedometerA4567-speed',
      sub: { [`${EX}hasSource`]: attr({ type: 'Property', value: 'Speedometer' }) },
    },
    {
      type: 'Property',
      value: 54.5,
      datasetId: 'urn:ngsi-ld:Property:gpsBxyz123-speed',
      sub: { [`${EX}hasSource`]: attr({ type: 'Property', value: 'GPS' }) },
    },
  ],
});

// 4.5.4 EXAMPLE 5 / 4.5.24: JsonProperty
const ticketed = entity('urn:ngsi-ld:Vehicle:B1', `${EX}Vehicle`, {
  [`${DEF}parkingTickets`]: { type: 'JsonProperty', json: { id: '85a6cc52-0589-45f9', value: 'Overstay 60 minutes' } },
});

// ---------------------------------------------------------------------------------------------------------------

describe('normalized representation (4.5.1, 4.5.2.2, 4.5.3.2, C.2.2, C.2.3)', () => {
  it('renders the C.2.2 Vehicle with every attribute kind (4.5.18.2, 4.5.20.2, 4.5.21.2, 4.5.22.2)', () => {
    expect(renderEntity(vehicle, ctx, normalized)).toStrictEqual({
      id: 'urn:ngsi-ld:Vehicle:A4567',
      type: 'Vehicle',
      brandName: { type: 'Property', value: 'Mercedes' },
      street: { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
      isParked: {
        type: 'Relationship',
        objectType: 'OffStreetParking',
        object: 'urn:ngsi-ld:OffStreetParking:Downtown1',
        observedAt: '2017-07-29T12:00:04Z',
        providedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Bob' },
      },
      category: { type: 'VocabProperty', vocab: 'non-commercial' },
      tyreTreadDepths: { type: 'ListProperty', valueList: [300, 300, 120, 6], unitCode: 'MMT' },
      passengers: {
        type: 'Relationship',
        objectType: 'Person',
        object: ['urn:ngsi-ld:Person:Alice', 'urn:ngsi-ld:Person:Bob'],
      },
      route: {
        type: 'ListRelationship',
        objectType: 'City',
        objectList: [
          { object: 'urn:ngsi-ld:City:Antwerp' },
          { object: 'urn:ngsi-ld:City:Rotterdam' },
          { object: 'urn:ngsi-ld:City:Amsterdam' },
        ],
      },
    });
  });

  it('renders the C.2.3 Parking with a GeoProperty and sub-attributes', () => {
    expect(renderEntity(parking, ctx, normalized)).toStrictEqual({
      id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      type: 'OffStreetParking',
      name: { type: 'Property', value: 'Downtown One' },
      availableSpotNumber: {
        type: 'Property',
        value: 121,
        observedAt: '2017-07-29T12:05:02Z',
        reliability: { type: 'Property', value: 0.7 },
        providedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Camera:C1' },
      },
      totalSpotNumber: { type: 'Property', value: 200 },
      location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-8.5, 41.2] } },
    });
  });

  it('renders a JsonProperty with its json untouched (4.5.24.2)', () => {
    expect(renderEntity(ticketed, ctx, normalized)).toStrictEqual({
      id: 'urn:ngsi-ld:Vehicle:B1',
      type: 'Vehicle',
      parkingTickets: { type: 'JsonProperty', json: { id: '85a6cc52-0589-45f9', value: 'Overstay 60 minutes' } },
    });
  });

  it('compacts compound values, ListProperty items, vocab arrays, multiple types and keeps scope (4.5.1, 4.18)', () => {
    const e = entity('urn:x:1', [`${EX}Vehicle`, `${DEF}Car`], {
      [`${DEF}address`]: { type: 'Property', value: { [`${DEF}street`]: 'Main', [`${DEF}nr`]: 1 } },
      [`${DEF}stops`]: { type: 'ListProperty', valueList: ['a', { [`${DEF}k`]: 'v' }] },
      [`${DEF}tags`]: { type: 'VocabProperty', vocab: [`${DEF}red`, `${EX}Vehicle`, 'http://other.org/x'] },
      [`${DEF}owners`]: { type: 'Relationship', object: 'urn:p:1', objectType: [`${DEF}Person`, `${DEF}Org`] },
    });
    e.scope = ['/Madrid/Cortes', '/Company894/UnitC'];
    expect(renderEntity(e, ctx, normalized)).toStrictEqual({
      id: 'urn:x:1',
      type: ['Vehicle', 'Car'],
      scope: ['/Madrid/Cortes', '/Company894/UnitC'],
      address: { type: 'Property', value: { street: 'Main', nr: 1 } },
      stops: { type: 'ListProperty', valueList: ['a', { k: 'v' }] },
      tags: { type: 'VocabProperty', vocab: ['red', 'Vehicle', 'http://other.org/x'] },
      owners: { type: 'Relationship', object: 'urn:p:1', objectType: ['Person', 'Org'] },
    });
    e.scope = ['/Madrid/Centro'];
    expect(renderEntity(e, ctx, normalized).scope).toBe('/Madrid/Centro'); // C.5.15.3
  });
});

describe('concise representation (4.5.2.3, 4.5.3.3, C.2.2, C.2.3)', () => {
  it('renders the C.2.2 Vehicle: type dropped, value members kept (4.5.18.3, 4.5.20.3, 4.5.21.3, 4.5.22.3)', () => {
    expect(renderEntity(vehicle, ctx, concise)).toStrictEqual({
      id: 'urn:ngsi-ld:Vehicle:A4567',
      type: 'Vehicle',
      brandName: 'Mercedes',
      street: { languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
      isParked: {
        object: 'urn:ngsi-ld:OffStreetParking:Downtown1',
        objectType: 'OffStreetParking',
        observedAt: '2017-07-29T12:00:04Z',
        providedBy: { object: 'urn:ngsi-ld:Person:Bob' },
      },
      category: { vocab: 'non-commercial' },
      tyreTreadDepths: { valueList: [300, 300, 120, 6], unitCode: 'MMT' },
      passengers: { objectType: 'Person', object: ['urn:ngsi-ld:Person:Alice', 'urn:ngsi-ld:Person:Bob'] },
      route: {
        objectType: 'City',
        objectList: ['urn:ngsi-ld:City:Antwerp', 'urn:ngsi-ld:City:Rotterdam', 'urn:ngsi-ld:City:Amsterdam'],
      },
    });
  });

  it('renders the C.2.3 Parking: bare values, bare geometry, "value" member when sub-attributes exist', () => {
    expect(renderEntity(parking, ctx, concise)).toStrictEqual({
      id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      type: 'OffStreetParking',
      name: 'Downtown One',
      availableSpotNumber: {
        value: 121,
        observedAt: '2017-07-29T12:05:02Z',
        reliability: 0.7,
        providedBy: { object: 'urn:ngsi-ld:Camera:C1' },
      },
      totalSpotNumber: 200,
      location: { type: 'Point', coordinates: [-8.5, 41.2] },
    });
  });

  it('keeps a ListProperty as {"valueList"} even without metadata: a bare array would read as a Property (4.5.21.3)', () => {
    const e = entity('urn:x:1', `${EX}Vehicle`, { [`${DEF}periods`]: { type: 'ListProperty', valueList: ['a', 'b'] } });
    expect(renderEntity(e, ctx, concise).periods).toStrictEqual({ valueList: ['a', 'b'] });
  });

  it('renders a JsonProperty as {"json"} (4.5.24.3)', () => {
    expect(renderEntity(ticketed, ctx, concise).parkingTickets).toStrictEqual({
      json: { id: '85a6cc52-0589-45f9', value: 'Overstay 60 minutes' },
    });
  });

  it('renders a GeoProperty with metadata as {"value"} and infers nothing else (4.5.2.3, C.2.3)', () => {
    const e = entity('urn:x:1', `${EX}Vehicle`, {
      [`${CORE}location`]: {
        type: 'GeoProperty',
        value: { type: 'Point', coordinates: [1, 2] },
        observedAt: '2020-01-01T00:00:00Z',
      },
    });
    expect(renderEntity(e, ctx, concise).location).toStrictEqual({
      value: { type: 'Point', coordinates: [1, 2] },
      observedAt: '2020-01-01T00:00:00Z',
    });
  });

  describe('compound Property values that would be ambiguous when bare (4.5.2.3)', () => {
    it('keeps a plain compound value bare', () => {
      const e = entity('urn:x:1', `${EX}Vehicle`, {
        [`${DEF}address`]: { type: 'Property', value: { [`${DEF}street`]: 'Main' } },
      });
      expect(renderEntity(e, ctx, concise).address).toStrictEqual({ street: 'Main' });
    });

    it('wraps a value containing "type" (else read as normalized) or a value member in {"value"}', () => {
      const e = entity('urn:x:1', `${EX}Vehicle`, {
        [`${DEF}a`]: { type: 'Property', value: { '@type': `${DEF}Thing`, [`${DEF}n`]: 1 } },
        [`${DEF}b`]: { type: 'Property', value: { [`${DEF}value`]: 3 } },
        [`${DEF}c`]: { type: 'Property', value: { [`${DEF}object`]: 'urn:y' } },
      });
      const r = renderEntity(e, ctx, concise);
      expect(r.a).toStrictEqual({ value: { type: `${DEF}Thing`, n: 1 } });
      expect(r.b).toStrictEqual({ value: { value: 3 } });
      expect(r.c).toStrictEqual({ value: { object: 'urn:y' } });
    });

    it('keeps "type": "Property" when the value looks like a GeoJSON geometry (else inferred GeoProperty)', () => {
      const e = entity('urn:x:1', `${EX}Vehicle`, {
        [`${DEF}shape`]: { type: 'Property', value: { '@type': 'Point', [`${DEF}coordinates`]: [1, 2] } },
      });
      expect(renderEntity(e, ctx, concise).shape).toStrictEqual({
        type: 'Property',
        value: { type: 'Point', coordinates: [1, 2] },
      });
    });

    it('keeps an array of primitives bare but wraps an array holding objects (else read as instances, 4.5.5)', () => {
      const e = entity('urn:x:1', `${EX}Vehicle`, {
        [`${DEF}list`]: { type: 'Property', value: [1, 'two', true] },
        [`${DEF}objs`]: { type: 'Property', value: [{ [`${DEF}k`]: 1 }] },
      });
      const r = renderEntity(e, ctx, concise);
      expect(r.list).toStrictEqual([1, 'two', true]);
      expect(r.objs).toStrictEqual({ value: [{ k: 1 }] });
    });
  });
});

describe('simplified representation (4.5.4, C.2.2, C.2.3)', () => {
  it('renders the C.2.2 Vehicle', () => {
    expect(renderEntity(vehicle, ctx, simplified)).toStrictEqual({
      id: 'urn:ngsi-ld:Vehicle:A4567',
      type: 'Vehicle',
      brandName: 'Mercedes',
      street: { languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
      isParked: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      category: { vocab: 'non-commercial' },
      tyreTreadDepths: [300, 300, 120, 6],
      passengers: ['urn:ngsi-ld:Person:Alice', 'urn:ngsi-ld:Person:Bob'],
      route: ['urn:ngsi-ld:City:Antwerp', 'urn:ngsi-ld:City:Rotterdam', 'urn:ngsi-ld:City:Amsterdam'],
    });
  });

  it('renders the C.2.3 Parking (sub-attributes dropped, geometry as is)', () => {
    expect(renderEntity(parking, ctx, simplified)).toStrictEqual({
      id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      type: 'OffStreetParking',
      name: 'Downtown One',
      availableSpotNumber: 121,
      totalSpotNumber: 200,
      location: { type: 'Point', coordinates: [-8.5, 41.2] },
    });
  });

  it('renders a JsonProperty as {"json"} (4.5.4 EXAMPLE 5) and compacts compound values', () => {
    expect(renderEntity(ticketed, ctx, simplified).parkingTickets).toStrictEqual({
      json: { id: '85a6cc52-0589-45f9', value: 'Overstay 60 minutes' },
    });
    const e = entity('urn:x:1', `${EX}Vehicle`, {
      [`${DEF}address`]: { type: 'Property', value: { [`${DEF}street`]: 'Main' } },
      [`${DEF}stops`]: { type: 'ListProperty', valueList: [{ [`${DEF}k`]: 'v' }] },
    });
    expect(renderEntity(e, ctx, simplified)).toMatchObject({ address: { street: 'Main' }, stops: [{ k: 'v' }] });
  });
});

describe('multi-attribute support (4.5.5, 4.5.1, 4.5.4)', () => {
  it('renders the C.2.2 speed example as an array of instances in normalized form', () => {
    expect(renderEntity(speedy, ctx, normalized)).toStrictEqual({
      id: 'urn:ngsi-ld:Vehicle:A4567',
      type: 'Vehicle',
      speed: [
        {
          type: 'Property',
          value: 55,
          source: { type: 'Property', value: 'Speedometer' },
          datasetId: 'urn:ngsi-ld:Property:speedometerA4567-speed',
        },
        {
          type: 'Property',
          value: 54.5,
          source: { type: 'Property', value: 'GPS' },
          datasetId: 'urn:ngsi-ld:Property:gpsBxyz123-speed',
        },
      ],
    });
  });

  it('renders instances as objects in concise form, the default one too (a bare value would be ambiguous)', () => {
    const e = entity('urn:x:1', `${EX}Vehicle`, {
      [`${EX}speed`]: [
        { type: 'Property', value: 50 },
        { type: 'Property', value: 55, datasetId: 'urn:ds:1' },
      ],
      [`${DEF}rel`]: [
        { type: 'Relationship', object: 'urn:a' },
        { type: 'Relationship', object: 'urn:b', datasetId: 'urn:ds:1' },
      ],
    });
    expect(renderEntity(e, ctx, concise)).toStrictEqual({
      id: 'urn:x:1',
      type: 'Vehicle',
      speed: [{ value: 50 }, { value: 55, datasetId: 'urn:ds:1' }],
      rel: [{ object: 'urn:a' }, { object: 'urn:b', datasetId: 'urn:ds:1' }],
    });
  });

  it('renders the C.2.2 simplified multi-attribute example as {"dataset": {...}}', () => {
    expect(renderEntity(speedy, ctx, simplified)).toStrictEqual({
      id: 'urn:ngsi-ld:Vehicle:A4567',
      type: 'Vehicle',
      speed: {
        dataset: {
          'urn:ngsi-ld:Property:speedometerA4567-speed': 55,
          'urn:ngsi-ld:Property:gpsBxyz123-speed': 54.5,
        },
      },
    });
  });

  it('uses "@none" for the default instance in the simplified dataset (4.5.4 EXAMPLES 2, 13, 15, 19)', () => {
    const e = entity('urn:x:1', `${EX}Vehicle`, {
      [`${DEF}name`]: [
        { type: 'Property', value: 'David Robert Jones' },
        { type: 'Property', value: 'David Bowie', datasetId: 'urn:ngsi-ld:datasetId:001' },
      ],
      [`${DEF}providedBy`]: [
        { type: 'Relationship', object: 'urn:ngsi-ld:Device:31415' },
        { type: 'Relationship', object: 'urn:ngsi-ld:Device:27182', datasetId: 'urn:ngsi-ld:datasetId:001' },
      ],
      [`${DEF}periods`]: [
        { type: 'ListProperty', valueList: ['First', 'Second'] },
        { type: 'ListProperty', valueList: ['1st', '2nd'], datasetId: 'urn:ngsi-ld:datasetId:001' },
      ],
      [`${DEF}route`]: [
        { type: 'ListRelationship', objectList: ['urn:ngsi-ld:BusStop:0101'] },
        { type: 'ListRelationship', objectList: ['urn:ngsi-ld:BusStop:0022'], datasetId: 'urn:ngsi-ld:datasetId:001' },
      ],
    });
    expect(renderEntity(e, ctx, simplified)).toStrictEqual({
      id: 'urn:x:1',
      type: 'Vehicle',
      name: { dataset: { '@none': 'David Robert Jones', 'urn:ngsi-ld:datasetId:001': 'David Bowie' } },
      providedBy: {
        dataset: { '@none': 'urn:ngsi-ld:Device:31415', 'urn:ngsi-ld:datasetId:001': 'urn:ngsi-ld:Device:27182' },
      },
      periods: { dataset: { '@none': ['First', 'Second'], 'urn:ngsi-ld:datasetId:001': ['1st', '2nd'] } },
      route: {
        dataset: { '@none': ['urn:ngsi-ld:BusStop:0101'], 'urn:ngsi-ld:datasetId:001': ['urn:ngsi-ld:BusStop:0022'] },
      },
    });
  });

  it('renders a single instance with a datasetId as an object (normalized, concise) and a plain value (simplified)', () => {
    const e = entity('urn:x:1', `${EX}Vehicle`, {
      [`${EX}speed`]: { type: 'Property', value: 55, datasetId: 'urn:ds:1' },
    });
    expect(renderEntity(e, ctx, normalized).speed).toStrictEqual({ type: 'Property', value: 55, datasetId: 'urn:ds:1' });
    expect(renderEntity(e, ctx, concise).speed).toStrictEqual({ value: 55, datasetId: 'urn:ds:1' });
    expect(renderEntity(e, ctx, simplified).speed).toBe(55);
  });
});

describe('sub-attributes nested twice (4.5.2.2, 4.5.2.3, 4.5.3.2, 4.5.3.3)', () => {
  const nested = entity('urn:x:1', `${EX}Vehicle`, {
    [`${EX}speed`]: {
      type: 'Property',
      value: 80,
      unitCode: 'KMH',
      sub: {
        [`${DEF}measuredBy`]: attr({
          type: 'Relationship',
          object: 'urn:ngsi-ld:Device:1',
          sub: {
            [`${DEF}accuracy`]: attr({ type: 'Property', value: 0.95 }),
            [`${DEF}label`]: attr({ type: 'LanguageProperty', languageMap: { en: 'radar', de: 'Radar' } }),
          },
        }),
        [`${DEF}quality`]: attr({
          type: 'Property',
          value: 'good',
          sub: { [`${DEF}checkedBy`]: attr({ type: 'Relationship', object: 'urn:ngsi-ld:Person:Eve' }) },
        }),
      },
    },
  });

  it('normalized', () => {
    expect(renderEntity(nested, ctx, normalized).speed).toStrictEqual({
      type: 'Property',
      value: 80,
      unitCode: 'KMH',
      measuredBy: {
        type: 'Relationship',
        object: 'urn:ngsi-ld:Device:1',
        accuracy: { type: 'Property', value: 0.95 },
        label: { type: 'LanguageProperty', languageMap: { en: 'radar', de: 'Radar' } },
      },
      quality: {
        type: 'Property',
        value: 'good',
        checkedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Eve' },
      },
    });
  });

  it('concise', () => {
    expect(renderEntity(nested, ctx, concise).speed).toStrictEqual({
      value: 80,
      unitCode: 'KMH',
      measuredBy: {
        object: 'urn:ngsi-ld:Device:1',
        accuracy: 0.95,
        label: { languageMap: { en: 'radar', de: 'Radar' } },
      },
      quality: { value: 'good', checkedBy: { object: 'urn:ngsi-ld:Person:Eve' } },
    });
  });

  it('simplified keeps the first level only (4.5.4)', () => {
    expect(renderEntity(nested, ctx, simplified).speed).toBe(80);
  });
});

describe('system attributes (6.3.11)', () => {
  const e = entity('urn:x:1', `${EX}Vehicle`, {
    [`${EX}speed`]: {
      type: 'Property',
      value: 80,
      sub: { [`${DEF}accuracy`]: attr({ type: 'Property', value: 0.95 }) },
    },
    [`${DEF}owner`]: { type: 'Relationship', object: 'urn:p:1' },
  });

  it('normalized: createdAt/modifiedAt on the entity, every attribute and every sub-attribute', () => {
    expect(renderEntity(e, ctx, { ...normalized, sysAttrs: true })).toStrictEqual({
      id: 'urn:x:1',
      type: 'Vehicle',
      createdAt: T0,
      modifiedAt: T1,
      speed: {
        type: 'Property',
        value: 80,
        createdAt: T0,
        modifiedAt: T1,
        accuracy: { type: 'Property', value: 0.95, createdAt: T0, modifiedAt: T1 },
      },
      owner: { type: 'Relationship', object: 'urn:p:1', createdAt: T0, modifiedAt: T1 },
    });
  });

  it('concise: a Property can no longer be bare', () => {
    expect(renderEntity(e, ctx, { ...concise, sysAttrs: true })).toStrictEqual({
      id: 'urn:x:1',
      type: 'Vehicle',
      createdAt: T0,
      modifiedAt: T1,
      speed: {
        value: 80,
        createdAt: T0,
        modifiedAt: T1,
        accuracy: { value: 0.95, createdAt: T0, modifiedAt: T1 },
      },
      owner: { object: 'urn:p:1', createdAt: T0, modifiedAt: T1 },
    });
  });

  it('simplified: on the entity only (4.5.4 has no room for attribute metadata)', () => {
    expect(renderEntity(e, ctx, { ...simplified, sysAttrs: true })).toStrictEqual({
      id: 'urn:x:1',
      type: 'Vehicle',
      createdAt: T0,
      modifiedAt: T1,
      speed: 80,
      owner: 'urn:p:1',
    });
  });

  it('off: no system attributes anywhere', () => {
    const r = renderEntity(e, ctx, normalized);
    expect(r.createdAt).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain('createdAt');
    expect(JSON.stringify(r)).not.toContain('modifiedAt');
  });
});

describe('attrs filter (5.7.1, 5.7.2 attrs parameter)', () => {
  it('keeps only the named attributes, by expanded name, with their sub-attributes', () => {
    const opts: RenderOptions = {
      ...normalized,
      attrs: new Set([`${DEF}availableSpotNumber`, `${CORE}location`, `${DEF}unknown`]),
    };
    const r = renderEntity(parking, ctx, opts);
    expect(Object.keys(r)).toStrictEqual(['id', 'type', 'availableSpotNumber', 'location']);
    expect(r.availableSpotNumber).toHaveProperty('reliability');
  });

  it('an empty set keeps id and type only', () => {
    expect(renderEntity(parking, ctx, { ...simplified, attrs: new Set() })).toStrictEqual({
      id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      type: 'OffStreetParking',
    });
  });
});

describe('language filter (4.15, 4.5.18, C.2.2, C.5.13)', () => {
  it('normalized: the LanguageProperty becomes a Property with a "lang" member (C.2.2, lang=fr)', () => {
    const r = renderEntity(vehicle, ctx, { ...normalized, lang: 'fr' });
    expect(r.street).toStrictEqual({ type: 'Property', value: 'Grand Place', lang: 'fr' });
    expect(r.brandName).toStrictEqual({ type: 'Property', value: 'Mercedes' });
  });

  it('concise: {"value", "lang"} (C.2.2, lang=fr)', () => {
    expect(renderEntity(vehicle, ctx, { ...concise, lang: 'fr' }).street).toStrictEqual({
      value: 'Grand Place',
      lang: 'fr',
    });
  });

  it('simplified: the bare string (C.2.2 "Simplified Representation of Natural Language Attributes")', () => {
    const r = renderEntity(vehicle, ctx, { ...simplified, lang: 'fr' });
    expect(r.street).toBe('Grand Place');
    expect(r.category).toStrictEqual({ vocab: 'non-commercial' });
  });

  it('applies to sub-attributes too, keeping their metadata', () => {
    const e = entity('urn:x:1', `${EX}Vehicle`, {
      [`${EX}speed`]: {
        type: 'Property',
        value: 1,
        sub: {
          [`${DEF}label`]: attr({
            type: 'LanguageProperty',
            languageMap: { en: 'fast', de: 'schnell' },
            observedAt: '2020-01-01T00:00:00Z',
          }),
        },
      },
    });
    expect(renderEntity(e, ctx, { ...normalized, lang: 'de' }).speed).toStrictEqual({
      type: 'Property',
      value: 1,
      label: { type: 'Property', value: 'schnell', lang: 'de', observedAt: '2020-01-01T00:00:00Z' },
    });
  });

  describe('matching rules', () => {
    const map = { '@none': 'default', en: 'hello', 'en-GB': 'hello mate', fr: 'bonjour', 'fr-CH': 'grüezi', de: 'hallo' };
    const pick = (lang: string, m: Record<string, string | string[]> = map) => pickLanguage(m, parseLangFilter(lang));

    it('exact tag, case-insensitively (EXAMPLE 1)', () => {
      expect(pick('en')).toStrictEqual({ tag: 'en', value: 'hello' });
      expect(pick('EN-gb')).toStrictEqual({ tag: 'en-GB', value: 'hello mate' });
    });

    it('comma list with no ranking: first listed match wins (EXAMPLE 2)', () => {
      expect(pick('fr-CH,fr')).toStrictEqual({ tag: 'fr-CH', value: 'grüezi' });
      expect(pick('it,fr')).toStrictEqual({ tag: 'fr', value: 'bonjour' });
    });

    it('q-weights order the ranges (EXAMPLE 4)', () => {
      expect(pick('fr;q=0.5,de;q=0.9')).toStrictEqual({ tag: 'de', value: 'hallo' });
      expect(pick('es,it;q=0.9,en;q=0.8,*;q=0.5')).toStrictEqual({ tag: 'en', value: 'hello' });
      expect(pick('fr;q=0,de')).toStrictEqual({ tag: 'de', value: 'hallo' });
      expect(pick('fr;q=0')).toStrictEqual({ tag: '@none', value: 'default' });
    });

    it('RFC 4647 lookup (fr-BE falls back to fr) and basic filtering (nl matches nl-BE)', () => {
      expect(pick('fr-BE')).toStrictEqual({ tag: 'fr', value: 'bonjour' });
      expect(pick('nl', { de: 'a', 'nl-BE': 'b' })).toStrictEqual({ tag: 'nl-BE', value: 'b' });
    });

    it('"*" selects any language, the @none one first (EXAMPLE 3)', () => {
      expect(pick('*')).toStrictEqual({ tag: '@none', value: 'default' });
      expect(pick('*', { nl: 'Grote Markt', fr: 'Grand Place' })).toStrictEqual({ tag: 'nl', value: 'Grote Markt' });
    });

    it('no matching language falls back to @none, else to any language', () => {
      expect(pick('ja')).toStrictEqual({ tag: '@none', value: 'default' });
      expect(pick('ja', { fr: 'Grand Place', nl: 'Grote Markt' })).toStrictEqual({ tag: 'fr', value: 'Grand Place' });
      const r = renderEntity(vehicle, ctx, { ...normalized, lang: 'ja' });
      expect(r.street).toStrictEqual({ type: 'Property', value: 'Grand Place', lang: 'fr' });
    });

    it('an array of strings is kept as the value', () => {
      expect(pick('en', { en: ['a', 'b'] })).toStrictEqual({ tag: 'en', value: ['a', 'b'] });
    });
  });
});

describe('GeoJSON representation (4.5.16, 4.5.17, 6.3.15, C.2.3)', () => {
  it('normalized Feature: geometry from "location", properties = entity without id (4.5.16.2, C.2.3)', () => {
    expect(renderFeature(parking, ctx, normalized)).toStrictEqual({
      id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [-8.5, 41.2] },
      properties: {
        type: 'OffStreetParking',
        name: { type: 'Property', value: 'Downtown One' },
        availableSpotNumber: {
          type: 'Property',
          value: 121,
          observedAt: '2017-07-29T12:05:02Z',
          reliability: { type: 'Property', value: 0.7 },
          providedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Camera:C1' },
        },
        totalSpotNumber: { type: 'Property', value: 200 },
        location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-8.5, 41.2] } },
      },
    });
  });

  it('concise Feature (C.2.3 "Concise GeoJSON Representation")', () => {
    expect(renderFeature(parking, ctx, concise)).toStrictEqual({
      id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [-8.5, 41.2] },
      properties: {
        type: 'OffStreetParking',
        name: 'Downtown One',
        availableSpotNumber: {
          value: 121,
          observedAt: '2017-07-29T12:05:02Z',
          reliability: 0.7,
          providedBy: { object: 'urn:ngsi-ld:Camera:C1' },
        },
        totalSpotNumber: 200,
        location: { type: 'Point', coordinates: [-8.5, 41.2] },
      },
    });
  });

  it('simplified Feature (4.5.17.1, C.2.3 "Simplified GeoJSON Representation")', () => {
    expect(renderFeature(parking, ctx, simplified)).toStrictEqual({
      id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [-8.5, 41.2] },
      properties: {
        type: 'OffStreetParking',
        name: 'Downtown One',
        availableSpotNumber: 121,
        totalSpotNumber: 200,
        location: { type: 'Point', coordinates: [-8.5, 41.2] },
      },
    });
  });

  const twoPlaces = entity('urn:ngsi-ld:OffStreetParking:Downtown2', [`${EX}OffStreetParking`, `${DEF}Place`], {
    [`${DEF}name`]: { type: 'Property', value: 'Downtown Two' },
    [`${CORE}location`]: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-8.51, 41.1] } },
    [`${DEF}entrance`]: {
      type: 'GeoProperty',
      value: { type: 'LineString', coordinates: [[0, 0], [1, 1]] },
      observedAt: '2020-01-01T00:00:00Z',
    },
  });

  it('explicit geometryProperty selects another GeoProperty (4.5.16.1, 6.3.15)', () => {
    const f = renderFeature(twoPlaces, ctx, { ...concise, geometryProperty: `${DEF}entrance` });
    expect(f.geometry).toStrictEqual({ type: 'LineString', coordinates: [[0, 0], [1, 1]] });
    expect(f.properties).toStrictEqual({
      type: ['OffStreetParking', 'Place'],
      name: 'Downtown Two',
      location: { type: 'Point', coordinates: [-8.51, 41.1] },
      entrance: { value: { type: 'LineString', coordinates: [[0, 0], [1, 1]] }, observedAt: '2020-01-01T00:00:00Z' },
    });
  });

  it('geometry is null without the GeoProperty, or when the selected attribute holds no geometry (4.5.16.1)', () => {
    expect(renderFeature(ticketed, ctx, normalized)).toStrictEqual({
      id: 'urn:ngsi-ld:Vehicle:B1',
      type: 'Feature',
      geometry: null,
      properties: {
        type: 'Vehicle',
        parkingTickets: {
          type: 'JsonProperty',
          json: { id: '85a6cc52-0589-45f9', value: 'Overstay 60 minutes' },
        },
      },
    });
    expect(renderFeature(parking, ctx, { ...normalized, geometryProperty: `${DEF}name` }).geometry).toBeNull();
    expect(renderFeature(parking, ctx, { ...normalized, geometryProperty: `${DEF}nothing` }).geometry).toBeNull();
  });

  it('multi-instance GeoProperty: the default instance, else the only one, else null (4.5.16.1)', () => {
    const p = (c: number[], datasetId?: string): AttrInit => ({
      type: 'GeoProperty',
      value: { type: 'Point', coordinates: c },
      ...(datasetId !== undefined ? { datasetId } : {}),
    });
    const withDefault = entity('urn:x:1', `${EX}Vehicle`, { [`${CORE}location`]: [p([1, 1], 'urn:ds:1'), p([2, 2])] });
    expect(selectGeometry(withDefault)).toStrictEqual({ type: 'Point', coordinates: [2, 2] });
    const onlyOne = entity('urn:x:1', `${EX}Vehicle`, { [`${CORE}location`]: [p([3, 3], 'urn:ds:1')] });
    expect(selectGeometry(onlyOne, DEFAULT_GEOMETRY_PROPERTY)).toStrictEqual({ type: 'Point', coordinates: [3, 3] });
    const noDefault = entity('urn:x:1', `${EX}Vehicle`, {
      [`${CORE}location`]: [p([1, 1], 'urn:ds:1'), p([2, 2], 'urn:ds:2')],
    });
    expect(selectGeometry(noDefault)).toBeNull();
  });

  it('geometry does not depend on the attrs filter; properties do', () => {
    const f = renderFeature(parking, ctx, { ...simplified, attrs: new Set([`${DEF}name`]) });
    expect(f.geometry).toStrictEqual({ type: 'Point', coordinates: [-8.5, 41.2] });
    expect(f.properties).toStrictEqual({ type: 'OffStreetParking', name: 'Downtown One' });
  });

  it('FeatureCollection of simplified Features, without per-Feature @context (4.5.17.2, C.2.3)', () => {
    expect(renderFeatureCollection([parking, twoPlaces], ctx, simplified)).toStrictEqual({
      type: 'FeatureCollection',
      features: [
        {
          id: 'urn:ngsi-ld:OffStreetParking:Downtown1',
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [-8.5, 41.2] },
          properties: {
            type: 'OffStreetParking',
            name: 'Downtown One',
            availableSpotNumber: 121,
            totalSpotNumber: 200,
            location: { type: 'Point', coordinates: [-8.5, 41.2] },
          },
        },
        {
          id: 'urn:ngsi-ld:OffStreetParking:Downtown2',
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [-8.51, 41.1] },
          properties: {
            type: ['OffStreetParking', 'Place'],
            name: 'Downtown Two',
            location: { type: 'Point', coordinates: [-8.51, 41.1] },
            entrance: { type: 'LineString', coordinates: [[0, 0], [1, 1]] },
          },
        },
      ],
    });
  });

  it('FeatureCollection with normalized Features, explicit geometryProperty and an entity without geometry (4.5.16.3)', () => {
    const fc = renderFeatureCollection([twoPlaces, ticketed], ctx, {
      ...normalized,
      sysAttrs: true,
      geometryProperty: `${DEF}entrance`,
    });
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.map((f) => f.geometry)).toStrictEqual([
      { type: 'LineString', coordinates: [[0, 0], [1, 1]] },
      null,
    ]);
    expect(fc.features[0]!.properties).toMatchObject({
      type: ['OffStreetParking', 'Place'],
      createdAt: T0,
      modifiedAt: T1,
      name: { type: 'Property', value: 'Downtown Two', createdAt: T0, modifiedAt: T1 },
    });
    expect(fc.features[0]!.properties).not.toHaveProperty('id');
    expect(renderFeatureCollection([], ctx, normalized)).toStrictEqual({ type: 'FeatureCollection', features: [] });
  });
});

describe('renderEntities (4.5.1 over a query result)', () => {
  it('renders each entity like renderEntity', () => {
    expect(renderEntities([parking, vehicle], ctx, concise)).toStrictEqual([
      renderEntity(parking, ctx, concise),
      renderEntity(vehicle, ctx, concise),
    ]);
  });
});

describe('performance (a few µs per 10-attribute entity)', () => {
  it('renders a 10-attribute entity quickly in every format', () => {
    const attrs: Record<string, AttrInit> = {};
    for (let i = 0; i < 10; i++) {
      attrs[`${DEF}attr${i}`] =
        i % 3 === 0
          ? { type: 'Property', value: i, observedAt: T0, sub: { [`${DEF}acc`]: attr({ type: 'Property', value: 1 }) } }
          : i % 3 === 1
            ? { type: 'Relationship', object: `urn:x:${i}` }
            : { type: 'Property', value: `v${i}` };
    }
    const e = entity('urn:x:perf', `${EX}Vehicle`, attrs);
    const n = 20_000;
    for (const format of ['normalized', 'concise', 'simplified'] as const) {
      const opts: RenderOptions = { format, sysAttrs: true };
      for (let i = 0; i < 2000; i++) renderEntity(e, ctx, opts);
      const t = performance.now();
      for (let i = 0; i < n; i++) renderEntity(e, ctx, opts);
      const perEntityUs = ((performance.now() - t) * 1000) / n;
      // generous bound (CI machines, coverage); measured well under 5 µs locally
      expect(perEntityUs).toBeLessThan(50);
    }
  });
});
