/**
 * MQTT endpoints (clause 7.2): what an `mqtt://` or `mqtts://` endpoint URI names (broker, credentials, topic) and
 * the channel settings its notifierInfo asks for (Table 7.2-1). The sender uses these at delivery; subscription
 * parsing uses the same functions so that a subscription is refused up front when its endpoint could never be sent to.
 */
import { DeliveryError, type KeyValue } from './types.js';

export type MqttVersion = 'mqtt3.1.1' | 'mqtt5.0';
export type MqttQoS = 0 | 1 | 2;

/** Where an MQTT endpoint URI points (clause 7.2: `mqtt[s]://[<username>][:<password>]@<host>[:<port>]/<topic>`). */
export interface MqttTarget {
  scheme: 'mqtt' | 'mqtts';
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** The URI path without its leading `/`, percent-decoded. */
  topic: string;
}

const notRetryable = (message: string) => new DeliveryError(message, false);

/** Parses an MQTT endpoint URI; throws a non-retryable DeliveryError when it cannot name a broker and topic. */
export function parseMqttUri(uri: string): MqttTarget {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw notRetryable(`invalid MQTT endpoint URI '${redactUri(uri)}'`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'mqtt' && scheme !== 'mqtts') {
    throw notRetryable(`not an MQTT endpoint URI (scheme '${scheme}'): '${redactUri(uri)}'`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw notRetryable(`MQTT endpoint URI without a host: '${redactUri(uri)}'`);
  const port = url.port === '' ? (scheme === 'mqtts' ? 8883 : 1883) : Number(url.port);
  let topic: string;
  let username: string | undefined;
  let password: string | undefined;
  try {
    topic = decodeURIComponent(url.pathname.slice(1));
    username = url.username === '' ? undefined : decodeURIComponent(url.username);
    password = url.password === '' ? undefined : decodeURIComponent(url.password);
  } catch {
    throw notRetryable(`malformed percent-encoding in MQTT endpoint URI '${redactUri(uri)}'`);
  }
  const problem = topicProblem(topic);
  if (problem) throw notRetryable(`invalid MQTT topic '${topic}' in endpoint URI '${redactUri(uri)}': ${problem}`);
  const target: MqttTarget = { scheme, host, port, topic };
  if (username !== undefined) target.username = username;
  if (password !== undefined) target.password = password;
  return target;
}

/** Why a topic name cannot be published to (MQTT 3.1.1 4.7, 5.0 4.7), or undefined when it can. */
function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'the topic is empty: the URI names no topic (use mqtt[s]://[user[:password]@]host[:port]/topic)';
  if (topic.includes('+') || topic.includes('#')) return "wildcards '+' and '#' are not allowed in a topic name";
  if (topic.includes('\u0000')) return 'the topic contains U+0000';
  if (Buffer.byteLength(topic, 'utf8') > 65_535) return 'the topic is longer than 65535 bytes';
  return undefined;
}

/** MQTT-Version and MQTT-QoS from notifierInfo (Table 7.2-1); throws a non-retryable DeliveryError on a bad value. */
export function mqttSettings(
  notifierInfo: KeyValue[] | undefined,
  defaultVersion: MqttVersion = 'mqtt5.0',
): { version: MqttVersion; qos: MqttQoS } {
  let version = defaultVersion;
  let qos: MqttQoS = 0;
  for (const { key, value } of notifierInfo ?? []) {
    const k = key.toLowerCase();
    const v = String(value).trim();
    if (k === 'mqtt-version') {
      const lower = v.toLowerCase();
      if (lower !== 'mqtt3.1.1' && lower !== 'mqtt5.0') {
        throw notRetryable(`notifierInfo MQTT-Version must be one of mqtt3.1.1, mqtt5.0, not '${v}'`);
      }
      version = lower;
    } else if (k === 'mqtt-qos') {
      if (v !== '0' && v !== '1' && v !== '2') throw notRetryable(`notifierInfo MQTT-QoS must be one of 0, 1, 2, not '${v}'`);
      qos = Number(v) as MqttQoS;
    }
  }
  return { version, qos };
}

/** Removes the password of a URI's userinfo, for messages. */
function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}
