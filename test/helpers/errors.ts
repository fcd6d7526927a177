import { expect } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';

/** Runs `fn`, which must throw NgsiError BadRequestData; returns its detail for the caller to check. */
export function badRequestDetail(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NgsiError);
    expect((err as NgsiError).kind).toBe('BadRequestData');
    return (err as Error).message;
  }
  throw new Error('expected BadRequestData');
}
