import { Attempts, Interrupted, type AttemptOptions } from './attempt.js';
import { laneKeyOf, streamOf } from './keys.js';
import { insertBySeq, laneStats, minDefined, newLane, newStream, type Lane, type LaneStats, type Stream } from './lanes.js';
import type { DurableQueue, OutboundNotification, Sender } from './types.js';

export type { LaneStats };

export interface DeliveryEngineOptions extends AttemptOptions {
  /** Sends in flight at once to one endpoint. */
  perEndpointConcurrency: number;
  /** Notifications of one stream held in memory (default 32); the rest stay in the queue until needed. */
  streamWindow?: number;
  /** Period of the safety-net scan for items queued without `enqueue`/`wake` (default 1000 ms). */
  pollMs?: number;
}

const SCAN_BATCH = 1000;

/**
 * Delivers queued notifications, off the request path. Durability first: a notification enters the engine only
 * by being read from the durable queue (`enqueue` writes it, then the engine reads the queue's tail), so whatever
 * the engine holds in memory is also on disk, and `start()` after a restart finds everything not yet delivered.
 *
 * - Lanes: one per endpoint (origin + path), each with its own concurrency cap, circuit breaker (closed → open
 *   after breakerThreshold consecutive retryable failures → one half-open probe after breakerOpenMs) and
 *   cooldown. A slow or dead endpoint holds only its own lane's slots and timers.
 * - Streams: within a lane, the notifications of one subscription, sent one at a time in enqueue order; the lane
 *   round-robins over its streams. A failed notification stays at the head of its stream until delivered or
 *   dead-lettered, so a receiver sees a stream's notifications in enqueue order, retries included. Exceptions:
 *   a replayed dead letter comes after what was queued meanwhile; at-least-once duplicates (a timeout whose
 *   request did arrive, a crash before `complete` was committed) repeat a suffix of the stream, in order.
 * - Memory: a stream keeps at most streamWindow notifications in memory and reads the next ones from the queue
 *   (by seq) as it drains, so 100k notifications for a dead endpoint cost a window, not 100k objects.
 * - Retries: exponential backoff with jitter (see backoffDelay), never sooner than the endpoint's cooldown;
 *   attempts are counted per notification and only for sends actually tried (an open breaker or a cooldown
 *   does not consume them). After maxAttempts, or at once for a non-retryable error, a dead letter.
 * - Cooldown (5.2.15): after a failure nothing is sent to the endpoint for cooldown ms. The spec drops what
 *   arrives meanwhile; musubi defers it instead, since it never drops a notification.
 */
export class DeliveryEngine {
  private readonly lanes = new Map<string, Lane>();
  private readonly attempts: Attempts;
  private readonly window: number;
  private cursor = 0;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: DurableQueue,
    senders: Record<string, Sender>,
    private readonly options: DeliveryEngineOptions,
  ) {
    this.attempts = new Attempts(senders, options);
    this.window = Math.max(1, options.streamWindow ?? 32);
  }

  /** Reads the whole queue (windows only) and starts delivering: how notifications survive a restart. */
  async start(): Promise<void> {
    if (this.started || this.closed) return;
    this.started = true;
    this.poll = setInterval(() => this.tick(), this.options.pollMs ?? 1000);
    this.poll.unref();
    await this.scan();
  }

  /** The subscription engine's hand-over: resolves once the notifications are durable; delivery follows. */
  async enqueue(items: OutboundNotification[]): Promise<void> {
    await this.queue.enqueue(items);
    this.wake();
  }

  /** For whoever wrote to the queue directly: read its tail now rather than at the next poll. */
  wake(): void {
    if (this.started && !this.closed) void this.scan();
  }

  /** Puts a dead letter back for immediate delivery; false when there is none. */
  async replay(tenant: string, id: string): Promise<boolean> {
    const found = await this.queue.replay(tenant, id);
    if (found) this.wake();
    return found;
  }

  /** One entry per endpoint the engine currently tracks, for monitoring and tests. */
  stats(): LaneStats[] {
    return [...this.lanes.values()].map(laneStats);
  }

  /** Stops scheduling, lets in-flight sends finish (up to closeTimeoutMs), waits for queue writes, closes senders. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearInterval(this.poll);
      for (const lane of this.lanes.values()) clearTimeout(lane.timer);
      await this.scanning;
      await this.attempts.settle();
      await this.attempts.closeSenders();
    })();
    return this.closing;
  }

  /** Follows the queue's tail: seqs are committed in order, so everything up to the cursor has been seen. */
  private scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.rescan = false;
          for (;;) {
            const batch = await this.queue.pendingAfter(this.cursor, SCAN_BATCH);
            for (const item of batch) {
              this.admit(item);
              this.cursor = Math.max(this.cursor, item.seq ?? 0);
            }
            if (batch.length < SCAN_BATCH || this.closed) break;
          }
        } while (this.rescan && !this.closed);
      } catch (err) {
        this.attempts.report(err, 'reading the notification queue');
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private admit(item: OutboundNotification): void {
    const ref = streamOf(item);
    const laneKey = laneKeyOf(ref.uri);
    let lane = this.lanes.get(laneKey);
    if (!lane) this.lanes.set(laneKey, (lane = newLane(laneKey)));
    const key = `${ref.tenant}\u0000${ref.subscriptionId}\u0000${ref.uri}`;
    let stream = lane.streams.get(key);
    if (!stream) lane.streams.set(key, (stream = newStream(key, ref)));
    if (stream.known.has(item.id)) return;
    const seq = item.seq ?? 0;
    if (stream.refilling) stream.skippedWhileRefilling = minDefined(stream.skippedWhileRefilling, seq);
    else if (stream.overflowFrom !== undefined || stream.items.length >= this.window) stream.overflowFrom = minDefined(stream.overflowFrom, seq);
    else {
      insertBySeq(stream.items, item);
      stream.known.add(item.id);
      this.pump(lane);
    }
  }

  /** Starts every send the lane allows now, and arms the lane's timer for the next moment something may start. */
  private pump(lane: Lane): void {
    if (this.closed) return;
    const now = Date.now();
    if (lane.pausedUntil > now) return this.arm(lane, lane.pausedUntil);
    if (lane.breaker === 'open') {
      if (now < lane.openUntil) return this.arm(lane, lane.openUntil);
      lane.breaker = 'half-open';
    }
    const cap = lane.breaker === 'half-open' ? 1 : this.options.perEndpointConcurrency;
    let wakeAt = Infinity;
    while (lane.active < cap && lane.probe === undefined) {
      let chosen: Stream | undefined;
      for (const stream of lane.streams.values()) {
        const head = stream.items[0];
        if (stream.inFlight || !head) continue;
        if (head.notBefore > now) wakeAt = Math.min(wakeAt, head.notBefore);
        else {
          chosen = stream;
          break;
        }
      }
      if (!chosen) break;
      lane.streams.delete(chosen.key);
      lane.streams.set(chosen.key, chosen);
      if (lane.breaker === 'half-open') lane.probe = chosen.items[0]!.id;
      this.send(lane, chosen, chosen.items[0]!);
    }
    if (wakeAt < Infinity) this.arm(lane, wakeAt);
  }

  private arm(lane: Lane, at: number): void {
    if (lane.timer !== undefined && lane.timerAt <= at) return;
    clearTimeout(lane.timer);
    lane.timerAt = at;
    // setTimeout's limit is 2^31-1 ms; a later wake-up just re-arms.
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      lane.timerAt = Infinity;
      this.pump(lane);
    }, Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
    lane.timer.unref();
  }

  private send(lane: Lane, stream: Stream, item: OutboundNotification): void {
    stream.inFlight = true;
    lane.active++;
    this.attempts.send(
      item,
      (attempt) => this.delivered(lane, stream, item, attempt),
      (attempt, err) => this.failed(lane, stream, item, attempt, err),
    );
  }

  private delivered(lane: Lane, stream: Stream, item: OutboundNotification, attempt: number): void {
    this.landed(lane, stream, item);
    this.attempts.answered(lane);
    this.remove(lane, stream, item, this.queue.complete(item.id));
    this.attempts.emit({ notification: { ...item, attempt }, ok: true, at: new Date().toISOString() });
    this.pump(lane);
  }

  private failed(lane: Lane, stream: Stream, item: OutboundNotification, attempt: number, err: unknown): void {
    this.landed(lane, stream, item);
    // Interrupted by close(): not an attempt; the notification stays queued as it was.
    if (err instanceof Interrupted) return;
    const verdict = this.attempts.judge(lane, item, attempt, err);
    const { error, at } = verdict;
    if (verdict.deadLetter) {
      this.remove(lane, stream, item, this.queue.deadLetter(item.id, error.message, attempt));
      this.attempts.emit({ notification: { ...item, attempt, lastError: error.message }, ok: false, at, error: error.message, deadLettered: true });
    } else {
      item.attempt = attempt;
      item.notBefore = verdict.notBefore;
      item.lastError = error.message;
      this.attempts.track(this.queue.reschedule(item.id, attempt, item.notBefore, error.message), 'rescheduling a notification');
      this.attempts.emit({ notification: { ...item }, ok: false, at, error: error.message });
    }
    this.pump(lane);
  }

  private landed(lane: Lane, stream: Stream, item: OutboundNotification): void {
    lane.active--;
    if (lane.probe === item.id) lane.probe = undefined;
    stream.inFlight = false;
  }

  /** Takes a finished notification out of memory; its id stays known until the queue has committed `write`. */
  private remove(lane: Lane, stream: Stream, item: OutboundNotification, write: Promise<void>): void {
    const i = stream.items.indexOf(item);
    if (i >= 0) stream.items.splice(i, 1);
    void this.attempts.track(write, 'recording a delivery').finally(() => {
      stream.known.delete(item.id);
      this.forget(lane, stream);
    });
    if (stream.overflowFrom !== undefined && !stream.refilling && stream.items.length <= this.window / 2) void this.refill(lane, stream);
  }

  /** Reads the next notifications of a stream back from the queue into its window. */
  private async refill(lane: Lane, stream: Stream): Promise<void> {
    if (this.closed) return;
    const from = stream.overflowFrom!;
    const room = this.window - stream.items.length;
    stream.refilling = true;
    stream.skippedWhileRefilling = undefined;
    let batch: OutboundNotification[];
    const limit = room + stream.known.size;
    try {
      batch = await this.queue.pendingOfStream(stream.ref, from, limit);
    } catch (err) {
      stream.refilling = false;
      this.attempts.report(err, 'reading a stream back from the notification queue');
      return;
    }
    stream.refilling = false;
    let next = batch.length === limit ? (batch[batch.length - 1]!.seq ?? 0) + 1 : undefined;
    let loaded = 0;
    for (const item of batch) {
      if (stream.known.has(item.id)) continue;
      if (loaded === room) {
        next = item.seq ?? 0;
        break;
      }
      insertBySeq(stream.items, item);
      stream.known.add(item.id);
      loaded++;
    }
    const skipped = stream.skippedWhileRefilling;
    stream.overflowFrom = minDefined(next, skipped);
    // Again at once if this read made progress or missed something; otherwise the next removal or tick will.
    if (stream.overflowFrom !== undefined && stream.items.length <= this.window / 2 && (loaded > 0 || skipped !== undefined)) void this.refill(lane, stream);
    this.pump(lane);
  }

  /** Periodic: the safety-net scan, refills that failed before, and lanes with nothing left to remember. */
  private tick(): void {
    this.wake();
    const now = Date.now();
    for (const lane of this.lanes.values()) {
      for (const stream of lane.streams.values()) {
        if (stream.overflowFrom !== undefined && !stream.refilling && stream.items.length <= this.window / 2) void this.refill(lane, stream);
        this.forget(lane, stream);
      }
      const cooling = lane.pausedUntil > now || (lane.breaker !== 'closed' && lane.openUntil > now);
      if (lane.streams.size === 0 && lane.active === 0 && !cooling) {
        clearTimeout(lane.timer);
        this.lanes.delete(lane.key);
      }
    }
  }

  private forget(lane: Lane, stream: Stream): void {
    const idle = stream.items.length === 0 && !stream.inFlight && stream.overflowFrom === undefined && !stream.refilling && stream.known.size === 0;
    // A late call for a stream already forgotten must not drop its successor under the same key.
    if (idle && lane.streams.get(stream.key) === stream) lane.streams.delete(stream.key);
  }
}
