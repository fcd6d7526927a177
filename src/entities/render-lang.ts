/**
 * The NGSI-LD Language Filter (clause 4.15): picks one string of a LanguageProperty's languageMap.
 *
 * The filter is an RFC 3282 / RFC 5646 language preference list: comma-separated language ranges, each optionally
 * weighted with ";q=<0..1>" (default 1), "*" matching any language. Ranges are tried by decreasing weight (ties in
 * the order given); a range matches a tag exactly (case-insensitively), else by RFC 4647 lookup (the range truncated
 * at "-": "fr-CH" falls back to "fr"), else by RFC 4647 basic filtering (the range "fr" matches the tag "fr-CH").
 * "*", or no match at all ("it shall default to any supported language"), selects the "@none" entry if there is
 * one, else the first entry of the map.
 */

/** A parsed language filter: ranges in priority order, lower-cased; "*" kept as is. */
export type LangFilter = readonly string[];

let lastSource: string | undefined;
let lastParsed: LangFilter = [];

/** Parses a `lang` parameter value. Ranges with q=0 are dropped. Cached for the last value seen. */
export function parseLangFilter(lang: string): LangFilter {
  if (lang === lastSource) return lastParsed;
  const weighted: Array<{ range: string; q: number; i: number }> = [];
  const parts = lang.split(',');
  for (let i = 0; i < parts.length; i++) {
    const [rawRange, ...params] = parts[i]!.split(';');
    const range = rawRange!.trim().toLowerCase();
    if (range === '') continue;
    let q = 1;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'q') {
        const n = Number(p.slice(eq + 1).trim());
        if (!Number.isNaN(n)) q = n;
      }
    }
    if (q > 0) weighted.push({ range, q, i });
  }
  weighted.sort((a, b) => b.q - a.q || a.i - b.i);
  lastSource = lang;
  lastParsed = weighted.map((w) => w.range);
  return lastParsed;
}

/** The chosen entry of a languageMap: its tag ("@none" for the default string) and its string(s). */
export interface LangChoice {
  tag: string;
  value: string | string[];
}

/** Applies a parsed language filter to a languageMap; undefined only when the map is empty. */
export function pickLanguage(map: Record<string, string | string[]>, filter: LangFilter): LangChoice | undefined {
  let tags: string[] | undefined;
  let lowered: string[] | undefined;
  for (const range of filter) {
    if (range === '*') break;
    if (tags === undefined) {
      tags = Object.keys(map);
      lowered = tags.map((t) => t.toLowerCase());
    }
    // exact, then RFC 4647 lookup (truncate the range), then basic filtering (tag extends the range)
    for (let r = range; r !== ''; ) {
      const k = lowered!.indexOf(r);
      if (k >= 0 && tags[k] !== '@none') return { tag: tags[k]!, value: map[tags[k]!]! };
      const dash = r.lastIndexOf('-');
      r = dash > 0 ? r.slice(0, dash) : '';
    }
    const prefix = range + '-';
    for (let k = 0; k < lowered!.length; k++) {
      if (lowered![k]!.startsWith(prefix)) return { tag: tags[k]!, value: map[tags[k]!]! };
    }
  }
  const none = map['@none'];
  if (none !== undefined) return { tag: '@none', value: none };
  for (const tag in map) return { tag, value: map[tag]! };
  return undefined;
}
