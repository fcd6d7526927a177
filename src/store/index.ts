import type { EntityStore } from './entity-store.js';
import { openEmbeddedStore } from './embedded/index.js';

export type { Change, EntityStore, Mutation } from './entity-store.js';
export { EmbeddedEntityStore, openEmbeddedStore } from './embedded/index.js';

export interface StoreConfig {
  store: 'embedded' | 'mongo';
  /** Directory of the embedded store. */
  dataDir: string;
}

/** Opens the configured backend; services only ever see the EntityStore interface. */
export async function openStore(config: StoreConfig): Promise<EntityStore> {
  switch (config.store) {
    case 'embedded':
      return openEmbeddedStore({ dataDir: config.dataDir });
    case 'mongo':
      throw new Error('The MongoDB backend is not available yet; use --store embedded');
    default:
      throw new Error(`Unknown store backend: ${String(config.store satisfies never)}`);
  }
}
