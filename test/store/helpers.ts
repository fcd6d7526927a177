import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attribute, Entity } from '../../src/model/entity.js';
import type { Mutation } from '../../src/store/entity-store.js';
import { openEmbeddedStore, type EmbeddedEntityStore } from '../../src/store/embedded/index.js';
import { afterAll, afterEach, beforeEach } from 'vitest';

export const NS = 'https://example.org/ns#';
const T0 = '2024-01-01T00:00:00.000Z';

export function property(value: unknown): Attribute {
  return { type: 'Property', value, createdAt: T0, modifiedAt: T0 };
}

/** An entity with the given (short) types and Property attributes, names expanded under NS. */
export function entity(id: string, types: string[], attrs: Record<string, unknown> = {}): Entity {
  return {
    id,
    type: types.map((t) => NS + t),
    createdAt: T0,
    modifiedAt: T0,
    attrs: Object.fromEntries(Object.entries(attrs).map(([name, value]) => [NS + name, [property(value)]])),
  };
}

export const put =
  (e: Entity) =>
  (): Mutation<'put'> => ({ change: { kind: 'put', entity: e }, result: 'put' });

export const del = (): Mutation<'deleted'> => ({ change: { kind: 'delete' }, result: 'deleted' });

/** Temp directories, removed by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'musubi-store-'));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

export const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/**
 * A fresh embedded store per test, closed after it; `reopen()` closes and opens the same directory, as a
 * restart would. Call at the top level of a test file.
 */
export function useEmbeddedStore(): { readonly store: EmbeddedEntityStore; readonly dataDir: string; reopen(): Promise<void> } {
  const dirs = new TempDirs();
  const state = { store: undefined as unknown as EmbeddedEntityStore, dataDir: '' };
  beforeEach(async () => {
    state.dataDir = await dirs.make();
    state.store = await openEmbeddedStore({ dataDir: state.dataDir });
  });
  afterEach(async () => {
    await state.store.close();
  });
  afterAll(() => dirs.cleanup());
  return {
    get store() {
      return state.store;
    },
    get dataDir() {
      return state.dataDir;
    },
    async reopen() {
      await state.store.close();
      state.store = await openEmbeddedStore({ dataDir: state.dataDir });
    },
  };
}
