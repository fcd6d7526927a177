import type { NgsiError, ProblemDetails } from '../common/errors.js';
import type { LdContext } from '../jsonld/types.js';
import type { UpdateResult } from './apply.js';

/** The data types of Batch Entity operations and Create or Update (Upsert), clauses 5.2.16, 5.2.17, 5.6.7-5.6.10. */

/** What Batch Entity Creation or Update (Upsert) did with one entity. */
export interface UpsertOutcome {
  id: string;
  created: boolean;
  /** Mode 'update' on an existing entity: the outcome of Update Attributes (clause 5.6.2). */
  result?: UpdateResult;
}

/** One element of a batch request: with the @context it is to be read with, or the error that prevents it. */
export type BatchItem = { body: unknown; ctx: LdContext } | { body: unknown; error: NgsiError };

export type BatchOperation =
  | { kind: 'create' }
  | { kind: 'upsert'; mode: 'replace' | 'update' }
  | { kind: 'update'; noOverwrite: boolean }
  | { kind: 'merge' }
  | { kind: 'delete' };

/** BatchEntityError (clause 5.2.17). */
export interface BatchEntityError {
  entityId: string;
  /** The registration whose distributed operation failed (5.2.17). */
  registrationId?: string;
  error: ProblemDetails;
}

/** BatchOperationResult (clause 5.2.16), plus the ids the operation created (the 201 body of upsert). */
export interface BatchOutcome {
  success: string[];
  errors: BatchEntityError[];
  created: string[];
}
