/**
 * The retry of a background job after a failure: after `firstMs`, then twice as long after each further failure up
 * to `maxMs`, back to `firstMs` once the job succeeds. At most one retry is pending; it does not keep the process alive.
 */
export class RetryBackoff {
  private timer: NodeJS.Timeout | undefined;
  private delay: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs = 30_000,
  ) {
    this.delay = firstMs;
  }

  /** How long the retry after the next failure waits. */
  get delayMs(): number {
    return this.delay;
  }

  succeeded(): void {
    this.delay = this.firstMs;
  }

  /** Runs `retry` after the current delay, in place of a retry still pending, and lengthens the next delay. */
  failed(retry: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      retry();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.maxMs);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
