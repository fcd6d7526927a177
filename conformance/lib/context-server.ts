/**
 * A tiny HTTP server the tests use to serve their own JSON-LD @context documents, so no test depends on the internet.
 *
 * The broker has to reach it: by default it listens on 127.0.0.1, fine for a broker on the same machine. For a broker
 * elsewhere set MUSUBI_CONFORMANCE_CONTEXT_BIND (address to listen on, e.g. 0.0.0.0) and
 * MUSUBI_CONFORMANCE_CONTEXT_HOST (host name the broker uses to reach this machine, e.g. host.docker.internal).
 */
import http from 'node:http';
import { listenForBroker } from './listen.js';

export interface ContextServer {
  /** URL of the named document. */
  url(name: string): string;
  /** How many times the named document was fetched. */
  hits(name: string): number;
  close(): Promise<void>;
}

export async function startContextServer(docs: Record<string, unknown>): Promise<ContextServer> {
  const bind = process.env.MUSUBI_CONFORMANCE_CONTEXT_BIND || '127.0.0.1';
  const advertised = process.env.MUSUBI_CONFORMANCE_CONTEXT_HOST || bind;
  const counts = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const name = decodeURIComponent((request.url ?? '/').split('?')[0]!.replace(/^\/+/, ''));
    const doc = docs[name];
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (doc === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = JSON.stringify(doc);
    response.writeHead(200, { 'content-type': 'application/ld+json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  const origin = await listenForBroker(server, bind, advertised);
  return {
    url: (name) => `${origin}/${name}`,
    hits: (name) => counts.get(name) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
