import { randomUUID } from 'node:crypto';
import { KeyedMutex } from '../common/keyed-mutex.js';
import type { CacheConcern, Coordinator, Invalidation, InvalidationListener } from './types.js';

/**
 * The coordinator of a broker that runs alone: there is no other instance to invalidate, and this one is always the
 * leader (from onLeadership until close). Today's single-process behaviour, unchanged.
 */
export class LocalCoordinator implements Coordinator {
  readonly instanceId = randomUUID();
  readonly shared = false;
  private leadership: { stop: () => void | Promise<void> } | undefined;
  private readonly locks = new KeyedMutex();
  private closed = false;

  async publish(_concern: CacheConcern, _message: Invalidation): Promise<void> {
    // Nobody else caches anything.
  }

  subscribe(_concern: CacheConcern, _listener: InvalidationListener): () => void {
    return () => undefined;
  }

  async onLeadership(start: () => void | Promise<void>, stop: () => void | Promise<void>): Promise<void> {
    if (this.leadership) throw new Error('onLeadership was already called on this coordinator');
    if (this.closed) return;
    this.leadership = { stop };
    await start();
  }

  isLeader(): boolean {
    return this.leadership !== undefined && !this.closed;
  }

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(name, fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.leadership?.stop();
  }
}
