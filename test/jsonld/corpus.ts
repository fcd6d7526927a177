/** A corpus of NGSI-LD entities (normalized form) and user @contexts for comparing the fast path with jsonld.js. */
import type { ContextDefinition } from '../../src/jsonld/types.js';

export interface NamedContext {
  name: string;
  /** The user part; undefined means core only. The effective context is [user..., core]. */
  def: ContextDefinition | undefined;
}

const SDM = 'https://smartdatamodels.org/';

export const CONTEXTS: NamedContext[] = [
  { name: 'core', def: undefined },
  {
    name: 'plain',
    def: {
      Building: 'https://example.org/Building',
      name: 'https://example.org/name',
      address: 'https://example.org/address',
      streetAddress: 'https://example.org/streetAddress',
      temperature: 'https://example.org/temperature',
      accuracy: 'https://example.org/accuracy',
      owner: 'https://example.org/owner',
      Person: 'https://example.org/Person',
    },
  },
  {
    name: 'prefix',
    def: {
      schema: 'https://schema.org/',
      ex: 'https://example.org/',
      name: 'schema:name',
      Building: 'ex:Building',
      address: 'schema:address',
      streetAddress: 'schema:streetAddress',
      PostalAddress: 'schema:PostalAddress',
      owner: { '@id': 'schema:owner', '@type': '@id' },
    },
  },
  {
    name: 'vocab',
    def: {
      '@vocab': 'https://vocab.example.org/',
      xsd: 'http://www.w3.org/2001/XMLSchema#',
      Building: {},
      temperature: { '@type': 'xsd:float' },
      status: 'https://vocab.example.org/status',
    },
  },
  {
    name: 'sdm',
    def: {
      sdm: SDM,
      Building: `${SDM}dataModel.Building/Building`,
      address: `${SDM}address`,
      streetAddress: `${SDM}streetAddress`,
      addressLocality: `${SDM}addressLocality`,
      PostalAddress: `${SDM}PostalAddress`,
      name: `${SDM}name`,
      nameAlias: `${SDM}name`,
      category: { '@id': `${SDM}dataModel.Building/category`, '@type': '@vocab' },
      residential: `${SDM}dataModel.Building/residential`,
      owner: { '@id': `${SDM}dataModel.Building/owner`, '@type': '@id' },
      refMap: { '@id': `${SDM}dataModel.Building/refMap`, '@type': '@id' },
      dateObserved: { '@id': `${SDM}dateObserved`, '@type': 'https://uri.etsi.org/ngsi-ld/DateTime' },
      temperature: `${SDM}temperature`,
      tags: { '@id': `${SDM}tags`, '@container': '@set' },
    },
  },
  {
    name: 'array',
    def: [
      {
        name: 'https://example.org/name',
        temperature: 'https://example.org/temperature',
        Person: 'https://example.org/Person',
        // Not a prefix (its IRI does not end in a gen-delim): "exo:..." names must not expand or compact through it.
        exo: 'https://example.org/o',
      },
      {
        dc: 'http://purl.org/dc/elements/1.1/',
        foaf: 'http://xmlns.com/foaf/0.1/',
        name: 'foaf:name',
        creator: 'dc:creator',
        knows: { '@id': 'foaf:knows', '@type': '@id' },
      },
    ],
  },
];

const now = '2024-01-01T00:00:00Z';

export const ENTITIES: Record<string, unknown>[] = [
  {
    id: 'urn:ngsi-ld:Building:1',
    type: 'Building',
    name: { type: 'Property', value: 'Main tower' },
    address: {
      type: 'Property',
      value: { type: 'PostalAddress', streetAddress: 'Main 1', addressLocality: 'Tokyo', postalCode: '100' },
    },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [139.7, 35.6] } },
    category: { type: 'VocabProperty', vocab: ['residential', 'commercial'] },
    owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:1', objectType: 'Person' },
  },
  {
    id: 'urn:ngsi-ld:Sensor:1',
    type: ['Sensor', 'Device'],
    temperature: {
      type: 'Property',
      value: 21.5,
      observedAt: now,
      unitCode: 'CEL',
      accuracy: { type: 'Property', value: 0.5 },
      providedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Device:9' },
    },
    status: { type: 'Property', value: 'ok' },
  },
  {
    id: 'urn:ngsi-ld:Place:1',
    type: 'Place',
    area: {
      type: 'GeoProperty',
      value: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] },
    },
    street: { type: 'LanguageProperty', languageMap: { en: 'Main street', ja: '本通り' } },
  },
  {
    id: 'urn:ngsi-ld:Config:1',
    type: 'Config',
    config: { type: 'JsonProperty', json: { name: 'x', nested: { streetAddress: 'kept as is' }, type: 'Raw' } },
    dateObserved: { type: 'Property', value: { '@type': 'DateTime', '@value': now } },
  },
  {
    id: 'urn:ngsi-ld:Series:1',
    type: 'Series',
    readings: { type: 'ListProperty', valueList: [1, 2, { temperature: 3, type: 'Reading' }] },
    members: { type: 'ListRelationship', objectList: [{ object: 'urn:ngsi-ld:Person:1' }, { object: 'urn:ngsi-ld:Person:2' }] },
  },
  {
    id: 'urn:ngsi-ld:Thing:1',
    type: 'Thing',
    'https://example.org/custom#attr': { type: 'Property', value: 1 },
    'urn:example:attr': { type: 'Property', value: 2 },
    'ngsi-ld:extra': { type: 'Property', value: 3 },
    'exo:wner': { type: 'Property', value: 4 },
  },
  {
    id: 'urn:ngsi-ld:Thing:2',
    type: 'schema:Thing',
    'schema:name': { type: 'Property', value: 'with a compact IRI name' },
  },
  {
    id: 'urn:ngsi-ld:Building:2',
    type: 'Building',
    temperature: [
      { type: 'Property', value: 20, datasetId: 'urn:ngsi-ld:Dataset:a' },
      { type: 'Property', value: 22, datasetId: 'urn:ngsi-ld:Dataset:b' },
    ],
    refMap: { type: 'Relationship', object: 'urn:ngsi-ld:Map:1' },
  },
  {
    id: 'urn:ngsi-ld:Person:1',
    type: 'Person',
    name: { type: 'Property', value: 'Alice' },
    knows: { type: 'Relationship', object: ['urn:ngsi-ld:Person:2', 'urn:ngsi-ld:Person:3'] },
    creator: { type: 'Property', value: { name: 'Bob', knows: 'urn:ngsi-ld:Person:2' } },
  },
  {
    id: 'urn:ngsi-ld:Shape:1',
    type: 'Shape',
    // A GeoJSON-looking compound value in a plain Property: its keys are names like any other.
    shape: { type: 'Property', value: { type: 'LineString', coordinates: [[0, 0], [1, 1]] } },
  },
  {
    id: 'urn:ngsi-ld:Doc:1',
    type: 'Document',
    meta: {
      type: 'Property',
      value: [
        { type: ['Tag', 'Label'], label: 'a', score: 1 },
        { type: 'Tag', label: 'b', extra: { deep: { deeper: true } } },
      ],
    },
    tags: { type: 'Property', value: ['x', 'y'] },
  },
  {
    id: 'urn:ngsi-ld:Building:3',
    type: ['Building', 'https://example.org/types#Landmark'],
    name: { type: 'Property', value: 'Old hall', dateObserved: { type: 'Property', value: now } },
    category: { type: 'VocabProperty', vocab: 'residential' },
    address: { type: 'Property', value: { streetAddress: 'Side 2', address: { streetAddress: 'nested' } } },
  },
  {
    id: 'urn:ngsi-ld:Vehicle:1',
    type: 'Vehicle',
    speed: { type: 'Property', value: 80, unitCode: 'KMH', observedAt: now },
    isParked: { type: 'Relationship', object: 'urn:ngsi-ld:Parking:1', objectType: ['Parking', 'Place'] },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [1, 2] }, observedAt: now },
  },
  {
    id: 'urn:ngsi-ld:Room:1',
    type: 'Room',
    capacity: { type: 'Property', value: { min: 1, max: 10, value: 5 } },
    nameAlias: { type: 'Property', value: 'R1' },
    status: { type: 'VocabProperty', vocab: ['open', 'https://example.org/states#closed'] },
  },
  {
    id: 'urn:ngsi-ld:Org:1',
    type: 'Organization',
    members: { type: 'Property', value: [{ type: 'Person', name: 'A' }, { type: 'Person', name: 'B' }] },
    owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:1', since: { type: 'Property', value: now } },
  },
];
