import type { TemporalInstance } from '../store/temporal-store.js';
import type { TemporalParams } from './params.js';
import { instanceTime } from './render.js';

/**
 * Paging of long histories (clause 6.3.10): when an attribute has more instances than one answer may carry, the
 * answer is cut at a point in time, answered with 206, and the Content-Range tells where the next request starts.
 */

export interface ContentRange {
  start: string;
  end: string;
  size: number | '*';
}

/** Where an attribute's history was cut: the time of the last instance it could carry. */
export interface Cut {
  at: string;
}

export function mergeCut(a: Cut | undefined, b: Cut, backwards: boolean): Cut {
  if (!a) return b;
  // The answer must end where the shortest history ends: forwards the earliest cut, backwards the latest.
  const earlier = Date.parse(b.at) < Date.parse(a.at);
  return backwards ? (earlier ? a : b) : earlier ? b : a;
}

/**
 * A cut history makes the whole answer end at the cut (so that the next request, from the Content-Range, misses
 * nothing), and gives the Content-Range of 6.3.10.
 */
export function trimAt(all: Map<string, TemporalInstance[]>[], p: TemporalParams, cut: Cut): ContentRange {
  const tp = p.query.timeproperty;
  const backwards = p.query.lastN !== undefined;
  const limit = Date.parse(cut.at);
  let oldest: string | undefined;
  let newest: string | undefined;
  for (const attrs of all) {
    for (const [name, instances] of attrs) {
      const kept = instances.filter((i) => {
        const t = instanceTime(i, tp);
        if (t === undefined) return false;
        return backwards ? Date.parse(t) >= limit : Date.parse(t) <= limit;
      });
      attrs.set(name, kept);
      for (const i of kept) {
        const t = instanceTime(i, tp)!;
        if (oldest === undefined || Date.parse(t) < Date.parse(oldest)) oldest = t;
        if (newest === undefined || Date.parse(t) > Date.parse(newest)) newest = t;
      }
    }
  }
  const q = p.query;
  if (backwards) {
    const start = q.timerel === 'before' ? q.timeAt! : q.timerel === 'between' ? q.endTimeAt! : newest ?? cut.at;
    return { start, end: oldest ?? cut.at, size: q.lastN! };
  }
  const start = q.timerel === 'after' || q.timerel === 'between' ? q.timeAt! : oldest ?? cut.at;
  return { start, end: newest ?? cut.at, size: '*' };
}
