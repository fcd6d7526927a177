/**
 * What an entity change means for a subscription (clauses 5.2.12 notificationTrigger and watchedAttributes, 5.8.6):
 * the attribute instances it created, updated or deleted, and whether those fire one of the subscription's triggers.
 * Pure functions over the internal model; the engine (engine.ts) calls them for every logged change.
 */
import type { Attribute, Entity } from '../model/entity.js';
import type { CompiledSubscription, Trigger } from './compiled.js';

export type InstanceChangeKind = 'created' | 'updated' | 'deleted';

/** One attribute instance (name + datasetId, clause 4.5.5) that a change created, updated or deleted. */
export interface InstanceChange {
  /** Expanded attribute name. */
  name: string;
  datasetId?: string;
  kind: InstanceChangeKind;
  before?: Attribute;
  after?: Attribute;
}

const TRIGGER_OF: Record<InstanceChangeKind, Trigger> = {
  created: 'attributeCreated',
  updated: 'attributeUpdated',
  deleted: 'attributeDeleted',
};

/**
 * The instances that differ between two states of an entity (either may be absent: creation, deletion).
 * An instance present in both counts as updated only when its content differs (5.8.6: "updated with a value
 * different than the existing one"); the system timestamps createdAt/modifiedAt are not content, so a PATCH
 * that writes the same value again changes nothing a subscriber could observe and fires no attributeUpdated.
 */
export function diffEntities(before: Entity | undefined, after: Entity | undefined): InstanceChange[] {
  const out: InstanceChange[] = [];
  const b = before?.attrs ?? {};
  const a = after?.attrs ?? {};
  for (const name in a) {
    const olds = b[name];
    for (const inst of a[name]!) {
      const old = olds?.find((o) => o.datasetId === inst.datasetId);
      if (!old) out.push({ name, datasetId: inst.datasetId, kind: 'created', after: inst });
      else if (!sameInstance(old, inst)) out.push({ name, datasetId: inst.datasetId, kind: 'updated', before: old, after: inst });
    }
  }
  for (const name in b) {
    const news = a[name];
    for (const old of b[name]!) {
      if (!news?.some((n) => n.datasetId === old.datasetId)) out.push({ name, datasetId: old.datasetId, kind: 'deleted', before: old });
    }
  }
  return out;
}

/** Equal content: every member (sub-attributes included) but createdAt and modifiedAt. */
export function sameInstance(a: Attribute, b: Attribute): boolean {
  return sameJson(a, b, true);
}

function sameJson(x: unknown, y: unknown, attribute: boolean): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  if (Array.isArray(x)) {
    const ya = y as unknown[];
    return x.length === ya.length && x.every((v, i) => sameJson(v, ya[i], false));
  }
  const xo = x as Record<string, unknown>;
  const yo = y as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) =>
    Object.keys(o).filter((k) => o[k] !== undefined && !(attribute && (k === 'createdAt' || k === 'modifiedAt')));
  const xk = keys(xo);
  const yk = keys(yo);
  if (xk.length !== yk.length) return false;
  for (const k of xk) {
    if (!Object.hasOwn(yo, k)) return false;
    if (attribute && k === 'sub') {
      if (!sameSubs(xo.sub as Record<string, Attribute>, yo.sub as Record<string, Attribute>)) return false;
    } else if (!sameJson(xo[k], yo[k], false)) return false;
  }
  return true;
}

function sameSubs(x: Record<string, Attribute>, y: Record<string, Attribute>): boolean {
  const xk = Object.keys(x);
  if (xk.length !== Object.keys(y).length) return false;
  return xk.every((k) => Object.hasOwn(y, k) && sameJson(x[k], y[k], true));
}

/** Clause 5.8.6: only "active" subscriptions notify: isActive and not past expiresAt. */
export function isLive(sub: CompiledSubscription, nowMs: number): boolean {
  if (!sub.active) return false;
  if (sub.expiresAt !== undefined) {
    const end = Date.parse(sub.expiresAt);
    if (!Number.isNaN(end) && end <= nowMs) return false;
  }
  return true;
}

/**
 * The changes a subscription looks at: those of its watchedAttributes (all when absent, 5.2.12) and of the
 * datasetIds it selects (5.2.12 datasetId: a change of an instance the notification would not show fires nothing).
 */
export function relevantChanges(sub: CompiledSubscription, changes: readonly InstanceChange[]): InstanceChange[] {
  const watched = sub.watchedAttributes;
  const datasets = sub.notification.datasetIds;
  if (!watched && !datasets) return changes as InstanceChange[];
  return changes.filter((c) => (!watched || watched.includes(c.name)) && (!datasets || datasets.has(c.datasetId)));
}

/**
 * Whether a change fires one of the subscription's notificationTrigger values (5.2.12):
 * - creation: entityCreated; attributeCreated for each of its attributes;
 * - deletion: entityDeleted; attributeDeleted for each of its attributes (the attributes go with the entity;
 *   TP/NGSI-LD/CI/SUB/046_22_11 and _13 expect a notification for an attributeDeleted subscription);
 * - update: attributeCreated / attributeUpdated / attributeDeleted per instance ("entityUpdated" stands for all three
 *   and is already replaced in the compiled form).
 * With watchedAttributes, the entity-level triggers too need a watched attribute to be involved: a notification is
 * sent "whenever there is a change in the watched Attributes" (5.8.6).
 */
export function triggeredBy(
  sub: CompiledSubscription,
  before: Entity | undefined,
  after: Entity | undefined,
  changes: readonly InstanceChange[],
): boolean {
  const rel = relevantChanges(sub, changes);
  const t = sub.triggers;
  const entityLevel = !sub.watchedAttributes || rel.length > 0;
  if (!before && after) return (t.has('entityCreated') && entityLevel) || (t.has('attributeCreated') && rel.length > 0);
  if (before && !after) return (t.has('entityDeleted') && entityLevel) || (t.has('attributeDeleted') && rel.length > 0);
  for (const c of rel) if (t.has(TRIGGER_OF[c.kind])) return true;
  return false;
}
