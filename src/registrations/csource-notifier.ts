/**
 * CSourceNotifications (clauses 5.3.2, 5.11.7): CSource subscriptions are matched against registration changes, not
 * entity changes. A change of a registration notifies every active CSource subscription of its tenant that matched it
 * before or matches it after, with triggerReason newlyMatching, updated or noLongerMatching; creating or updating a
 * CSource subscription notifies it of every registration matching it now (5.11.2.4, 5.11.3.4). Notifications are built
 * like entity notifications (src/subscriptions/engine-notification.ts) and go through the same durable delivery queue.
 *
 * A CSource subscription with timeInterval is instead notified periodically of every registration matching it, changes
 * or not (5.11.7), without triggerReason; as for entity subscriptions (5.8.6), nothing is sent while none matches.
 */
import type { ContextResolver } from '../jsonld/resolver.js';
import type { LdContext } from '../jsonld/types.js';
import type { StoredRegistration } from '../model/registration.js';
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
}

export class CSourceNotifier {
  private readonly clock: () => number;
  private readonly onError: (err: unknown, what: string) => void;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Notifications are made one change after the other, so a receiver sees them in the order of the changes. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: CSourceNotifierOptions) {
    this.clock = opts.clock ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.unsubscribe.push(
      opts.registrations.onChange((tenant, before, after) => this.enqueue(() => this.registrationChanged(tenant, before, after))),
      opts.subscriptions.onChange((tenant, id, compiled) => {
        if (compiled?.active) {
          this.arm(compiled);
          this.enqueue(() => this.subscriptionChanged(tenant, compiled));
        } else this.disarm(tenant, id);
      }),
    );
    for (const sub of opts.subscriptions.compiled()) if (sub.active) this.arm(sub);
  }

  /** Resolves once every notification of the changes so far is queued. */
  idle(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
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
    this.chain = this.chain.then(work).catch((err) => this.onError(err, 'CSource notification'));
  }

  private async registrationChanged(tenant: string, before: StoredRegistration | undefined, after: StoredRegistration | undefined): Promise<void> {
    const now = this.clock();
    const items: OutboundNotification[] = [];
    for (const sub of this.opts.subscriptions.compiled()) {
      if (sub.tenant !== tenant || !sub.active || sub.timeIntervalMs !== undefined) continue;
      const query = await this.queryOf(sub);
      if (!query) continue;
      // An expiry is judged as of just before it, when the registration still matched.
      const beforeAt = before?.spec.expiresAt !== undefined ? Math.min(now, Date.parse(before.spec.expiresAt) - 1) : now;
      const was = before !== undefined && matchesRegistrationQuery(before, query.query, beforeAt);
      const is = after !== undefined && matchesRegistrationQuery(after, query.query, now);
      if (!was && !is) continue;
      const reason: TriggerReason = was && is ? 'updated' : is ? 'newlyMatching' : 'noLongerMatching';
      items.push(this.build(sub, query, [is ? after! : before!], reason, now));
    }
    if (items.length > 0) await this.opts.deliver(items);
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
