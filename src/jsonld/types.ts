/** A JSON-LD @context as a client may give it: a URL, an inline object, or an array of both. */
export type ContextDefinition = string | Record<string, unknown> | Array<string | Record<string, unknown>>;

/**
 * A processed @context, with its terms in cached maps so that expansion and compaction of entity
 * documents costs a few map look-ups rather than a jsonld.js run (clause 5.5.7 naming rules).
 * The core context is always in force and wins over user terms.
 */
export interface LdContext {
  /** The @context as it was given (the core context URL when none was). Echoed in application/ld+json bodies. */
  readonly source: ContextDefinition;
  /** A stable key identifying the context (used for caches). */
  readonly key: string;
  /**
   * Expands a vocabulary-relative name (attribute name, entity type, vocab value, compound value key):
   * term definition, compact IRI (prefix:suffix), absolute IRI, else the @vocab
   * (https://uri.etsi.org/ngsi-ld/default-context/).
   */
  expand(term: string): string;
  /** The inverse of expand: the shortest term or compact IRI that expands back to `iri`, as jsonld.js compaction would choose. */
  compact(iri: string): string;
  /** Expands the keys of a compound JSON value recursively, as JSON-LD expansion would ("type" values too). */
  expandValue(value: unknown): unknown;
  /** The inverse of expandValue. */
  compactValue(value: unknown): unknown;
}
