import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { Attribute, Entity } from '../../src/model/entity.js';
import { matchesQ, qAttributes, qCandidateAttributes, qUsesLinkedEntities, type QEvalOptions } from '../../src/query/q-eval.js';
import { parseQ, type QParseOptions } from '../../src/query/q-parser.js';

/** Clause 4.9 comparison semantics on the internal entity model (expanded names, normalized attributes). */

const D = 'https://uri.etsi.org/ngsi-ld/default-context/';
const T0 = '2024-01-01T00:00:00Z';
let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 }).resolve(undefined);
});

const prop = (value: unknown, extra: Partial<Attribute> = {}): Attribute => ({ type: 'Property', value, createdAt: T0, modifiedAt: T0, ...extra });
const attrOf = (type: Attribute['type'], members: Partial<Attribute>): Attribute => ({ type, createdAt: T0, modifiedAt: T0, ...members });
const rel = (object: string | string[], extra: Partial<Attribute> = {}) => attrOf('Relationship', { object, ...extra });
const lang = (languageMap: Record<string, string | string[]>) => attrOf('LanguageProperty', { languageMap });

function entity(attrs: Record<string, Attribute | Attribute[]>, id = 'urn:ngsi-ld:T:1', type = 'T'): Entity {
  return {
    id,
    type: [D + type],
    createdAt: T0,
    modifiedAt: T0,
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [D + k, Array.isArray(v) ? v : [v]])),
  };
}

const match = (q: string, e: Entity, parse?: QParseOptions, evalOpts?: QEvalOptions) => matchesQ(parseQ(q, ctx, parse), e, evalOpts);

describe('clause 4.9 examples', () => {
  const car = entity({ speed: prop(80), rpm: prop(2000), brandName: prop('Volvo'), isParked: rel('urn:ngsi-ld:OffStreetParking:Downtown1') });

  it('EXAMPLE 0-5: existence, ==, !=, relationship objects, AND', () => {
    expect(match('speed', car)).toBe(true);
    expect(match('temperature', car)).toBe(false);
    expect(match('speed==80', car)).toBe(true);
    expect(match('brandName!="Mercedes"', car)).toBe(true);
    expect(match('isParked=="urn:ngsi-ld:OffStreetParking:Downtown1"', car)).toBe(true);
    expect(match('isParked==urn:ngsi-ld:OffStreetParking:Downtown1', car)).toBe(true);
    expect(match('isParked=="urn:ngsi-ld:OffStreetParking:Other"', car)).toBe(false);
    expect(match('speed>50;brandName!="Mercedes"', car)).toBe(true);
    expect(match('speed>50;brandName!="Volvo"', car)).toBe(false);
  });

  it('EXAMPLE 6 and 7: associations and AND over OR', () => {
    expect(match('((speed>90|rpm>1000);brandName=="Volvo")', car)).toBe(true);
    expect(match('((speed>90|rpm>3000);brandName=="Volvo")', car)).toBe(false);
    expect(match('(speed>=20;speed<=25)|rpm<=2000', car)).toBe(true);
    expect(match('speed<=25;speed>=20|rpm<=1000', car)).toBe(false);
  });

  it('EXAMPLE 8: observedAt compared as an instant', () => {
    const e = entity({ temperature: prop(20, { observedAt: '2017-12-24T12:30:00.000Z' }) });
    expect(match('temperature.observedAt>=2017-12-24T12:00:00Z', e)).toBe(true);
    expect(match('temperature.observedAt>=2017-12-24T14:00:00+01:00', e)).toBe(false);
    expect(match('temperature.observedAt==2017-12-24T13:30:00+01:00', e)).toBe(true);
    expect(match('temperature.observedAt<2017-12-24T12:30:00.000001Z', e)).toBe(true);
    expect(match('temperature.unitCode', e)).toBe(false);
  });

  it('EXAMPLE 9 and 10: trailing paths into compound values', () => {
    const place = entity({ address: prop({ [D + 'city']: 'Berlin', [D + 'street']: 'Ulrich Strasse' }) });
    expect(match('address[city]=="Berlin"', place)).toBe(true);
    expect(match('address[street]=="Berlin"', place)).toBe(false);
    expect(match('address[zip]', place)).toBe(false);
    expect(match('address[zip]!="x"', place)).toBe(false); // no defined value: no target element
    const sensor = entity({
      sensor: prop(40, { sub: { [D + 'rawdata']: prop({ [D + 'airquality']: { [D + 'particulate']: 40, [D + 'PM20']: 85 } }) } }),
    });
    expect(match('sensor.rawdata[airquality.particulate]==40', sensor)).toBe(true);
    expect(match('sensor.rawdata[airquality][PM20]>80', sensor)).toBe(true);
    expect(match('sensor.rawdata', sensor)).toBe(true);
    expect(match('sensor.other', sensor)).toBe(false);
  });

  it('EXAMPLE 11: JsonProperty keys are raw', () => {
    const car2 = entity({ parkingTickets: attrOf('JsonProperty', { json: { id: '85a6cc52-0589-45f9', value: 'Overstay 60 minutes' } }) });
    expect(match('parkingTickets[value]=="Overstay 60 minutes"', car2, { jsonKeys: ['parkingTickets'] })).toBe(true);
    // The json member is never expanded, so its keys are compared raw even without jsonKeys.
    expect(match('parkingTickets[id]=="85a6cc52-0589-45f9"', car2)).toBe(true);
  });

  it('EXAMPLE 12: VocabProperty values compare expanded', () => {
    const person = entity({ gender: attrOf('VocabProperty', { vocab: D + 'Male' }) });
    expect(match('gender==Male', person, { expandValues: ['gender'] })).toBe(true);
    expect(match('gender==Male', person)).toBe(true);
    expect(match('gender=="Male"', person)).toBe(true);
    expect(match('gender==Female', person)).toBe(false);
    expect(match(`gender=="${D}Male"`, person)).toBe(true);
  });

  it('EXAMPLE 13 and 14: linked-entity paths follow Relationships through resolveLinked', () => {
    const device = entity({ humidity: prop(40) }, 'urn:ngsi-ld:Device:345', 'Device');
    const station = entity({ sensor: rel('urn:ngsi-ld:Device:345', { objectType: D + 'Device' }) }, 'urn:ngsi-ld:WeatherStation:123', 'WeatherStation');
    const resolveLinked = (id: string) => (id === device.id ? device : undefined);
    expect(match('sensor{humidity}==40', station, undefined, { resolveLinked })).toBe(true);
    expect(match('sensor{humidity}==41', station, undefined, { resolveLinked })).toBe(false);
    expect(match('sensor{Device:humidity}==40', station, undefined, { resolveLinked })).toBe(true);
    expect(match('sensor{Building,Car:humidity}==40', station, undefined, { resolveLinked })).toBe(false);
    expect(match('!sensor{pressure}', station, undefined, { resolveLinked })).toBe(true);
    expect(() => match('sensor{humidity}==40', station)).toThrowError(NgsiError);
  });
});

describe('equal and unequal (clause 4.9 semantics list)', () => {
  it('== matches a value included in an array, != one not included', () => {
    const e = entity({ color: prop(['blue', 'red', 'green']) });
    expect(match('color=="red"', e)).toBe(true);
    expect(match('color!="red"', e)).toBe(false);
    expect(match('color!="black"', e)).toBe(true);
  });

  it('value lists: any of the values, or none of them', () => {
    expect(match('color=="black","red"', entity({ color: prop('red') }))).toBe(true);
    expect(match('color=="black","red"', entity({ color: prop(['red', 'blue']) }))).toBe(true);
    expect(match('color!="black","red"', entity({ color: prop('blue') }))).toBe(true);
    expect(match('color!="black","red"', entity({ color: prop(['blue', 'yellow', 'green']) }))).toBe(true);
    expect(match('color!="black","red"', entity({ color: prop(['blue', 'red', 'green']) }))).toBe(false);
  });

  it('ranges include both bounds', () => {
    expect(match('temperature==10..20', entity({ temperature: prop(15) }))).toBe(true);
    expect(match('temperature==10..20', entity({ temperature: prop(20) }))).toBe(true);
    expect(match('temperature!=10..20', entity({ temperature: prop(9) }))).toBe(true);
    expect(match('temperature!=10..20', entity({ temperature: prop(15) }))).toBe(false);
    expect(match('d==2024-01-01..2024-01-31', entity({ d: prop('2024-01-15') }))).toBe(true);
    expect(match('t==08:00:00Z..17:00:00Z', entity({ t: prop('12:00:00Z') }))).toBe(true);
    expect(match('n=="a".."m"', entity({ n: prop('kiwi') }))).toBe(true);
  });

  it('different data types do not match ==, are unequal for !=, and never throw', () => {
    const e = entity({ temperature: prop(20), flag: prop(true), obj: prop({ [D + 'x']: 1 }) });
    expect(match('temperature=="20"', e)).toBe(false);
    expect(match('temperature!="20"', e)).toBe(true);
    expect(match('temperature>"1"', e)).toBe(false);
    expect(match('temperature>2017-01-01T00:00:00Z', e)).toBe(false);
    expect(match('flag==true', e)).toBe(true);
    expect(match('flag==1', e)).toBe(false);
    expect(match('obj==1', e)).toBe(false);
    expect(match('obj!=1', e)).toBe(true);
  });

  it('!= requires the target element: a missing attribute matches neither == nor !=', () => {
    const e = entity({ other: prop(1) });
    expect(match('color=="red"', e)).toBe(false);
    expect(match('color!="red"', e)).toBe(false);
    expect(match('!color', e)).toBe(true);
    expect(match('!other', e)).toBe(false);
  });

  it('multi-instance attributes: any instance (clause 4.5.5)', () => {
    const e = entity({ temperature: [prop(10), prop(30, { datasetId: 'urn:ds:2' })] });
    expect(match('temperature==30', e)).toBe(true);
    expect(match('temperature<15', e)).toBe(true);
    expect(match('temperature!=10', e)).toBe(true); // the instance holding 30
    expect(match('temperature.datasetId=="urn:ds:2"', e)).toBe(true);
    expect(match('temperature.datasetId==urn:ds:3', e)).toBe(false);
  });

  it('JSON-LD typed values compare by their @value', () => {
    const e = entity({ at: prop({ '@type': 'https://uri.etsi.org/ngsi-ld/DateTime', '@value': '2024-05-01T00:00:00Z' }) });
    expect(match('at>2024-04-30T23:59:59Z', e)).toBe(true);
  });
});

describe('LanguageProperty (clause 4.9, 4.5.18)', () => {
  const red = entity({ color: lang({ fr: 'rouge', en: 'red', de: 'rot' }) });
  const notRed = entity({ color: lang({ fr: 'red', en: 'black', de: 'blue' }) });
  const arrays = entity({ color: lang({ fr: ['chat', 'rouge'], en: ['red', 'cat'], de: ['rote', 'Katze'] }) });
  const black = entity({ color: lang({ fr: ['chat', 'rouge'], en: ['coal', 'black'], de: ['blaue', 'Engel'] }) });

  it('[tag] compares that language only, strings or arrays', () => {
    expect(match('color[en]=="red"', red)).toBe(true);
    expect(match('color[en]=="red"', notRed)).toBe(false);
    expect(match('color[en]=="red"', arrays)).toBe(true);
    expect(match('color[en]=="red"', black)).toBe(false);
    expect(match('color[EN]=="red"', red)).toBe(true);
    expect(match('color[en]!="red"', black)).toBe(true);
    expect(match('color[en]!="red"', red)).toBe(false);
    expect(match('color[ja]!="red"', red)).toBe(false);
  });

  it('[*] and no brackets compare every language', () => {
    expect(match('color[*]=="red"', red)).toBe(true);
    expect(match('color=="rot"', red)).toBe(true);
    expect(match('color[*]=="red"', arrays)).toBe(true);
    expect(match('color[*]!="red"', entity({ color: lang({ fr: 'noir', en: 'black', de: 'schwarz' }) }))).toBe(true);
    expect(match('color[*]!="red"', red)).toBe(false);
    expect(match('color~="^ro"', red)).toBe(true);
  });

  it('the lang option narrows terms that name no language', () => {
    expect(match('color=="rot"', red, undefined, { lang: 'en' })).toBe(false);
    expect(match('color=="red"', red, undefined, { lang: 'en' })).toBe(true);
    // A language the map lacks hides nothing.
    expect(match('color=="rot"', red, undefined, { lang: 'ja' })).toBe(true);
    expect(match('color', red, undefined, { lang: 'ja' })).toBe(true);
  });
});

describe('other attribute types', () => {
  it('ListProperty: the valueList elements', () => {
    const e = entity({ readings: attrOf('ListProperty', { valueList: [1, 5, 9] }) });
    expect(match('readings==5', e)).toBe(true);
    expect(match('readings>8', e)).toBe(true);
    expect(match('readings!=5', e)).toBe(false);
  });

  it('Relationship and ListRelationship: objects, and only == / != can match', () => {
    const e = entity({ owners: rel(['urn:a', 'urn:b']), route: attrOf('ListRelationship', { objectList: ['urn:x', 'urn:y'] }) });
    expect(match('owners=="urn:b"', e)).toBe(true);
    expect(match('owners!="urn:b"', e)).toBe(false);
    expect(match('route==urn:y', e)).toBe(true);
    expect(match('route=="urn:q","urn:x"', e)).toBe(true);
    expect(match('owners>"urn:a"', e)).toBe(false);
    expect(match('owners~="urn"', e)).toBe(false);
  });

  it('compound values: arrays on the way are entered', () => {
    const e = entity({ stops: prop([{ [D + 'name']: 'A' }, { [D + 'name']: 'B' }]) });
    expect(match('stops[name]=="B"', e)).toBe(true);
  });

  it('GeoProperty keys are raw GeoJSON', () => {
    const e = entity({ area: attrOf('GeoProperty', { value: { type: 'Point', coordinates: [1, 2] } }) });
    expect(match('area[type]=="Point"', e)).toBe(true);
    expect(match('area[coordinates]==2', e)).toBe(true);
  });
});

describe('patterns (clause 4.9 patternOp / notPatternOp)', () => {
  const e = entity({ name: prop('Madrid'), count: prop(3), tags: prop(['alpha', 'beta']) });

  it('match strings only; non-strings never match either operator', () => {
    expect(match('name~=^Ma', e)).toBe(true);
    expect(match('name~=dri', e)).toBe(true); // a search, not a whole-string match (POSIX regexec)
    expect(match('name~=(?i)^ma', e)).toBe(true);
    expect(match('name!~=^Ma', e)).toBe(false);
    expect(match('name!~="^Pa"', e)).toBe(true);
    expect(match('count~=3', e)).toBe(false);
    expect(match('count!~=4', e)).toBe(false);
    expect(match('tags~=^b', e)).toBe(true);
    expect(match('tags!~=^b', e)).toBe(false);
  });

  it('runs in linear time where a backtracking engine would not', () => {
    const slow = entity({ s: prop('x'.repeat(50_000)) });
    const t0 = performance.now();
    expect(match('s~=.*.*.*=.*', slow)).toBe(false);
    expect(match('s~=(x+x+)+y', slow)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('planning helpers', () => {
  it('qAttributes lists the top-level attributes', () => {
    expect(qAttributes(parseQ('a==1;(b.c|d[e])|sensor{humidity}|!a', ctx)).sort()).toEqual([D + 'a', D + 'b', D + 'd', D + 'sensor']);
  });

  it('qCandidateAttributes gives a set every match has one of, or none when !attr makes that impossible', () => {
    expect(qCandidateAttributes(parseQ('a==1|b', ctx))?.sort()).toEqual([D + 'a', D + 'b']);
    expect(qCandidateAttributes(parseQ('(a|b);c!=2', ctx))).toEqual([D + 'c']);
    expect(qCandidateAttributes(parseQ('!a|b', ctx))).toBeUndefined();
    expect(qCandidateAttributes(parseQ('!a;b', ctx))).toEqual([D + 'b']);
  });

  it('qUsesLinkedEntities spots linked paths', () => {
    expect(qUsesLinkedEntities(parseQ('a;(b|c{d})', ctx))).toBe(true);
    expect(qUsesLinkedEntities(parseQ('a;b', ctx))).toBe(false);
  });
});

describe('attribute names that are Object.prototype members', () => {
  // A query plan built by hand (or a @context mapping a term to such a name) must find nothing, not crash.
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('%s matches no entity and does not throw', (name) => {
    const q = parseQ('speed>1', ctx);
    const renamed = JSON.parse(JSON.stringify(q).replaceAll(`${D}speed`, name)) as typeof q;
    expect(matchesQ(renamed, entity({ speed: prop(5) }))).toBe(false);
    const exists = JSON.parse(JSON.stringify(parseQ('speed', ctx)).replaceAll(`${D}speed`, name)) as typeof q;
    expect(matchesQ(exists, entity({ speed: prop(5) }))).toBe(false);
  });
});
