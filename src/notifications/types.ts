/**
 * Contracts between the subscription engine (what to notify), the delivery engine (getting it there, durably,
 * with retries) and the senders (HTTP, MQTT). A notification is serialized once, when it is queued: what is
 * retried after a restart is exactly what would have been sent before it.
 */

export interface KeyValue {
  key: string;
  value: string;
}

/** Endpoint (clause 5.2.15) as the delivery engine needs it. */
export interface Endpoint {
  uri: string;
  accept: 'application/json' | 'application/ld+json' | 'application/geo+json';
  /** Sent to the receiver: HTTP headers, or MQTT envelope metadata (clause 7.2). */
  receiverInfo?: KeyValue[];
  /** Set-up of the channel, e.g. MQTT-Version, MQTT-QoS (clause 7.2). */
  notifierInfo?: KeyValue[];
  /** Milliseconds before a delivery counts as failed. */
  timeoutMs?: number;
  /** Milliseconds to wait after a failure before the next attempt to this endpoint. */
  cooldownMs?: number;
}

/** One notification on its way to one endpoint. */
export interface OutboundNotification {
  /** Unique per queued item, e.g. the Notification's own id (urn:ngsi-ld:Notification:<uuid>). */
  id: string;
  tenant: string;
  subscriptionId: string;
  endpoint: Endpoint;
  /** Content-Type of `body`. */
  contentType: string;
  /** The serialized Notification (clause 5.3.1), ready for the wire. */
  body: string;
  /** Protocol headers besides Content-Type: Link, NGSILD-Tenant, receiverInfo. */
  headers: Record<string, string>;
  createdAt: string;
  /** Deliveries tried so far. */
  attempt: number;
  /** Epoch milliseconds before which the next attempt must not start. */
  notBefore: number;
  lastError?: string;
  /**
   * Position in the queue, set by queues that keep one (the embedded queue sets it on the items given to
   * `enqueue` and on every item it returns). Added for the delivery engine; callers leave it unset.
   */
  seq?: number;
}

/** The notifications of one subscription to one endpoint: the unit of ordering (see DeliveryEngine). */
export interface StreamRef {
  tenant: string;
  subscriptionId: string;
  uri: string;
}

/** A notification that ran out of retries, kept until a user replays or deletes it. */
export interface DeadLetter extends OutboundNotification {
  failedAt: string;
}

/** Why a delivery failed; `retryable` false (e.g. a 4xx other than 408/429) skips the remaining retries. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Delivers over one protocol. Resolves when the receiver has the notification; rejects with DeliveryError. */
export interface Sender {
  send(notification: OutboundNotification, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** What the delivery engine reports back, so the subscription can keep timesSent, lastSuccess, ... (5.2.12). */
export interface DeliveryOutcome {
  notification: OutboundNotification;
  ok: boolean;
  at: string;
  error?: string;
  /** Set when this failure was the last attempt and the notification became a dead letter. */
  deadLettered?: boolean;
}

/**
 * Durable queue of notifications not yet delivered. Everything enqueued survives a crash until completed or
 * dead-lettered; a backend may deliver an item twice (at-least-once), never zero times.
 */
export interface NotificationQueue {
  enqueue(items: OutboundNotification[]): Promise<void>;
  /** Every item not completed, in enqueue order (used at start and by the engine's scheduler). */
  pending(): Promise<OutboundNotification[]>;
  complete(id: string): Promise<void>;
  /** Records a failed attempt and when to try again. */
  reschedule(id: string, attempt: number, notBefore: number, lastError: string): Promise<void>;
  /** Moves an item to the dead letters; `attempt` (optional, added) is the number of deliveries tried in the end. */
  deadLetter(id: string, error: string, attempt?: number): Promise<void>;
  deadLetters(tenant: string, page: { limit: number; offset: number }): Promise<{ items: DeadLetter[]; count: number }>;
  getDeadLetter(tenant: string, id: string): Promise<DeadLetter | undefined>;
  /** Puts a dead letter back in the queue for immediate delivery; false when there is none with that id. */
  replay(tenant: string, id: string): Promise<boolean>;
  removeDeadLetter(tenant: string, id: string): Promise<boolean>;
  /**
   * Optional, added for the delivery engine (which needs both, to keep only a bounded window in memory): up to
   * `limit` pending items with a seq greater than `afterSeq`, in enqueue order, each with its `seq` set.
   */
  pendingAfter?(afterSeq: number, limit: number): Promise<OutboundNotification[]>;
  /** Optional, see pendingAfter: up to `limit` pending items of one stream with seq >= `fromSeq`, in enqueue order. */
  pendingOfStream?(stream: StreamRef, fromSeq: number, limit: number): Promise<OutboundNotification[]>;
}

/** A queue the delivery engine can follow by seq and read back stream by stream (the optional members, required). */
export type DurableQueue = NotificationQueue & Required<Pick<NotificationQueue, 'pendingAfter' | 'pendingOfStream'>>;
