/**
 * timeInterval subscriptions (clause 5.8.6): "a Notification shall be sent periodically, when the time interval
 * (in seconds) specified in such value field is reached, regardless of Attribute changes", with every entity matching
 * the selection (entities, q, geoQ, scopeQ) and only the selected datasetId instances; "if there are no matching
 * Entities, no Notification is sent".
 *
 * The entities are read with store.query page by page (keyset paging in id order) and delivered one notification per
 * page, so neither the query nor a notification grows with the number of entities. A tick still running when the
 * next is due skips that one. A failed delivery is logged and not retried: the next tick sends a fresh snapshot.
 */
import type { Logger } from '../logger.js';
import type { OutboundNotification } from '../notifications/types.js';
import type { EntityStore } from '../store/entity-store.js';
import type { CompiledSubscription } from './compiled.js';
import { isLive } from './engine-match.js';
import type { NotifiedEntity } from './engine-render.js';

export interface PeriodicNotifierDeps {
  store: EntityStore;
  deliver: (items: OutboundNotification[]) => Promise<void>;
  build: (sub: CompiledSubscription, items: NotifiedEntity[], nowMs: number) => Promise<OutboundNotification[]>;
  now: () => number;
  logger?: Pick<Logger, 'error'>;
  /** Entities per page, and so per notification. */
  pageSize: number;
}

interface Periodic {
  sub: CompiledSubscription;
  timer: NodeJS.Timeout;
  ticking: boolean;
}

export class PeriodicNotifier {
  private readonly timers = new Map<string, Periodic>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: PeriodicNotifierDeps) {}

  /** Starts (or restarts, after a change) the timer of a timeInterval subscription; other subscriptions are ignored. */
  arm(sub: CompiledSubscription): void {
    this.disarm(sub.tenant, sub.id);
    const ms = sub.timeIntervalMs;
    if (ms === undefined || ms <= 0 || this.closed) return;
    const periodic: Periodic = { sub, timer: setInterval(() => this.tick(periodic), ms), ticking: false };
    periodic.timer.unref();
    this.timers.set(keyOf(sub.tenant, sub.id), periodic);
  }

  disarm(tenant: string, id: string): void {
    const key = keyOf(tenant, id);
    const periodic = this.timers.get(key);
    if (periodic) clearInterval(periodic.timer);
    this.timers.delete(key);
  }

  /** Resolves when no tick is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const periodic of this.timers.values()) clearInterval(periodic.timer);
    this.timers.clear();
    await this.idle();
  }

  private tick(periodic: Periodic): void {
    if (periodic.ticking || this.closed) return;
    periodic.ticking = true;
    const run = this.notify(periodic.sub)
      .catch((error) => this.deps.logger?.error({ err: error, subscriptionId: periodic.sub.id }, 'periodic notification failed'))
      .finally(() => {
        periodic.ticking = false;
        this.running.delete(run);
      });
    this.running.add(run);
  }

  private async notify(sub: CompiledSubscription): Promise<void> {
    const { store, pageSize } = this.deps;
    const now = this.deps.now();
    if (!isLive(sub, now)) return;
    const at = new Date(now).toISOString();
    let after: string | undefined;
    for (;;) {
      const page = await store.query(sub.tenant, { selection: sub.selection, limit: pageSize, offset: 0, after, count: false });
      if (page.entities.length === 0 || this.closed) return;
      const items = page.entities.map((entity): NotifiedEntity => ({ after: entity, at }));
      await this.deps.deliver(await this.deps.build(sub, items, this.deps.now()));
      if (page.entities.length < pageSize) return;
      after = page.entities[page.entities.length - 1]!.id;
    }
  }
}

function keyOf(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
