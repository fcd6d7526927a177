import { randomBytes } from 'node:crypto';
import type { Attribute, Entity } from '../model/entity.js';
import { nullValueMember } from '../model/ngsi-null.js';
import type { TemporalEntity, TemporalInstance, TimeProperty } from './temporal-store.js';

/**
 * What an entity change adds to the history (clause 4.5.7), the rules every backend's recorder follows; backends
 * only decide where the result is written.
 */

/** One instance to record, for an attribute of the entity. */
export interface RecordedInstance {
  attr: string;
  instance: TemporalInstance;
}

/**
 * Each attribute instance that is new or whose content changed (createdAt/modifiedAt ignored) becomes an instance
 * with a fresh id and createdAt = modifiedAt = `at`; each instance that disappeared becomes a deletion instance.
 */
export function historyOf(before: Entity | undefined, after: Entity | undefined, at: string): RecordedInstance[] {
  const out: RecordedInstance[] = [];
  const names = new Set([...Object.keys(before?.attrs ?? {}), ...Object.keys(after?.attrs ?? {})]);
  for (const attr of names) {
    const old = new Map((before?.attrs[attr] ?? []).map((a) => [a.datasetId, a]));
    for (const instance of after?.attrs[attr] ?? []) {
      const previous = old.get(instance.datasetId);
      old.delete(instance.datasetId);
      if (previous && sameContent(previous, instance)) continue;
      out.push({ attr, instance: { instanceId: newInstanceId(), attribute: { ...instance, createdAt: at, modifiedAt: at } } });
    }
    for (const gone of old.values()) {
      out.push({ attr, instance: { instanceId: newInstanceId(), attribute: deletionOf(gone, at), deletedAt: at } });
    }
  }
  return out;
}

/**
 * The temporal entity after a change, given what the history knew of it (`known`): an entity created again after
 * its deletion starts a new createdAt; a deletion keeps what was known and marks it deleted.
 */
export function temporalEntityAfter(known: TemporalEntity | undefined, before: Entity | undefined, after: Entity | undefined, at: string): TemporalEntity {
  if (after) {
    const te: TemporalEntity = { id: after.id, type: [...after.type], createdAt: known && !known.deletedAt ? known.createdAt : after.createdAt, modifiedAt: at };
    if (after.scope) te.scope = [...after.scope];
    return te;
  }
  if (known) return { ...known, modifiedAt: at, deletedAt: at };
  const gone = before!;
  return { id: gone.id, type: [...gone.type], ...(gone.scope ? { scope: [...gone.scope] } : {}), createdAt: gone.createdAt, modifiedAt: at, deletedAt: at };
}

/** The deletion record of an instance (clause 4.5.7): its type and datasetId, the value member "urn:ngsi-ld:null". */
export function deletionOf(gone: Attribute, at: string): Attribute {
  const a: Attribute = { type: gone.type, ...nullValueMember(gone.type), createdAt: at, modifiedAt: at };
  if (gone.datasetId !== undefined) a.datasetId = gone.datasetId;
  return a;
}

/**
 * urn:ngsi-ld:<UUIDv7>: time-ordered (RFC 9562), so the instances of an attribute are appended at the end of
 * their key range instead of scattered over it, which keeps lmdb's pages and MongoDB's index pages full.
 */
export function newInstanceId(now = Date.now()): string {
  const hex = randomBytes(16);
  hex.writeUIntBE(now, 0, 6);
  hex[6] = (hex[6]! & 0x0f) | 0x70;
  hex[8] = (hex[8]! & 0x3f) | 0x80;
  const h = hex.toString('hex');
  return `urn:ngsi-ld:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Equal but for createdAt/modifiedAt (of the instance and of its sub-attributes). */
export function sameContent(a: Attribute, b: Attribute): boolean {
  return canonical(a, true) === canonical(b, true);
}

function canonical(value: unknown, attribute: boolean): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, false)).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (attribute && (key === 'createdAt' || key === 'modifiedAt')) continue;
    if (attribute && key === 'sub') {
      const subs = v as Record<string, Attribute>;
      parts.push(`"sub":{${Object.keys(subs).sort().map((name) => `${JSON.stringify(name)}:${canonical(subs[name], true)}`).join(',')}}`);
      continue;
    }
    parts.push(`${JSON.stringify(key)}:${canonical(v, false)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The times an instance is indexed by, in epoch ms: observedAt, createdAt, modifiedAt and (deletion records only)
 * deletedAt, each only when present and a valid DateTime.
 */
export function instanceTimes(instance: TemporalInstance): [TimeProperty, number][] {
  const a = instance.attribute;
  const times: [TimeProperty, string | undefined][] = [
    ['observedAt', a.observedAt],
    ['createdAt', a.createdAt],
    ['modifiedAt', a.modifiedAt],
    ['deletedAt', instance.deletedAt],
  ];
  const out: [TimeProperty, number][] = [];
  for (const [prop, time] of times) {
    if (time === undefined) continue;
    const ms = Date.parse(time);
    if (!Number.isNaN(ms)) out.push([prop, ms]);
  }
  return out;
}
