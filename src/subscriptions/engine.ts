/**
 * The subscription engine: turns committed entity changes into notifications (clauses 5.8.6, 5.2.12, 5.3.1) and
 * hands them to the delivery engine, which queues them durably and sends them.
 *
 * Input is the store's change log, written in the same atomic commit as each change while logging is on (it is on
 * while at least one active, change-driven subscription exists). The engine tails it strictly in seq order, one
 * batch at a time: read changes after the cursor, match them against the subscriptions, build the notifications,
 * `await deliver(...)` (durable once it resolves), then acknowledge the log up to the batch's last seq. A crash
 * between deliver and ack repeats notifications; nothing is acknowledged before it is queued, so none is lost
 * (at-least-once). At start() the unacknowledged rest of the log is processed first (restart).
 *
 * Grouping: one batch gives each subscription one notification holding every entity it fired for, each entity
 * once; a second change of the same entity in the batch, or more than `maxEntitiesPerNotification` entities,
 * starts the next notification, so that no change is folded into another (showChanges stays exact).
 *
 * Throttling: see engine-throttle.ts; deferred changes hold back the acknowledgement watermark until their
 * notification is delivered. timeInterval subscriptions (5.8.6) ignore changes and notify every interval with the
 * matching entities (none: no notification), queried page by page, one notification per page.
 *
 * All work that reads or changes the cursor, the throttling state or the log runs as one task at a time
 * (`enqueue`), so decisions are exact under any number of concurrent writes.
 */
import { RetryBackoff } from '../common/retry-backoff.js';
import type { Logger } from '../logger.js';
import type { ContextResolver } from '../jsonld/resolver.js';
import type { Entity } from '../model/entity.js';
import type { OutboundNotification } from '../notifications/types.js';
import { compileSelection } from '../query/entity-query.js';
import type { EntityChange, EntityStore } from '../store/entity-store.js';
import type { CompiledSubscription } from './compiled.js';
import { diffEntities, isLive, triggeredBy } from './engine-match.js';
import { PeriodicNotifier } from './engine-interval.js';
import { buildNotifications } from './engine-notification.js';
import type { NotifiedEntity } from './engine-render.js';
import { BatchThrottle, ThrottleState } from './engine-throttle.js';

export interface SubscriptionEngineDeps {
  store: EntityStore;
  resolver: ContextResolver;
  /** Durably enqueues the notifications and schedules their delivery; resolving means "durable". */
  deliver: (items: OutboundNotification[]) => Promise<void>;
  now?: () => number;
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Changes read from the log per batch (default 500). */
  batchSize?: number;
  /** Most entities in one notification's data (default 500); also the page size of timeInterval queries. */
  maxEntitiesPerNotification?: number;
  /** First delay before retrying after a failed batch, doubled up to 30 s (default 200 ms). */
  retryMs?: number;
}

interface Registered {
  sub: CompiledSubscription;
  matches: (entity: Entity) => boolean;
}

export class SubscriptionEngine {
  private readonly store: EntityStore;
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly maxEntities: number;
  private readonly retryMs: number;
  /** tenant -> subscription id -> registration. */
  private readonly subs = new Map<string, Map<string, Registered>>();
  /** `${tenant}\0${id}` -> throttling state. */
  private readonly throttles = new Map<string, ThrottleState>();
  /** Last seq processed (notifications queued or deferred) and last seq acknowledged. */
  private cursor = 0;
  private acked = 0;
  private chain: Promise<void> = Promise.resolve();
  private pumpQueued = false;
  private readonly retry: RetryBackoff;
  private readonly periodic: PeriodicNotifier;
  private logging: boolean | undefined;
  private started = false;
  private closed = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: SubscriptionEngineDeps) {
    this.store = deps.store;
    this.now = deps.now ?? Date.now;
    this.batchSize = deps.batchSize ?? 500;
    this.maxEntities = deps.maxEntitiesPerNotification ?? 500;
    this.retryMs = deps.retryMs ?? 200;
    this.retry = new RetryBackoff(this.retryMs);
    this.periodic = new PeriodicNotifier({
      store: this.store,
      deliver: deps.deliver,
      build: (sub, items, now) => this.buildFor(sub, items, now),
      now: this.now,
      logger: deps.logger,
      pageSize: this.maxEntities,
    });
  }

  /** Adds or replaces a subscription (throttling state survives a replacement). */
  upsert(sub: CompiledSubscription): void {
    const reg: Registered = { sub, matches: compileSelection(sub.selection) };
    let tenant = this.subs.get(sub.tenant);
    if (!tenant) this.subs.set(sub.tenant, (tenant = new Map()));
    tenant.set(sub.id, reg);
    if (this.started) this.periodic.arm(sub);
    this.updateLogging();
  }

  /** Forgets a subscription, with the notifications it had waiting for a throttling window. */
  remove(tenant: string, id: string): void {
    const subs = this.subs.get(tenant);
    const reg = subs?.get(id);
    if (!reg) return;
    this.periodic.disarm(tenant, id);
    subs!.delete(id);
    if (subs!.size === 0) this.subs.delete(tenant);
    const key = keyOf(tenant, id);
    const throttle = this.throttles.get(key);
    if (throttle) {
      clearTimeout(throttle.timer);
      this.throttles.delete(key);
      // Its deferred changes no longer hold the log back.
      if (throttle.deferred.size > 0 && this.started) void this.enqueue(() => this.ack());
    }
    this.updateLogging();
  }

  /** Starts tailing the change log (the unacknowledged backlog first) and the timeInterval timers. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.unsubscribe = this.store.onChanges(() => this.schedulePump());
    for (const tenant of this.subs.values()) for (const reg of tenant.values()) this.periodic.arm(reg.sub);
    this.schedulePump();
  }

  /** Resolves when no work is queued or running (tests, orderly shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const chain = this.chain;
      await chain;
      await this.periodic.idle();
      if (chain === this.chain) return;
    }
  }

  /**
   * Stops timers and tailing and waits for the work in progress. Change logging stays as it is: writes that still
   * come in (the HTTP server draining) are logged and notified by the next start. What waited for a throttling
   * window is not acknowledged and is replayed then.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.retry.cancel();
    for (const t of this.throttles.values()) clearTimeout(t.timer);
    await this.periodic.close();
    await this.chain;
  }

  // ---- the task queue ----

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => (this.closed ? undefined : task()));
    this.chain = run.catch((error) => this.deps.logger?.error({ err: error }, 'subscription engine task failed'));
    return this.chain;
  }

  private schedulePump(): void {
    if (!this.started || this.closed || this.pumpQueued) return;
    this.pumpQueued = true;
    void this.enqueue(async () => {
      this.pumpQueued = false;
      await this.drain();
    });
  }

  /** Processes the log until it is empty; on failure retries later from the same cursor. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.closed) return;
        const batch = await this.store.readChanges(this.cursor, this.batchSize);
        if (batch.length === 0) break;
        await this.processBatch(batch);
      }
      this.retry.succeeded();
    } catch (error) {
      if (this.closed) return;
      this.deps.logger?.error({ err: error, retryInMs: this.retry.delayMs }, 'notifications could not be queued; retrying');
      this.retry.failed(() => this.schedulePump());
    }
  }

  private async processBatch(batch: EntityChange[]): Promise<void> {
    const now = this.now();
    const groups: Array<{ reg: Registered; items: NotifiedEntity[]; ids: Set<string> }> = [];
    const open = new Map<Registered, (typeof groups)[number]>();
    const throttled = new Map<Registered, BatchThrottle>();
    for (const change of batch) {
      const tenant = this.subs.get(change.tenant);
      if (!tenant) continue;
      const subject = (change.after ?? change.before)!;
      let diff: ReturnType<typeof diffEntities> | undefined;
      for (const reg of tenant.values()) {
        const sub = reg.sub;
        if (sub.timeIntervalMs !== undefined || !isLive(sub, now) || !reg.matches(subject)) continue;
        diff ??= diffEntities(change.before, change.after);
        if (!triggeredBy(sub, change.before, change.after, diff)) continue;
        const item: NotifiedEntity = { before: change.before, after: change.after, at: change.at };
        if (sub.throttlingMs !== undefined && sub.throttlingMs > 0) {
          let bt = throttled.get(reg);
          if (!bt) throttled.set(reg, (bt = new BatchThrottle(this.throttles.get(keyOf(sub.tenant, sub.id)), sub.throttlingMs, this.maxEntities)));
          bt.offer({ seq: change.seq, id: change.id, item }, now);
          continue;
        }
        let group = open.get(reg);
        if (!group || group.ids.has(change.id) || group.items.length >= this.maxEntities) {
          group = { reg, items: [], ids: new Set() };
          open.set(reg, group);
          groups.push(group);
        }
        group.items.push(item);
        group.ids.add(change.id);
      }
    }
    for (const [reg, bt] of throttled) if (bt.immediate.length > 0) groups.push({ reg, items: bt.immediate, ids: new Set() });

    const out: OutboundNotification[] = [];
    for (const { reg, items } of groups) {
      try {
        out.push(...(await this.buildFor(reg.sub, items, now)));
      } catch (error) {
        // A rendering bug must not stop every subscription's notifications behind it.
        this.deps.logger?.error({ err: error, subscriptionId: reg.sub.id }, 'notification could not be built; skipped');
      }
    }
    if (out.length > 0) await this.deps.deliver(out);

    for (const [reg, bt] of throttled) {
      const key = keyOf(reg.sub.tenant, reg.sub.id);
      // The subscription may have been removed meanwhile: then its decisions are void.
      if (this.subs.get(reg.sub.tenant)?.get(reg.sub.id) === undefined) continue;
      let state = this.throttles.get(key);
      if (!state) this.throttles.set(key, (state = new ThrottleState()));
      bt.commit(state);
      this.armFlush(key, state);
    }
    this.cursor = batch[batch.length - 1]!.seq;
    await this.ack();
  }

  /** Acknowledges the log up to the cursor, but not past the first change still waiting for a throttling window. */
  private async ack(): Promise<void> {
    let upTo = this.cursor;
    for (const state of this.throttles.values()) upTo = Math.min(upTo, state.minSeq() - 1);
    if (upTo > this.acked) {
      await this.store.ackChanges(upTo);
      this.acked = upTo;
    }
  }

  // ---- throttling windows ----

  private armFlush(key: string, state: ThrottleState): void {
    if (state.timer || state.deferred.size === 0 || this.closed) return;
    const reg = this.lookup(key);
    const windowMs = reg?.sub.throttlingMs ?? 0;
    const delay = Math.max(0, state.lastSentAt + windowMs - this.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.enqueue(() => this.flush(key));
    }, delay);
    state.timer.unref();
  }

  /** The window is over: one notification with the deferred entities as they are now (at most maxEntities of them). */
  private async flush(key: string): Promise<void> {
    const state = this.throttles.get(key);
    if (!state || state.deferred.size === 0) return;
    const reg = this.lookup(key);
    const now = this.now();
    if (!reg || !isLive(reg.sub, now)) {
      state.deferred.clear();
      return this.ack();
    }
    const windowMs = reg.sub.throttlingMs ?? 0;
    if (now < state.lastSentAt + windowMs) return this.armFlush(key, state);
    const taken = [...state.deferred].slice(0, this.maxEntities);
    const items: NotifiedEntity[] = [];
    for (const [id, d] of taken) {
      const current = await this.store.get(reg.sub.tenant, id);
      if (current) {
        if (reg.matches(current)) items.push({ before: d.base, after: current, at: d.at });
      } else if (d.lastKnown && reg.matches(d.lastKnown)) {
        // Gone: notify the deletion if the subscription wants deletions.
        const gone = d.lastKnown;
        if (triggeredBy(reg.sub, gone, undefined, diffEntities(gone, undefined))) items.push({ before: gone, at: d.at });
      }
    }
    try {
      if (items.length > 0) {
        await this.deps.deliver(await this.buildFor(reg.sub, items, now));
        state.lastSentAt = now;
      }
    } catch (error) {
      this.deps.logger?.error({ err: error, subscriptionId: reg.sub.id }, 'throttled notification could not be queued; retrying');
      if (!this.closed) {
        state.timer = setTimeout(() => {
          state.timer = undefined;
          void this.enqueue(() => this.flush(key));
        }, this.retryMs);
        state.timer.unref();
      }
      return;
    }
    for (const [id, d] of taken) if (state.deferred.get(id) === d) state.deferred.delete(id);
    this.armFlush(key, state);
    await this.ack();
  }

  private buildFor(sub: CompiledSubscription, items: NotifiedEntity[], now: number): Promise<OutboundNotification[]> {
    return buildNotifications(sub, items, now, { resolver: this.deps.resolver, logger: this.deps.logger, maxEntities: this.maxEntities });
  }

  private lookup(key: string): Registered | undefined {
    const sep = key.indexOf('\u0000');
    return this.subs.get(key.slice(0, sep))?.get(key.slice(sep + 1));
  }

  /** The log is written only while some active subscription reacts to changes (logging doubles write volume). */
  private updateLogging(): void {
    let on = false;
    for (const tenant of this.subs.values()) {
      for (const { sub } of tenant.values()) if (sub.active && sub.timeIntervalMs === undefined) on = true;
    }
    if (on !== this.logging) {
      this.logging = on;
      this.store.setChangeLogging(on);
    }
  }
}

function keyOf(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
