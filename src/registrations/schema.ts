import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { badRequest } from '../common/errors.js';
import registrationSchema from '../../spec/schemas/csource-registration.schema.json' with { type: 'json' };

/**
 * Structural validation of CSourceRegistrations and their fragments against spec/schemas/csource-registration.schema.json,
 * before parse.ts applies the rules a schema cannot express. A validator of its own (like src/entities/schemas.ts does for
 * entities and subscriptions), so the registration API adds no coupling to the entity service.
 */

type AddFormats = (ajv: Ajv, formats: string[]) => Ajv;
// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
addFormats(ajv, ['uri', 'date-time']);
ajv.addSchema(registrationSchema);

const validators = {
  registration: ajv.getSchema(registrationSchema.$id) as ValidateFunction,
  'registration-fragment': ajv.getSchema(`${registrationSchema.$id}#/$defs/fragment`) as ValidateFunction,
};

/** Throws BadRequestData naming where the body breaks the schema (clauses 5.5.4, 5.9.2.4). */
export function validateRegistrationSchema(name: keyof typeof validators, body: unknown, what: string): void {
  const validate = validators[name];
  if (validate(body)) return;
  const errors = validate.errors ?? [];
  const last = errors[errors.length - 1];
  const error = last?.keyword === 'anyOf' ? last : errors[0];
  throw badRequest(`${what} is not valid: ${describe(error)} (schema spec/schemas/csource-registration.schema.json, clause 5.2.9)`);
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
      return `${where} is not a valid ${params.format === 'date-time' ? 'DateTime' : String(params.format)}`;
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
    case 'minProperties':
      return `${where} must not be an empty object`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}
