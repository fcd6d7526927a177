import type { LdContext } from '../jsonld/types.js';
import type { TypeSelector } from '../query/type-selector.js';
import { statusOf, type DeliveryStats, type StoredSubscription } from '../model/subscription.js';

export interface SubscriptionRenderOptions {
  /** createdAt and modifiedAt (clause 6.3.11). */
  sysAttrs: boolean;
  /** Epoch ms the status is computed for. */
  now: number;
}

/**
 * A subscription as Retrieve and Query Subscriptions return it (5.8.3.5, 5.8.4.5): the members the client gave, names
 * compacted with the request's @context (clause 6.3.5), plus the read-only status members (Tables 5.2.12-2, 5.2.14.2-1).
 */
export function renderSubscription(sub: StoredSubscription, delivery: DeliveryStats, ctx: LdContext, opts: SubscriptionRenderOptions): Record<string, unknown> {
  const { spec } = sub;
  const compact = (iri: string) => ctx.compact(iri);
  const names = (list: readonly string[]) => list.map((n) => (n === 'id' || n === 'type' || n === 'scope' ? n : compact(n)));
  const out: Record<string, unknown> = { id: sub.id, type: 'Subscription' };
  const put = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  put('subscriptionName', spec.subscriptionName);
  put('description', spec.description);
  put(
    'entities',
    spec.entities?.map((s) => ({
      ...(s.id !== undefined && { id: s.id }),
      ...(s.idPattern !== undefined && { idPattern: s.idPattern }),
      type: s.type === '*' ? '*' : typeSelectionText(s.type, compact),
    })),
  );
  put('watchedAttributes', spec.watchedAttributes && names(spec.watchedAttributes));
  put('notificationTrigger', spec.notificationTrigger);
  put('q', spec.q);
  if (spec.geoQ) {
    const { geoproperty, ...geo } = spec.geoQ;
    out.geoQ = geoproperty === undefined ? geo : { ...geo, geoproperty: compact(geoproperty) };
  }
  put('scopeQ', spec.scopeQ);
  put('temporalQ', spec.temporalQ);
  put('csf', spec.csf);
  put('datasetId', spec.datasetId);
  put('lang', spec.lang);
  put('expandValues', spec.expandValues && names(spec.expandValues).join(','));
  put('jsonKeys', spec.jsonKeys && names(spec.jsonKeys).join(','));
  put('isActive', spec.isActive);
  out.status = statusOf(spec, opts.now);
  put('expiresAt', spec.expiresAt);
  put('throttling', spec.throttling);
  put('timeInterval', spec.timeInterval);
  put('localOnly', spec.localOnly);
  put('splitEntities', spec.splitEntities);
  put('ngsildConformance', spec.ngsildConformance);
  // 5.8.1.4: jsonldContext defaults to the @context the subscription was created with, when that is one URL.
  put('jsonldContext', spec.jsonldContext ?? (typeof sub.context === 'string' ? sub.context : undefined));

  const n = spec.notification;
  const notification: Record<string, unknown> = {};
  const note = (key: string, value: unknown) => {
    if (value !== undefined) notification[key] = value;
  };
  note('attributes', n.attributes && names(n.attributes));
  note('pick', n.pick && names(n.pick));
  note('omit', n.omit && names(n.omit));
  note('format', n.format);
  note('sysAttrs', n.sysAttrs);
  note('showChanges', n.showChanges);
  note('join', n.join);
  note('joinLevel', n.joinLevel);
  notification.endpoint = { ...n.endpoint };
  // Table 5.2.14.2-1: counters are "greater than 0", so a subscription that never notified shows none.
  note('status', delivery.status);
  if (delivery.timesSent > 0) notification.timesSent = delivery.timesSent;
  if (delivery.timesFailed > 0) notification.timesFailed = delivery.timesFailed;
  note('lastNotification', delivery.lastNotification);
  note('lastSuccess', delivery.lastSuccess);
  note('lastFailure', delivery.lastFailure);
  out.notification = notification;
  if (opts.sysAttrs) {
    out.createdAt = sub.createdAt;
    out.modifiedAt = sub.modifiedAt;
  }
  return out;
}

/** A type selection (clause 4.17) written back with compacted names: "," for or, ";" for and. */
export function typeSelectionText(sel: TypeSelector, compact: (iri: string) => string): string {
  switch (sel.op) {
    case 'type':
      return compact(sel.iri);
    case 'or':
      return sel.of.map((s) => typeSelectionText(s, compact)).join(',');
    case 'and':
      return sel.of.map((s) => (s.op === 'or' ? `(${typeSelectionText(s, compact)})` : typeSelectionText(s, compact))).join(';');
  }
}
