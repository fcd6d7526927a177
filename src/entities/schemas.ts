import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { badRequest } from '../common/errors.js';
import attributeSchema from '../../spec/schemas/attribute.schema.json' with { type: 'json' };
import entitySchema from '../../spec/schemas/entity.schema.json' with { type: 'json' };
import fragmentSchema from '../../spec/schemas/fragment.schema.json' with { type: 'json' };
import subscriptionSchema from '../../spec/schemas/subscription.schema.json' with { type: 'json' };

/**
 * Structural validation of request bodies against the broker's published JSON schemas (spec/schemas), before the
 * parser applies the rules a schema cannot express. Schemas are compiled once, at import.
 */

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv, formats: string[]) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
addFormats(ajv, ['uri', 'date-time']);
ajv.addSchema(attributeSchema).addSchema(entitySchema).addSchema(fragmentSchema).addSchema(subscriptionSchema);

const validators = {
  entity: ajv.getSchema(entitySchema.$id) as ValidateFunction,
  fragment: ajv.getSchema(fragmentSchema.$id) as ValidateFunction,
  attribute: ajv.getSchema(attributeSchema.$id) as ValidateFunction,
  subscription: ajv.getSchema(subscriptionSchema.$id) as ValidateFunction,
  'subscription-fragment': ajv.getSchema(`${subscriptionSchema.$id}#/$defs/fragment`) as ValidateFunction,
};

const FILES: Record<SchemaName, string> = {
  entity: 'entity.schema.json',
  fragment: 'fragment.schema.json',
  attribute: 'attribute.schema.json',
  subscription: 'subscription.schema.json',
  'subscription-fragment': 'subscription.schema.json#/$defs/fragment',
};

export type SchemaName = keyof typeof validators;

/** Throws BadRequestData naming where the body breaks the schema (clause 5.5.4). */
export function validateAgainstSchema(name: SchemaName, body: unknown, what: string): void {
  const validate = validators[name];
  if (validate(body)) return;
  // Branch errors of a failed anyOf come before the anyOf itself, which says what was expected as a whole.
  const errors = validate.errors ?? [];
  const last = errors[errors.length - 1];
  const error = last?.keyword === 'anyOf' ? last : errors[0];
  throw badRequest(`${what} is not valid: ${describe(error)} (schema spec/schemas/${FILES[name]})`);
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'unknown reason';
  const where = error.instancePath === '' ? 'the body' : `"${error.instancePath.slice(1).replaceAll('/', '.')}"`;
  const params = error.params as Record<string, unknown>;
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  if (error.keyword === 'anyOf' && description) return `${where} ${description}`;
  switch (error.keyword) {
    case 'required':
      return `${where} has no "${String(params.missingProperty)}", which it needs`;
    case 'format':
      return `${where} is not a valid ${params.format === 'uri' ? 'URI' : params.format === 'date-time' ? 'DateTime' : String(params.format)}`;
    case 'additionalProperties':
      return `${where} has a member "${String(params.additionalProperty)}", which is not allowed there`;
    case 'enum':
      return `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${where} must be ${JSON.stringify(params.allowedValue)}`;
    case 'minItems':
      return params.limit === 1 ? `${where} must not be an empty array` : `${where} ${error.message ?? 'has too few items'}`;
    case 'minLength':
      return params.limit === 1 ? `${where} must not be an empty string` : `${where} ${error.message ?? 'is too short'}`;
    case 'not':
      // The only "not" in the schemas forbids null.
      return `${where} is null; NGSI-LD has no null values (use "urn:ngsi-ld:null" to delete in an update)`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}
