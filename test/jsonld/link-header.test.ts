import { describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { contextLinkHeader, parseLinkHeader } from '../../src/jsonld/resolver.js';

const REL = 'rel="http://www.w3.org/ns/json-ld#context"';

function badRequest(header: string): NgsiError {
  try {
    parseLinkHeader(header);
  } catch (e) {
    expect(e).toBeInstanceOf(NgsiError);
    expect((e as NgsiError).kind).toBe('BadRequestData');
    return e as NgsiError;
  }
  throw new Error(`expected a BadRequestData for ${header}`);
}

describe('parseLinkHeader', () => {
  it('reads the example of clause 6.3.5', () => {
    expect(parseLinkHeader(`<http://json-ld.org/contexts/person.jsonld>; ${REL}; type="application/ld+json"`)).toBe(
      'http://json-ld.org/contexts/person.jsonld',
    );
  });

  it('accepts unquoted and spaced parameters, and several relation types in rel', () => {
    expect(parseLinkHeader('<https://a.example/c.jsonld> ;rel=http://www.w3.org/ns/json-ld#context')).toBe('https://a.example/c.jsonld');
    expect(parseLinkHeader('<https://a.example/c.jsonld>; rel="alternate http://www.w3.org/ns/json-ld#context"')).toBe(
      'https://a.example/c.jsonld',
    );
    expect(parseLinkHeader(`<https://a.example/c.jsonld>; REL="http://www.w3.org/ns/json-ld#context"`)).toBe('https://a.example/c.jsonld');
  });

  it('picks the context link out of several links, with commas inside URLs and quoted strings', () => {
    const header = `<https://a.example/x,y>; rel="next"; title="a, b; c", <https://a.example/ctx,v1.jsonld>; ${REL}; type="application/ld+json", <https://a.example/z>; rel=prev`;
    expect(parseLinkHeader(header)).toBe('https://a.example/ctx,v1.jsonld');
  });

  it('returns undefined when no link is a JSON-LD context', () => {
    expect(parseLinkHeader('<https://a.example/next>; rel="next"')).toBeUndefined();
    expect(parseLinkHeader('')).toBeUndefined();
  });

  it.each([
    ['no angle brackets', `https://a.example/c.jsonld; ${REL}`],
    ['unterminated URL', `<https://a.example/c.jsonld; ${REL}`],
    ['unterminated quote', '<https://a.example/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context'],
    ['garbage after the URL', `<https://a.example/c.jsonld> x ${REL}`],
    ['empty target', `<>; ${REL}`],
  ])('rejects a malformed header (%s) with BadRequestData', (_why, header) => {
    expect(badRequest(header).message).toMatch(/Link header/);
  });

  it('rejects two JSON-LD context links', () => {
    expect(badRequest(`<https://a.example/1>; ${REL}, <https://a.example/2>; ${REL}`).message).toMatch(/at most one/);
  });

  it('builds the header it parses', () => {
    expect(parseLinkHeader(contextLinkHeader('https://a.example/c.jsonld'))).toBe('https://a.example/c.jsonld');
  });
});
