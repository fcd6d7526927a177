import type { Redis } from 'ioredis';
import { Attempts, Interrupted, type EndpointHealth } from '../notifications/attempt.js';
import type { DeliveryEngineOptions } from '../notifications/delivery-engine.js';
import { laneKeyOf } from '../notifications/keys.js';
import type { OutboundNotification, Sender } from '../notifications/types.js';
import { connectRedisPair } from './redis.js';
import { RedisNotificationStream, type BrokenEntry, type Fence, type StreamEntry } from './stream-queue.js';
import type { NotificationDelivery } from './types.js';

export type StreamDeliveryOptions = Pick<
  DeliveryEngineOptions,
  'maxAttempts' | 'baseBackoffMs' | 'maxBackoffMs' | 'perEndpointConcurrency' | 'breakerThreshold' | 'breakerOpenMs' | 'defaultTimeoutMs' | 'onOutcome' | 'onError' | 'closeTimeoutMs'
> & {
  /** This instance's consumer name in the group: unique per running instance. */
  consumer: string;
  /** Notifications this instance holds at once (sending or waiting for a slot of their endpoint); default 64. */
  maxHeld?: number;
  /**
   * An entry pending this long for another consumer is taken over: that consumer is believed dead. Longer than any
   * delivery takes (a shorter one only costs duplicates); default 60 s.
   */
  claimIdleMs?: number;
  /**
   * Liveness: this instance renews a heartbeat key of this lifetime (default 10 s); the entries of a consumer whose
   * key expired are taken over at the next scan, without waiting for claimIdleMs.
   */
  livenessMs?: number;
  /** How often retries that are due are moved back into the stream (default 250 ms). */
  pollMs?: number;
  /** How long one blocking read waits (default 1000 ms). */
  blockMs?: number;
  /** The leader's lease token while this instance holds it (enqueueAsLeader). */
  fence?: () => Fence | undefined;
};

interface Lane extends EndpointHealth {
  key: string;
  waiting: StreamEntry[];
  active: number;
  probe: string | undefined;
  /** Whether this lane object has unparked its lane since it was made (see delivered()). */
  unparked: boolean;
  /** When the lane last held anything: its failure count outlives the backoff of a retry (see sweep()). */
  lastBusy: number;
}

/** What one lane may hold, in multiples of its concurrency: the rest goes back to Redis, so slots stay free for other endpoints. */
const LANE_HOLD_FACTOR = 2;

/**
 * Delivers notifications from the shared Redis Stream (stream-queue.ts), one consumer of the group per instance:
 * each entry is read by exactly one instance, sent with the ordinary senders (HTTP, MQTT) and acknowledged. An
 * instance that dies leaves its entries pending; after `claimIdleMs` another takes them over (XAUTOCLAIM) and sends
 * them again: at-least-once, never lost.
 *
 * Each instance also renews a heartbeat key; the entries of a consumer whose heartbeat expired are taken over at the
 * next scan (claimFromDead), so a crashed instance's work moves within livenessMs, while claimIdleMs (long: it must
 * exceed any delivery) only catches an instance that is alive but stuck.
 *
 * What the single-instance DeliveryEngine does is kept where it can be: lanes per endpoint (concurrency cap, circuit
 * breaker, cooldown) — per instance, not shared —, exponential backoff with jitter, dead letters after maxAttempts
 * or a non-retryable answer, an outcome per attempt for the subscription counters. A retry leaves the consumer: the
 * notification goes to the delayed set with its notBefore and comes back to the stream when due, for any instance.
 * A notification for an endpoint whose breaker is open or that cools down is parked with its lane (not counted as
 * an attempt) until the breaker would let it through, or until a delivery to that endpoint succeeds again.
 *
 * Ordering: none is promised across instances. Notifications are read in enqueue order, but two instances send in
 * parallel and a retry goes to the back, so a receiver may see a subscription's notifications out of order; each
 * carries its notifiedAt.
 */
export class StreamDelivery implements NotificationDelivery {
  private readonly lanes = new Map<string, Lane>();
  /** Entry ids this instance holds (waiting in a lane or in flight): a take-over scan must not take them twice. */
  private readonly held = new Set<string>();
  private readonly attempts: Attempts;
  private readonly maxHeld: number;
  private readonly claimIdleMs: number;
  private readonly deferMs: number;
  private readonly retainMs: number;
  private claimCursor = '0-0';
  private slotFreed: (() => void) | undefined;
  private reading: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private polling = false;
  private claiming = false;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  /**
   * Connects (two connections of its own: commands, and the blocking reads) and returns the delivery, not started,
   * with the dead letters it keeps (for the /ngsi-ld/ex/v1/deadLetters routes of every instance).
   */
  static async open(
    redis: { url: string; prefix: string },
    senders: Record<string, Sender>,
    options: StreamDeliveryOptions,
  ): Promise<{ delivery: StreamDelivery; deadLetters: RedisNotificationStream }> {
    const name = `musubi-${options.consumer}-delivery`;
    const [command, blocking] = await connectRedisPair(redis.url, { name, commandTimeoutMs: 10_000, onError: options.onError }, `${name}-read`);
    const queue = new RedisNotificationStream(command, redis.prefix);
    return { delivery: new StreamDelivery(queue, blocking, senders, options, command), deadLetters: queue };
  }

  constructor(
    private readonly queue: RedisNotificationStream,
    /** A connection of its own: the blocking reads hold it. Closed by close(). */
    private readonly blocking: Redis,
    senders: Record<string, Sender>,
    private readonly options: StreamDeliveryOptions,
    /** The queue's connection, when this delivery owns it: closed last by close(). */
    private readonly command?: Redis,
  ) {
    this.attempts = new Attempts(senders, options);
    this.maxHeld = Math.max(1, options.maxHeld ?? 64);
    this.claimIdleMs = options.claimIdleMs ?? 60_000;
    this.deferMs = Math.max(100, options.pollMs ?? 250);
    // A retry comes back after at most maxBackoffMs (plus polling): a lane idle longer has no retry of its own pending.
    this.retainMs = 2 * (options.maxBackoffMs + (options.pollMs ?? 250)) + 1000;
  }

  async start(): Promise<void> {
    if (this.started || this.closed) return;
    this.started = true;
    await this.queue.ensureGroup();
    const every = (ms: number, task: () => Promise<void>) => {
      const timer = setInterval(() => void task(), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.pollMs ?? 250, () => this.poll());
    every(1000, async () => this.sweep());
    const livenessMs = this.options.livenessMs ?? 10_000;
    await this.queue.heartbeat(this.options.consumer, livenessMs);
    every(Math.max(20, Math.floor(livenessMs / 3)), () =>
      this.queue.heartbeat(this.options.consumer, livenessMs).catch((err: unknown) => this.attempts.report(err, 'renewing the delivery heartbeat')),
    );
    every(Math.max(50, Math.min(Math.floor(this.claimIdleMs / 2), Math.floor(livenessMs / 2), 5000)), () => this.takeOver());
    // Breakers opened by instances that may be gone: one probe per parked lane, now.
    await this.queue.probeParked();
    this.reading = this.readLoop();
    // What a dead instance left pending is due at once.
    await this.takeOver();
  }

  /** Queues notifications made by any instance (e.g. for CSource subscriptions); resolves once Redis has them. */
  async enqueue(items: OutboundNotification[]): Promise<void> {
    if (items.length > 0) await this.queue.enqueue(items);
  }

  /**
   * Queues notifications of the subscription engine, which only the leader runs: fenced by the leader lease, so an
   * instance that lost the lease (paused, cut off) cannot add notifications the new leader makes too.
   */
  async enqueueAsLeader(items: OutboundNotification[]): Promise<void> {
    const fence = this.options.fence?.();
    if (!fence) throw new Error('this instance is not the leader: only the leader queues subscription notifications');
    if (items.length > 0) await this.queue.enqueue(items, fence);
  }

  replay(tenant: string, id: string): Promise<boolean> {
    return this.queue.replay(tenant, id);
  }

  /** Stops reading, lets in-flight sends finish (up to closeTimeoutMs), hands the rest back to the other instances. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      for (const timer of this.timers) clearInterval(timer);
      // The blocking read ends with its connection.
      this.blocking.disconnect();
      this.slotFreed?.();
      await this.reading;
      const unsent: string[] = [];
      for (const lane of this.lanes.values()) {
        for (const entry of lane.waiting.splice(0)) {
          unsent.push(entry.entryId);
          this.held.delete(entry.entryId);
        }
      }
      await this.attempts.settle();
      // Interrupted sends stay in `held`: together with the unsent ones, other instances may take them at once.
      try {
        await this.queue.handBack(this.options.consumer, [...unsent, ...this.held], this.claimIdleMs);
        await this.queue.leave(this.options.consumer);
      } catch (err) {
        this.attempts.report(err, 'handing pending notifications back');
      }
      await this.attempts.closeSenders();
      await this.command?.quit().catch(() => this.command?.disconnect());
    })();
    return this.closing;
  }

  private async readLoop(): Promise<void> {
    while (!this.closed) {
      const room = this.maxHeld - this.held.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        this.slotFreed = undefined;
        continue;
      }
      try {
        const entries = await this.queue.read(this.blocking, this.options.consumer, room, this.options.blockMs ?? 1000);
        for (const entry of entries) this.admit(entry);
      } catch (err) {
        if (this.closed) return;
        this.attempts.report(err, 'reading the notification stream');
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
        // The stream was deleted (FLUSHALL, a restored Redis): make it and the group again.
        if (err instanceof Error && err.message.startsWith('NOGROUP')) await this.queue.ensureGroup().catch((e: unknown) => this.attempts.report(e, 'creating the consumer group'));
      }
    }
  }

  /** Due retries back to the stream. */
  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      while ((await this.queue.moveDue(Date.now())) > 0 && !this.closed);
    } catch (err) {
      this.attempts.report(err, 'moving due retries to the notification stream');
    } finally {
      this.polling = false;
    }
  }

  /** Entries of consumers that stopped acknowledging (dead instances), as far as there is room. */
  private async takeOver(): Promise<void> {
    if (this.closed || this.claiming) return;
    this.claiming = true;
    try {
      // Redis counts idle time from the read, not from the send: what this instance still holds (waiting for a slot,
      // or in a long send) must not look abandoned to the other instances' scans.
      if (this.held.size > 0) await this.queue.touch(this.options.consumer, [...this.held]);
      const room = this.maxHeld - this.held.size;
      if (this.closed || room <= 0) return;
      const fromDead = await this.queue.claimFromDead(this.options.consumer, Math.min(1000, this.claimIdleMs), room);
      for (const entry of fromDead) if (!this.held.has(entry.entryId)) this.admit(entry);
      if (this.closed || this.maxHeld - this.held.size <= 0) return;
      const { cursor, entries } = await this.queue.claim(this.options.consumer, this.claimIdleMs, this.claimCursor, this.maxHeld - this.held.size);
      this.claimCursor = cursor;
      for (const entry of entries) if (!this.held.has(entry.entryId)) this.admit(entry);
    } catch (err) {
      this.attempts.report(err, 'taking over pending notifications');
    } finally {
      this.claiming = false;
    }
  }

  private admit(entry: StreamEntry | BrokenEntry): void {
    if ('broken' in entry) {
      this.attempts.report(new Error(`unreadable notification stream entry ${entry.entryId}: ${entry.broken}`), 'dropping an unreadable entry');
      this.attempts.track(this.queue.ack(entry.entryId), 'dropping an unreadable entry');
      return;
    }
    if (this.closed) return;
    this.held.add(entry.entryId);
    const key = laneKeyOf(entry.item.endpoint.uri);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key, waiting: [], active: 0, breaker: 'closed', failures: 0, openUntil: 0, probe: undefined, pausedUntil: 0, unparked: false, lastBusy: 0 };
      this.lanes.set(key, lane);
    }
    lane.lastBusy = Date.now();
    if (lane.waiting.length + lane.active >= LANE_HOLD_FACTOR * this.options.perEndpointConcurrency && entry.item.notBefore <= lane.lastBusy) {
      // A slow endpoint's backlog must not fill every slot of the instance: back to Redis for a little while.
      const deferred = { ...entry.item, notBefore: lane.lastBusy + this.deferMs };
      this.finish(entry, this.queue.retryLater(entry.entryId, deferred), 'deferring a notification of a busy endpoint');
      return;
    }
    lane.waiting.push(entry);
    this.pump(lane);
  }

  /** Starts what the lane allows; what must wait long (breaker open, cooldown, backoff) goes back to Redis. */
  private pump(lane: Lane): void {
    if (this.closed) return;
    const now = Date.now();
    if (lane.breaker === 'open' && now >= lane.openUntil) lane.breaker = 'half-open';
    const blockedUntil = Math.max(lane.pausedUntil, lane.breaker === 'open' ? lane.openUntil : 0);
    for (let i = 0; i < lane.waiting.length; ) {
      const entry = lane.waiting[i]!;
      if (entry.item.notBefore > now) {
        lane.waiting.splice(i, 1);
        this.finish(entry, this.queue.retryLater(entry.entryId, entry.item), 'deferring a notification');
        continue;
      }
      if (blockedUntil > now) {
        lane.waiting.splice(i, 1);
        this.finish(entry, this.queue.park(entry.entryId, entry.item, lane.key, blockedUntil), 'parking a notification');
        continue;
      }
      const cap = lane.breaker === 'half-open' ? 1 : this.options.perEndpointConcurrency;
      if (lane.active >= cap || lane.probe !== undefined) break;
      lane.waiting.splice(i, 1);
      if (lane.breaker === 'half-open') lane.probe = entry.entryId;
      this.send(lane, entry);
    }
    this.forget(lane);
  }

  private send(lane: Lane, entry: StreamEntry): void {
    lane.active++;
    this.attempts.send(
      entry.item,
      (attempt) => this.delivered(lane, entry, attempt),
      (attempt, err) => this.failed(lane, entry, attempt, err),
    );
  }

  private delivered(lane: Lane, entry: StreamEntry, attempt: number): void {
    this.landed(lane, entry);
    // The endpoint answers again (after a breaker, or news to this lane object, e.g. after a restart): what was
    // parked for it, by this instance or another, need not wait any longer.
    if (lane.breaker !== 'closed' || !lane.unparked) {
      lane.unparked = true;
      void this.attempts.track(
        this.queue.unpark(lane.key).then(() => undefined),
        'unparking notifications',
      );
    }
    this.attempts.answered(lane);
    this.finish(entry, this.queue.ack(entry.entryId), 'recording a delivery');
    this.attempts.emit({ notification: { ...entry.item, attempt }, ok: true, at: new Date().toISOString() });
    this.pump(lane);
  }

  private failed(lane: Lane, entry: StreamEntry, attempt: number, err: unknown): void {
    this.landed(lane, entry);
    // Interrupted by close(): not an attempt; the entry stays pending and close() hands it back.
    if (err instanceof Interrupted) return;
    const { item } = entry;
    const verdict = this.attempts.judge(lane, item, attempt, err);
    const { error, at } = verdict;
    if (verdict.deadLetter) {
      const letter = { ...item, attempt, lastError: error.message, failedAt: at };
      this.finish(entry, this.queue.deadLetter(entry.entryId, letter), 'recording a dead letter');
      this.attempts.emit({ notification: { ...item, attempt, lastError: error.message }, ok: false, at, error: error.message, deadLettered: true });
    } else {
      const retry = { ...item, attempt, notBefore: verdict.notBefore, lastError: error.message };
      this.finish(entry, this.queue.retryLater(entry.entryId, retry), 'rescheduling a notification');
      this.attempts.emit({ notification: retry, ok: false, at, error: error.message });
    }
    this.pump(lane);
  }

  private landed(lane: Lane, entry: StreamEntry): void {
    lane.active--;
    lane.lastBusy = Date.now();
    if (lane.probe === entry.entryId) lane.probe = undefined;
  }

  /**
   * The entry leaves this instance once `write` is done. A failed write leaves it pending for this consumer in
   * Redis: the take-over scan finds it again after claimIdleMs and it is tried again, not lost.
   */
  private finish(entry: StreamEntry, write: Promise<void>, context: string): void {
    void this.attempts.track(write, context).finally(() => {
      this.held.delete(entry.entryId);
      this.slotFreed?.();
    });
  }

  /**
   * A lane is kept while it holds entries or state that still matters: failures counted toward the breaker (the
   * failed notification is in the delayed set and comes back after its backoff), the breaker, a cooldown.
   */
  private forget(lane: Lane): void {
    if (this.idle(lane, Date.now()) && lane.failures === 0 && lane.breaker === 'closed') this.lanes.delete(lane.key);
  }

  /** Periodic: lanes of endpoints that failed but have nothing left here, once their breaker and backoff are over. */
  private sweep(): void {
    const now = Date.now();
    for (const lane of this.lanes.values()) {
      const cooling = lane.breaker !== 'closed' && lane.openUntil > now;
      if (this.idle(lane, now) && !cooling && now - lane.lastBusy > this.retainMs) this.lanes.delete(lane.key);
    }
  }

  private idle(lane: Lane, now: number): boolean {
    return lane.waiting.length === 0 && lane.active === 0 && lane.probe === undefined && lane.pausedUntil <= now;
  }
}
