import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Entity } from '../../src/model/entity.js';
import { openStores } from '../../src/store/index.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const T = '2026-01-01T00:00:00.000Z';
const entity: Entity = { id: 'urn:x:1', type: ['T'], createdAt: T, modifiedAt: T, attrs: { a: [{ type: 'Property', value: 1, createdAt: T, modifiedAt: T }] } };

describe('--history switch', () => {
  for (const history of [true, false]) {
    it(`records entity writes into the temporal store only when history is ${history ? 'on' : 'off'}`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'musubi-history-'));
      dirs.push(dataDir);
      const stores = await openStores({ store: 'embedded', dataDir, history });
      await stores.entities.mutate('', entity.id, () => ({ change: { kind: 'put', entity }, result: null }));
      expect(await stores.temporal.attributes('', entity.id)).toEqual(history ? ['a'] : []);
      await stores.close();
    });
  }
});
