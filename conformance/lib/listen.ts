import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts a test-side server (context server, notification receiver) on `bind` and returns the origin the broker
 * must use to reach it: `advertised` is the host name or address the broker sees, which differs from `bind` when
 * the broker under test runs elsewhere.
 */
export async function listenForBroker(server: Server, bind: string, advertised: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bind, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = advertised.includes(':') && !advertised.startsWith('[') ? `[${advertised}]` : advertised;
  return `http://${host}:${port}`;
}

/** JSON of a body, or undefined when it is empty or not JSON (the caller asserts on it). */
export function parseJsonOrUndefined(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
