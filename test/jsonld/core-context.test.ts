import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  builtinDocument,
  CORE_CONTEXT_DOCUMENT,
  CORE_CONTEXT_URL,
  DATA_INTEGRITY_CONTEXT_URL,
  isCoreContextUrl,
} from '../../src/jsonld/core-context.js';

describe('core context', () => {
  it('embeds exactly the published v1.9 document', () => {
    const file = JSON.parse(readFileSync(new URL('../../src/jsonld/core/ngsi-ld-core-context-v1.9.jsonld', import.meta.url), 'utf8'));
    expect(CORE_CONTEXT_DOCUMENT).toEqual(file);
  });

  it.each([
    CORE_CONTEXT_URL,
    'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld',
    'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld',
    'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld',
    'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld',
    'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.1.jsonld',
    'https://uri.etsi.org/ngsi-ld/v1.9/ngsi-ld-core-context.jsonld',
    'https://uri.etsi.org/ngsi-ld/v1.7/ngsi-ld-core-context-v1.7.jsonld',
    'http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld',
  ])('recognises %s as the core context', (url) => {
    expect(isCoreContextUrl(url)).toBe(true);
    expect(builtinDocument(url, true)).toEqual(CORE_CONTEXT_DOCUMENT);
  });

  it.each([
    'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld.evil',
    'https://uri.etsi.org/ngsi-ld/v2/ngsi-ld-core-context.jsonld',
    'https://example.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld',
    'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v2.0.jsonld',
    'https://uri.etsi.org/ngsi-ld/default-context/x',
  ])('does not take %s for the core context', (url) => {
    expect(isCoreContextUrl(url)).toBe(false);
    expect(builtinDocument(url)).toBeUndefined();
  });

  it('serves the core unprotected (for core URLs inside user contexts) unless asked for the published form', () => {
    expect(builtinDocument(CORE_CONTEXT_URL)!['@context']).not.toHaveProperty('@protected');
    expect(builtinDocument(CORE_CONTEXT_URL, true)!['@context']).toHaveProperty('@protected', true);
  });

  it('stands in for the data-integrity context of "ngsildproof" and hands out copies', () => {
    expect(builtinDocument(DATA_INTEGRITY_CONTEXT_URL)).toEqual({ '@context': {} });
    const a = builtinDocument(CORE_CONTEXT_URL, true)!;
    (a['@context'] as Record<string, unknown>).id = 'changed';
    expect(CORE_CONTEXT_DOCUMENT['@context'].id).toBe('@id');
  });
});
