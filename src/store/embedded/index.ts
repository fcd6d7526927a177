export { EmbeddedEntityStore, openEmbeddedStore, type EmbeddedStoreOptions } from './embedded-store.js';
export { compareIds } from './tenant-index.js';
