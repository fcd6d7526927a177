import type { Attribute, Entity } from '../../model/entity.js';
import { newInstanceId, sameContent } from '../embedded/temporal-store.js';
import type { TemporalEntity, TemporalInstance } from '../temporal-store.js';

/** One instance to record, for an attribute of the entity. */
export interface RecordedInstance {
  attr: string;
  instance: TemporalInstance;
}

const NULL_URI = 'urn:ngsi-ld:null';

/**
 * What an entity change adds to the history (clause 4.5.7), the same rules as the embedded recorder: each attribute
 * instance that is new or whose content changed (createdAt/modifiedAt ignored) becomes an instance with a fresh id
 * and createdAt = modifiedAt = `at`; each instance that disappeared becomes a deletion instance.
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

/** The temporal entity after a change, given what the history knew of it (`known`). */
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
  const a: Attribute = { type: gone.type, createdAt: at, modifiedAt: at };
  switch (gone.type) {
    case 'Relationship':
      a.object = NULL_URI;
      break;
    case 'ListRelationship':
      a.objectList = [NULL_URI];
      break;
    case 'LanguageProperty':
      a.languageMap = { '@none': NULL_URI };
      break;
    case 'VocabProperty':
      a.vocab = NULL_URI;
      break;
    case 'JsonProperty':
      a.json = NULL_URI;
      break;
    case 'ListProperty':
      a.valueList = [NULL_URI];
      break;
    default:
      a.value = NULL_URI;
  }
  if (gone.datasetId !== undefined) a.datasetId = gone.datasetId;
  return a;
}
