/** Builds the MQTT message of clause 7.2, `{ "metadata": {...}, "body": {...} }`, from a queued notification. */
import { DeliveryError, type OutboundNotification } from './types.js';

/** The MQTT message of clause 7.2. */
export interface MqttEnvelope {
  metadata: Record<string, string>;
  body: unknown;
}

/**
 * The message of clause 7.2: `metadata` carries Content-Type and what HTTP would send as headers (Link,
 * NGSILD-Tenant, each receiverInfo key), `body` the Notification itself. Throws a non-retryable DeliveryError when
 * the body is not JSON.
 */
export function mqttEnvelope(notification: OutboundNotification): MqttEnvelope {
  let body: unknown;
  try {
    body = JSON.parse(notification.body);
  } catch {
    throw new DeliveryError(
      `notification ${notification.id} has a body that is not JSON (${notification.contentType})`,
      false,
    );
  }
  const metadata: Record<string, string> = { 'Content-Type': notification.contentType };
  for (const [name, value] of Object.entries(notification.headers)) {
    if (name.toLowerCase() !== 'content-type') metadata[name] = value;
  }
  return { metadata, body };
}
