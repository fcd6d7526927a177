import type { Redis } from 'ioredis';

/**
 * Leadership by a lease in Redis: the key holds the leader's token and expires after `ttlMs` unless renewed.
 *
 * - Acquire: a script sets the key only if absent (NX, PX ttl) and then makes the token `<instanceId>:<n>`, n from
 *   an ever-increasing counter, so every term of leadership has its own token: the fencing token.
 * - Renew every ttl/3 with a script that extends the key only if it still holds our token. A renewal that finds
 *   another token means the lease was lost: `stop` runs.
 * - Redis unreachable: the lease expires on the server ttl after the last renewal it saw. The holder steps down
 *   (a timer, not the renewal loop) once 80% of ttl has passed since the last renewal it *sent* that succeeded, so
 *   it stops before anyone else can start (clock rates, not clocks, must agree). `stop` is called then; work it
 *   still finishes cannot queue notifications, the lease being gone (fencing, below).
 * - Writes that must come from the leader only (enqueuing notifications) are fenced: they run in a script that
 *   checks the key still holds the writer's token (see `fence()` and stream-queue.ts). A paused leader waking up
 *   after its lease expired cannot add anything.
 */
export interface LeaseOptions {
  key: string;
  /** Counter of terms. */
  termKey: string;
  ttlMs: number;
  instanceId: string;
  onError?: (err: unknown, what: string) => void;
}

/**
 * Scripts for a key held by a token (the lease and the locks): only the holder renews its expiry or deletes it, so a
 * holder whose key expired and was taken by another can never cut the new holder's time short.
 */
export const RENEW_IF_HELD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
export const RELEASE_IF_HELD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token`;

export class RedisLease {
  private token: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Fires at 80% of the lease after the last renewal sent that succeeded, unless a later renewal re-arms it. */
  private deadline: NodeJS.Timeout | undefined;
  private ticking = false;
  private handlers: { start: () => void | Promise<void>; stop: () => void | Promise<void> } | undefined;
  /** Start and stop run one after the other, never overlapping. */
  private transitions: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly opts: LeaseOptions,
  ) {}

  /** The fencing token while this instance holds the lease. */
  currentToken(): string | undefined {
    return this.token;
  }

  /** Starts competing for the lease; resolves after the first attempt (and `start`, if it won). */
  async run(start: () => void | Promise<void>, stop: () => void | Promise<void>): Promise<void> {
    if (this.handlers) throw new Error('onLeadership was already called on this coordinator');
    this.handlers = { start, stop };
    this.timer = setInterval(() => void this.tick(), Math.max(10, Math.floor(this.opts.ttlMs / 3)));
    this.timer.unref();
    await this.tick();
    await this.transitions;
  }

  /** Stops leading (awaiting `stop`) and deletes the lease so that another instance takes over at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.deadline);
    const token = this.token;
    if (token) {
      this.lose();
      await this.transitions;
      try {
        await this.redis.eval(RELEASE_IF_HELD, 1, this.opts.key, token);
      } catch (err) {
        // It expires by itself within ttl.
        this.opts.onError?.(err, 'releasing the leader lease');
      }
    }
    await this.transitions;
  }

  private async tick(): Promise<void> {
    if (this.closed || this.ticking) return;
    this.ticking = true;
    const sentAt = Date.now();
    try {
      if (this.token) {
        const token = this.token;
        const renewed = await this.redis.eval(RENEW_IF_HELD, 1, this.opts.key, token, this.opts.ttlMs);
        if (this.closed) return;
        // Stepped down while the renewal hung: let the lease go rather than block everyone until it expires.
        if (this.token !== token) {
          if (renewed === 1) await this.redis.eval(RELEASE_IF_HELD, 1, this.opts.key, token);
          return;
        }
        if (renewed === 1) this.renewed(sentAt);
        else this.lose();
      } else {
        const token = (await this.redis.eval(ACQUIRE, 2, this.opts.key, this.opts.termKey, this.opts.instanceId, this.opts.ttlMs)) as string | null;
        if (!token) return;
        if (this.closed) {
          await this.redis.eval(RELEASE_IF_HELD, 1, this.opts.key, token);
          return;
        }
        this.token = token;
        this.renewed(sentAt);
        const { start } = this.handlers!;
        this.transitions = this.transitions.then(start).catch((err: unknown) => this.opts.onError?.(err, 'starting as leader'));
      }
    } catch (err) {
      this.opts.onError?.(err, this.token ? 'renewing the leader lease' : 'acquiring the leader lease');
    } finally {
      this.ticking = false;
    }
  }

  /**
   * The lease holds until ttl after Redis saw the renewal, which was after `sentAt`. Stepping down is a timer of its
   * own, so that it happens in time even while renewals hang on a broken connection.
   */
  private renewed(sentAt: number): void {
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.lose(), Math.max(0, sentAt + this.opts.ttlMs * 0.8 - Date.now()));
    this.deadline.unref();
  }

  private lose(): void {
    if (!this.token) return;
    clearTimeout(this.deadline);
    this.token = undefined;
    const { stop } = this.handlers!;
    this.transitions = this.transitions.then(stop).catch((err: unknown) => this.opts.onError?.(err, 'stopping as leader'));
  }
}
