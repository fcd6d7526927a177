import { describe, expect, it } from 'vitest';
import { negotiate, NotAcceptable, requestMediaType } from '../../src/http/negotiation.js';
import { HttpStatusError } from '../../src/http/problem.js';

describe('Accept negotiation (clause 6.3.4)', () => {
  it('defaults to application/json and prefers it on ties', () => {
    expect(negotiate(undefined, true)).toBe('application/json');
    expect(negotiate('*/*', true)).toBe('application/json');
    expect(negotiate('application/*', false)).toBe('application/json');
    expect(negotiate('application/ld+json, application/json', false)).toBe('application/json');
  });
  it('honours q weights', () => {
    expect(negotiate('application/json;q=0.5, application/ld+json', false)).toBe('application/ld+json');
    expect(negotiate('application/geo+json, */*;q=0.1', true)).toBe('application/geo+json');
  });
  it('offers geo+json only where the operation does', () => {
    expect(() => negotiate('application/geo+json', false)).toThrow(NotAcceptable);
    expect(() => negotiate('text/html', true)).toThrow(NotAcceptable);
    expect(() => negotiate('application/json;q=0', true)).toThrow(NotAcceptable);
  });
});

describe('Content-Type (clause 6.3.4)', () => {
  it('accepts json, ld+json and merge-patch+json on PATCH', () => {
    expect(requestMediaType('application/json; charset=utf-8', 'POST')).toBe('json');
    expect(requestMediaType('application/ld+json', 'PUT')).toBe('ld+json');
    expect(requestMediaType('application/merge-patch+json', 'PATCH')).toBe('json');
  });
  it('is a bare 415 otherwise', () => {
    for (const [ct, m] of [['text/plain', 'POST'], [undefined, 'POST'], ['application/merge-patch+json', 'POST']] as const) {
      try {
        requestMediaType(ct, m);
        throw new Error('no error');
      } catch (err) {
        expect(err).toBeInstanceOf(HttpStatusError);
        expect((err as HttpStatusError).status).toBe(415);
      }
    }
  });
});
