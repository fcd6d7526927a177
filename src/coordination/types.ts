/**
 * What the services of one musubi instance need from the others, so that several instances behave as one broker
 * (issue 7): cache invalidation, one leader at a time, and a shared delivery of notifications.
 *
 * - `local.ts`: one instance alone (no Redis): invalidations have nobody to reach, the instance is always the leader
 *   and notifications go through the store's own queue (DeliveryEngine). What runs without `--redis-url`.
 * - `redis.ts`: several instances over one Redis: pub/sub for invalidations, a lease for leadership, a Redis Stream
 *   with a consumer group for notifications (stream-delivery.ts).
 */
import type { DeadLetter, NotificationQueue, OutboundNotification } from '../notifications/types.js';

/** The caches kept per instance that another instance's writes make stale; one pub/sub channel each. */
export type CacheConcern = 'subscriptions' | 'registrations' | 'contexts';

/**
 * One thing changed: a subscription or registration (tenant + id) or a @context (`id` is its URL, tenant '').
 * `all` means "anything may have changed" (sent to the local listeners after the instance was cut off from Redis,
 * when invalidations may have been missed): reload everything.
 */
export type Invalidation = { tenant: string; id: string; all?: undefined } | { all: true };

export type InvalidationListener = (message: Invalidation) => void;

/** The delivery side the server and the subscription engine speak to; DeliveryEngine already has this shape. */
export interface NotificationDelivery {
  /** Starts delivering what is queued (also what was pending at the last stop). */
  start(): Promise<void>;
  /** Resolves once the notifications are durable; delivery follows. */
  enqueue(items: OutboundNotification[]): Promise<void>;
  /** Puts a dead letter back for delivery; false when there is none with that id. */
  replay(tenant: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The dead-letter half of NotificationQueue: what the /ngsi-ld/ex/v1/deadLetters routes read and delete. */
export type DeadLetterStore = Pick<NotificationQueue, 'deadLetters' | 'getDeadLetter' | 'removeDeadLetter'>;

export type { DeadLetter };

export interface Coordinator {
  /** Unique per running instance (also its consumer name in the delivery group). */
  readonly instanceId: string;
  /** Whether other instances may exist (Redis): then every instance logs entity changes for the leader. */
  readonly shared: boolean;
  /**
   * Tells the other instances that something they may cache changed. Resolves once Redis has the message; the
   * publishing instance does not hear its own messages (it has updated its own cache already).
   */
  publish(concern: CacheConcern, message: Invalidation): Promise<void>;
  /** Listens to the other instances' invalidations of one concern; returns the unsubscribe function. */
  subscribe(concern: CacheConcern, listener: InvalidationListener): () => void;
  /**
   * Runs `start` when this instance becomes the leader and `stop` when it stops being it (lease lost, or close).
   * At most one instance is leader at a time, as far as a lease can tell (see redis-lease.ts). One pair per
   * coordinator. Resolves after the first attempt to lead (with `start` done if it succeeded).
   */
  onLeadership(start: () => void | Promise<void>, stop: () => void | Promise<void>): Promise<void>;
  isLeader(): boolean;
  /**
   * Runs `fn` while holding the lock `name`, so that no other `withLock(name)` runs at the same time on any instance
   * of the broker (a check and the write that depends on it, e.g. the Conflict rules of registrations). Throws an
   * NgsiError (Conflict, see redis-lock.ts LockUnavailable) without running `fn` when the lock cannot be had in
   * time. Alone: an in-process mutex. With Redis: that mutex, then a lease in Redis (redis-lock.ts).
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Stops leadership (awaiting `stop`), gives up the lease and closes connections. */
  close(): Promise<void>;
}
