import type { Context } from 'hono';
import { CORE_CONTEXT_URL } from '../../jsonld/core-context.js';
import type { ContextDefinition } from '../../jsonld/types.js';
import type { ForwardContext } from '../../forwarding/types.js';
import type { BrokerEnv } from '../request.js';

/** A ForwardContext with the warnings it collected, for the response. */
export type RequestForwarding = ForwardContext & { warnings: string[] };

/**
 * What distributed operations take from the HTTP request: local=true (6.3.18), the Via header (4.3.6.4), the Link
 * to pass on, and the request headers that contextSourceInfo "urn:ngsi-ld:request" values refer to (6.3.19).
 */
export function forwardContext(c: Context<BrokerEnv>, source: ContextDefinition | undefined, params?: Record<string, string | undefined>): RequestForwarding {
  const raw = params ? params.local : c.req.query('local');
  return new HttpForwarding(c, raw === 'true', typeof source === 'string' && source !== CORE_CONTEXT_URL ? source : undefined);
}

/**
 * Every GET by id builds one even when the tenant has no registration (Forwarder.bypassed is asked later), so it is
 * one object with its methods on the prototype, and the Via header is read only when a source is actually asked.
 */
class HttpForwarding implements RequestForwarding {
  readonly warnings: string[] = [];
  private viaHeader: string | undefined;

  constructor(
    private readonly c: Context<BrokerEnv>,
    readonly local: boolean,
    readonly link: string | undefined,
  ) {}

  get via(): string {
    return (this.viaHeader ??= this.c.req.header('via') ?? '');
  }

  header(name: string): string | undefined {
    return this.c.req.header(name);
  }

  warn(warning: string): void {
    this.warnings.push(warning);
  }
}

/** Adds the collected NGSILD-Warning headers (6.3.17) to a response. */
export function withWarnings(res: Response, fwd: RequestForwarding): Response {
  if (fwd.warnings.length === 0) return res;
  for (const w of fwd.warnings) {
    // warningOf makes every warning a valid header value; should one still be refused, the answer matters more.
    try {
      res.headers.append('NGSILD-Warning', w);
    } catch {
      res.headers.append('NGSILD-Warning', '199 - "warning dropped: not a valid header value"');
    }
  }
  return res;
}
