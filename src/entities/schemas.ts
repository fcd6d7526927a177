import { schemaCheck } from '../common/json-schema.js';
import attributeSchema from '../../spec/schemas/attribute.schema.json' with { type: 'json' };
import entitySchema from '../../spec/schemas/entity.schema.json' with { type: 'json' };
import fragmentSchema from '../../spec/schemas/fragment.schema.json' with { type: 'json' };
import subscriptionSchema from '../../spec/schemas/subscription.schema.json' with { type: 'json' };

/** The schemas of entities, their fragments and attributes, and subscriptions, compiled at import. */
const check = schemaCheck([attributeSchema, entitySchema, fragmentSchema, subscriptionSchema], {
  entity: { ref: entitySchema.$id, cite: 'schema spec/schemas/entity.schema.json' },
  fragment: { ref: fragmentSchema.$id, cite: 'schema spec/schemas/fragment.schema.json' },
  attribute: { ref: attributeSchema.$id, cite: 'schema spec/schemas/attribute.schema.json' },
  subscription: { ref: subscriptionSchema.$id, cite: 'schema spec/schemas/subscription.schema.json' },
  'subscription-fragment': { ref: `${subscriptionSchema.$id}#/$defs/fragment`, cite: 'schema spec/schemas/subscription.schema.json#/$defs/fragment' },
});

export type SchemaName = Parameters<typeof check>[0];

/** Throws BadRequestData naming where the body breaks the schema (clause 5.5.4). */
export function validateAgainstSchema(name: SchemaName, body: unknown, what: string): void {
  check(name, body, what);
}
