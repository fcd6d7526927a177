import type { EntitySelection, EntitySelector } from '../query/entity-query.js';
import type { CompiledSubscription, Trigger } from './compiled.js';
import { statusOf, type SelectorSpec, type StoredSubscription } from '../model/subscription.js';

/** Clause 5.2.12: without notificationTrigger, attributeCreated and attributeUpdated. */
const DEFAULT_TRIGGERS: readonly Trigger[] = ['attributeCreated', 'attributeUpdated'];
const ENTITY_UPDATED: readonly Trigger[] = ['attributeCreated', 'attributeUpdated', 'attributeDeleted'];

/**
 * The engine's form of a stored subscription. Pure and free of any @context processing: everything it needs was
 * expanded and parsed when the subscription was written, so a restart rebuilds it even when a remote @context is down.
 */
export function compileSubscription(sub: StoredSubscription, now: number): CompiledSubscription {
  const { spec } = sub;
  const selection: EntitySelection = {};
  if (spec.entities) selection.entities = spec.entities.map(selector);
  if (sub.queries.q) selection.q = sub.queries.q;
  if (sub.queries.geo) selection.geo = sub.queries.geo;
  if (sub.queries.scopeQ) selection.scopeQ = sub.queries.scopeQ;

  const triggers = new Set<Trigger>();
  for (const t of spec.notificationTrigger ?? DEFAULT_TRIGGERS) {
    if (t === 'entityUpdated') for (const u of ENTITY_UPDATED) triggers.add(u);
    else triggers.add(t);
  }

  const n = spec.notification;
  const e = n.endpoint;
  const compiled: CompiledSubscription = {
    id: sub.id,
    tenant: sub.tenant,
    selection,
    triggers,
    active: statusOf(spec, now) === 'active',
    notification: {
      format: n.format === 'keyValues' ? 'simplified' : (n.format ?? 'normalized'),
      sysAttrs: n.sysAttrs ?? false,
      showChanges: n.showChanges ?? false,
      endpoint: {
        uri: e.uri,
        accept: e.accept ?? 'application/json',
        ...(e.receiverInfo && { receiverInfo: e.receiverInfo }),
        ...(e.notifierInfo && { notifierInfo: e.notifierInfo }),
        ...(e.timeout !== undefined && { timeoutMs: e.timeout }),
        ...(e.cooldown !== undefined && { cooldownMs: e.cooldown }),
      },
    },
    context: spec.jsonldContext ?? sub.context,
  };
  if (spec.watchedAttributes) compiled.watchedAttributes = spec.watchedAttributes;
  if (spec.expiresAt !== undefined) compiled.expiresAt = spec.expiresAt;
  if (spec.throttling !== undefined) compiled.throttlingMs = spec.throttling * 1000;
  if (spec.timeInterval !== undefined) compiled.timeIntervalMs = spec.timeInterval * 1000;
  if (n.attributes) compiled.notification.attributes = n.attributes;
  if (n.pick) compiled.notification.pick = n.pick;
  if (n.omit) compiled.notification.omit = n.omit;
  if (spec.lang !== undefined) compiled.notification.lang = spec.lang;
  if (spec.datasetId) compiled.notification.datasetIds = new Set(spec.datasetId.map((d) => (d === '@none' ? undefined : d)));
  if (n.join === 'flat' || n.join === 'inline') compiled.notification.join = { mode: n.join, level: n.joinLevel ?? 1 };
  return compiled;
}

/** Clause 5.2.33: id takes precedence over idPattern; type "*" selects every type. */
function selector(s: SelectorSpec): EntitySelector {
  const out: EntitySelector = {};
  if (s.id !== undefined) out.ids = Array.isArray(s.id) ? s.id : [s.id];
  else if (s.idPattern !== undefined) out.idPattern = s.idPattern;
  if (s.type !== '*') out.types = s.type;
  return out;
}
