import type { Context, Handler, Hono } from 'hono';
import type { BrokerEnv } from './request.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Registers routes on the app and remembers the methods of each path, so that a wrong verb gets
 * 405 with an Allow header (clause 6.3.2) instead of falling through to 404.
 */
export class RouteTable {
  private readonly methods = new Map<string, Method[]>();

  constructor(private readonly app: Hono<BrokerEnv>) {}

  add(method: Method, path: string, handler: (c: Context<BrokerEnv>) => Promise<Response> | Response): void {
    this.app.on(method, path, handler as Handler<BrokerEnv>);
    const list = this.methods.get(path) ?? [];
    list.push(method);
    this.methods.set(path, list);
  }

  /** Call once every route is added: registers the 405 fallbacks. */
  finish(onWrongMethod: (c: Context<BrokerEnv>, allow: string[]) => Response): void {
    for (const [path, methods] of this.methods) {
      const allow = [...methods];
      this.app.all(path, (c) => onWrongMethod(c, allow));
    }
  }
}
