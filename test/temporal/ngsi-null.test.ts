import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_TYPES, type Attribute } from '../../src/model/entity.js';
import { NGSI_LD_NULL, nullValueMember } from '../../src/model/ngsi-null.js';

describe('nullValueMember (clause 4.5.0: the NGSI-LD Null per attribute type)', () => {
  it('puts the NGSI-LD Null into the one value member each type calls for', () => {
    const expected: Record<Attribute['type'], Partial<Attribute>> = {
      Property: { value: NGSI_LD_NULL },
      GeoProperty: { value: NGSI_LD_NULL },
      Relationship: { object: NGSI_LD_NULL },
      ListRelationship: { objectList: [NGSI_LD_NULL] },
      LanguageProperty: { languageMap: { '@none': NGSI_LD_NULL } },
      VocabProperty: { vocab: NGSI_LD_NULL },
      JsonProperty: { json: NGSI_LD_NULL },
      ListProperty: { valueList: [NGSI_LD_NULL] },
    };
    for (const type of ATTRIBUTE_TYPES) expect(nullValueMember(type), type).toEqual(expected[type]);
  });
  it('returns a fresh object each time, so callers may change it', () => {
    const a = nullValueMember('ListProperty');
    a.valueList!.push(1);
    expect(nullValueMember('ListProperty')).toEqual({ valueList: [NGSI_LD_NULL] });
  });
});
