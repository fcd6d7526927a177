/**
 * musubi extension, beyond ETSI GS CIM 009: what throttling does with the changes it holds back.
 *
 * Clause 5.2.12 only says throttling is the "minimal period of time in seconds which shall elapse between two
 * consecutive notifications"; a broker may drop the changes made inside the period (TP/NGSI-LD/CI/SUB/046_15_01 only
 * checks that no notification comes early). musubi promises more: a change held back is sent when the period is over,
 * in the state the entity has then, so the receiver always ends up with the last state. Skipped when
 * MUSUBI_CONFORMANCE_EXTENSIONS=0.
 */
import { describe, expect, test } from 'vitest';
import { attrsPath, createEntity, expectNoContent, extensionsEnabled, patch, tenant, uid } from '../lib/index.js';
import { NOTIFY_TIMEOUT_MS, useReceiver } from '../lib/receiver.js';
import { about, createSubscription, deleteCreatedSubscriptions, inboxLog, subId, uniqueType, valueOf } from '../lib/subscriptions.js';

const receiver = useReceiver(deleteCreatedSubscriptions);

const prop = (value: unknown) => ({ type: 'Property', value });

describe.skipIf(!extensionsEnabled)('musubi extension: throttled changes are delivered late, not lost (5.2.12 throttling)', () => {
  const T = tenant();
  const opts = { tenant: T };

  test('changes made during the throttling period arrive once it is over, in the last state', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Throttled');
    const id = uid(type);
    await createEntity({ id, type, temperature: prop(20) }, opts);
    const throttlingMs = 1500;
    await createSubscription(
      { id: subId(), type: 'Subscription', entities: [{ id, type }], throttling: throttlingMs / 1000, notification: { endpoint: { uri: inbox.uri } } },
      opts,
    );
    const set = async (v: number) => expectNoContent(await patch(attrsPath(id), { json: { temperature: prop(v) }, ...opts }));
    await set(21);
    const first = await inbox.waitFor(about(id, (e) => valueOf(e.temperature) === 21));
    await set(22);
    await set(23);
    const last = await inbox.waitFor(about(id, (e) => valueOf(e.temperature) === 23), throttlingMs + NOTIFY_TIMEOUT_MS, 'the last state');
    expect(last.at - first.at, `not before the period is over:\n${inboxLog(inbox)}`).toBeGreaterThanOrEqual(throttlingMs - 150);
    expect(inbox.matching(about(id)), `one notification per period:\n${inboxLog(inbox)}`).toHaveLength(2);
  });
});
