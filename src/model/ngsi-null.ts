import type { Attribute, AttributeType } from './entity.js';

/** The NGSI-LD Null (clause 4.5.0): marks a deleted attribute instance in notifications and in history. */
export const NGSI_LD_NULL = 'urn:ngsi-ld:null';

/** The value member of a deleted instance, per attribute type. */
export type NullValueMember = Pick<Attribute, 'value' | 'object' | 'objectList' | 'languageMap' | 'vocab' | 'json' | 'valueList'>;

/**
 * The value member an instance of `type` carries once deleted (clause 4.5.0): the NGSI-LD Null in the member its
 * type calls for, `{"@none": "urn:ngsi-ld:null"}` for a languageMap and a one-element list for the list types.
 * In the internal model's form: the normalized output of a ListRelationship wraps each item as `{object}`.
 */
export function nullValueMember(type: AttributeType): NullValueMember {
  switch (type) {
    case 'Relationship':
      return { object: NGSI_LD_NULL };
    case 'ListRelationship':
      return { objectList: [NGSI_LD_NULL] };
    case 'LanguageProperty':
      return { languageMap: { '@none': NGSI_LD_NULL } };
    case 'VocabProperty':
      return { vocab: NGSI_LD_NULL };
    case 'JsonProperty':
      return { json: NGSI_LD_NULL };
    case 'ListProperty':
      return { valueList: [NGSI_LD_NULL] };
    default:
      return { value: NGSI_LD_NULL };
  }
}
