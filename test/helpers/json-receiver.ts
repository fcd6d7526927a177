import { createServer, type IncomingMessage, type Server } from 'node:http';

// For tests that drive a broker process over HTTP and receive its notifications on a port chosen before the broker
// starts (the subscription names it while the receiver is still down).

/** Sends `body` as JSON; the response status (its body is read and dropped). */
export async function sendJson(url: string, method: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

export function readJson<T>(req: IncomingMessage): Promise<T> {
  return new Promise((ok, fail) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      try {
        ok(JSON.parse(text) as T);
      } catch (err) {
        fail(err);
      }
    });
  });
}

/** Listens on 127.0.0.1:`port`, hands every request's JSON body to `onBody` and answers 204. Close it when done. */
export async function startJsonReceiver<T>(port: number, onBody: (body: T) => void): Promise<Server> {
  const server = createServer(async (req, res) => {
    onBody(await readJson<T>(req));
    res.writeHead(204).end();
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return server;
}

/** Waits up to `ms` until every key of `expected` is in `received`; the keys still missing then. */
export async function missingAfter(expected: Set<string>, received: Set<string>, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  while ([...expected].some((k) => !received.has(k)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return [...expected].filter((k) => !received.has(k));
}
