export * from './http.js';
export * from './ids.js';
export * from './assert.js';
export * from './entities.js';
export * from './context-server.js';
export * from './batch.js';

/** Tests of musubi extensions (not in the NGSI-LD spec) run unless MUSUBI_CONFORMANCE_EXTENSIONS=0. */
export const extensionsEnabled = process.env.MUSUBI_CONFORMANCE_EXTENSIONS !== '0';
