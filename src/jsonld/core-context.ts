/**
 * The built-in NGSI-LD core @context (clause 4.4). Every 1.x core context URL resolves to the v1.9 document,
 * so processing the core context never touches the network.
 */
import { CORE_CONTEXT_V1_9_DOCUMENT } from './core-document.js';

export const CORE_CONTEXT_URL = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld';

/**
 * Matches https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld, ...-v1.3.jsonld ... -v1.9.1.jsonld, and the
 * same under a /v1.x/ path. Clients pin whatever version they were written against; the terms of later versions
 * are a superset, so serving v1.9 for all of them is what clause 4.4 asks ("shall contain all the terms").
 */
const CORE_URL = /^https?:\/\/uri\.etsi\.org\/ngsi-ld\/v1(?:\.\d+)*\/ngsi-ld-core-context(?:-v1(?:\.\d+)+)?\.jsonld$/;

export function isCoreContextUrl(url: string): boolean {
  return CORE_URL.test(url);
}

/** The v1.9 core @context document (protected). */
export const CORE_CONTEXT_DOCUMENT: { '@context': Record<string, unknown> } = CORE_CONTEXT_V1_9_DOCUMENT;

/** The names the core context defines ("@..." keys excluded). */
export const CORE_TERMS: ReadonlySet<string> = new Set(
  Object.keys(CORE_CONTEXT_DOCUMENT['@context']).filter((k) => !k.startsWith('@')),
);

/**
 * The core context without "@protected". The core is always appended (protected) after the user context; when a
 * user context also lists a core URL (e.g. [core, myTerms]), that copy is served unprotected so that the user terms
 * after it may use its prefixes and may shadow core terms, which the final protected core then restores: the
 * "as if it were in the last position" rule of clauses 4.4 and 5.5.7 rather than a protected-term error.
 */
const UNPROTECTED_CORE_DOCUMENT = {
  '@context': Object.fromEntries(Object.entries(CORE_CONTEXT_DOCUMENT['@context']).filter(([k]) => k !== '@protected')),
};

/**
 * The v1.9 core context's "ngsildproof" term has a scoped context naming the W3C data-integrity context. jsonld.js
 * validates scoped contexts while processing, so it would fetch it; the broker never looks inside ngsildproof values,
 * so an empty context stands in for it.
 */
export const DATA_INTEGRITY_CONTEXT_URL = 'https://w3id.org/security/data-integrity/v2';
const DATA_INTEGRITY_STUB = { '@context': {} };

/**
 * The built-in document for a URL, or undefined when the URL is not built in. `protectedCore` selects the core as
 * published (what a plain JSON-LD processor would load) rather than the unprotected copy described above.
 * Returns a fresh copy: jsonld.js rewrites relative URLs inside loaded documents in place.
 */
export function builtinDocument(url: string, protectedCore = false): { '@context': unknown } | undefined {
  if (isCoreContextUrl(url)) return structuredClone(protectedCore ? CORE_CONTEXT_DOCUMENT : UNPROTECTED_CORE_DOCUMENT);
  if (url === DATA_INTEGRITY_CONTEXT_URL) return structuredClone(DATA_INTEGRITY_STUB);
  return undefined;
}
