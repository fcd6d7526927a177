import { describe, expect, it } from 'vitest';
import { RetryBackoff } from '../../src/common/retry-backoff.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RetryBackoff (retry of the subscription engine and the CSource notifier)', () => {
  it('doubles the delay after each failure up to the maximum, and starts over after a success', () => {
    const backoff = new RetryBackoff(10, 35);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(backoff.delayMs);
      backoff.failed(() => undefined);
    }
    delays.push(backoff.delayMs);
    backoff.cancel();
    expect(delays).toEqual([10, 20, 35, 35, 35]);
    backoff.succeeded();
    expect(backoff.delayMs).toBe(10);
  });

  it('runs only the latest retry, after its delay; cancel drops a pending one', async () => {
    const backoff = new RetryBackoff(20);
    const ran: string[] = [];
    backoff.failed(() => ran.push('first'));
    backoff.failed(() => ran.push('second'));
    await sleep(5);
    expect(ran).toEqual([]);
    // The second failure waits the doubled delay, 40 ms.
    await sleep(80);
    expect(ran).toEqual(['second']);
    backoff.failed(() => ran.push('cancelled'));
    backoff.cancel();
    await sleep(200);
    expect(ran).toEqual(['second']);
  });
});
