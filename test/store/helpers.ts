import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attribute, Entity } from '../../src/model/entity.js';
import type { Mutation } from '../../src/store/entity-store.js';

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
