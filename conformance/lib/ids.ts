/**
 * Unique names, so tests never collide with each other or with data already in a shared broker.
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** A fresh entity id: urn:ngsi-ld:<Type>:<random>. */
export function uid(type = 'Thing'): string {
  return `urn:ngsi-ld:${type}:${randomUUID()}`;
}

/** A fresh tenant name (letters and digits only, so any broker's tenant naming rules accept it). */
export function tenant(): string {
  return `conf${randomBytes(6).toString('hex')}`;
}

/** A fresh datasetId (a URI, clause 4.5.5). */
export function datasetId(label = 'ds'): string {
  return `urn:ngsi-ld:Dataset:${label}-${randomBytes(4).toString('hex')}`;
}
