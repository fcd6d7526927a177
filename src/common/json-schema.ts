import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { badRequest } from './errors.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv, formats: string[]) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

/** One validator: the schema (or a fragment of it, `$id#/$defs/...`) to check against, and how an error cites it. */
export interface SchemaRef {
  ref: string;
  cite: string;
}

/** Checks `body` against a named schema; throws BadRequestData naming where the body breaks it (clause 5.5.4). */
export type SchemaCheck<N extends string> = (name: N, body: unknown, what: string) => void;

/**
 * Structural validation of request bodies against the broker's published JSON schemas (spec/schemas), before a
 * parser applies the rules a schema cannot express. The schemas are compiled once, when this is called.
 */
export function schemaCheck<N extends string>(schemas: AnySchemaObject[], refs: Record<N, SchemaRef>): SchemaCheck<N> {
  const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
  addFormats(ajv, ['uri', 'date-time']);
  for (const schema of schemas) ajv.addSchema(schema);
  const validators = new Map<string, ValidateFunction>();
  for (const [name, { ref }] of Object.entries<SchemaRef>(refs)) {
    const validate = ajv.getSchema(ref);
    if (!validate) throw new Error(`No schema ${ref}`);
    validators.set(name, validate);
  }
  return (name, body, what) => {
    const validate = validators.get(name)!;
    if (validate(body)) return;
    // Branch errors of a failed anyOf come before the anyOf itself, which says what was expected as a whole.
    const errors = validate.errors ?? [];
    const last = errors[errors.length - 1];
    const error = last?.keyword === 'anyOf' ? last : errors[0];
    throw badRequest(`${what} is not valid: ${describe(error)} (${refs[name].cite})`);
  };
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
    case 'minProperties':
      return params.limit === 1 ? `${where} must not be an empty object` : `${where} ${error.message ?? 'has too few members'}`;
    case 'not':
      // The only "not" in the schemas forbids null.
      return `${where} is null; NGSI-LD has no null values (use "urn:ngsi-ld:null" to delete in an update)`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}
