import type { Context, Handler, Hono } from 'hono';
import type { BrokerEnv } from './request.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Registers routes on the app and remembers the methods of each path, so that a wrong verb gets
 * 405 with an Allow header (clause 6.3.2) instead of 404. The check runs only for requests no route took,
 * so it costs the requests that do match nothing.
 */
export class RouteTable {
  private readonly paths = new Map<string, { pattern: RegExp; methods: Method[] }>();

  constructor(private readonly app: Hono<BrokerEnv>) {}

  add(method: Method, path: string, handler: (c: Context<BrokerEnv>) => Promise<Response> | Response): void {
    this.app.on(method, path, handler as Handler<BrokerEnv>);
    let entry = this.paths.get(path);
    if (!entry) {
      // ":name" matches one path segment, as in Hono; a trailing slash is accepted (the app is not strict).
      const source = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+');
      this.paths.set(path, (entry = { pattern: new RegExp(`^${source}/?$`), methods: [] }));
    }
    entry.methods.push(method);
  }

  /** The methods a path has, when it is one of the API's paths. */
  allowedMethods(pathname: string): Method[] | undefined {
    for (const { pattern, methods } of this.paths.values()) if (pattern.test(pathname)) return methods;
    return undefined;
  }
}
