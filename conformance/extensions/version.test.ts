/**
 * musubi extension, not part of ETSI GS CIM 009: GET /version in an Orion-LD-like shape (IoT Agents and
 * monitoring poll it) and GET /health for load balancers. Skipped when MUSUBI_CONFORMANCE_EXTENSIONS=0.
 */
import { describe, expect, test } from 'vitest';
import { describeRes, extensionsEnabled, get } from '../lib/index.js';

/** Every string value under a key mentioning "version", at any depth. */
function versionStrings(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (/version/i.test(k) && typeof v === 'string' && v.trim() !== '') out.push(v);
    out.push(...versionStrings(v));
  }
  return out;
}

describe.skipIf(!extensionsEnabled)('musubi extension: /version and /health', () => {
  test('GET /version returns a JSON object with a non-empty version', async () => {
    const res = await get('/version', { accept: 'application/json' });
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.mediaType).toBe('application/json');
    expect(res.body).toBeTypeOf('object');
    expect(Array.isArray(res.body)).toBe(false);
    expect(versionStrings(res.body).length, `a "...version..." key with a value: ${res.text}`).toBeGreaterThan(0);
  });

  test('GET /version names the broker in an Orion-LD-style "<name> version" key', async () => {
    const res = await get('/version');
    expect(res.status, describeRes(res)).toBe(200);
    expect(Object.keys(res.body).some((k) => /^\S+ version$/i.test(k)), `keys: ${Object.keys(res.body).join(', ')}`).toBe(true);
  });

  test('GET /health returns 200', async () => {
    const res = await get('/health');
    expect(res.status, describeRes(res)).toBe(200);
  });
});
