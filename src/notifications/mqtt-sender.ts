/**
 * MQTT notification binding (clause 7.2): publishes each notification as `{ "metadata": {...}, "body": {...} }` to
 * the topic named by the path of an `mqtt://` or `mqtts://` endpoint URI, at the QoS and with the protocol version
 * that the endpoint's notifierInfo asks for.
 *
 * One network connection (BrokerConnection) per broker (scheme, host, port, credentials, protocol version), shared
 * by every notification to that broker. Connections left unused for `idleCloseMs` are closed.
 */
import { BrokerConnection, type ConnectionSettings } from './mqtt-connection.js';
import { mqttSettings, parseMqttUri, type MqttVersion } from './mqtt-endpoint.js';
import { mqttEnvelope } from './mqtt-envelope.js';
import { DeliveryError, type OutboundNotification, type Sender } from './types.js';

export interface MqttSenderOptions {
  /**
   * Protocol version when notifierInfo has no MQTT-Version. Table 7.2-1 makes `mqtt5.0` the default; `mqtt3.1.1`
   * suits brokers that only speak 3.1.1.
   */
  defaultVersion?: MqttVersion;
  /** mqtts: verify the broker's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** mqtts: trusted CA certificate(s), PEM; when given they replace Node's default CA list. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Milliseconds allowed from opening the network connection to the broker's CONNACK (default 10 000). */
  connectTimeoutMs?: number;
  /** MQTT keep-alive in seconds (default 60). */
  keepaliveSeconds?: number;
  /** First delay before reconnecting after a failure (default 250 ms); doubles per failure, up to `reconnectMaxMs`. */
  reconnectMinMs?: number;
  /** Longest delay between reconnection attempts (default 10 000 ms). */
  reconnectMaxMs?: number;
  /** A connection without a send for this long is closed and not reconnected (default 300 000 ms). */
  idleCloseMs?: number;
  /**
   * Most publishes awaiting completion on one connection (default 100). For MQTT 5.0 the broker's Receive Maximum
   * (CONNACK) lowers it: a client exceeding it gets disconnected.
   */
  maxInFlight?: number;
  /** Prefix of the random client identifier of each connection (default `musubi-`). */
  clientIdPrefix?: string;
}

const retryable = (message: string) => new DeliveryError(message, true);

/** Sender for `mqtt:` and `mqtts:` endpoints (clause 7.2). */
export class MqttSender implements Sender {
  private readonly settings: ConnectionSettings & { defaultVersion: MqttVersion };
  private readonly connections = new Map<string, BrokerConnection>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(options: MqttSenderOptions = {}) {
    this.settings = {
      defaultVersion: options.defaultVersion ?? 'mqtt5.0',
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      keepaliveSeconds: options.keepaliveSeconds ?? 60,
      reconnectMinMs: options.reconnectMinMs ?? 250,
      reconnectMaxMs: options.reconnectMaxMs ?? 10_000,
      idleCloseMs: options.idleCloseMs ?? 300_000,
      maxInFlight: options.maxInFlight ?? 100,
      clientIdPrefix: options.clientIdPrefix ?? 'musubi-',
      rejectUnauthorized: options.rejectUnauthorized,
      ca: options.ca,
    };
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(this.settings.idleCloseMs, 60_000));
    this.sweeper.unref();
  }

  async send(notification: OutboundNotification, signal: AbortSignal): Promise<void> {
    if (this.closed) throw retryable('the MQTT sender is closed');
    const { endpoint } = notification;
    const target = parseMqttUri(endpoint.uri);
    const { version, qos } = mqttSettings(endpoint.notifierInfo, this.settings.defaultVersion);
    const payload = JSON.stringify(mqttEnvelope(notification));
    const key = JSON.stringify([target.scheme, target.host, target.port, target.username, target.password, version]);
    let connection = this.connections.get(key);
    if (!connection) {
      connection = new BrokerConnection(target, version, this.settings);
      this.connections.set(key, connection);
    }
    await connection.publish(target.topic, payload, qos, signal);
  }

  /** The open connections, for diagnostics: broker without credentials, protocol version, state. */
  connectionsInfo(): Array<{ broker: string; version: MqttVersion; state: string }> {
    return [...this.connections.values()].map((c) => ({ broker: c.display, version: c.version, state: c.status }));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const [key, connection] of this.connections) {
      if (!connection.busy && now - connection.lastUsed >= this.settings.idleCloseMs) {
        this.connections.delete(key);
        connection.close().catch(() => {});
      }
    }
  }
}
