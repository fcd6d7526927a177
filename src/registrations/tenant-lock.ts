import { KeyedMutex } from '../common/keyed-mutex.js';

/**
 * Runs `work` while holding the lock named `key`, so that writes under one key never overlap. The default holds
 * within this process only (an in-process mutex); src/server.ts passes the coordinator's lock, which holds across
 * every broker instance sharing the store (a Redis lock, src/coordination/redis-lock.ts). Throws (an NgsiError,
 * Conflict) when the lock cannot be had in time; it never runs `work` then.
 */
export type KeyedLock = <T>(key: string, work: () => Promise<T>) => Promise<T>;

/** The lock of a broker running alone. */
export function inProcessLock(): KeyedLock {
  const mutex = new KeyedMutex();
  return (key, work) => mutex.run(key, work);
}
