/**
 * Throttling (clause 5.2.12: "minimal period of time in seconds which shall elapse between two consecutive
 * notifications"): at most one notification per window per subscription, and the last state is never lost.
 *
 * A change that fires while the window is closed is deferred: the entity id is remembered with the state it had
 * before its first deferred change (`base`, for showChanges) and its last known state (for a deletion). When the
 * window opens, one notification carries the deferred entities in the state the store has then.
 *
 * At-least-once: the change log is not acknowledged past a deferred change (`firstSeq`) until its notification
 * is delivered (engine.ts computes the watermark from `minSeq`), so a crash during the window replays it.
 *
 * Decisions made while processing a batch are kept in a BatchThrottle and applied to the ThrottleState only once
 * the batch's notifications are durably queued; a failed batch is retried from the unchanged state.
 */
import type { Entity } from '../model/entity.js';
import type { NotifiedEntity } from './engine-render.js';

export interface Deferred {
  /** Seq of the first deferred change of this entity: the log is kept from there. */
  firstSeq: number;
  /** The entity before that first change (undefined: it did not exist). */
  base: Entity | undefined;
  /** The last state the log showed (after of the last change, or before when that change was a deletion). */
  lastKnown: Entity | undefined;
  /** Commit time of the last deferred change. */
  at: string;
}

/** Committed throttling state of one subscription. */
export class ThrottleState {
  /** When the last notification was built (epoch ms). */
  lastSentAt = -Infinity;
  /** Entity id -> deferred change, oldest first. */
  readonly deferred = new Map<string, Deferred>();
  timer: NodeJS.Timeout | undefined;

  /** The smallest seq that must stay in the change log for this subscription. */
  minSeq(): number {
    let min = Infinity;
    for (const d of this.deferred.values()) if (d.firstSeq < min) min = d.firstSeq;
    return min;
  }
}

/** One change offered to a throttled subscription. */
export interface ThrottledChange {
  seq: number;
  id: string;
  item: NotifiedEntity;
}

/** What one batch decided for one throttled subscription. */
export class BatchThrottle {
  /** Set when the batch sends a notification now (the window was open). */
  sentAt: number | undefined;
  /** The entities of that notification. */
  readonly immediate: NotifiedEntity[] = [];
  private readonly immediateIds = new Set<string>();
  readonly defer = new Map<string, Deferred>();

  constructor(
    private readonly state: ThrottleState | undefined,
    private readonly windowMs: number,
    private readonly maxEntities: number,
  ) {}

  /**
   * Sends the change now when the window is open and nothing is waiting (one notification gathers the batch's
   * entities, each once), else defers it.
   */
  offer(change: ThrottledChange, nowMs: number): void {
    const waiting = (this.state?.deferred.size ?? 0) > 0 || this.defer.size > 0;
    if (!waiting) {
      if (this.sentAt !== undefined) {
        if (!this.immediateIds.has(change.id) && this.immediate.length < this.maxEntities) return this.sendNow(change);
      } else if (nowMs >= (this.state?.lastSentAt ?? -Infinity) + this.windowMs) {
        this.sentAt = nowMs;
        return this.sendNow(change);
      }
    }
    const earlier = this.defer.get(change.id) ?? this.state?.deferred.get(change.id);
    const { before, after, at } = change.item;
    this.defer.set(change.id, {
      firstSeq: earlier ? Math.min(earlier.firstSeq, change.seq) : change.seq,
      base: earlier ? earlier.base : before,
      lastKnown: after ?? before,
      at,
    });
  }

  private sendNow(change: ThrottledChange): void {
    this.immediate.push(change.item);
    this.immediateIds.add(change.id);
  }

  /** Applies the decisions once the batch is delivered. */
  commit(state: ThrottleState): void {
    if (this.sentAt !== undefined) state.lastSentAt = this.sentAt;
    for (const [id, d] of this.defer) state.deferred.set(id, d);
  }
}
