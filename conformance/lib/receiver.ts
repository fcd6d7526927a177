/**
 * A notification receiver for the subscription tests (clauses 5.8.6, 6.3.8): a small HTTP server that records every
 * request (method, path, headers, raw and parsed body, arrival time) and answers 200 OK, or another status per inbox.
 *
 * Each test takes its own inbox (a unique path on the shared server), so concurrent tests never see each other's
 * notifications. Waiting is event driven: `waitFor` resolves as soon as a matching request arrives and fails after a
 * timeout with a summary of what did arrive.
 *
 * The broker has to reach the receiver: by default it listens on 127.0.0.1, fine for a broker on the same machine. For
 * a broker elsewhere set MUSUBI_CONFORMANCE_RECEIVER_BIND (address to listen on, e.g. 0.0.0.0) and
 * MUSUBI_CONFORMANCE_RECEIVER_HOST (host name the broker uses to reach this machine, e.g. host.docker.internal).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { listenForBroker, parseJsonOrUndefined } from './listen.js';

/** How long a test waits for an expected notification (MUSUBI_CONFORMANCE_NOTIFY_TIMEOUT, milliseconds). */
export const NOTIFY_TIMEOUT_MS = Number(process.env.MUSUBI_CONFORMANCE_NOTIFY_TIMEOUT) || 5000;

/**
 * How long a test keeps listening after a "barrier" notification arrived before it concludes that an earlier change
 * produced no notification. Short on purpose: the barrier was caused by a later change than the one under test.
 */
export const SETTLE_MS = 300;

export interface ReceivedRequest {
  method: string;
  /** Path and query string as requested, e.g. /n/ab12?x=1. */
  path: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Raw body. */
  text: string;
  /** Parsed JSON body, undefined when empty or not JSON. */
  body: any;
  /** Media type of the Content-Type header without parameters, lower-cased. */
  mediaType: string;
  /** Date.now() when the whole request had been received. */
  at: number;
}

export interface Inbox {
  /** The URI to put in notification.endpoint.uri. */
  readonly uri: string;
  /** Every request received so far on this inbox, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Status code answered to requests on this inbox (default 200); may be changed at any time. */
  status: number;
  /** Resolves with the first request (already received or future) satisfying `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate?: (r: ReceivedRequest) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedRequest>;
  /** Resolves once at least `count` requests satisfy `predicate`, with those requests; rejects after `timeoutMs`. */
  waitForCount(count: number, predicate?: (r: ReceivedRequest) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedRequest[]>;
  /** Requests received so far that satisfy `predicate`. */
  matching(predicate?: (r: ReceivedRequest) => boolean): ReceivedRequest[];
  /** Waits `ms` (default SETTLE_MS), then returns the requests satisfying `predicate`. */
  settle(predicate?: (r: ReceivedRequest) => boolean, ms?: number): Promise<ReceivedRequest[]>;
}

export interface Receiver {
  /** A fresh inbox with a unique path. */
  inbox(status?: number): Inbox;
  close(): Promise<void>;
}

/** One-line summary of a received request, for assertion messages. */
export function summarize(r: ReceivedRequest): string {
  const text = r.text.length > 400 ? `${r.text.slice(0, 400)}…` : r.text;
  return `${r.method} ${r.path} (${r.mediaType || 'no content-type'}) ${text}`;
}

const always = (): boolean => true;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Waiter {
  check(): boolean;
}

class InboxImpl implements Inbox {
  readonly requests: ReceivedRequest[] = [];
  status: number;
  private readonly waiters = new Set<Waiter>();

  constructor(
    readonly uri: string,
    status: number,
  ) {
    this.status = status;
  }

  push(r: ReceivedRequest): void {
    this.requests.push(r);
    for (const w of [...this.waiters]) if (w.check()) this.waiters.delete(w);
  }

  matching(predicate: (r: ReceivedRequest) => boolean = always): ReceivedRequest[] {
    return this.requests.filter((r) => safe(predicate, r));
  }

  waitFor(predicate: (r: ReceivedRequest) => boolean = always, timeoutMs = NOTIFY_TIMEOUT_MS, what = 'a matching notification'): Promise<ReceivedRequest> {
    return this.waitForCount(1, predicate, timeoutMs, what).then((rs) => rs[0]!);
  }

  waitForCount(
    count: number,
    predicate: (r: ReceivedRequest) => boolean = always,
    timeoutMs = NOTIFY_TIMEOUT_MS,
    what = `${count} matching notification(s)`,
  ): Promise<ReceivedRequest[]> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        check: () => {
          const found = this.matching(predicate);
          if (found.length < count) return false;
          if (timer) clearTimeout(timer);
          resolve(found.slice(0, count));
          return true;
        },
      };
      if (waiter.check()) return;
      this.waiters.add(waiter);
      timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const got = this.requests.length === 0 ? 'nothing' : this.requests.map((r, i) => `  #${i + 1} ${summarize(r)}`).join('\n');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} at ${this.uri}; received:\n${got}`));
      }, timeoutMs);
    });
  }

  async settle(predicate: (r: ReceivedRequest) => boolean = always, ms = SETTLE_MS): Promise<ReceivedRequest[]> {
    await sleep(ms);
    return this.matching(predicate);
  }
}

function safe(predicate: (r: ReceivedRequest) => boolean, r: ReceivedRequest): boolean {
  try {
    return predicate(r);
  } catch {
    return false;
  }
}


/** Starts the receiver on a random port. */
export async function startReceiver(): Promise<Receiver> {
  const bind = process.env.MUSUBI_CONFORMANCE_RECEIVER_BIND || '127.0.0.1';
  const advertised = process.env.MUSUBI_CONFORMANCE_RECEIVER_HOST || bind;
  const inboxes = new Map<string, InboxImpl>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const path = request.url ?? '/';
      const text = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) {
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      const received: ReceivedRequest = {
        method: request.method ?? '',
        path,
        headers,
        text,
        body: parseJsonOrUndefined(text),
        mediaType: (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(),
        at: Date.now(),
      };
      const inbox = inboxes.get(path.split('?')[0]!);
      const status = inbox?.status ?? 404;
      response.writeHead(status, { 'content-type': 'text/plain', 'content-length': '0' }).end();
      inbox?.push(received);
    });
  });
  const origin = await listenForBroker(server, bind, advertised);
  return {
    inbox(status = 200) {
      const path = `/notify/${randomBytes(8).toString('hex')}`;
      const inbox = new InboxImpl(`${origin}${path}`, status);
      inboxes.set(path, inbox);
      return inbox;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The receiver of a whole test file: started before its tests; after them `cleanup` runs (it deletes what was made to
 * notify the receiver) and the receiver is closed.
 */
export function useReceiver(cleanup: () => Promise<void>): Receiver {
  let receiver: Receiver | undefined;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await cleanup();
    await receiver?.close();
  });
  const started = (): Receiver => {
    if (!receiver) throw new Error('the receiver starts before the tests: use it inside a test');
    return receiver;
  };
  return { inbox: (status) => started().inbox(status), close: () => started().close() };
}
