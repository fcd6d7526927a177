import { ERROR_TYPE_BASE, NgsiError, notFound, type ErrorKind, type ProblemDetails } from '../common/errors.js';
import type { UpdateResult } from '../entities/apply.js';
import type { ParsedEntity } from '../entities/parse-entity.js';
import { splitFragment, type ForwardedFragment, type FragmentWrite } from './provision.js';
import { errorOf, SourceError } from './errors.js';
import type { ForwardedRemoval } from './removal.js';

/** BatchEntityError (5.2.17): what one distributed part of an operation on entity `entityId` failed with. */
export interface DistributedError {
  entityId: string;
  /** The registration whose distributed operation failed. */
  registrationId?: string;
  error: ProblemDetails;
}

/** Runs a local step; false when the entity (or tenant) is not held here, which a context source may make no error. */
export async function tolerateMissing(local: () => Promise<unknown>): Promise<boolean> {
  try {
    await local();
    return true;
  } catch (err) {
    if (err instanceof NgsiError && (err.kind === 'ResourceNotFound' || err.kind === 'NonexistentTenant')) return false;
    throw err;
  }
}

/**
 * The answer to a deletion that context sources took part in (5.6.5.4, 5.6.6.4, 6.3.17): done when it was done here or
 * at some source, the failed sources returned as errors with their registrationId (the 207 of 6.5.3.2, 6.7.3.2) or, for
 * `partial` 'error', thrown as the error naming what was done; nothing done: the first source's error, else
 * ResourceNotFound (`missing`).
 */
export function settleRemoval(id: string, remote: ForwardedRemoval, here: boolean, what: string, missing: string, partial: 'report' | 'error'): DistributedError[] {
  const first = remote.failures[0];
  if (!here && !remote.done) {
    if (first) throw first.error;
    throw notFound(missing);
  }
  if (!first) return [];
  if (partial === 'report') return remote.failures.map((f) => ({ entityId: id, registrationId: f.registrationId, error: f.error.toProblem() }));
  throw partialError(first.error, `${what} was deleted ${here ? 'locally' : 'at a context source'}, but not everywhere: ${first.error.message}`);
}

/**
 * Create Entity and Replace Entity with registrations in play (5.6.1.4, 5.6.18.4): the attributes exclusive or
 * redirect registrations own go to their sources, `local` applies the rest (false: the entity is not held here).
 * A new entity whose attributes the sources own entirely is not created here. Undefined when no registration matches.
 */
export async function provisionEntity(
  ...[forwarder, req, id, operation, body, parsed, local]: [...FragmentWrite, local: (rest: ParsedEntity) => Promise<boolean>]
): Promise<DistributedError[] | undefined> {
  const split = await splitFragment(forwarder, req, id, operation, body, parsed, parsed.type);
  if (!split) return undefined;
  const { remote, attrs } = split;
  let here = false;
  let localError: NgsiError | undefined;
  if (operation.op !== 'createEntity' || attrs.size > 0 || remote.owned.size === 0) {
    try {
      here = await local({ ...parsed, attrs });
      // Not held here: only attributes that were meant to be stored here make that a failure.
      if (!here && attrs.size > 0) localError = notFound(`Entity ${id} is not held locally; its attributes ${[...attrs.keys()].join(', ')} were not stored`);
    } catch (err) {
      if (!(err instanceof NgsiError)) throw err;
      localError = err;
    }
  }
  return settleProvision(id, remote, here, localError);
}

/**
 * The answer to Create Entity or Replace Entity split between this broker and context sources (5.6.1.4, 5.6.18.4):
 * nothing done anywhere is the local error, else the sources' (Conflict for an owner not offering the operation);
 * something done: the parts left undone as errors for a 207 BatchOperationResult (6.4.3.1, 6.5.3.3).
 */
function settleProvision(id: string, remote: ForwardedFragment, here: boolean, localError: NgsiError | undefined): DistributedError[] {
  const { notUpdated, updated } = remote.result;
  if (!here && updated.length === 0) {
    if (localError) throw localError;
    const failed = remote.failures[0];
    if (failed) throw errorOf(failed.failure, failed.detail);
    throw new NgsiError('Conflict', notUpdated[0]?.reason ?? `No context source took entity ${id}`);
  }
  const errors: DistributedError[] = [];
  if (localError) errors.push({ entityId: id, error: localError.toProblem() });
  const byReason = new Map<string, string[]>();
  for (const n of notUpdated) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.attributeName]);
  for (const [reason, attrs] of byReason) {
    const error = reason.startsWith('Conflict') ? new NgsiError('Conflict', reason) : new SourceError(502, reason);
    errors.push({ entityId: id, error: { ...error.toProblem(), detail: `${reason} (attributes: ${attrs.join(', ')})` } });
  }
  return errors;
}

/** A batch element done only in part is an error of the batch that says what was done. */
export function partialError(error: NgsiError, message: string): NgsiError {
  return error instanceof SourceError ? new SourceError(error.httpStatus, message) : new NgsiError(error.kind, message);
}

/** Delete Attribute's URL parameters (6.7.3.2) as sent on to a source. */
export function removalQuery(opts: { datasetId?: string; deleteAll?: boolean }): URLSearchParams {
  const query = new URLSearchParams();
  if (opts.deleteAll) query.set('deleteAll', 'true');
  if (opts.datasetId !== undefined) query.set('datasetId', opts.datasetId);
  return query;
}

/** The not-updated attributes of an UpdateResult as one message, for a batch element done in part. */
export function describeUndone(result: UpdateResult): string {
  return result.notUpdated.map((n) => `${n.attributeName} (${n.reason})`).join('; ');
}

/** The first of `errors` as an error with `message`, for a batch element whose distributed parts failed in part. */
export function errorFromParts(errors: DistributedError[], message: string): NgsiError {
  const { status, type } = errors[0]!.error;
  if (status === 502 || status === 504 || status === 508) return new SourceError(status, message);
  const kind = typeof type === 'string' && type.startsWith(ERROR_TYPE_BASE) ? (type.slice(ERROR_TYPE_BASE.length) as ErrorKind) : 'InternalError';
  return new NgsiError(kind, message);
}
