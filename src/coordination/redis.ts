import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisLease } from './redis-lease.js';
import { RedisLocks } from './redis-lock.js';
import type { CacheConcern, Coordinator, Invalidation, InvalidationListener } from './types.js';

/**
 * Several musubi instances over one Redis (and one shared store, MongoDB):
 *
 * - Invalidation by pub/sub, one channel per concern (`<prefix>invalidate:<concern>`). Pub/sub is fire-and-forget:
 *   an instance cut off from Redis misses what is published meanwhile, so every reconnection after the first is
 *   announced to the listeners as `{ all: true }` (reload everything from the store).
 * - Leadership by a lease (redis-lease.ts): the subscription engine, with its throttling and timeInterval state,
 *   runs on the leader only, so a subscription notifies once per change, not once per instance.
 * - Notifications through a Redis Stream and a consumer group (stream-delivery.ts), which uses `keys` and `fence`.
 * - Locks between instances (redis-lock.ts) for checks that must see every instance's writes (withLock).
 */
export interface RedisCoordinatorOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Prefix of every key and channel (default "musubi:"): several brokers can share one Redis. */
  prefix?: string;
  /** Lifetime of the leader lease (default 10 s): how long a dead leader's work waits before another takes over. */
  leaseMs?: number;
  /** Defaults to a random UUID. */
  instanceId?: string;
  /** How long a lock (withLock) outlives its last renewal, i.e. what a holder that died costs others (default 5 s). */
  lockTtlMs?: number;
  /** How long withLock tries to take a lock before it fails with a Conflict (default 5 s). */
  lockTimeoutMs?: number;
  onError?: (err: unknown, what: string) => void;
}

const CONCERNS: CacheConcern[] = ['subscriptions', 'registrations', 'contexts'];

export interface RedisConnectOptions {
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  name: string;
  onError?: (err: unknown, what: string) => void;
}

/** Opens a connection and waits until it answers, so that a wrong URL fails the start, not a later request. */
export async function connectRedis(url: string, options: RedisConnectOptions): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: options.name,
    // Commands wait for a reconnection instead of failing at once; bounded, so nothing waits forever.
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: null,
    // Reply shapes as the stream code parses them (stream-queue.ts).
    protocol: 2,
  });
  let lastError: unknown;
  let connected = false;
  // Before the first connection the error is the start's (thrown below); after it, ioredis reconnects and we report.
  redis.on('error', (err: unknown) => (connected ? options.onError?.(err, `redis connection ${options.name}`) : (lastError = err)));
  // ioredis retries by itself; a connection dropped while it starts (or Redis still starting) is not a failure yet.
  redis.connect().catch((err: unknown) => (lastError = err));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.connectTimeoutMs ?? 5000);
    redis.once('ready', () => {
      connected = true;
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!ready) {
    redis.disconnect();
    const why = lastError instanceof Error ? lastError.message : lastError === undefined ? 'no answer' : String(lastError);
    throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${why}`);
  }
  return redis;
}

/**
 * A command connection and a second one, named `secondName`, for what holds a connection (subscribe, blocking
 * reads); the second has no command timeout. Both or neither: the first is closed if the second fails.
 */
export async function connectRedisPair(url: string, options: RedisConnectOptions, secondName: string): Promise<[Redis, Redis]> {
  const command = await connectRedis(url, options);
  try {
    return [command, await connectRedis(url, { name: secondName, connectTimeoutMs: options.connectTimeoutMs, onError: options.onError })];
  } catch (err) {
    command.disconnect();
    throw err;
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}

export class RedisCoordinator implements Coordinator {
  readonly instanceId: string;
  readonly shared = true;
  readonly prefix: string;
  private readonly listeners = new Map<CacheConcern, Set<InvalidationListener>>(CONCERNS.map((c) => [c, new Set()]));
  private readonly lease: RedisLease;
  private readonly locks: RedisLocks;
  private closed = false;

  static async connect(opts: RedisCoordinatorOptions): Promise<RedisCoordinator> {
    const leaseMs = opts.leaseMs ?? 10_000;
    const name = `musubi-${opts.instanceId ?? 'x'}`;
    const [command, subscriber] = await connectRedisPair(opts.url, { name, commandTimeoutMs: Math.max(50, Math.floor(leaseMs / 3)), onError: opts.onError }, `${name}-sub`);
    const coordinator = new RedisCoordinator(opts, command, subscriber, leaseMs);
    await coordinator.listen();
    return coordinator;
  }

  private constructor(
    readonly opts: RedisCoordinatorOptions,
    /** Commands; shared with the lease. */
    readonly redis: Redis,
    private readonly subscriber: Redis,
    leaseMs: number,
  ) {
    this.instanceId = opts.instanceId ?? randomUUID();
    this.prefix = opts.prefix ?? 'musubi:';
    this.lease = new RedisLease(redis, { key: `${this.prefix}leader`, termKey: `${this.prefix}leader-term`, ttlMs: leaseMs, instanceId: this.instanceId, onError: opts.onError });
    this.locks = new RedisLocks(redis, {
      keyPrefix: `${this.prefix}lock:`,
      instanceId: this.instanceId,
      ttlMs: opts.lockTtlMs,
      acquireTimeoutMs: opts.lockTimeoutMs,
      onError: opts.onError,
    });
  }

  /** The lease key and the token this instance holds, for writes only the leader may make (undefined: not leader). */
  fence(): { key: string; token: string } | undefined {
    const token = this.lease.currentToken();
    return token === undefined ? undefined : { key: `${this.prefix}leader`, token };
  }

  async publish(concern: CacheConcern, message: Invalidation): Promise<void> {
    await this.redis.publish(this.channel(concern), JSON.stringify({ origin: this.instanceId, ...message }));
  }

  subscribe(concern: CacheConcern, listener: InvalidationListener): () => void {
    const set = this.listeners.get(concern)!;
    set.add(listener);
    return () => set.delete(listener);
  }

  onLeadership(start: () => void | Promise<void>, stop: () => void | Promise<void>): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.lease.run(start, stop);
  }

  isLeader(): boolean {
    return this.lease.currentToken() !== undefined;
  }

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.withLock(name, fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.locks.close();
    await this.lease.close();
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private channel(concern: CacheConcern): string {
    return `${this.prefix}invalidate:${concern}`;
  }

  private async listen(): Promise<void> {
    const byChannel = new Map(CONCERNS.map((c) => [this.channel(c), c]));
    this.subscriber.on('message', (channel: string, text: string) => {
      const concern = byChannel.get(channel);
      if (!concern) return;
      let message: { origin?: unknown; all?: unknown; tenant?: unknown; id?: unknown };
      try {
        message = JSON.parse(text) as typeof message;
      } catch (err) {
        this.opts.onError?.(err, `an unreadable invalidation on ${channel}`);
        return;
      }
      if (message.origin === this.instanceId) return;
      if (message.all === true) this.dispatch(concern, { all: true });
      else if (typeof message.tenant === 'string' && typeof message.id === 'string') this.dispatch(concern, { tenant: message.tenant, id: message.id });
    });
    let connections = 0;
    // ioredis subscribes again by itself after a reconnection; what was published while away is lost.
    this.subscriber.on('ready', () => {
      if (++connections > 1 && !this.closed) for (const concern of CONCERNS) this.dispatch(concern, { all: true });
    });
    connections = 1;
    await this.subscriber.subscribe(...byChannel.keys());
  }

  private dispatch(concern: CacheConcern, message: Invalidation): void {
    for (const listener of this.listeners.get(concern)!) {
      try {
        listener(message);
      } catch (err) {
        this.opts.onError?.(err, `${concern} invalidation listener`);
      }
    }
  }
}
