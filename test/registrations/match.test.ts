import { describe, expect, it } from 'vitest';
import { effectiveOperations, type RegistrationInfo, type RegistrationSpec } from '../../src/model/registration.js';
import { matchesEntityInfo, matchesRegistration, matchingInfos } from '../../src/registrations/match.js';
import type { TypeSelector } from '../../src/query/type-selector.js';

const EX = 'https://example.org/ns#';
const type = (name: string): TypeSelector => ({ op: 'type', iri: EX + name });
const NOW = Date.parse('2030-01-01T00:00:00Z');

function spec(information: RegistrationInfo[], extra: Partial<RegistrationSpec> = {}): RegistrationSpec {
  return { information, endpoint: 'http://cs.example', ...extra };
}

describe('5.12 entity matching (matchesEntityInfo)', () => {
  const byId = { id: 'urn:x:A1', type: [`${EX}Vehicle`] };
  const byPattern = { idPattern: '^urn:x:B.*', type: [`${EX}Vehicle`] };
  const byType = { type: [`${EX}Vehicle`] };

  it('5.12: the type selector must match the EntityInfo types (multi-typed EntityInfo, and/or selections)', () => {
    expect(matchesEntityInfo(byType, { types: type('Vehicle') })).toBe(true);
    expect(matchesEntityInfo(byType, { types: type('Building') })).toBe(false);
    const multi = { type: [`${EX}Vehicle`, `${EX}Asset`] };
    expect(matchesEntityInfo(multi, { types: { op: 'and', of: [type('Vehicle'), type('Asset')] } })).toBe(true);
    expect(matchesEntityInfo(byType, { types: { op: 'and', of: [type('Vehicle'), type('Asset')] } })).toBe(false);
    expect(matchesEntityInfo(byType, { types: { op: 'or', of: [type('Building'), type('Vehicle')] } })).toBe(true);
  });

  it('5.12: an EntityInfo without id and idPattern matches any ids', () => {
    expect(matchesEntityInfo(byType, { ids: ['urn:x:whatever'], types: type('Vehicle') })).toBe(true);
  });

  it('5.12: a requested id matches the id, or fits the idPattern, of the EntityInfo', () => {
    expect(matchesEntityInfo(byId, { ids: ['urn:x:A1'] })).toBe(true);
    expect(matchesEntityInfo(byId, { ids: ['urn:x:A2', 'urn:x:A1'] })).toBe(true);
    expect(matchesEntityInfo(byId, { ids: ['urn:x:A2'] })).toBe(false);
    expect(matchesEntityInfo(byPattern, { ids: ['urn:x:B7'] })).toBe(true);
    expect(matchesEntityInfo(byPattern, { ids: ['urn:x:A7'] })).toBe(false);
  });

  it('5.12: a requested idPattern matches the id of the EntityInfo; two patterns always match', () => {
    expect(matchesEntityInfo(byId, { idPattern: '^urn:x:A' })).toBe(true);
    expect(matchesEntityInfo(byId, { idPattern: '^urn:x:Z' })).toBe(false);
    expect(matchesEntityInfo(byPattern, { idPattern: '^urn:x:Z' })).toBe(true);
  });

  it('5.2.8: id takes precedence over idPattern in the EntityInfo', () => {
    const both = { id: 'urn:x:A1', idPattern: '.*', type: [`${EX}Vehicle`] };
    expect(matchesEntityInfo(both, { ids: ['urn:x:Other'] })).toBe(false);
  });

  it('a request that restricts no id fits an EntityInfo with an id (query by type)', () => {
    expect(matchesEntityInfo(byId, { types: type('Vehicle') })).toBe(true);
  });
});

describe('5.12 attribute matching and RegistrationInfo', () => {
  const reg = spec([
    { entities: [{ type: [`${EX}Vehicle`] }], propertyNames: [`${EX}speed`], relationshipNames: [`${EX}owner`] },
    { entities: [{ type: [`${EX}Building`] }] },
    { propertyNames: [`${EX}temperature`] },
  ]);

  it('5.12: one of the attribute names must be a registered Property or Relationship', () => {
    expect(matchesRegistration(reg, { types: type('Vehicle'), attrs: [`${EX}owner`] }, NOW)).toBe(true);
    expect(matchesRegistration(reg, { types: type('Vehicle'), attrs: [`${EX}colour`] }, NOW)).toBe(false);
    // The third RegistrationInfo names no entities, so any entity specification fits it.
    expect(matchesRegistration(reg, { types: type('Vehicle'), attrs: [`${EX}colour`, `${EX}temperature`] }, NOW)).toBe(true);
  });

  it('5.12: no attribute names asked, or none registered, matches', () => {
    expect(matchesRegistration(spec([reg.information[0]!]), { types: type('Vehicle') }, NOW)).toBe(true);
    expect(matchesRegistration(spec([reg.information[1]!]), { types: type('Building'), attrs: [`${EX}anything`] }, NOW)).toBe(true);
  });

  it('5.11.7: matchingInfos keeps only the RegistrationInfo elements that match', () => {
    expect(matchingInfos(reg, { types: type('Building') })).toEqual([reg.information[1], reg.information[2]]);
  });
});

describe('distributed-operation conditions (4.3.6, 4.20, 5.9.2.4, 5.12)', () => {
  const info: RegistrationInfo[] = [{ entities: [{ type: [`${EX}Vehicle`] }] }];

  it('4.20: without operations a registration offers federationOps; groups expand to their operations', () => {
    const fed = effectiveOperations({});
    expect(fed.has('retrieveEntity')).toBe(true);
    expect(fed.has('createSubscription')).toBe(true);
    expect(fed.has('updateEntity')).toBe(false);
    const ops = effectiveOperations({ operations: ['updateOps', 'deleteEntity'] });
    expect([...ops].sort()).toEqual(['deleteEntity', 'replaceAttrs', 'replaceEntity', 'updateAttrs', 'updateEntity']);
    expect(effectiveOperations({ operations: ['redirectionOps'] }).has('purgeEntity')).toBe(true);
  });

  it('4.3.6.1: a registration matches only operations it offers', () => {
    expect(matchesRegistration(spec(info), { types: type('Vehicle'), operation: 'retrieveEntity' }, NOW)).toBe(true);
    expect(matchesRegistration(spec(info), { types: type('Vehicle'), operation: 'updateEntity' }, NOW)).toBe(false);
    expect(matchesRegistration(spec(info, { operations: ['updateOps'] }), { types: type('Vehicle'), operation: 'updateAttrs' }, NOW)).toBe(true);
  });

  it('5.9.2.4: a registration whose expiresAt has passed matches nothing', () => {
    expect(matchesRegistration(spec(info, { expiresAt: '2029-12-31T00:00:00Z' }), { types: type('Vehicle') }, NOW)).toBe(false);
    expect(matchesRegistration(spec(info, { expiresAt: '2030-01-02T00:00:00Z' }), { types: type('Vehicle') }, NOW)).toBe(true);
  });

  it('5.2.9: mode filter, inclusive by default', () => {
    expect(matchesRegistration(spec(info), { modes: ['inclusive'] }, NOW)).toBe(true);
    expect(matchesRegistration(spec(info), { modes: ['exclusive', 'redirect'] }, NOW)).toBe(false);
    expect(matchesRegistration(spec(info, { mode: 'redirect' }), { modes: ['exclusive', 'redirect'] }, NOW)).toBe(true);
  });

  it('5.12: datasetIds must share a value when both sides name some', () => {
    const withDs = spec(info, { datasetId: ['urn:ds:1'] });
    expect(matchesRegistration(withDs, { datasetIds: ['urn:ds:1', 'urn:ds:2'] }, NOW)).toBe(true);
    expect(matchesRegistration(withDs, { datasetIds: ['urn:ds:2'] }, NOW)).toBe(false);
    expect(matchesRegistration(withDs, {}, NOW)).toBe(true);
    expect(matchesRegistration(spec(info), { datasetIds: ['urn:ds:2'] }, NOW)).toBe(true);
  });

  it('4.3.6.4, 5.12: a registration whose contextSourceAlias was already visited does not match', () => {
    const aliased = spec(info, { contextSourceAlias: 'broker-b' });
    expect(matchesRegistration(aliased, { visitedAliases: ['broker-b'] }, NOW)).toBe(false);
    expect(matchesRegistration(aliased, { visitedAliases: ['broker-c'] }, NOW)).toBe(true);
  });
});
