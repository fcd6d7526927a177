import http from 'node:http';
import https from 'node:https';
import { laneKeyOf } from './keys.js';
import { DeliveryError, type OutboundNotification, type Sender } from './types.js';

export interface HttpSenderOptions {
  /** Idle keep-alive sockets are closed after this long (default 30 s). */
  keepAliveMs?: number;
  /** Certificate authorities trusted for https receivers instead of Node's defaults (NODE_EXTRA_CA_CERTS adds to them). */
  ca?: string | Buffer;
}

/**
 * Headers of the framing and of the connection belong to this sender, not to receiverInfo: a receiverInfo
 * "Content-Length" or "Connection" would corrupt the request or the pooled socket.
 */
const RESERVED = new Set(['content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);

/**
 * HTTP binding of notifications (clause 6.3.8): one POST per notification to endpoint.uri, over keep-alive
 * agents. node:http rather than fetch, because fetch refuses the ports of its "bad port" list (6000, 6667, ...),
 * which are legitimate notification receivers.
 *
 * Outcome: 2xx delivered; 408, 429, 5xx and network errors (refused, reset, aborted by the engine's timeout)
 * are retryable; any other status (3xx, 4xx) will not get better by retrying, so it is not.
 */
export class HttpSender implements Sender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(options: HttpSenderOptions = {}) {
    const keepAlive = { keepAlive: true, timeout: options.keepAliveMs ?? 30_000 };
    this.httpAgent = new http.Agent(keepAlive);
    this.httpsAgent = new https.Agent(options.ca ? { ...keepAlive, ca: options.ca } : keepAlive);
  }

  send(n: OutboundNotification, signal: AbortSignal): Promise<void> {
    let url: URL;
    try {
      url = new URL(n.endpoint.uri);
    } catch {
      return Promise.reject(new DeliveryError(`the endpoint ${JSON.stringify(n.endpoint.uri)} is not a URL`, false));
    }
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') return Promise.reject(new DeliveryError(`the HTTP sender cannot send to ${url.protocol} URIs`, false));
    // Error messages name origin + path only: the URI may carry credentials, and messages end up in lastFailure.
    const where = laneKeyOf(n.endpoint.uri);
    const body = Buffer.from(n.body, 'utf8');
    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(n.headers)) if (!RESERVED.has(name.toLowerCase())) headers[name] = value;
    headers['Content-Type'] = n.contentType;
    headers['Content-Length'] = body.length;

    return new Promise<void>((resolve, reject) => {
      let req: http.ClientRequest;
      try {
        const options = { method: 'POST', headers, signal, agent: secure ? this.httpsAgent : this.httpAgent };
        req = secure ? https.request(url, options) : http.request(url, options);
      } catch (err) {
        // Invalid header names or values (from receiverInfo) are thrown synchronously; retrying cannot fix them.
        reject(new DeliveryError(`cannot send to ${where}: ${messageOf(err)}`, false));
        return;
      }
      req.once('response', (res) => {
        // Drained, so the socket goes back to the pool; the status is all that counts.
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new DeliveryError(`${where} answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, retryableStatus(status)));
      });
      req.once('error', (err) => {
        if (signal.aborted) reject(new DeliveryError(`no answer from ${where} in time`, true));
        else reject(new DeliveryError(`cannot reach ${where}: ${messageOf(err)}`, true));
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
