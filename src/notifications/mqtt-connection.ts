/**
 * The network connection to one MQTT broker, shared by every notification to it (clause 7.2).
 *
 * A connection that drops is reconnected in the background with exponential backoff while it is in use; a publish
 * that finds its broker unreachable fails at once with a retryable DeliveryError, so the delivery engine's own retry
 * schedule decides when to try the notification again.
 *
 * Each network connection is a fresh mqtt.js client with its automatic reconnection turned off: when the network
 * connection ends, every publish still waiting for its acknowledgement is rejected and nothing is silently re-sent
 * later by the library (the delivery engine re-sends, at-least-once).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { MqttQoS, MqttTarget, MqttVersion } from './mqtt-endpoint.js';
import { DeliveryError } from './types.js';

/** How connections behave; MqttSenderOptions documents each setting and its default. */
export interface ConnectionSettings {
  connectTimeoutMs: number;
  keepaliveSeconds: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  idleCloseMs: number;
  maxInFlight: number;
  clientIdPrefix: string;
  rejectUnauthorized?: boolean | undefined;
  ca?: string | Buffer | Array<string | Buffer> | undefined;
}

const notRetryable = (message: string) => new DeliveryError(message, false);
const retryable = (message: string) => new DeliveryError(message, true);

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // nobody may be waiting (a background reconnection)
  return { promise, resolve, reject };
}

function abortMessage(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.name === 'TimeoutError' ? 'timed out' : reason.message || reason.name;
  return reason === undefined ? 'aborted' : String(reason);
}

/** Settles with `promise`, or rejects with a retryable DeliveryError when `signal` aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(retryable(`${what}: ${abortMessage(signal)}`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(retryable(`${what}: ${abortMessage(signal)}`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** CONNACK refusals that another attempt with the same settings cannot fix. */
const PERMANENT_CONNACK_V3 = new Set([1, 2, 4, 5]); // protocol version, identifier, credentials, not authorized
const PERMANENT_CONNACK_V5 = new Set([0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c]);
/** PUBACK/PUBREC reason codes (MQTT 5.0) that a re-send of the same message cannot fix. */
const PERMANENT_PUBLISH_V5 = new Set([0x87, 0x90, 0x95, 0x99]);

function reasonCode(error: Error): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The connection to one broker, re-established as needed. */
export class BrokerConnection {
  private state: 'idle' | 'connecting' | 'connected' | 'down' | 'closed' = 'idle';
  private client: MqttClient | undefined;
  private attempt: Deferred<MqttClient> | undefined;
  private lastError: DeliveryError | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  /** Publishes on the current client not yet acknowledged (written, for QoS 0). */
  private readonly pending = new Set<(error?: DeliveryError) => void>();
  private maxInFlight: number;
  private maxPacketSize = Infinity;
  lastUsed = Date.now();

  constructor(
    readonly target: MqttTarget,
    readonly version: MqttVersion,
    private readonly settings: ConnectionSettings,
  ) {
    this.maxInFlight = settings.maxInFlight;
  }

  /** `mqtt://host:port` (credentials left out), for messages. */
  get display(): string {
    const host = isIP(this.target.host) === 6 ? `[${this.target.host}]` : this.target.host;
    return `${this.target.scheme}://${host}:${this.target.port}`;
  }

  get status(): string {
    return this.state;
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.slotWaiters.length > 0 || this.state === 'connecting';
  }

  async publish(topic: string, payload: string, qos: MqttQoS, signal: AbortSignal): Promise<void> {
    this.lastUsed = Date.now();
    const client = await this.connected(signal);
    const bytes = Buffer.byteLength(payload, 'utf8') + Buffer.byteLength(topic, 'utf8') + 16;
    if (bytes > this.maxPacketSize) {
      throw notRetryable(
        `notification of ${bytes} bytes exceeds the Maximum Packet Size ${this.maxPacketSize} of ${this.display}`,
      );
    }
    await this.acquireSlot(signal);
    if (client !== this.client || !client.connected) {
      this.releaseSlot();
      throw this.lastError ?? retryable(`connection to ${this.display} lost`);
    }
    const what = qos === 0 ? 'write' : qos === 1 ? 'PUBACK' : 'PUBCOMP';
    const done = new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: DeliveryError) => {
        if (settled) return;
        settled = true;
        this.pending.delete(settle);
        this.releaseSlot();
        if (error) reject(error);
        else resolve();
      };
      this.pending.add(settle);
      const options =
        this.version === 'mqtt5.0'
          ? { qos, properties: { payloadFormatIndicator: true, contentType: 'application/json' } }
          : { qos };
      client.publish(topic, payload, options, (error) => {
        if (!error) return settle();
        const code = reasonCode(error);
        if (code !== undefined && code >= 0x80 && PERMANENT_PUBLISH_V5.has(code)) {
          return settle(notRetryable(`${this.display} refused the message on topic '${topic}': ${error.message}`));
        }
        settle(retryable(`publishing to ${this.display} failed: ${error.message}`));
      });
    });
    done.catch(() => {}); // the caller may have given up (signal) before it settles
    await untilAborted(done, signal, `no ${what} from ${this.display} for QoS ${qos}`);
  }

  /** Fails every publish still waiting on the client that just went away, and frees its slots. */
  private failPending(error: DeliveryError): void {
    for (const settle of [...this.pending]) settle(error);
  }

  /** A connected client, connecting first if needed; fails fast while the broker is known to be unreachable. */
  private connected(signal: AbortSignal): Promise<MqttClient> {
    switch (this.state) {
      case 'connected':
        return Promise.resolve(this.client!);
      case 'closed':
        return Promise.reject(retryable('the MQTT sender is closed'));
      case 'connecting':
        break;
      case 'down': {
        const wait = this.nextAttemptAt - Date.now();
        if (wait > 0) {
          const cause = this.lastError?.message ?? `cannot connect to ${this.display}`;
          return Promise.reject(
            new DeliveryError(`${cause} (next connection attempt in ${wait} ms)`, this.lastError?.retryable ?? true),
          );
        }
        this.open();
        break;
      }
      case 'idle':
        this.open();
        break;
    }
    return untilAborted(this.attempt!.promise, signal, `connecting to ${this.display}`);
  }

  /** Starts one connection attempt. */
  private open(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.state = 'connecting';
    const attempt = deferred<MqttClient>();
    this.attempt = attempt;
    const { target, settings } = this;
    const options: IClientOptions = {
      protocol: target.scheme,
      host: target.host,
      port: target.port,
      protocolVersion: this.version === 'mqtt5.0' ? 5 : 4,
      clientId: `${settings.clientIdPrefix}${randomBytes(8).toString('hex')}`,
      clean: true,
      keepalive: settings.keepaliveSeconds,
      connectTimeout: settings.connectTimeoutMs,
      reconnectPeriod: 0, // reconnection is ours: a fresh client per network connection
      queueQoSZero: false,
      resubscribe: false,
    };
    if (target.username !== undefined) options.username = target.username;
    if (target.password !== undefined) options.password = target.password;
    if (target.scheme === 'mqtts') {
      if (settings.rejectUnauthorized !== undefined) options.rejectUnauthorized = settings.rejectUnauthorized;
      if (settings.ca !== undefined) options.ca = settings.ca as string | string[] | Buffer | Buffer[];
    }
    let client: MqttClient;
    try {
      client = connect(options);
    } catch (error) {
      this.failed(notRetryable(`cannot connect to ${this.display}: ${(error as Error).message}`));
      return;
    }
    this.client = client;
    let error: DeliveryError | undefined;
    client.on('error', (e: Error) => {
      if (this.client !== client) return;
      const code = reasonCode(e);
      const permanent =
        code !== undefined && (this.version === 'mqtt5.0' ? PERMANENT_CONNACK_V5 : PERMANENT_CONNACK_V3).has(code);
      error ??= new DeliveryError(`${this.display}: ${e.message}`, !permanent);
      // A refused CONNACK or a timed-out one leaves the network connection to mqtt.js; end it here.
      if (!client.connected) client.end(true);
    });
    client.on('connect', (connack: IConnackPacket) => {
      if (this.client !== client || this.state !== 'connecting') return;
      this.state = 'connected';
      this.failures = 0;
      this.lastError = undefined;
      const props = connack.properties;
      this.maxInFlight = Math.max(1, Math.min(this.settings.maxInFlight, props?.receiveMaximum ?? Infinity));
      this.maxPacketSize = props?.maximumPacketSize ?? Infinity;
      attempt.resolve(client);
      this.drainSlots();
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      const wasConnected = this.state === 'connected';
      const lost =
        error ?? retryable(wasConnected ? `connection to ${this.display} lost` : `cannot connect to ${this.display}`);
      const cause = error ? ` (${error.message})` : '';
      this.failPending(retryable(`connection to ${this.display} lost before the acknowledgement${cause}`));
      client.end(true); // the client is not reused: a new one per network connection
      if (this.state !== 'closed') this.failed(lost);
    });
  }

  /** Records a failed or lost connection and schedules the next attempt. */
  private failed(error: DeliveryError): void {
    this.state = 'down';
    this.lastError = error;
    this.failures += 1;
    const { reconnectMinMs, reconnectMaxMs, idleCloseMs } = this.settings;
    const ceiling = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.failures - 1, 30));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.nextAttemptAt = Date.now() + delay;
    this.attempt?.reject(error);
    this.attempt = undefined;
    this.maxInFlight = this.settings.maxInFlight;
    this.maxPacketSize = Infinity;
    this.drainSlots();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (error.retryable && Date.now() - this.lastUsed < idleCloseMs) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.state === 'down') this.open();
      }, delay);
      this.retryTimer.unref();
    }
  }

  private acquireSlot(signal: AbortSignal): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.slotWaiters.indexOf(grant);
        if (i >= 0) this.slotWaiters.splice(i, 1);
        reject(retryable(`waiting for a free in-flight slot on ${this.display}: ${abortMessage(signal)}`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.slotWaiters.push(grant);
    });
  }

  private releaseSlot(): void {
    this.inFlight -= 1;
    this.drainSlots();
  }

  /** Hands free slots to waiters; when the connection is gone they get one and then find it lost. */
  private drainSlots(): void {
    while (this.slotWaiters.length > 0 && (this.inFlight < this.maxInFlight || this.state !== 'connected')) {
      this.inFlight += 1;
      this.slotWaiters.shift()!();
    }
  }

  /** Ends the connection: graceful DISCONNECT when nothing is in flight, otherwise at once. */
  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const error = retryable('the MQTT sender is closed');
    this.lastError = error;
    this.attempt?.reject(error);
    this.attempt = undefined;
    this.drainSlots();
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const graceful = client.connected && this.inFlight === 0;
    this.failPending(error);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.stream?.destroy();
        resolve();
      }, 2_000);
      timer.unref();
      client.end(!graceful, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
