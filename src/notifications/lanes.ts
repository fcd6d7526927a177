import type { BreakerState, EndpointHealth } from './attempt.js';
import type { OutboundNotification, StreamRef } from './types.js';

/**
 * The notifications of one subscription to one endpoint, in enqueue order. Only a window of them is in memory;
 * the rest wait in the durable queue and are read back (by seq) as the window drains.
 */
export interface Stream {
  key: string;
  ref: StreamRef;
  /** Sorted by seq; the head is the next to send (or the one in flight). */
  items: OutboundNotification[];
  inFlight: boolean;
  /** Ids in `items`, plus those whose complete/deadLetter is not yet committed: a refill must not load them again. */
  known: Set<string>;
  /** Smallest seq of this stream that is in the queue but not in memory; undefined when everything is in memory. */
  overflowFrom: number | undefined;
  refilling: boolean;
  /** Smallest seq passed over while a refill was reading, so the refill's result does not hide it. */
  skippedWhileRefilling: number | undefined;
}

/** One endpoint: concurrency, circuit breaker and cooldown are shared by all its streams. */
export interface Lane extends EndpointHealth {
  key: string;
  /** Insertion order is the round-robin order: a stream that sends moves to the back. */
  streams: Map<string, Stream>;
  active: number;
  /** A half-open breaker lets exactly one send through: the id of that notification. */
  probe: string | undefined;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
}

export interface LaneStats {
  endpoint: string;
  breaker: BreakerState;
  active: number;
  /** Notifications of this endpoint held in memory. */
  inMemory: number;
  /** Whether more notifications of this endpoint wait in the queue only. */
  moreQueued: boolean;
}

export function laneStats(lane: Lane): LaneStats {
  const streams = [...lane.streams.values()];
  return {
    endpoint: lane.key,
    breaker: lane.breaker,
    active: lane.active,
    inMemory: streams.reduce((n, s) => n + s.items.length, 0),
    moreQueued: streams.some((s) => s.overflowFrom !== undefined || s.refilling),
  };
}

export function newLane(key: string): Lane {
  return { key, streams: new Map(), active: 0, breaker: 'closed', failures: 0, openUntil: 0, probe: undefined, pausedUntil: 0, timer: undefined, timerAt: Infinity };
}

export function newStream(key: string, ref: StreamRef): Stream {
  return { key, ref, items: [], inFlight: false, known: new Set(), overflowFrom: undefined, refilling: false, skippedWhileRefilling: undefined };
}

/** Items arrive in seq order almost always, so this is an append; the scan keeps the rare other case right. */
export function insertBySeq(items: OutboundNotification[], item: OutboundNotification): void {
  const seq = item.seq ?? 0;
  let i = items.length;
  while (i > 0 && (items[i - 1]!.seq ?? 0) > seq) i--;
  items.splice(i, 0, item);
}

export function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
