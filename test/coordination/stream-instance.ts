import { StreamDelivery, type StreamDeliveryOptions } from '../../src/coordination/stream-delivery.js';
import { HttpSender } from '../../src/notifications/http-sender.js';
import type { DeliveryOutcome } from '../../src/notifications/types.js';
import { QUICK_DELIVERY } from '../notifications/helpers.js';

/** One instance's stream delivery, started with fast test timings; it joins `running` for the caller to close. */
export async function startStreamInstance(
  target: { url: string; prefix: string },
  consumer: string,
  running: StreamDelivery[],
  overrides: Partial<StreamDeliveryOptions> = {},
) {
  const outcomes: DeliveryOutcome[] = [];
  const { delivery, deadLetters } = await StreamDelivery.open(target, { http: new HttpSender() }, {
    consumer,
    ...QUICK_DELIVERY,
    maxHeld: 8,
    claimIdleMs: 1000,
    pollMs: 25,
    blockMs: 200,
    onOutcome: (o) => outcomes.push(o),
    onError: () => undefined,
    ...overrides,
  });
  running.push(delivery);
  await delivery.start();
  return { delivery, deadLetters, outcomes };
}
