import { schemaCheck } from '../common/json-schema.js';
import registrationSchema from '../../spec/schemas/csource-registration.schema.json' with { type: 'json' };

/**
 * Structural validation of CSourceRegistrations and their fragments against spec/schemas/csource-registration.schema.json,
 * before parse.ts applies the rules a schema cannot express. Compiled apart from src/entities/schemas.ts, so the
 * registration API adds no coupling to the entity service.
 */
const CITE = 'schema spec/schemas/csource-registration.schema.json, clause 5.2.9';
const check = schemaCheck([registrationSchema], {
  registration: { ref: registrationSchema.$id, cite: CITE },
  'registration-fragment': { ref: `${registrationSchema.$id}#/$defs/fragment`, cite: CITE },
});

/** Throws BadRequestData naming where the body breaks the schema (clauses 5.5.4, 5.9.2.4). */
export function validateRegistrationSchema(name: Parameters<typeof check>[0], body: unknown, what: string): void {
  check(name, body, what);
}
