import { DeliveryError, type OutboundNotification, type Sender, type StreamRef } from './types.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

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
export interface Lane {
  key: string;
  /** Insertion order is the round-robin order: a stream that sends moves to the back. */
  streams: Map<string, Stream>;
  active: number;
  breaker: BreakerState;
  /** Consecutive retryable failures. */
  failures: number;
  openUntil: number;
  /** A half-open breaker lets exactly one send through: the id of that notification. */
  probe: string | undefined;
  /** Endpoint cooldown (clause 5.2.15): no send starts before this time. */
  pausedUntil: number;
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

/**
 * Wait before attempt `attempt + 1` after `attempt` failed: base * 2^(attempt-1), capped at max, with "equal
 * jitter" (a uniform draw in the upper half) so that many notifications failing together do not come back
 * together, while max stays a true maximum and half the exponential delay a true minimum.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return exp / 2 + random() * (exp / 2);
}

/** Thrown into in-flight sends that DeliveryEngine.close() interrupts: their notifications stay queued, untouched. */
export class Interrupted extends Error {}

/**
 * One try with the sender of the URI's scheme, bounded by `timeoutMs` even if the sender ignores its signal, and
 * cut short by `interrupt` (rejecting with Interrupted).
 */
export async function timedSend(senders: Record<string, Sender>, item: OutboundNotification, timeoutMs: number, interrupt: AbortSignal): Promise<void> {
  const uri = item.endpoint.uri;
  const scheme = uri.slice(0, Math.max(0, uri.indexOf(':'))).toLowerCase();
  const sender = senders[scheme];
  if (!sender) throw new DeliveryError(`musubi cannot send notifications to ${scheme || 'scheme-less'} URIs`, false);
  const expiry = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onInterrupt: (() => void) | undefined;
  const limits = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeliveryError(`no answer within ${timeoutMs} ms`, true));
      expiry.abort();
    }, timeoutMs);
    onInterrupt = () => reject(new Interrupted('the delivery engine closed'));
    interrupt.addEventListener('abort', onInterrupt, { once: true });
  });
  try {
    await Promise.race([sender.send(item, AbortSignal.any([expiry.signal, interrupt])), limits]);
  } finally {
    clearTimeout(timer);
    interrupt.removeEventListener('abort', onInterrupt!);
  }
}
