import type { TemporalStore } from './temporal-store.js';

const HOUR_MS = 60 * 60 * 1000;

export interface Retention {
  /** Runs one purge now (also what the timer does); the number of instances dropped. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for a purge in progress. */
  stop(): Promise<void>;
}

/**
 * Drops history older than `days` (0: keep everything, nothing is scheduled): once at start, then every
 * `intervalMs` (an hour by default). The timer is unref'd, so it never keeps the process alive.
 */
export function startRetention(
  store: TemporalStore,
  options: { days: number; intervalMs?: number; onError?: (err: unknown) => void; now?: () => number },
): Retention {
  const now = options.now ?? Date.now;
  let running: Promise<number> | undefined;
  let stopped = false;
  const runOnce = (): Promise<number> => {
    if (options.days <= 0) return Promise.resolve(0);
    running ??= store.purgeBefore(new Date(now() - options.days * 24 * HOUR_MS).toISOString()).finally(() => (running = undefined));
    return running;
  };
  const tick = (): void => {
    if (stopped) return;
    runOnce().catch((err: unknown) => options.onError?.(err));
  };
  const timer = options.days > 0 ? setInterval(tick, options.intervalMs ?? HOUR_MS) : undefined;
  timer?.unref();
  if (options.days > 0) setImmediate(tick).unref();
  return {
    runOnce,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
