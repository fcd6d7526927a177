/** Public API of the JSON-LD layer: @context resolution, Link headers, and the fast term maps. */
export type { ContextDefinition, LdContext } from './types.js';
export { ContextResolver, type ContextResolverOptions } from './resolver.js';
export { parseLinkHeader, contextLinkHeader, JSONLD_CONTEXT_REL } from './link-header.js';
export { CORE_CONTEXT_URL, CORE_CONTEXT_DOCUMENT, isCoreContextUrl, builtinDocument } from './core-context.js';
