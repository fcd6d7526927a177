import { DeliveryError, type DeliveryOutcome, type OutboundNotification, type Sender } from './types.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What both delivery engines (DeliveryEngine here, StreamDelivery over Redis) need to try a notification once. */
export interface AttemptOptions {
  /** Deliveries tried before a notification becomes a dead letter (1 = no retry). */
  maxAttempts: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Consecutive retryable failures that open an endpoint's circuit breaker. */
  breakerThreshold: number;
  /** How long an open breaker stops all sends to its endpoint before one probe is let through. */
  breakerOpenMs: number;
  /** Timeout of a delivery whose endpoint gives none. */
  defaultTimeoutMs: number;
  /** Called after every attempt; the subscription service keeps timesSent, lastFailure, ... from it. */
  onOutcome?: (outcome: DeliveryOutcome) => void;
  /** Called when a queue operation fails (the notification stays queued; see the engines' class docs). */
  onError?: (err: unknown, context: string) => void;
  /** How long close() lets in-flight sends finish before interrupting them (default 5000 ms). */
  closeTimeoutMs?: number;
}

/** The part of an endpoint's lane that attempts change: circuit breaker and cooldown. */
export interface EndpointHealth {
  breaker: BreakerState;
  /** Consecutive retryable failures. */
  failures: number;
  openUntil: number;
  /** Endpoint cooldown (clause 5.2.15): no send starts before this time. */
  pausedUntil: number;
}

/** What becomes of a notification whose attempt failed: a dead letter, or a retry not before `notBefore`. */
export type FailureVerdict =
  | { error: DeliveryError; at: string; deadLetter: true }
  | { error: DeliveryError; at: string; deadLetter: false; notBefore: number };

/**
 * Sends, retry policy and bookkeeping that both delivery engines share; what differs between them (where a
 * notification waits, how the verdict is written) stays in the engines.
 */
export class Attempts {
  private readonly flights = new Set<Promise<void>>();
  private readonly writes = new Set<Promise<void>>();
  private readonly interrupt = new AbortController();

  constructor(
    private readonly senders: Record<string, Sender>,
    private readonly options: AttemptOptions,
  ) {}

  /** One try of `item` (attempt number item.attempt + 1); exactly one of the callbacks follows, unless it throws. */
  send(item: OutboundNotification, delivered: (attempt: number) => void, failed: (attempt: number, err: unknown) => void): void {
    const attempt = item.attempt + 1;
    const timeoutMs = item.endpoint.timeoutMs ?? this.options.defaultTimeoutMs;
    const flight = timedSend(this.senders, item, timeoutMs, this.interrupt.signal).then(
      () => delivered(attempt),
      (err: unknown) => failed(attempt, err),
    );
    this.flights.add(flight);
    void flight.finally(() => this.flights.delete(flight));
  }

  /** The endpoint answered: it is up, whatever it thought of the notification. */
  answered(lane: EndpointHealth): void {
    lane.breaker = 'closed';
    lane.failures = 0;
  }

  /** Updates the lane's breaker and cooldown after a failed attempt and decides between retry and dead letter. */
  judge(lane: EndpointHealth, item: OutboundNotification, attempt: number, err: unknown): FailureVerdict {
    const error = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), true);
    const now = Date.now();
    if (error.retryable) {
      lane.failures++;
      if (lane.breaker === 'half-open' || lane.failures >= this.options.breakerThreshold) {
        lane.breaker = 'open';
        lane.openUntil = now + this.options.breakerOpenMs;
      }
    } else {
      this.answered(lane);
    }
    const cooldown = item.endpoint.cooldownMs ?? 0;
    if (cooldown > 0) lane.pausedUntil = Math.max(lane.pausedUntil, now + cooldown);
    const at = new Date(now).toISOString();
    if (!error.retryable || attempt >= this.options.maxAttempts) return { error, at, deadLetter: true };
    const notBefore = now + Math.max(backoffDelay(attempt, this.options.baseBackoffMs, this.options.maxBackoffMs), cooldown);
    return { error, at, deadLetter: false, notBefore };
  }

  /** A queue write whose failure is reported, not thrown; settle() waits for it. */
  track(write: Promise<void>, context: string): Promise<void> {
    const tracked = write.catch((err: unknown) => this.report(err, context));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
    return tracked;
  }

  emit(outcome: DeliveryOutcome): void {
    try {
      this.options.onOutcome?.(outcome);
    } catch (err) {
      this.report(err, 'the onOutcome callback');
    }
  }

  report(err: unknown, context: string): void {
    this.options.onError?.(err, context);
  }

  /** For close(): lets in-flight sends finish (up to closeTimeoutMs), interrupts the rest, waits for queue writes. */
  async settle(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 5000)));
    await Promise.race([Promise.allSettled([...this.flights]), bound]);
    clearTimeout(timer);
    this.interrupt.abort();
    await Promise.allSettled([...this.flights]);
    await Promise.allSettled([...this.writes]);
  }

  /** Each sender once, though several schemes may share one (http and https). */
  async closeSenders(): Promise<void> {
    await Promise.allSettled([...new Set(Object.values(this.senders))].map((s) => s.close()));
  }
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

/** Thrown into in-flight sends that close() interrupts: their notifications stay queued, untouched. */
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
