import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { DeliveryEngineOptions } from '../../src/notifications/delivery-engine.js';
import type { OutboundNotification } from '../../src/notifications/types.js';

let counter = 0;

/** Retries within a few hundred ms and a breaker that does not open: what tests of the Redis delivery start from. */
export const QUICK_DELIVERY = {
  maxAttempts: 5,
  baseBackoffMs: 20,
  maxBackoffMs: 100,
  perEndpointConcurrency: 8,
  breakerThreshold: 1000,
  breakerOpenMs: 1000,
  defaultTimeoutMs: 5000,
} satisfies Partial<DeliveryEngineOptions>;

/** A queued notification as the subscription engine would make it; `n` goes into the body for checking. */
export function notification(uri: string, n: number, overrides: Partial<OutboundNotification> = {}): OutboundNotification {
  const subscriptionId = overrides.subscriptionId ?? 'urn:ngsi-ld:Subscription:s1';
  return {
    id: `urn:ngsi-ld:Notification:${++counter}-${n}`,
    tenant: '',
    subscriptionId,
    endpoint: { uri, accept: 'application/json' },
    contentType: 'application/json',
    body: JSON.stringify({ id: `urn:ngsi-ld:Notification:${n}`, type: 'Notification', subscriptionId, n, data: [] }),
    headers: { Link: '<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/json"' },
    createdAt: new Date().toISOString(),
    attempt: 0,
    notBefore: 0,
    ...overrides,
  };
}

export type Mode = 'ok' | 'fail' | 'reject' | 'hang';

export interface Received {
  at: number;
  path: string;
  headers: IncomingMessage['headers'];
  body: { n: number; subscriptionId: string } & Record<string, unknown>;
}

/**
 * A real notification receiver on 127.0.0.1. `mode`: ok (204), fail (503), reject (400), hang (reads the request
 * and never answers). `stop()` closes the listener (connections refused); `start()` listens again on the same port.
 */
export class Receiver {
  mode: Mode = 'ok';
  /** Up to this many milliseconds (random) before answering, in ok mode. */
  delayMs = 0;
  /** Share of requests answered 503 at random, in ok mode. */
  failRate = 0;
  readonly received: Received[] = [];
  /** Every request, whatever the answer. */
  readonly attempts: Received[] = [];
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}/notify`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Ns received with a 2xx, in arrival order, for one subscription (all when omitted). */
  ns(subscriptionId?: string): number[] {
    return this.received.filter((r) => !subscriptionId || r.body.subscriptionId === subscriptionId).map((r) => r.body.n);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record: Received = { at: Date.now(), path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
    this.attempts.push(record);
    const mode = this.mode;
    if (mode === 'hang') return;
    if (mode === 'fail') return void res.writeHead(503).end('down for maintenance');
    if (mode === 'reject') return void res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"title":"no"}');
    if (this.delayMs > 0) await sleep(this.delayMs * Math.random());
    if (Math.random() < this.failRate) return void res.writeHead(503).end();
    this.received.push(record);
    res.writeHead(204).end();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, every = 10): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(every);
  }
  return true;
}

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
