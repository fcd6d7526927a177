import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSender } from '../../src/notifications/http-sender.js';
import { DeliveryError } from '../../src/notifications/types.js';
import { notification } from './helpers.js';

interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const seen: Seen[] = [];
let connections = 0;
let server: Server;
let base: string;
const sender = new HttpSender();

/** Answers with the status named in the path, /status/503; /hang never answers. */
async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  seen.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
  if (req.url === '/hang') return;
  const status = Number(/\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 204);
  res.writeHead(status, status >= 300 && status < 400 ? { Location: '/elsewhere' } : {}).end(status === 204 ? undefined : 'some answer');
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sender.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const never = () => new AbortController().signal;
const send = (path: string) => sender.send(notification(base + path, 1), never());

async function failure(promise: Promise<void>): Promise<DeliveryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

describe('HttpSender', () => {
  it('POSTs the body with its Content-Type and the given headers, keeping framing headers its own', async () => {
    const n = notification(`${base}/notify?x=1`, 7, {
      contentType: 'application/ld+json',
      headers: { Link: '<ctx>', 'NGSILD-Tenant': 'city', 'X-Auth': 'secret', 'Content-Length': '1', Connection: 'close', 'content-type': 'text/plain' },
    });
    seen.length = 0;
    await sender.send(n, never());
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.body).toBe(n.body);
    expect(seen[0]!.headers).toMatchObject({ 'content-type': 'application/ld+json', link: '<ctx>', 'ngsild-tenant': 'city', 'x-auth': 'secret', 'content-length': String(Buffer.byteLength(n.body)) });
    expect(seen[0]!.headers.connection).not.toBe('close');
  });

  it('reuses connections (keep-alive)', async () => {
    const before = connections;
    for (let i = 0; i < 10; i++) await send('/status/200');
    expect(connections - before).toBeLessThanOrEqual(1);
  });

  it('takes 2xx as delivered, 408/429/5xx as retryable and other statuses as final', async () => {
    for (const status of [200, 201, 202, 204]) await expect(send(`/status/${status}`)).resolves.toBeUndefined();
    for (const status of [408, 429, 500, 502, 503, 504]) {
      const err = await failure(send(`/status/${status}`));
      expect([err.retryable, err.message]).toEqual([true, expect.stringContaining(`answered ${status}`)]);
    }
    for (const status of [301, 400, 401, 403, 404, 410, 413, 422]) {
      const err = await failure(send(`/status/${status}`));
      expect([err.retryable, err.message]).toEqual([false, expect.stringContaining(`answered ${status}`)]);
    }
  });

  it('reports network errors and aborts as retryable, bad headers and URIs as final', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await failure(sender.send(notification(`http://user:pw@127.0.0.1:${port}/x`, 1), never()));
    expect(refused.retryable).toBe(true);
    expect(refused.message).toContain('ECONNREFUSED');
    expect(refused.message).not.toContain('pw');

    const timeout = failure(sender.send(notification(`${base}/hang`, 1), AbortSignal.timeout(100)));
    expect(await timeout).toMatchObject({ retryable: true, message: expect.stringContaining('in time') });

    expect(await failure(sender.send(notification(`${base}/x`, 1, { headers: { 'X-Bad': 'a\nb' } }), never()))).toMatchObject({ retryable: false });
    expect(await failure(sender.send(notification('not a uri', 1), never()))).toMatchObject({ retryable: false });
    expect(await failure(sender.send(notification('mqtt://broker/topic', 1), never()))).toMatchObject({ retryable: false });
  });

  it('sends to https receivers, trusting the configured CA', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'musubi-tls-'));
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      } catch {
        ctx.skip();
      }
      const cert = readFileSync(join(dir, 'cert.pem'));
      const tls = createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => void handle(req, res));
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
      const uri = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/notify`;
      const trusting = new HttpSender({ ca: cert });
      try {
        await trusting.send(notification(uri, 1), never());
        const err = await failure(sender.send(notification(uri, 1), never()));
        expect(err.retryable).toBe(true);
      } finally {
        await trusting.close();
        tls.closeAllConnections();
        await new Promise<void>((r) => tls.close(() => r()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
