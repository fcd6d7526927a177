import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { NgsiError } from '../common/errors.js';
import { KeyedMutex } from '../common/keyed-mutex.js';
import { RELEASE_IF_HELD, RENEW_IF_HELD } from './redis-lease.js';

/**
 * Mutual exclusion between broker instances over one Redis, for a check and the write that depends on it (the
 * Conflict rules of registrations, 4.3.6.3): the key `<prefix>lock:<name>` holds the holder's token and expires
 * after `ttlMs`.
 *
 * - Within the instance, callers of one name first queue on an in-process mutex, so Redis sees one contender per
 *   instance and the instance's own requests keep their order.
 * - Acquire: a script sets the key if it is absent (as `SET NX PX`), or extends it if it already holds our token: a
 *   reply lost to a timeout after Redis did set it is then not a lock we block ourselves on. Retried with jittered
 *   exponential backoff until `acquireTimeoutMs`, then LockUnavailable (a Conflict), never a hang.
 * - Held: renewed every ttl/3 by a script that extends the key only if it still holds our token, so a long check
 *   keeps it; a holder that dies stops renewing and the key expires after ttl, freeing the name.
 * - Release: a script deletes the key only if it still holds our token; a holder whose key expired and was taken by
 *   another never deletes the other's.
 *
 * What a lease cannot rule out: a holder stalled for longer than ttl (event loop blocked, process paused) between
 * its check and its write may write after another instance took the lock. Renewal losing the key is reported to
 * `onError`; the store write itself is not fenced.
 */
export interface RedisLockOptions {
  /** Prefix of the lock keys, e.g. "musubi:db:lock:". */
  keyPrefix: string;
  instanceId: string;
  /** How long a lock outlives its last renewal: what a dead holder costs the others (default 5 s). */
  ttlMs?: number;
  /** How long to try to take a lock before giving up with LockUnavailable (default 5 s). */
  acquireTimeoutMs?: number;
  onError?: (err: unknown, what: string) => void;
}

/** The lock could not be taken in time: another instance holds it, or Redis does not answer. */
export class LockUnavailable extends NgsiError {
  constructor(detail: string) {
    // Conflict (409, Table 6.3.2-1): "the operation conflicts with the current state of the system" — a concurrent
    // write holds the lock. NGSI-LD defines no error type for 503; retrying the request is the remedy.
    super('Conflict', detail);
    this.name = 'LockUnavailable';
  }
}

const ACQUIRE = `
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 200;

export class RedisLocks {
  private readonly local = new KeyedMutex();
  private readonly ttlMs: number;
  private readonly acquireTimeoutMs: number;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisLockOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? 5000;
    this.acquireTimeoutMs = opts.acquireTimeoutMs ?? 5000;
  }

  /** Runs `fn` holding the lock `name` across instances; throws LockUnavailable (without running fn) if it cannot. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    // The deadline counts from the call, not from the turn on the local mutex: callers queued behind one another
    // while Redis is down all give up after acquireTimeoutMs, not the k-th after k times that.
    const deadline = Date.now() + this.acquireTimeoutMs;
    return this.local.run(name, async () => {
      const key = this.opts.keyPrefix + name;
      const token = await this.acquire(key, name, deadline);
      const renewal = this.keepAlive(key, token, name);
      try {
        return await fn();
      } finally {
        renewal.stop();
        await this.release(key, token, name);
      }
    });
  }

  /** New locks are refused at once; locks held finish and release. */
  close(): void {
    this.closed = true;
  }

  private async acquire(key: string, name: string, deadline: number): Promise<string> {
    const token = `${this.opts.instanceId}:${randomUUID()}`;
    let backoff = FIRST_BACKOFF_MS;
    let failure: unknown;
    if (Date.now() >= deadline) {
      // Waited out its time behind other writes of this instance: the key is not even tried.
      throw new LockUnavailable(
        `Other writes under lock "${name}" on this broker instance were still in progress after ${this.acquireTimeoutMs} ms; retry the request`,
      );
    }
    for (;;) {
      if (this.closed) throw new LockUnavailable(`The broker instance is shutting down; lock "${name}" was not taken. Retry the request`);
      try {
        if ((await withinDeadline(this.redis.eval(ACQUIRE, 1, key, token, this.ttlMs), deadline)) === 1) return token;
        failure = undefined;
      } catch (err) {
        failure = err;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(left, backoff * (0.5 + Math.random())));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    if (failure === undefined) {
      throw new LockUnavailable(
        `Another write under lock "${name}" (on this or another broker instance) was still in progress after ${this.acquireTimeoutMs} ms; retry the request`,
      );
    }
    // The last attempt may have set the key after all (its reply lost): let it go rather than block until it expires.
    void this.redis.eval(RELEASE_IF_HELD, 1, key, token).catch(() => undefined);
    const why = failure instanceof Error ? failure.message : String(failure);
    throw new LockUnavailable(`Lock "${name}", which serializes these writes across broker instances, could not be taken: Redis did not answer (${why}); retry the request`);
  }

  private keepAlive(key: string, token: string, name: string): { stop(): void } {
    let lost = false;
    const timer = setInterval(() => {
      this.redis.eval(RENEW_IF_HELD, 1, key, token, this.ttlMs).then(
        (renewed) => {
          if (renewed === 1 || lost) return;
          lost = true;
          this.opts.onError?.(new Error(`lock "${name}" expired while held (held longer than ${this.ttlMs} ms without renewal)`), 'renewing a lock');
        },
        (err: unknown) => this.opts.onError?.(err, `renewing lock "${name}"`),
      );
    }, Math.max(10, Math.floor(this.ttlMs / 3)));
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async release(key: string, token: string, name: string): Promise<void> {
    try {
      await this.redis.eval(RELEASE_IF_HELD, 1, key, token);
    } catch (err) {
      // It expires by itself within ttl.
      this.opts.onError?.(err, `releasing lock "${name}"`);
    }
  }
}

/** `work`, or a rejection once `deadline` passes: a command queued on a dead connection must not outlast the caller's time. */
function withinDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer from Redis in time')), Math.max(0, deadline - Date.now()));
  });
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
