import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { compileSubscription } from '../../src/subscriptions/compile.js';
import type { StoredSubscription } from '../../src/model/subscription.js';
import { mergeSubscription, parseSubscription } from '../../src/subscriptions/parse.js';
import { renderSubscription } from '../../src/subscriptions/render.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const EX = 'https://example.org/ns#';
const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
let core: LdContext;
let ctx: LdContext;

beforeAll(async () => {
  const resolver = new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 });
  core = await resolver.resolve();
  ctx = await resolver.resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed`, loc: `${EX}loc` });
});

const endpoint = { uri: 'http://receiver.example/notify' };
const minimal = (extra: Record<string, unknown> = {}) => ({ type: 'Subscription', entities: [{ type: 'Vehicle' }], notification: { endpoint }, ...extra });

function refused(body: unknown, detail: RegExp, c: LdContext = ctx): void {
  let error: unknown;
  try {
    parseSubscription(body, c, NOW);
  } catch (e) {
    error = e;
  }
  expect(error, JSON.stringify(body)).toBeInstanceOf(NgsiError);
  expect((error as NgsiError).kind).toBe('BadRequestData');
  expect((error as NgsiError).message).toMatch(detail);
}

function stored(body: Record<string, unknown>, c: LdContext = ctx): StoredSubscription {
  const p = parseSubscription(body, c, NOW);
  const at = new Date(NOW).toISOString();
  return { id: p.id ?? 'urn:x:s', tenant: '', spec: p.spec, queries: p.queries, context: c.source, createdAt: at, modifiedAt: at, delivery: { timesSent: 0, timesFailed: 0 } };
}

describe('Subscription members (clause 5.2.12)', () => {
  it('accepts a minimal subscription and expands names with the @context (5.5.7)', () => {
    const p = parseSubscription(minimal({ watchedAttributes: ['speed', 'other'] }), ctx, NOW);
    expect(p.id).toBeUndefined();
    expect(p.spec.entities).toEqual([{ type: { op: 'type', iri: `${EX}Vehicle` } }]);
    expect(p.spec.watchedAttributes).toEqual([`${EX}speed`, `${DEFAULT}other`]);
  });

  it('refuses an id that is not a URI, also an empty one (5.2.12; TP/NGSI-LD/CI/SUB/028_03)', () => {
    refused(minimal({ id: 'not a uri' }), /Subscription id "not a uri" is not a valid URI/);
    refused(minimal({ id: '' }), /Subscription id "" is not a valid URI/);
  });

  it('refuses a type other than "Subscription" and a missing type', () => {
    refused(minimal({ type: 'Entity' }), /"type" must be "Subscription"/);
    const { type: _t, ...noType } = minimal();
    refused(noType, /has no "type"/);
  });

  it('refuses bodies that are not objects, and unknown members', () => {
    refused([], /must be object/);
    refused(minimal({ watchedAttribute: ['speed'] }), /member "watchedAttribute", which is not allowed/);
    refused(minimal({ entities: [{ type: 'Vehicle', idPatern: '.*' }] }), /member "idPatern"/);
  });

  it('ignores the read-only members a client sends back (Tables 5.2.12-2, 5.2.14.2-1)', () => {
    const p = parseSubscription(minimal({ status: 'paused', createdAt: 'x', notification: { endpoint, timesSent: 3, status: 'ok' } }), ctx, NOW);
    expect(p.spec).not.toHaveProperty('status');
    expect(p.spec.notification).toEqual({ endpoint });
  });

  it('needs entities or watchedAttributes unless localOnly is true', () => {
    refused({ type: 'Subscription', notification: { endpoint } }, /needs entities or watchedAttributes/);
    expect(() => parseSubscription({ type: 'Subscription', localOnly: true, notification: { endpoint } }, ctx, NOW)).not.toThrow();
  });

  it('refuses empty arrays (entities, watchedAttributes, notificationTrigger, attributes, pick, omit)', () => {
    refused(minimal({ entities: [] }), /"entities" must not be an empty array/);
    refused(minimal({ watchedAttributes: [] }), /"watchedAttributes" must not be an empty array/);
    refused(minimal({ notificationTrigger: [] }), /"notificationTrigger" must not be an empty array/);
    for (const m of ['attributes', 'pick', 'omit']) refused(minimal({ notification: { endpoint, [m]: [] } }), new RegExp(`"notification.${m}" must not be an empty array`));
  });

  it('refuses timeInterval with watchedAttributes or throttling, and without entities (5.2.12)', () => {
    refused(minimal({ timeInterval: 10, watchedAttributes: ['speed'] }), /timeInterval and watchedAttributes cannot be used together/);
    refused(minimal({ timeInterval: 10, throttling: 2 }), /timeInterval and throttling cannot be used together/);
    refused({ type: 'Subscription', timeInterval: 10, localOnly: false, watchedAttributes: ['speed'], notification: { endpoint } }, /cannot be used together/);
    expect(() => parseSubscription(minimal({ timeInterval: 10 }), ctx, NOW)).not.toThrow();
  });

  it('refuses zero or negative throttling and timeInterval; allows fractions (5.2.12; TP/NGSI-LD/CI/SUB/028_05)', () => {
    refused(minimal({ throttling: 0 }), /"throttling" must be > 0/);
    refused(minimal({ throttling: -1 }), /"throttling" must be > 0/);
    refused(minimal({ timeInterval: 0 }), /"timeInterval" must be > 0/);
    refused(minimal({ throttling: '5' }), /"throttling" must be number/);
    expect(parseSubscription(minimal({ throttling: 0.5 }), ctx, NOW).spec.throttling).toBe(0.5);
  });

  it('refuses an unknown notificationTrigger', () => {
    refused(minimal({ notificationTrigger: ['entityChanged'] }), /"notificationTrigger.0" must be one of "entityCreated"/);
  });

  it('checks expiresAt: a DateTime in the future (5.8.1.4)', () => {
    refused(minimal({ expiresAt: 'tomorrow' }), /expiresAt "tomorrow" is not a DateTime/);
    refused(minimal({ expiresAt: '2029-12-31T23:59:59Z' }), /expiresAt .* is not in the future/);
    expect(parseSubscription(minimal({ expiresAt: '2030-06-01T00:00:00Z' }), ctx, NOW).spec.expiresAt).toBe('2030-06-01T00:00:00Z');
  });

  it('refuses invalid q, geoQ and scopeQ with the parsers of the query languages (4.9, 4.10, 4.19)', () => {
    refused(minimal({ q: 'speed>' }), /Invalid q at position/);
    refused(minimal({ scopeQ: '#' }), /Invalid scopeQ/);
    refused(minimal({ geoQ: { georel: 'near', geometry: 'Point', coordinates: [1, 2] } }), /Invalid geo-query/);
    refused(minimal({ geoQ: { georel: 'within', geometry: 'Point' } }), /"geoQ" has no "coordinates"/);
    refused(minimal({ geoQ: { georel: 'within', geometry: 'Polygon', coordinates: [[1, 2]] } }), /Invalid geo-query: coordinates do not form a valid Polygon/);
  });

  it('parses q with expandValues and jsonKeys, and refuses linked-entity q without join (4.9)', () => {
    const p = parseSubscription(minimal({ q: 'speed>30', expandValues: 'speed' }), ctx, NOW);
    expect(p.queries.q).toMatchObject({ kind: 'compare', path: { attr: `${EX}speed` }, op: '>' });
    expect(p.spec.expandValues).toEqual([`${EX}speed`]);
    refused(minimal({ q: 'rel{speed}>1' }), /linked-entity paths/);
    expect(() => parseSubscription(minimal({ q: 'rel{speed}>1', notification: { endpoint, join: 'inline' } }), ctx, NOW)).not.toThrow();
  });

  it('keeps geoQ as given with geoproperty expanded, and parses it', () => {
    const p = parseSubscription(minimal({ geoQ: { georel: 'near;maxDistance==10', geometry: 'Point', coordinates: '[1,2]', geoproperty: 'loc' } }), ctx, NOW);
    expect(p.spec.geoQ).toEqual({ georel: 'near;maxDistance==10', geometry: 'Point', coordinates: '[1,2]', geoproperty: `${EX}loc` });
    expect(p.queries.geo).toMatchObject({ georel: 'near', maxDistance: 10, geoproperty: `${EX}loc`, geometry: { type: 'Point', coordinates: [1, 2] } });
  });

  it('checks entity selectors like Query Entities does (5.2.33): type mandatory, ids URIs, idPattern compiles', () => {
    refused(minimal({ entities: [{ id: 'urn:x:1' }] }), /"entities.0" has no "type"/);
    refused(minimal({ entities: [{ type: 'Vehicle', id: 'x' }] }), /entities\[0\].id must be a URI/);
    refused(minimal({ entities: [{ type: 'Vehicle', idPattern: '(' }] }), /idPattern "\(" is not usable/);
    refused(minimal({ entities: [{ type: 'A;;B' }] }), /Invalid type selection/);
    refused(minimal({ entities: [{ type: '*' }], localOnly: false }), /"\*" implies local scope/);
  });

  it('checks datasetId, lang, jsonldContext and ngsildConformance', () => {
    refused(minimal({ datasetId: ['not a uri'] }), /datasetId "not a uri" is neither a URI nor "@none"/);
    expect(parseSubscription(minimal({ datasetId: '@none' }), ctx, NOW).spec.datasetId).toEqual(['@none']);
    refused(minimal({ lang: 'en;q=2' }), /lang "en;q=2" is not a language filter/);
    expect(parseSubscription(minimal({ lang: 'fr-CH,fr;q=0.9,*;q=0.5' }), ctx, NOW).spec.lang).toBe('fr-CH,fr;q=0.9,*;q=0.5');
    refused(minimal({ jsonldContext: 'urn:x:ctx' }), /jsonldContext "urn:x:ctx" is not a dereferenceable http\(s\) URI/);
    refused(minimal({ ngsildConformance: 'v1' }), /"ngsildConformance" must match pattern/);
  });
});

describe('NotificationParams and Endpoint (clauses 5.2.14, 5.2.15)', () => {
  const withNotification = (n: Record<string, unknown>) => minimal({ notification: { endpoint, ...n } });

  it('refuses endpoint URIs that are not valid, or of another scheme than http, https, mqtt, mqtts (6.3.8, 7.2)', () => {
    refused(withNotification({ endpoint: { uri: 'not a uri' } }), /is not a valid absolute URI/);
    refused(withNotification({ endpoint: { uri: 'ftp://x.org/a' } }), /has scheme "ftp"/);
    refused(withNotification({ endpoint: { uri: 'mqtt://broker.example' } }), /names no topic/);
    refused(withNotification({ endpoint: { uri: 'mqtt://broker.example/t', accept: 'application/geo+json' } }), /cannot be application\/geo\+json for an MQTT endpoint/);
    for (const uri of ['https://x.org/n', 'mqtt://u:p@broker:1883/a/b', 'mqtts://broker/t']) {
      expect(parseSubscription(withNotification({ endpoint: { uri } }), ctx, NOW).spec.notification.endpoint.uri).toBe(uri);
    }
  });

  it('refuses an MQTT topic the MQTT sender would refuse at delivery, such as one with a wildcard (7.2)', () => {
    refused(withNotification({ endpoint: { uri: 'mqtt://broker.example/rooms/+/temperature' } }), /not a valid MQTT endpoint: .*wildcards '\+' and '#' are not allowed in a topic name/);
  });

  it('refuses an unknown accept, non-positive timeout and cooldown, bad key-value pairs', () => {
    refused(withNotification({ endpoint: { ...endpoint, accept: 'text/plain' } }), /"notification.endpoint.accept" must be one of/);
    refused(withNotification({ endpoint: { ...endpoint, timeout: 0 } }), /"notification.endpoint.timeout" must be > 0/);
    refused(withNotification({ endpoint: { ...endpoint, cooldown: -5 } }), /"notification.endpoint.cooldown" must be > 0/);
    refused(withNotification({ endpoint: { ...endpoint, receiverInfo: [{ key: 'X-A' }] } }), /has no "value"/);
    refused(withNotification({ endpoint: { ...endpoint, receiverInfo: [{ key: 'Bad Header', value: 'x' }] } }), /not a valid HTTP header name/);
    refused(withNotification({ endpoint: { ...endpoint, receiverInfo: [{ key: 'X-A', value: 'a\nb' }] } }), /characters an HTTP header cannot carry/);
    refused(withNotification({ endpoint: { ...endpoint, notifierInfo: [{ key: 'MQTT-QoS', value: '3' }] } }), /MQTT-QoS must be one of 0, 1, 2/);
  });

  it('refuses unknown formats, showChanges with keyValues, pick with omit, joinLevel without join', () => {
    refused(withNotification({ format: 'compact' }), /"notification.format" must be one of/);
    refused(withNotification({ format: 'keyValues', showChanges: true }), /showChanges cannot be true with format "keyValues"/);
    refused(withNotification({ pick: ['speed'], omit: ['id'] }), /pick and notification.omit cannot be used together/);
    refused(withNotification({ joinLevel: 2 }), /joinLevel needs notification.join/);
    refused(withNotification({ attributes: ['id'] }), /notification.attributes cannot hold "id"/);
    refused(withNotification({ pick: ['rel{speed}'] }), /linked entities is not supported/);
  });

  it('expands attributes, pick and omit, keeping id, type and scope', () => {
    const p = parseSubscription(withNotification({ attributes: ['speed'], pick: ['id', 'speed|other'] }), ctx, NOW);
    expect(p.spec.notification.attributes).toEqual([`${EX}speed`]);
    expect(p.spec.notification.pick).toEqual(['id', `${EX}speed`, `${DEFAULT}other`]);
  });
});

describe('compiled form (contract with the subscription engine)', () => {
  it('applies the trigger default and expands "entityUpdated" (5.2.12)', () => {
    expect([...compileSubscription(stored(minimal()), NOW).triggers]).toEqual(['attributeCreated', 'attributeUpdated']);
    const t = compileSubscription(stored(minimal({ notificationTrigger: ['entityUpdated', 'entityDeleted'] })), NOW).triggers;
    expect([...t].sort()).toEqual(['attributeCreated', 'attributeDeleted', 'attributeUpdated', 'entityDeleted']);
  });

  it('converts seconds to milliseconds, keyValues to simplified, datasetId @none to undefined, and picks the context', () => {
    const c = compileSubscription(
      stored(minimal({ throttling: 1.5, datasetId: ['@none', 'urn:ds:1'], jsonldContext: 'https://ctx.example/c.jsonld', notification: { format: 'keyValues', endpoint: { ...endpoint, timeout: 500 } } })),
      NOW,
    );
    expect(c.throttlingMs).toBe(1500);
    expect(c.notification.format).toBe('simplified');
    expect(c.notification.endpoint).toEqual({ uri: endpoint.uri, accept: 'application/json', timeoutMs: 500 });
    expect([...c.notification.datasetIds!]).toEqual([undefined, 'urn:ds:1']);
    expect(c.context).toBe('https://ctx.example/c.jsonld');
    expect(compileSubscription(stored(minimal()), NOW).context).toEqual(ctx.source);
  });

  it('builds the selection: id takes precedence over idPattern, "*" selects any type (5.2.33)', () => {
    const c = compileSubscription(stored(minimal({ entities: [{ type: 'Vehicle', id: 'urn:x:1', idPattern: '.*' }, { type: '*', idPattern: 'urn:.*' }], q: 'speed>1', scopeQ: '/a/#' })), NOW);
    expect(c.selection.entities).toEqual([{ ids: ['urn:x:1'], types: { op: 'type', iri: `${EX}Vehicle` } }, { idPattern: 'urn:.*' }]);
    expect(c.selection.q).toBeDefined();
    expect(c.selection.scopeQ).toEqual({ op: 'scope', levels: ['a'], descendants: true });
  });

  it('is inactive when paused or expired', () => {
    expect(compileSubscription(stored(minimal({ isActive: false })), NOW).active).toBe(false);
    const s = stored(minimal({ expiresAt: '2030-01-02T00:00:00Z' }));
    expect(compileSubscription(s, NOW).active).toBe(true);
    expect(compileSubscription(s, Date.parse('2030-01-02T00:00:00Z')).active).toBe(false);
  });

  it('survives a JSON round trip, as the store keeps it', () => {
    const s = stored(minimal({ q: 'speed>1|speed<0', geoQ: { georel: 'within', geometry: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }, scopeQ: '/a' }));
    const again = JSON.parse(JSON.stringify(s)) as StoredSubscription;
    expect(compileSubscription(again, NOW)).toEqual(compileSubscription(s, NOW));
  });
});

describe('Update Subscription fragments (clauses 5.5.8, 5.8.2)', () => {
  it('replaces members, merges notification and endpoint member by member', () => {
    const s = stored(minimal({ notification: { format: 'concise', endpoint: { ...endpoint, accept: 'application/ld+json' } } }));
    const m = mergeSubscription(s, { watchedAttributes: ['speed'], notification: { sysAttrs: true, endpoint: { timeout: 100 } } }, ctx, NOW);
    expect(m.spec.watchedAttributes).toEqual([`${EX}speed`]);
    expect(m.spec.notification).toEqual({ format: 'concise', sysAttrs: true, endpoint: { ...endpoint, accept: 'application/ld+json', timeout: 100 } });
  });

  it('deletes members set to null or "urn:ngsi-ld:null", but not mandatory ones (TP/NGSI-LD/CI/SUB/029_04)', () => {
    const s = stored(minimal({ q: 'speed>1', description: 'd', notification: { endpoint, format: 'keyValues' } }));
    const m = mergeSubscription(s, { q: null, description: 'urn:ngsi-ld:null', notification: { format: null } }, ctx, NOW);
    expect(m.spec.q).toBeUndefined();
    expect(m.queries.q).toBeUndefined();
    expect(m.spec.description).toBeUndefined();
    expect(m.spec.notification.format).toBeUndefined();
    for (const f of [{ notification: null }, { type: null }, { notification: { endpoint: null } }, { notification: { endpoint: { uri: null } } }]) {
      expect(() => mergeSubscription(s, f, ctx, NOW)).toThrow(/mandatory and cannot be deleted/);
    }
  });

  it('re-validates the whole result', () => {
    const s = stored(minimal({ watchedAttributes: ['speed'] }));
    expect(() => mergeSubscription(s, { timeInterval: 5 }, ctx, NOW)).toThrow(/timeInterval and watchedAttributes/);
    expect(() => mergeSubscription(s, { entities: null, watchedAttributes: null }, ctx, NOW)).toThrow(/needs entities or watchedAttributes/);
    expect(() => mergeSubscription(s, { notification: { format: 'keyValues', showChanges: true } }, ctx, NOW)).toThrow(/showChanges/);
  });

  it('refuses another id or type, an empty fragment, an expiresAt in the past (TP/NGSI-LD/CI/SUB/029_11)', () => {
    const s = stored(minimal({ id: 'urn:x:s' }));
    expect(() => mergeSubscription(s, { id: 'urn:x:other' }, ctx, NOW)).toThrow(/cannot be changed/);
    expect(() => mergeSubscription(s, { type: 'Thing' }, ctx, NOW)).toThrow(/must be "Subscription"/);
    expect(() => mergeSubscription(s, { id: 'urn:x:s', type: 'Subscription' }, ctx, NOW)).toThrow(/changes nothing/);
    expect(() => mergeSubscription(s, { expiresAt: '2020-01-01T00:00:00Z' }, ctx, NOW)).toThrow(/not in the future/);
    expect(() => mergeSubscription(s, 'x', ctx, NOW)).toThrow(/must be a Subscription Fragment/);
  });

  it('expands the fragment with its own @context, keeping the others (TP/NGSI-LD/CI/SUB/029_05)', () => {
    const s = stored(minimal({ watchedAttributes: ['speed'] }));
    const m = mergeSubscription(s, { entities: [{ type: 'Vehicle' }] }, core, NOW);
    expect(m.spec.entities).toEqual([{ type: { op: 'type', iri: `${DEFAULT}Vehicle` } }]);
    expect(m.spec.watchedAttributes).toEqual([`${EX}speed`]);
  });

  it('turns an expired, paused subscription active when only a future expiresAt is given (5.8.2.4)', () => {
    const s = stored(minimal({ isActive: false, expiresAt: '2030-01-01T00:00:01Z' }));
    const later = NOW + 10_000;
    expect(mergeSubscription(s, { expiresAt: '2031-01-01T00:00:00Z' }, ctx, later).spec.isActive).toBe(true);
    // Paused but not expired: stays paused.
    const paused = stored(minimal({ isActive: false }));
    expect(mergeSubscription(paused, { expiresAt: '2031-01-01T00:00:00Z' }, ctx, NOW).spec.isActive).toBe(false);
  });
});

describe('rendering (clauses 5.8.3, 6.3.5)', () => {
  it('compacts names with the request @context and adds the status members', () => {
    const s = stored(minimal({ entities: [{ type: '(Vehicle;Car)|Bus' }], watchedAttributes: ['speed'], geoQ: { georel: 'within', geometry: 'Point', coordinates: [1, 2], geoproperty: 'loc' } }));
    const withCtx = renderSubscription(s, { timesSent: 2, timesFailed: 1, status: 'failed', lastFailure: 'T' }, ctx, { sysAttrs: false, now: NOW });
    expect(withCtx).toMatchObject({ entities: [{ type: 'Vehicle;Car,Bus' }], watchedAttributes: ['speed'], geoQ: { geoproperty: 'loc' }, status: 'active' });
    expect(withCtx.notification).toEqual({ endpoint, status: 'failed', timesSent: 2, timesFailed: 1, lastFailure: 'T' });
    const withCore = renderSubscription(s, { timesSent: 0, timesFailed: 0 }, core, { sysAttrs: true, now: NOW });
    expect(withCore).toMatchObject({ watchedAttributes: [`${EX}speed`], createdAt: s.createdAt, modifiedAt: s.modifiedAt });
    expect(withCore.notification).toEqual({ endpoint });
  });

  it('shows status expired and paused', () => {
    expect(renderSubscription(stored(minimal({ isActive: false })), { timesSent: 0, timesFailed: 0 }, ctx, { sysAttrs: false, now: NOW }).status).toBe('paused');
    const s = stored(minimal({ expiresAt: '2030-01-01T00:00:01Z' }));
    expect(renderSubscription(s, { timesSent: 0, timesFailed: 0 }, ctx, { sysAttrs: false, now: NOW + 1000 }).status).toBe('expired');
  });
});
