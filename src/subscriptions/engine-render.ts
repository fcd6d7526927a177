/**
 * The entities of a notification (clause 5.8.6): each rendered with the subscription's @context, format, sysAttrs,
 * lang, notification.attributes, datasetId, pick and omit, plus what only notifications carry:
 * - showChanges: previousValue / previousObject / previousLanguageMap / previousVocab / previousJson /
 *   previousValueList / previousObjectList on each updated instance (4.5.2.2, 4.5.3.2, 4.5.18.2, 4.5.20.2-4.5.24.2;
 *   the same in concise form, where such an instance is always an object; never in simplified form, 5.2.14);
 * - deleted attributes: the name with "urn:ngsi-ld:null", or an object with the NGSI-LD Null as value/object
 *   ({"@none": "urn:ngsi-ld:null"} as languageMap, 4.5.0) when a datasetId, sysAttrs (createdAt, modifiedAt, deletedAt)
 *   or the previous value has to go with it (5.8.6);
 * - deleted entities: id, type and deletedAt (createdAt/modifiedAt with sysAttrs), 5.8.6.
 */
import { renderFeature, type FeatureOptions } from '../entities/geojson.js';
import { renderEntity } from '../entities/render.js';
import { makeState, renderConcise, renderNormalized, renderSimplified, type RenderState } from '../entities/render-attribute.js';
import { pickLanguage } from '../entities/render-lang.js';
import { onlyDatasets, project } from '../entities/projection.js';
import type { LdContext } from '../jsonld/types.js';
import type { Attribute, Entity } from '../model/entity.js';
import { NGSI_LD_NULL, nullValueMember } from '../model/ngsi-null.js';
import type { CompiledSubscription } from './compiled.js';
import { diffEntities, type InstanceChange } from './engine-match.js';

/** One entity to notify: its state before and after (after absent: deleted), and when the change was committed. */
export interface NotifiedEntity {
  before?: Entity;
  after?: Entity;
  at: string;
}

/**
 * Renders one entity of a notification's data: a plain entity, or a GeoJSON Feature when `geo` (the caller puts the
 * Features in a FeatureCollection, 5.3.1). No @context: that is the envelope's business (engine-notification.ts).
 */
export function renderNotifiedEntity(
  sub: CompiledSubscription,
  ctx: LdContext,
  item: NotifiedEntity,
  geo: boolean,
): Record<string, unknown> {
  const n = sub.notification;
  const keep = n.attributes && new Set(n.attributes);
  const opts: FeatureOptions = { format: n.format, sysAttrs: n.sysAttrs, attrs: keep, lang: n.lang };
  const ds = n.datasetIds as Set<string | undefined> | undefined;
  const select = (e: Entity | undefined) => (e && ds ? onlyDatasets(e, ds) : e);
  const st = makeState(ctx, opts);
  const previous = n.showChanges && n.format !== 'simplified';
  const markers = sub.triggers.has('attributeDeleted');
  const after = select(item.after);
  const before = select(item.before);

  let payload: Record<string, unknown>;
  let target: Record<string, unknown>;
  if (after) {
    payload = geo ? (renderFeature(after, ctx, opts) as unknown as Record<string, unknown>) : renderEntity(after, ctx, opts);
    target = geo ? (payload.properties as Record<string, unknown>) : payload;
    const byName = groupByName(diffEntities(before, after), keep);
    for (const [name, changes] of byName) {
      const needed = changes.some((c) => (c.kind === 'updated' && previous) || (c.kind === 'deleted' && markers));
      if (needed) target[ctx.compact(name)] = renderChangedAttribute(after.attrs[name] ?? [], changes, st, item.at, previous, markers);
    }
  } else {
    const gone = before!;
    target = { type: gone.type.length === 1 ? ctx.compact(gone.type[0]!) : gone.type.map((t) => ctx.compact(t)) };
    target.deletedAt = item.at;
    if (n.sysAttrs) {
      target.createdAt = gone.createdAt;
      target.modifiedAt = gone.modifiedAt;
    }
    // Only deletedAt, unless the previous values are asked for or the deletion fired as attributeDeleted (5.8.6).
    if (previous || markers) {
      const byName = groupByName(diffEntities(gone, undefined), keep);
      for (const [name, changes] of byName) target[ctx.compact(name)] = renderChangedAttribute([], changes, st, item.at, previous, true);
    }
    payload = geo ? { id: gone.id, type: 'Feature', geometry: null, properties: target } : { id: gone.id, ...target };
    if (!geo) target = payload;
  }
  if (n.pick || n.omit) {
    const deletedAt = target.deletedAt;
    project(payload, geo, ctx, n.pick, n.omit);
    // Like createdAt/modifiedAt, deletedAt is a system member that projection leaves alone.
    if (deletedAt !== undefined) target.deletedAt = deletedAt;
  }
  return payload;
}

function groupByName(changes: InstanceChange[], keep: ReadonlySet<string> | undefined): Map<string, InstanceChange[]> {
  const out = new Map<string, InstanceChange[]>();
  for (const c of changes) {
    if (keep && !keep.has(c.name)) continue;
    let list = out.get(c.name);
    if (!list) out.set(c.name, (list = []));
    list.push(c);
  }
  return out;
}

/**
 * All instances of one attribute as renderInstances would show them (one: itself, several: an array, or the
 * "dataset" map in simplified form), with previous members on updated instances and markers for deleted ones.
 */
function renderChangedAttribute(
  current: readonly Attribute[],
  changes: readonly InstanceChange[],
  st: RenderState,
  at: string,
  previous: boolean,
  markers: boolean,
): unknown {
  const deleted = markers ? changes.filter((c) => c.kind === 'deleted') : [];
  const count = current.length + deleted.length;
  if (st.format === 'simplified') {
    const values: Array<[string | undefined, unknown]> = [
      ...current.map((a): [string | undefined, unknown] => [a.datasetId, renderSimplified(a, st)]),
      ...deleted.map((c): [string | undefined, unknown] => [c.datasetId, NGSI_LD_NULL]),
    ];
    if (values.length === 1) return values[0]![1];
    return { dataset: Object.fromEntries(values.map(([d, v]) => [d ?? '@none', v])) };
  }
  const out: unknown[] = [];
  for (const a of current) {
    const old = previous ? changes.find((c) => c.kind === 'updated' && c.datasetId === a.datasetId)?.before : undefined;
    if (st.format === 'normalized') {
      const r = renderNormalized(a, st);
      if (old) addPrevious(r, old, st);
      out.push(r);
    } else {
      const r = renderConcise(a, st, count === 1 && !old);
      if (old) addPrevious(r as Record<string, unknown>, old, st);
      out.push(r);
    }
  }
  for (const c of deleted) out.push(renderDeleted(c.before!, st, at, previous, count === 1));
  return out.length === 1 ? out[0] : out;
}

/** A deleted instance (5.8.6): the bare NGSI-LD Null when nothing else has to be said, else an object. */
function renderDeleted(a: Attribute, st: RenderState, at: string, previous: boolean, alone: boolean): unknown {
  if (alone && a.datasetId === undefined && !st.sysAttrs && !previous) return NGSI_LD_NULL;
  const normalized = st.format === 'normalized';
  const o: Record<string, unknown> = {};
  if (normalized) o.type = a.type;
  Object.assign(o, nullValueMember(a.type));
  // the normalized form writes each ListRelationship item as an object (4.5.22)
  if (normalized && a.type === 'ListRelationship') o.objectList = [{ object: NGSI_LD_NULL }];
  if (a.datasetId !== undefined) o.datasetId = a.datasetId;
  if (st.sysAttrs) {
    o.createdAt = a.createdAt;
    o.modifiedAt = a.modifiedAt;
    o.deletedAt = at;
  }
  if (previous) addPrevious(o, a, st);
  return o;
}

/** The previous* member for the instance's former type, in the representation of the current value member. */
function addPrevious(o: Record<string, unknown>, old: Attribute, st: RenderState): void {
  const ctx = st.ctx;
  const compact = (v: unknown) => (typeof v === 'object' && v !== null ? ctx.compactValue(v) : v);
  const iris = (v: string | string[]) => (typeof v === 'string' ? ctx.compact(v) : v.map((x) => ctx.compact(x)));
  switch (old.type) {
    case 'Property':
      o.previousValue = compact(old.value);
      break;
    case 'GeoProperty':
      o.previousValue = old.value;
      break;
    case 'LanguageProperty': {
      // With a language filter the current value is shown as a Property holding one string (4.15): so is the previous.
      const choice = st.lang !== undefined ? pickLanguage(old.languageMap ?? {}, st.lang) : undefined;
      if (choice !== undefined) o.previousValue = choice.value;
      else o.previousLanguageMap = old.languageMap;
      break;
    }
    case 'VocabProperty':
      o.previousVocab = iris(old.vocab ?? []);
      break;
    case 'JsonProperty':
      o.previousJson = old.json;
      break;
    case 'ListProperty':
      o.previousValueList = (old.valueList ?? []).map(compact);
      break;
    case 'Relationship':
      o.previousObject = old.object;
      break;
    case 'ListRelationship':
      o.previousObjectList = st.format === 'normalized' ? (old.objectList ?? []).map((object) => ({ object })) : (old.objectList ?? []);
      break;
  }
}
