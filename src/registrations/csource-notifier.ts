/**
 * CSourceNotifications (clauses 5.3.2, 5.11.7): CSource subscriptions are matched against registration changes, not
 * entity changes. A change of a registration notifies every active CSource subscription of its tenant that matched it
 * before or matches it after, with triggerReason newlyMatching, updated or noLongerMatching; creating or updating a
 * CSource subscription notifies it of every registration matching it now (5.11.2.4, 5.11.3.4). Notifications are built
 * like entity notifications (src/subscriptions/engine-notification.ts) and go through the same durable delivery queue.
 *
 * A CSource subscription with timeInterval is instead notified periodically of every registration matching it, changes
 * or not (5.11.7), without triggerReason; as for entity subscriptions (5.8.6), nothing is sent while none matches.
 *
 * Durability: registration changes come from the registration store's change log, written in the same atomic commit
 * as each change (RegistrationChangeLog). Like the entity subscription engine (src/subscriptions/engine.ts), the
 * notifier tails it in seq order, one batch at a time: read, build, `await deliver(...)` (durable once it resolves),
 * then acknowledge. A crash before the acknowledgement repeats notifications; none is lost (at-least-once), and the
 * unacknowledged rest of the log is processed when the notifier starts. With a backend shared by several instances
 * only one of them should run a notifier (as the entity engine runs on the leader), or each change is sent by each.
 *
 * The notifications of a new or updated CSource subscription (5.11.2.4, 5.11.3.4) and of timeInterval ticks are not
 * registration changes and are not on the log: those stay best effort.
 */
import { RetryBackoff } from '../common/retry-backoff.js';
import type { ContextResolver } from '../jsonld/resolver.js';
import type { LdContext } from '../jsonld/types.js';
import type { StoredRegistration } from '../model/registration.js';
import type { LoggedRegistrationChange } from '../store/registration-store.js';
import type { OutboundNotification } from '../notifications/types.js';
import type { CompiledSubscription } from '../subscriptions/compiled.js';
import { buildNotification } from '../subscriptions/engine-notification.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import { matchesInfo } from './match.js';
import { filtersOf, matchesRegistrationQuery, parseCsf, type RegistrationQuery } from './query.js';
import { renderRegistration } from './render.js';
import type { RegistrationService } from './service.js';

export type TriggerReason = 'newlyMatching' | 'updated' | 'noLongerMatching';

export interface CSourceNotifierOptions {
  registrations: RegistrationService;
  /** The CSource subscriptions (a SubscriptionService over the csource subscription store). */
  subscriptions: SubscriptionService;
  resolver: ContextResolver;
  /** Hands notifications to the durable delivery queue (DeliveryEngine.enqueue). */
  deliver: (items: OutboundNotification[]) => Promise<void>;
  clock?: () => number;
  onError?: (err: unknown, what: string) => void;
  /** Changes read from the log per batch (default 100). */
  batchSize?: number;
  /** First delay before retrying after a failed batch, doubled up to 30 s (default 200 ms). */
  retryMs?: number;
}

export class CSourceNotifier {
  private readonly clock: () => number;
  private readonly onError: (err: unknown, what: string) => void;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Notifications are made one change after the other, so a receiver sees them in the order of the changes. */
  private chain: Promise<void> = Promise.resolve();
  /** Last seq of the change log whose notifications are queued. */
  private cursor = 0;
  private pumpQueued = false;
  private readonly retry: RetryBackoff;
  private readonly batchSize: number;

  /** Starts at once: the unacknowledged backlog of the change log first. */
  constructor(private readonly opts: CSourceNotifierOptions) {
    this.clock = opts.clock ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.batchSize = opts.batchSize ?? 100;
    this.retry = new RetryBackoff(opts.retryMs ?? 200);
    this.unsubscribe.push(
      opts.registrations.changeLog.onChanges(() => this.schedulePump()),
      opts.subscriptions.onChange((tenant, id, compiled) => {
        if (compiled?.active) {
          this.arm(compiled);
          this.enqueue(() => this.subscriptionChanged(tenant, compiled));
        } else this.disarm(tenant, id);
      }),
    );
    for (const sub of opts.subscriptions.compiled()) if (sub.active) this.arm(sub);
    this.schedulePump();
  }

  /** Resolves once every notification of the changes so far is queued (or has failed and waits for its retry). */
  async idle(): Promise<void> {
    for (;;) {
      const chain = this.chain;
      await chain;
      if (chain === this.chain) return;
    }
  }

  /** Stops; what is not acknowledged yet is notified by the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.retry.cancel();
    for (const off of this.unsubscribe) off();
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    await this.chain;
  }

  /** Starts (or restarts) the timer of a timeInterval subscription; other subscriptions have none. */
  private arm(sub: CompiledSubscription): void {
    this.disarm(sub.tenant, sub.id);
    const ms = sub.timeIntervalMs;
    if (ms === undefined || ms <= 0 || this.closed) return;
    const timer = setInterval(() => {
      const current = this.opts.subscriptions.compiledOne(sub.tenant, sub.id);
      if (current?.active) this.enqueue(() => this.subscriptionChanged(sub.tenant, current));
    }, ms);
    timer.unref();
    this.timers.set(`${sub.tenant}\u0000${sub.id}`, timer);
  }

  private disarm(tenant: string, id: string): void {
    const key = `${tenant}\u0000${id}`;
    clearInterval(this.timers.get(key));
    this.timers.delete(key);
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(() => (this.closed ? undefined : work())).catch((err) => this.onError(err, 'CSource notification'));
  }

  private schedulePump(): void {
    if (this.closed || this.pumpQueued) return;
    this.pumpQueued = true;
    this.enqueue(async () => {
      this.pumpQueued = false;
      await this.drain();
    });
  }

  /** Processes the change log until it is empty; on failure retries later from the same cursor. */
  private async drain(): Promise<void> {
    const log = this.opts.registrations.changeLog;
    try {
      for (;;) {
        if (this.closed) return;
        const batch = await log.readChanges(this.cursor, this.batchSize);
        if (batch.length === 0) break;
        const items: OutboundNotification[] = [];
        for (const change of batch) items.push(...(await this.registrationChanged(change)));
        if (items.length > 0) await this.opts.deliver(items);
        this.cursor = batch[batch.length - 1]!.seq;
        await log.ackChanges(this.cursor);
      }
      this.retry.succeeded();
    } catch (err) {
      if (this.closed) return;
      this.onError(err, `CSource notifications could not be queued; retrying in ${this.retry.delayMs} ms`);
      this.retry.failed(() => this.schedulePump());
    }
  }

  /**
   * The notifications of one logged change. Matching is judged as of the change (its `at`), not of now: a backlog
   * replayed after a restart notifies what happened then, even if the registration has expired since.
   */
  private async registrationChanged(change: LoggedRegistrationChange): Promise<OutboundNotification[]> {
    const { tenant, before, after } = change;
    const now = this.clock();
    const at = Date.parse(change.at);
    const items: OutboundNotification[] = [];
    for (const sub of this.opts.subscriptions.compiled()) {
      if (sub.tenant !== tenant || !sub.active || sub.timeIntervalMs !== undefined) continue;
      try {
        const query = await this.queryOf(sub);
        if (!query) continue;
        // An expiry is judged as of just before it, when the registration still matched.
        const beforeAt = before?.spec.expiresAt !== undefined ? Math.min(at, Date.parse(before.spec.expiresAt) - 1) : at;
        const was = before !== undefined && matchesRegistrationQuery(before, query.query, beforeAt);
        const is = after !== undefined && matchesRegistrationQuery(after, query.query, at);
        if (!was && !is) continue;
        const reason: TriggerReason = was && is ? 'updated' : is ? 'newlyMatching' : 'noLongerMatching';
        items.push(this.build(sub, query, [is ? after! : before!], reason, now));
      } catch (err) {
        // A rendering bug must not hold back every notification behind it.
        this.onError(err, `CSource notification for subscription ${sub.id} could not be built; skipped`);
      }
    }
    return items;
  }

  /** All registrations matching now: on creation and update (5.11.2.4, 5.11.3.4) and on every tick of a timeInterval. */
  private async subscriptionChanged(tenant: string, sub: CompiledSubscription): Promise<void> {
    const now = this.clock();
    const query = await this.queryOf(sub);
    if (!query) return;
    const matching = (await this.opts.registrations.allOf(tenant)).filter((r) => matchesRegistrationQuery(r, query.query, now));
    const reason = sub.timeIntervalMs === undefined ? 'newlyMatching' : undefined;
    if (matching.length > 0) await this.opts.deliver([this.build(sub, query, matching, reason, now)]);
  }

  private build(sub: CompiledSubscription, query: { query: RegistrationQuery; ctx: LdContext }, regs: StoredRegistration[], reason: TriggerReason | undefined, now: number): OutboundNotification {
    const filters = filtersOf(query.query);
    // 5.11.7: only the RegistrationInfo elements relevant to the subscription.
    const data = regs.map((r) => {
      const information = r.spec.information.filter((info) => filters.some((f) => matchesInfo(info, f)));
      return renderRegistration(r, r.stats, query.ctx, { sysAttrs: false, information: information.length > 0 ? information : undefined });
    });
    const out = buildNotification(sub, query.ctx, data, now);
    if (reason === undefined) return out;
    // The CSourceNotification (5.3.2) is a Notification with the reason of the change.
    const body = JSON.parse(out.body) as Record<string, unknown>;
    return { ...out, body: JSON.stringify({ ...body, triggerReason: reason }) };
  }

  /** The subscription's matching conditions as a registration query (5.11.2.4, 5.12); undefined when it cannot be had. */
  private async queryOf(sub: CompiledSubscription): Promise<{ query: RegistrationQuery; ctx: LdContext } | undefined> {
    let ctx: LdContext;
    try {
      ctx = await this.opts.resolver.resolve(sub.context);
    } catch {
      ctx = await this.opts.resolver.resolve(undefined);
    }
    const watched = sub.watchedAttributes ?? [];
    const notified = sub.notification.attributes ?? [];
    // 5.11.2.4: if either list is absent or empty, every attribute matches; else both together are matched.
    const attrs = watched.length > 0 && notified.length > 0 ? [...new Set([...watched, ...notified])] : [];
    const query: RegistrationQuery = { selection: { ...sub.selection, q: undefined }, attrs };
    const stored = await this.opts.subscriptions.retrieve({ tenant: sub.tenant, ctx }, sub.id).catch(() => undefined);
    if (!stored) return undefined;
    const { temporalQ, datasetId } = stored.subscription.spec;
    // 5.11.2.4: without temporalQ only registrations of latest information match (matchesTemporal).
    if (temporalQ) query.temporal = temporalQ;
    // 5.12: the subscription's datasetIds against the registration's, a match when either has none.
    if (datasetId?.length) query.datasetIds = datasetId;
    if (stored.subscription.spec.csf !== undefined) {
      try {
        query.csf = parseCsf(stored.subscription.spec.csf, ctx);
      } catch (err) {
        this.onError(err, `csf of CSource subscription ${sub.id}`);
        return undefined;
      }
    }
    return { query, ctx };
  }
}
