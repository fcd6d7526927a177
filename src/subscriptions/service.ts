import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../common/errors.js';
import { requireUri } from '../common/syntax.js';
import { offsetLinks, parsePaging, type PagingLimits, type Params } from '../entities/query-params.js';
import type { RequestScope } from '../entities/service.js';
import type { ContextDefinition, LdContext } from '../jsonld/types.js';
import type { DeliveryOutcome } from '../notifications/types.js';
import type { SubscriptionStore } from '../store/subscription-store.js';
import { compileSubscription } from './compile.js';
import type { CompiledSubscription } from './compiled.js';
import { combineStats, DeliveryCounters } from './delivery-stats.js';
import { NO_DELIVERIES, type DeliveryStats, type StoredSubscription } from '../model/subscription.js';
import { mergeSubscription, parseSubscription } from './parse.js';

/** A stored subscription with its delivery counters as of now (unwritten outcomes included). */
export interface SubscriptionView {
  subscription: StoredSubscription;
  delivery: DeliveryStats;
  /** Epoch ms the view was taken at: its status is the one at that time. */
  at: number;
}

/** A page of Query Subscriptions and the parameters of the pages next to it (5.5.9, 6.3.10). */
export interface SubscriptionList {
  items: SubscriptionView[];
  count?: number;
  next?: Record<string, string>;
  prev?: Record<string, string>;
}

/** Called once a change is durable: the compiled subscription, or undefined when it was deleted. */
export type SubscriptionListener = (tenant: string, id: string, compiled: CompiledSubscription | undefined) => void;

export interface SubscriptionServiceOptions {
  /** Checks jsonldContext (5.8.1.4, 5.8.2.4): LdContextNotAvailable or BadRequestData. */
  resolver: { resolve(def?: ContextDefinition): Promise<LdContext> };
  limits: PagingLimits;
  /** Longest time delivery outcomes wait before they are written (default 200 ms). */
  flushIntervalMs?: number;
  /** Epoch milliseconds; tests move time. */
  clock?: () => number;
  /** Failures nobody awaits: a throwing listener, a failed write of delivery counters. */
  onError?: (err: unknown, what: string) => void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The Subscription API (clauses 5.8.1-5.8.5) and the subscriptions' side of notification: the compiled form the
 * subscription engine evaluates, kept current and pushed to listeners, and the delivery counters of 5.2.14.2.
 */
export class SubscriptionService {
  private readonly compiledByKey = new Map<string, CompiledSubscription>();
  private readonly listeners = new Set<SubscriptionListener>();
  private readonly localListeners = new Set<(tenant: string, id: string) => void>();
  private readonly counters: DeliveryCounters;
  private readonly clock: () => number;
  private readonly onError: (err: unknown, what: string) => void;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** modifiedAt of each compiled subscription, so that resync() can tell what changed. */
  private readonly versions = new Map<string, string>();
  /** Reloads run one at a time, so that an older read never overwrites a newer one. */
  private reloads: Promise<void> = Promise.resolve();

  /** Opens the service over the store: every subscription is compiled before this resolves. */
  static async open(store: SubscriptionStore, opts: SubscriptionServiceOptions): Promise<SubscriptionService> {
    const service = new SubscriptionService(store, opts);
    const now = service.clock();
    for (const sub of await store.all()) {
      service.compiledByKey.set(keyOf(sub.tenant, sub.id), compileSubscription(sub, now));
      service.versions.set(keyOf(sub.tenant, sub.id), sub.modifiedAt);
    }
    service.scheduleExpiry();
    return service;
  }

  private constructor(
    private readonly store: SubscriptionStore,
    private readonly opts: SubscriptionServiceOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.counters = new DeliveryCounters((key, delta) => this.addStats(key, delta), opts.flushIntervalMs ?? 200, (err) => this.onError(err, 'writing delivery counters'));
  }

  /** Create Subscription (5.8.1): the id of the new subscription. */
  async create(scope: RequestScope, body: unknown): Promise<string> {
    const now = this.clock();
    const { id: given, spec, queries } = parseSubscription(body, scope.ctx, now);
    if (spec.jsonldContext !== undefined) await this.opts.resolver.resolve(spec.jsonldContext);
    const id = given ?? `urn:ngsi-ld:Subscription:${randomUUID()}`;
    const at = new Date(now).toISOString();
    const sub: StoredSubscription = { id, tenant: scope.tenant, spec, queries, context: scope.ctx.source, createdAt: at, modifiedAt: at, delivery: NO_DELIVERIES };
    await this.store.create(sub);
    this.changed(sub.tenant, sub.id, sub);
    this.localChange(sub.tenant, sub.id);
    return id;
  }

  /** Retrieve Subscription (5.8.3). */
  async retrieve(scope: RequestScope, id: string): Promise<SubscriptionView> {
    requireUri(id, 'Subscription id');
    const sub = await this.store.get(scope.tenant, id);
    if (!sub) throw notFound(`Subscription ${id} not found`);
    return this.view(sub);
  }

  /** Query Subscriptions (5.8.4): limit, offset and count as for Query Entities (5.5.9, 6.3.10, 6.3.13). */
  async list(scope: RequestScope, params: Params): Promise<SubscriptionList> {
    const paging = parsePaging(params, this.opts.limits);
    if (paging.after !== undefined || paging.before !== undefined) {
      throw badRequest('pageAfter and pageBefore page through entities; subscriptions page with limit and offset (clause 5.5.9)');
    }
    const page = await this.store.list(scope.tenant, { limit: paging.limit, offset: paging.offset });
    const result: SubscriptionList = { items: page.items.map((s) => this.view(s)) };
    if (paging.count) result.count = page.count;
    if (paging.limit === 0 || page.items.length === 0) return result;
    return { ...result, ...offsetLinks(paging, paging.offset + paging.limit < page.count) };
  }

  /** Update Subscription (5.8.2). */
  async update(scope: RequestScope, id: string, fragment: unknown): Promise<void> {
    requireUri(id, 'Subscription id');
    const now = this.clock();
    const current = await this.store.get(scope.tenant, id);
    if (!current) throw notFound(`Subscription ${id} not found`);
    // Validated before anything is fetched or written, so a bad fragment never waits on a remote @context.
    const checked = mergeSubscription(current, fragment, scope.ctx, now);
    const newContext = checked.spec.jsonldContext !== undefined && checked.spec.jsonldContext !== current.spec.jsonldContext;
    if (newContext) await this.opts.resolver.resolve(checked.spec.jsonldContext);
    const at = new Date(now).toISOString();
    const updated = await this.store.mutate(scope.tenant, id, (latest) => {
      if (!latest) throw notFound(`Subscription ${id} not found`);
      // Merged again over what is stored now: a concurrent update (or delivery counters) must not be lost.
      const { spec, queries } = mergeSubscription(latest, fragment, scope.ctx, now);
      const subscription: StoredSubscription = { ...latest, spec, queries, modifiedAt: at };
      return { change: { kind: 'put', subscription }, result: subscription };
    });
    this.changed(scope.tenant, id, updated);
    this.localChange(scope.tenant, id);
  }

  /** Delete Subscription (5.8.5). */
  async delete(scope: RequestScope, id: string): Promise<void> {
    requireUri(id, 'Subscription id');
    if (!(await this.store.delete(scope.tenant, id))) throw notFound(`Subscription ${id} not found`);
    this.counters.forget(keyOf(scope.tenant, id));
    this.changed(scope.tenant, id, undefined);
    this.localChange(scope.tenant, id);
  }

  /**
   * Calls `listener` after each durable create, update and delete made through this service (not for expiry, nor
   * for what onRemoteChange reloads): how other broker instances hear of it (src/coordination). Returns the
   * function that unsubscribes.
   */
  onLocalChange(listener: (tenant: string, id: string) => void): () => void {
    this.localListeners.add(listener);
    return () => this.localListeners.delete(listener);
  }

  /**
   * Another broker instance changed the subscription: the copy compiled here is replaced by what the store holds
   * now (or dropped), and listeners hear of it as of a local change.
   */
  onRemoteChange(tenant: string, id: string): Promise<void> {
    return this.reload(async () => {
      const sub = await this.store.get(tenant, id);
      if (!sub) {
        // Not one of this service's (the CSource subscriptions share the channel), or already gone here.
        if (!this.compiledByKey.has(keyOf(tenant, id))) return;
        this.counters.forget(keyOf(tenant, id));
      }
      this.changed(tenant, id, sub);
    });
  }

  /** Invalidations may have been missed (Redis was out of reach): every subscription is reloaded from the store. */
  resync(): Promise<void> {
    return this.reload(async () => {
      const all = await this.store.all();
      const seen = new Set<string>();
      for (const sub of all) {
        const key = keyOf(sub.tenant, sub.id);
        seen.add(key);
        // Unchanged ones stay as they are: listeners hear only of what really changed (no repeated notifications).
        if (this.compiledByKey.has(key) && this.versions.get(key) === sub.modifiedAt) continue;
        this.changed(sub.tenant, sub.id, sub);
      }
      for (const c of [...this.compiledByKey.values()]) {
        if (!seen.has(keyOf(c.tenant, c.id))) {
          this.counters.forget(keyOf(c.tenant, c.id));
          this.changed(c.tenant, c.id, undefined);
        }
      }
    });
  }

  /** Every subscription of every tenant, compiled; inactive and expired ones too (see `active`). */
  compiled(): CompiledSubscription[] {
    return [...this.compiledByKey.values()];
  }

  /** One compiled subscription, if it exists. */
  compiledOne(tenant: string, id: string): CompiledSubscription | undefined {
    return this.compiledByKey.get(keyOf(tenant, id));
  }

  /**
   * Calls `listener` after every durable creation, update and deletion, and when a subscription expires (its
   * `active` turning false). Returns the function that unsubscribes.
   */
  onChange(listener: SubscriptionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Counts one delivery attempt of the delivery engine into timesSent, timesFailed, lastNotification, lastSuccess,
   * lastFailure and notification.status (5.2.14.2). Cheap and synchronous; written to the store in batches.
   */
  recordOutcome(outcome: DeliveryOutcome): void {
    const { tenant, subscriptionId } = outcome.notification;
    const key = keyOf(tenant, subscriptionId);
    if (this.compiledByKey.has(key)) this.counters.record(key, outcome);
  }

  /** Writes the delivery counters not written yet. */
  flush(): Promise<void> {
    return this.counters.flush();
  }

  /** Stops the timers and writes what is pending; the store stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiryTimer);
    await this.counters.close();
  }

  private view(sub: StoredSubscription): SubscriptionView {
    return { subscription: sub, delivery: this.counters.view(keyOf(sub.tenant, sub.id), sub.delivery), at: this.clock() };
  }

  private async addStats(key: string, delta: DeliveryStats): Promise<void> {
    const [tenant, id] = splitKey(key);
    await this.store.mutate(tenant, id, (current) =>
      current ? { change: { kind: 'put', subscription: { ...current, delivery: combineStats(current.delivery, delta) } }, result: undefined } : { change: { kind: 'none' }, result: undefined },
    );
  }

  private reload(task: () => Promise<void>): Promise<void> {
    const run = this.reloads.then(() => (this.closed ? undefined : task()));
    this.reloads = run.catch((err: unknown) => this.onError(err, 'reloading a subscription changed by another instance'));
    return run;
  }

  private localChange(tenant: string, id: string): void {
    for (const listener of this.localListeners) {
      try {
        listener(tenant, id);
      } catch (err) {
        this.onError(err, 'subscription local change listener');
      }
    }
  }

  private changed(tenant: string, id: string, sub: StoredSubscription | undefined): void {
    const key = keyOf(tenant, id);
    const compiled = sub && compileSubscription(sub, this.clock());
    if (compiled) this.compiledByKey.set(key, compiled);
    else this.compiledByKey.delete(key);
    if (sub) this.versions.set(key, sub.modifiedAt);
    else this.versions.delete(key);
    this.emit(tenant, id, compiled);
    this.scheduleExpiry();
  }

  private emit(tenant: string, id: string, compiled: CompiledSubscription | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(tenant, id, compiled);
      } catch (err) {
        this.onError(err, 'subscription change listener');
      }
    }
  }

  /** One timer for the next expiresAt of an active subscription: expiry is a change the engine hears of (5.8.1.4). */
  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.closed) return;
    let next = Infinity;
    for (const c of this.compiledByKey.values()) if (c.active && c.expiresAt !== undefined) next = Math.min(next, Date.parse(c.expiresAt));
    if (next === Infinity) return;
    const delay = Math.min(Math.max(0, next - this.clock()), MAX_TIMER_MS);
    this.expiryTimer = setTimeout(() => this.expire(), delay).unref();
  }

  private expire(): void {
    const now = this.clock();
    for (const [key, c] of this.compiledByKey) {
      if (c.active && c.expiresAt !== undefined && Date.parse(c.expiresAt) <= now) {
        const expired = { ...c, active: false };
        this.compiledByKey.set(key, expired);
        this.emit(c.tenant, c.id, expired);
      }
    }
    this.scheduleExpiry();
  }
}


// Tenants cannot hold NUL (src/http/request.ts), so it separates them from ids.
const keyOf = (tenant: string, id: string) => `${tenant}\u0000${id}`;

function splitKey(key: string): [string, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}
