import type { RenderFormat } from '../entities/render.js';
import type { ContextDefinition } from '../jsonld/types.js';
import type { Endpoint } from '../notifications/types.js';
import type { EntitySelection } from '../query/entity-query.js';

import type { Trigger } from '../model/subscription.js';

export type { Trigger };

/**
 * A subscription in the form the subscription engine evaluates: every name expanded, every query parsed, so that
 * matching a change costs no parsing and no @context (the contract between the subscription API and the engine).
 */
export interface CompiledSubscription {
  id: string;
  tenant: string;
  /** Entities (selectors), q, geoQ and scopeQ (clause 5.2.12), as one query plan. Selectors absent: any entity. */
  selection: EntitySelection;
  /** Expanded; absent: any attribute. */
  watchedAttributes?: string[];
  /** With "entityUpdated" already replaced by the three attribute triggers it stands for. */
  triggers: ReadonlySet<Trigger>;
  /** isActive and not expired: the engine only notifies active subscriptions. */
  active: boolean;
  /** ISO DateTime after which the subscription is expired (status "expired"). */
  expiresAt?: string;
  /** Minimum milliseconds between two notifications (throttling). */
  throttlingMs?: number;
  /** Periodic notification every so many milliseconds (timeInterval); then changes do not notify. */
  timeIntervalMs?: number;
  notification: {
    /** Expanded attribute names to include (notification.attributes); absent: all. */
    attributes?: string[];
    pick?: string[];
    omit?: string[];
    format: RenderFormat;
    sysAttrs: boolean;
    showChanges: boolean;
    lang?: string;
    /** datasetId filter (clause 4.5.5); undefined in the set stands for the default instance ("@none"). */
    datasetIds?: ReadonlySet<string | undefined>;
    /** Linked Entity retrieval for the notified entities (notification.join, joinLevel; clause 4.5.23); absent: none. */
    join?: { mode: 'flat' | 'inline'; level: number };
    endpoint: Endpoint;
  };
  /** The @context notifications are compacted with and refer to: jsonldContext, else the subscription's own. */
  context: ContextDefinition;
}
