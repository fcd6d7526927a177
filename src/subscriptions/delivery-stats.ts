import type { DeliveryOutcome } from '../notifications/types.js';
import type { DeliveryStats } from '../model/subscription.js';

/** `b` added to `a`: counts summed, the later timestamps kept, the status of the later attempt. */
export function combineStats(a: DeliveryStats, b: DeliveryStats): DeliveryStats {
  const out: DeliveryStats = { timesSent: a.timesSent + b.timesSent, timesFailed: a.timesFailed + b.timesFailed };
  const lastNotification = later(a.lastNotification, b.lastNotification);
  const lastSuccess = later(a.lastSuccess, b.lastSuccess);
  const lastFailure = later(a.lastFailure, b.lastFailure);
  if (lastNotification !== undefined) out.lastNotification = lastNotification;
  if (lastSuccess !== undefined) out.lastSuccess = lastSuccess;
  if (lastFailure !== undefined) out.lastFailure = lastFailure;
  // Outcomes may arrive out of order (concurrent deliveries): the status is the one of the latest attempt.
  const status = lastNotification === b.lastNotification && b.status ? b.status : (a.status ?? b.status);
  if (status) out.status = status;
  return out;
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(b) >= Date.parse(a) ? b : a;
}

/** One delivery attempt as stats: each attempt counts as sent (timesSent), a failed one also as failed. */
export function statsOf(outcome: DeliveryOutcome): DeliveryStats {
  return outcome.ok
    ? { timesSent: 1, timesFailed: 0, lastNotification: outcome.at, lastSuccess: outcome.at, status: 'ok' }
    : { timesSent: 1, timesFailed: 1, lastNotification: outcome.at, lastFailure: outcome.at, status: 'failed' };
}

/**
 * Delivery outcomes on their way to the store. Hundreds of outcomes a second must not become hundreds of fsyncs: they
 * are summed in memory per subscription and written together at most every `intervalMs` (one lmdb commit for the
 * lot), and on close. Reads add what is not written yet, so counters never go backwards in a GET.
 */
export class DeliveryCounters {
  private pending = new Map<string, DeliveryStats>();
  private readonly inflight = new Map<string, DeliveryStats>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    /** Adds `delta` to the stored stats of the subscription; a missing subscription is no error. */
    private readonly write: (key: string, delta: DeliveryStats) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  record(key: string, outcome: DeliveryOutcome): void {
    if (this.closed) return;
    const current = this.pending.get(key);
    const stats = statsOf(outcome);
    this.pending.set(key, current ? combineStats(current, stats) : stats);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** The stored stats with what is not durable yet. */
  view(key: string, stored: DeliveryStats): DeliveryStats {
    let stats = stored;
    const inflight = this.inflight.get(key);
    if (inflight) stats = combineStats(stats, inflight);
    const pending = this.pending.get(key);
    if (pending) stats = combineStats(stats, pending);
    return stats;
  }

  /** Drops what is pending for a deleted subscription. */
  forget(key: string): void {
    this.pending.delete(key);
  }

  /** Writes everything pending; flushes run one after the other. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.flushOnce());
    return this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async flushOnce(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    for (const [key, delta] of batch) this.inflight.set(key, delta);
    // Issued in one event turn, the writes share one lmdb commit.
    await Promise.all(
      [...batch].map(async ([key, delta]) => {
        try {
          await this.write(key, delta);
        } catch (err) {
          // Kept for the next flush rather than lost.
          const again = this.pending.get(key);
          this.pending.set(key, again ? combineStats(delta, again) : delta);
          if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
          this.onError(err);
        } finally {
          this.inflight.delete(key);
        }
      }),
    );
  }
}
