import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSettings, parseMqttUri } from '../../src/notifications/mqtt-endpoint.js';
import { mqttEnvelope } from '../../src/notifications/mqtt-envelope.js';
import { MqttSender } from '../../src/notifications/mqtt-sender.js';
import { DeliveryError, type KeyValue, type OutboundNotification } from '../../src/notifications/types.js';
import { freePort, makeCertificates, Mosquitto, Subscriber, type Received, type Tls } from './mosquitto.js';

const LINK = '<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"';

let seq = 0;

interface Build {
  qos?: 0 | 1 | 2;
  version?: 'mqtt3.1.1' | 'mqtt5.0';
  headers?: Record<string, string>;
  contentType?: string;
  receiverInfo?: KeyValue[];
  body?: string;
}

function notification(uri: string, b: Build = {}): OutboundNotification {
  seq += 1;
  const notifierInfo: KeyValue[] = [];
  if (b.qos !== undefined) notifierInfo.push({ key: 'MQTT-QoS', value: String(b.qos) });
  if (b.version !== undefined) notifierInfo.push({ key: 'MQTT-Version', value: b.version });
  const id = `urn:ngsi-ld:Notification:${seq}`;
  return {
    id,
    tenant: '',
    subscriptionId: 'urn:ngsi-ld:Subscription:s1',
    endpoint: { uri, accept: 'application/json', notifierInfo, receiverInfo: b.receiverInfo },
    contentType: b.contentType ?? 'application/json',
    body:
      b.body ??
      JSON.stringify({
        id,
        type: 'Notification',
        subscriptionId: 'urn:ngsi-ld:Subscription:s1',
        notifiedAt: '2026-01-01T00:00:00.000Z',
        data: [{ id: 'urn:ngsi-ld:Vehicle:A1', type: 'Vehicle', speed: { type: 'Property', value: seq } }],
      }),
    headers: b.headers ?? { Link: LINK },
    createdAt: '2026-01-01T00:00:00.000Z',
    attempt: 0,
    notBefore: 0,
  };
}

const timeout = (ms = 5_000) => AbortSignal.timeout(ms);

/** The DeliveryError `promise` rejects with (fails the test when it resolves or rejects with something else). */
async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

const bodyOf = (n: OutboundNotification) => JSON.parse(n.body) as unknown;
const onTopic = (topic: string) => (m: Received) => m.topic === topic;

describe('MQTT endpoint URI, notifierInfo and envelope (clause 7.2)', () => {
  it('takes broker, port, credentials and the decoded topic from the URI', () => {
    expect(parseMqttUri('mqtt://broker.example/notifications')).toEqual({
      scheme: 'mqtt',
      host: 'broker.example',
      port: 1883,
      topic: 'notifications',
    });
    expect(parseMqttUri('mqtts://u%40x:p%3Ass@broker.example/a/b/c%20d')).toEqual({
      scheme: 'mqtts',
      host: 'broker.example',
      port: 8883,
      username: 'u@x',
      password: 'p:ss',
      topic: 'a/b/c d',
    });
    expect(parseMqttUri('MQTT://[::1]:1884//lead/slash')).toMatchObject({ host: '::1', port: 1884, topic: '/lead/slash' });
    expect(parseMqttUri('mqtt://:secret@h/t')).toMatchObject({ password: 'secret', topic: 't' });
  });

  it.each([
    ['http://broker/topic', /not an MQTT endpoint/],
    ['mqtt://broker', /topic is empty/],
    ['mqtt://broker/', /topic is empty/],
    ['mqtt://broker/a/%23', /wildcards/],
    ['mqtt://broker/a/+/b', /wildcards/],
    ['mqtt://broker/a%00', /U\+0000/],
    ['mqtt://broker/%E0%A4%A', /percent-encoding/],
    ['not a uri', /invalid MQTT endpoint URI/],
  ])('rejects %s without retry', (uri, message) => {
    let error: unknown;
    try {
      parseMqttUri(uri);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect((error as DeliveryError).message).toMatch(message);
  });

  it('keeps the password out of error messages', () => {
    expect(() => parseMqttUri('http://user:topsecret@broker/t')).toThrow(/user:\*\*\*@broker/);
  });

  it('reads MQTT-Version and MQTT-QoS, with the defaults of Table 7.2-1', () => {
    expect(mqttSettings(undefined)).toEqual({ version: 'mqtt5.0', qos: 0 });
    expect(mqttSettings([], 'mqtt3.1.1')).toEqual({ version: 'mqtt3.1.1', qos: 0 });
    expect(
      mqttSettings([
        { key: 'MQTT-Version', value: 'mqtt3.1.1' },
        { key: 'MQTT-QoS', value: '2' },
        { key: 'other', value: 'x' },
      ]),
    ).toEqual({ version: 'mqtt3.1.1', qos: 2 });
    for (const bad of [
      [{ key: 'MQTT-QoS', value: '3' }],
      [{ key: 'MQTT-QoS', value: 'one' }],
      [{ key: 'MQTT-Version', value: 'mqtt3.1' }],
    ]) {
      expect(() => mqttSettings(bad)).toThrow(DeliveryError);
      try {
        mqttSettings(bad);
      } catch (e) {
        expect((e as DeliveryError).retryable).toBe(false);
      }
    }
  });

  it('builds {metadata, body}: Content-Type from the notification, then its headers; body is the Notification', () => {
    const n = notification('mqtt://h/t', {
      contentType: 'application/ld+json',
      headers: { 'content-type': 'text/plain', 'NGSILD-Tenant': 'acme', Authorization: 'Bearer x' },
    });
    const envelope = mqttEnvelope(n);
    expect(Object.keys(envelope)).toEqual(['metadata', 'body']);
    expect(envelope).toEqual({
      metadata: { 'Content-Type': 'application/ld+json', 'NGSILD-Tenant': 'acme', Authorization: 'Bearer x' },
      body: bodyOf(n),
    });
    const bad = notification('mqtt://h/t', { body: '{not json' });
    expect(() => mqttEnvelope(bad)).toThrow(DeliveryError);
  });
});

describe('MqttSender against mosquitto', () => {
  let tls: Tls;
  let broker: Mosquitto;
  let subscriber: Subscriber;
  let sender: MqttSender;
  const credentials = { username: 'musubi', password: 'p@ss:w/rd' };
  let base: string;

  beforeAll(async () => {
    tls = makeCertificates();
    broker = new Mosquitto({ tls, auth: credentials });
    await broker.start();
    base = `mqtt://127.0.0.1:${broker.port}`;
    subscriber = await Subscriber.connect(broker.port, ['#']);
    sender = new MqttSender();
  });

  afterAll(async () => {
    await sender?.close();
    await subscriber?.close();
    await broker?.dispose();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  describe.each(['mqtt3.1.1', 'mqtt5.0'] as const)('%s', (version) => {
    it.each([0, 1, 2] as const)('delivers at QoS %i', async (qos) => {
      const topic = `qos/${version}/${qos}`;
      const n = notification(`${base}/${topic}`, { qos, version });
      await sender.send(n, timeout());
      const [m] = await subscriber.waitFor(1, onTopic(topic));
      expect(m!.json).toEqual({ metadata: { 'Content-Type': 'application/json', Link: LINK }, body: bodyOf(n) });
      expect(m!.packet.qos).toBe(qos);
      // MQTT 5.0 publishes carry properties, which the broker forwards to this (5.0) subscriber; 3.1.1 ones cannot.
      if (version === 'mqtt5.0') {
        expect(m!.packet.properties).toMatchObject({ payloadFormatIndicator: true, contentType: 'application/json' });
      } else {
        expect(m!.packet.properties?.contentType).toBeUndefined();
      }
    });

    it('delivers a burst of 500 QoS 1 notifications, every one of them', async () => {
      const topic = `burst/${version}`;
      const all = Array.from({ length: 500 }, () => notification(`${base}/${topic}`, { qos: 1, version }));
      await Promise.all(all.map((n) => sender.send(n, timeout(15_000))));
      const received = await subscriber.waitFor(500, onTopic(topic), 15_000);
      const ids = new Set(received.map((m) => (m.json as { body: { id: string } }).body.id));
      expect(ids).toEqual(new Set(all.map((n) => n.id)));
    });
  });

  it('uses MQTT 5.0 when notifierInfo has no MQTT-Version, or the configured default', async () => {
    await sender.send(notification(`${base}/default/version`), timeout());
    const [m] = await subscriber.waitFor(1, onTopic('default/version'));
    expect(m!.packet.properties?.contentType).toBe('application/json');
    expect(m!.packet.qos).toBe(0);

    const v3 = new MqttSender({ defaultVersion: 'mqtt3.1.1' });
    try {
      await v3.send(notification(`${base}/default/v3`), timeout());
      const [m3] = await subscriber.waitFor(1, onTopic('default/v3'));
      expect(m3!.packet.properties?.contentType).toBeUndefined();
      expect(v3.connectionsInfo()).toEqual([
        { broker: `mqtt://127.0.0.1:${broker.port}`, version: 'mqtt3.1.1', state: 'connected' },
      ]);
    } finally {
      await v3.close();
    }
  });

  it('publishes to the topic of the URI path: nested levels, percent-decoded', async () => {
    await sender.send(notification(`${base}/ngsi-ld/v1/room%201/t%C3%A9mp`, { qos: 1 }), timeout());
    const [m] = await subscriber.waitFor(1, onTopic('ngsi-ld/v1/room 1/témp'));
    expect(m!.topic).toBe('ngsi-ld/v1/room 1/témp');
  });

  it('puts Link, NGSILD-Tenant and every receiverInfo entry in metadata', async () => {
    const receiverInfo = [
      { key: 'Authorization', value: 'Bearer abc' },
      { key: 'x-correlator', value: '42' },
    ];
    const n = notification(`${base}/meta/1`, {
      qos: 1,
      contentType: 'application/json',
      receiverInfo,
      headers: { Link: LINK, 'NGSILD-Tenant': 'acme', Authorization: 'Bearer abc', 'x-correlator': '42' },
    });
    await sender.send(n, timeout());
    const [m] = await subscriber.waitFor(1, onTopic('meta/1'));
    expect(m!.json).toEqual({
      metadata: {
        'Content-Type': 'application/json',
        Link: LINK,
        'NGSILD-Tenant': 'acme',
        Authorization: 'Bearer abc',
        'x-correlator': '42',
      },
      body: bodyOf(n),
    });

    const ld = notification(`${base}/meta/2`, { qos: 1, contentType: 'application/ld+json', headers: {} });
    await sender.send(ld, timeout());
    const [m2] = await subscriber.waitFor(1, onTopic('meta/2'));
    expect(m2!.json).toEqual({ metadata: { 'Content-Type': 'application/ld+json' }, body: bodyOf(ld) });
  });

  it('reuses one connection per broker and protocol version', async () => {
    const own = new MqttSender();
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => own.send(notification(`${base}/reuse/${i}`, { qos: 1 }), timeout())),
      );
      expect(own.connectionsInfo()).toHaveLength(1);
      await own.send(notification(`${base}/reuse/x`, { qos: 1, version: 'mqtt3.1.1' }), timeout());
      expect(own.connectionsInfo().map((c) => c.version).sort()).toEqual(['mqtt3.1.1', 'mqtt5.0']);
      await subscriber.waitFor(21, (m) => m.topic.startsWith('reuse/'));
    } finally {
      await own.close();
    }
    await expect(own.send(notification(`${base}/reuse/closed`), timeout())).rejects.toMatchObject({
      retryable: true,
      message: expect.stringMatching(/closed/),
    });
  });

  it('logs in with the credentials of the URI userinfo; wrong ones fail without retry', async () => {
    const user = encodeURIComponent(credentials.username);
    const pass = encodeURIComponent(credentials.password);
    for (const version of ['mqtt3.1.1', 'mqtt5.0'] as const) {
      const ok = notification(`mqtt://${user}:${pass}@127.0.0.1:${broker.authPort}/auth/${version}`, {
        qos: 1,
        version,
      });
      await sender.send(ok, timeout());
      await subscriber.waitFor(1, onTopic(`auth/${version}`));

      const bad = notification(`mqtt://${user}:wrong@127.0.0.1:${broker.authPort}/auth/bad`, { qos: 1, version });
      const error = await deliveryError(sender.send(bad, timeout()));
      expect(error.retryable).toBe(false);
      expect(error.message).not.toContain('wrong');
      const anonymous = notification(`mqtt://127.0.0.1:${broker.authPort}/auth/bad`, { qos: 1, version });
      expect((await deliveryError(sender.send(anonymous, timeout()))).retryable).toBe(false);
    }
    expect(subscriber.messages.filter(onTopic('auth/bad'))).toHaveLength(0);
  });

  it('fails without retry on an invalid topic, URI, notifierInfo or body, leaving the connection usable', async () => {
    for (const n of [
      notification(`${base}/a/%23`, { qos: 1 }),
      notification(`${base}/`, { qos: 1 }),
      notification(`http://127.0.0.1:${broker.port}/a`, { qos: 1 }),
      { ...notification(`${base}/a`), endpoint: { uri: `${base}/a`, accept: 'application/json' as const, notifierInfo: [{ key: 'MQTT-QoS', value: '7' }] } },
      notification(`${base}/a`, { body: 'nope' }),
    ]) {
      expect((await deliveryError(sender.send(n, timeout()))).retryable).toBe(false);
    }
    await sender.send(notification(`${base}/after/invalid`, { qos: 1 }), timeout());
    await subscriber.waitFor(1, onTopic('after/invalid'));
  });

  it('fails with a retryable error when nothing listens at the broker address', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await deliveryError(sender.send(notification(`mqtt://127.0.0.1:${port}/t`, { qos: 1 }), timeout()));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/ECONNREFUSED|cannot connect/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up with a retryable error when the signal aborts (a broker that never answers)', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    const own = new MqttSender();
    try {
      const started = Date.now();
      const error = await deliveryError(own.send(notification(`mqtt://127.0.0.1:${port}/t`, { qos: 1 }), timeout(300)));
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/timed out/);
      expect(Date.now() - started).toBeLessThan(2_000);
      const aborted = new AbortController();
      aborted.abort(new Error('shutting down'));
      expect((await deliveryError(own.send(notification(`mqtt://127.0.0.1:${port}/t`), aborted.signal))).retryable).toBe(
        true,
      );
    } finally {
      await own.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('closes a connection left unused for idleCloseMs and opens a new one on the next send', async () => {
    const own = new MqttSender({ idleCloseMs: 100 });
    try {
      await own.send(notification(`${base}/idle/1`, { qos: 1 }), timeout());
      expect(own.connectionsInfo()).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 400));
      expect(own.connectionsInfo()).toHaveLength(0);
      await own.send(notification(`${base}/idle/2`, { qos: 1 }), timeout());
      await subscriber.waitFor(2, (m) => m.topic.startsWith('idle/'));
    } finally {
      await own.close();
    }
  });

  describe('mqtts', () => {
    it('delivers over TLS with rejectUnauthorized false', async () => {
      const own = new MqttSender({ rejectUnauthorized: false });
      try {
        await own.send(notification(`mqtts://127.0.0.1:${broker.tlsPort}/tls/insecure`, { qos: 1 }), timeout());
        await subscriber.waitFor(1, onTopic('tls/insecure'));
      } finally {
        await own.close();
      }
    });

    it('delivers over TLS verifying the broker against the given CA, for 3.1.1 and 5.0', async () => {
      const own = new MqttSender({ ca: tls.caPem });
      try {
        for (const version of ['mqtt3.1.1', 'mqtt5.0'] as const) {
          const n = notification(`mqtts://127.0.0.1:${broker.tlsPort}/tls/ca/${version}`, { qos: 2, version });
          await own.send(n, timeout());
          const [m] = await subscriber.waitFor(1, onTopic(`tls/ca/${version}`));
          expect(m!.json).toEqual({ metadata: { 'Content-Type': 'application/json', Link: LINK }, body: bodyOf(n) });
        }
      } finally {
        await own.close();
      }
    });

    it('refuses a certificate it cannot verify, with a retryable error', async () => {
      const own = new MqttSender();
      try {
        const n = notification(`mqtts://127.0.0.1:${broker.tlsPort}/tls/unverified`, { qos: 1 });
        const error = await deliveryError(own.send(n, timeout()));
        expect(error.retryable).toBe(true);
        expect(error.message).toMatch(/certificate/i);
      } finally {
        await own.close();
      }
      expect(subscriber.messages.filter(onTopic('tls/unverified'))).toHaveLength(0);
    });
  });
});

describe('MqttSender when the broker goes away and comes back', () => {
  let broker: Mosquitto;
  let sender: MqttSender;
  const subscribers: Subscriber[] = [];

  beforeAll(async () => {
    broker = new Mosquitto();
    await broker.start();
    sender = new MqttSender({ reconnectMinMs: 50, reconnectMaxMs: 200 });
  });

  afterAll(async () => {
    await sender?.close();
    for (const s of subscribers) await s.close();
    await broker?.dispose();
  });

  it('fails with retryable errors while mosquitto is stopped and delivers again once it is back', async () => {
    const uri = (topic: string) => `mqtt://127.0.0.1:${broker.port}/${topic}`;
    const before = await Subscriber.connect(broker.port, ['restart/#']);
    subscribers.push(before);
    await sender.send(notification(uri('restart/before'), { qos: 1 }), timeout());
    await before.waitFor(1, onTopic('restart/before'));

    // Stopped mid-way through a burst: every send settles, delivered or with a retryable error, none hangs.
    const burst = Promise.allSettled(
      Array.from({ length: 2000 }, () => sender.send(notification(uri('restart/burst'), { qos: 1 }), timeout(8_000))),
    );
    await before.waitFor(1, onTopic('restart/burst'));
    const started = Date.now();
    await broker.stop();
    const outcomes = await burst;
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toBeInstanceOf(DeliveryError);
        expect((outcome.reason as DeliveryError).retryable).toBe(true);
      }
    }
    const delivered = outcomes.filter((o) => o.status === 'fulfilled').length;
    expect(delivered).toBeLessThan(2000); // it really was mid-way

    for (let i = 0; i < 3; i++) {
      const error = await deliveryError(sender.send(notification(uri('restart/down'), { qos: 1 }), timeout()));
      expect(error.retryable).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sender.connectionsInfo()[0]?.state).not.toBe('connected');

    await broker.start();
    const after = await Subscriber.connect(broker.port, ['restart/#']);
    subscribers.push(after);
    // The delivery engine retries; here a loop does, until the background reconnection is through.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await sender.send(notification(uri('restart/after'), { qos: 1 }), timeout());
        break;
      } catch (error) {
        expect(error).toBeInstanceOf(DeliveryError);
        expect((error as DeliveryError).retryable).toBe(true);
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await after.waitFor(1, onTopic('restart/after'));
    expect(sender.connectionsInfo()).toEqual([
      { broker: `mqtt://127.0.0.1:${broker.port}`, version: 'mqtt5.0', state: 'connected' },
    ]);
    expect(after.messages.filter(onTopic('restart/down'))).toHaveLength(0);
  });
});
