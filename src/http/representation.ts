import { badRequest, invalidRequest } from '../common/errors.js';
import { isUri } from '../common/syntax.js';
import type { FeatureOptions } from '../entities/geojson.js';
import type { RenderFormat } from '../entities/render.js';
import { list, type Params } from '../entities/query-params.js';
import type { LdContext } from '../jsonld/types.js';
import type { MediaType } from './negotiation.js';

/** How entities are to be shown: format, system attributes, projection, language, datasets, geometry (6.3.7, 4.21). */
export interface OutputParams {
  render: FeatureOptions;
  pick?: string[];
  omit?: string[];
  /** Expanded attrs: a filter on which entities qualify as well as a projection. */
  attrs?: string[];
  datasetIds?: Set<string | undefined>;
}

const FORMATS = ['normalized', 'concise', 'simplified', 'keyValues'];

export function readOutputParams(params: Params, ctx: LdContext, media: MediaType): OutputParams {
  const { format, options } = representation(params, FORMATS, ['sysAttrs']);
  const pick = list(params, 'pick', true);
  const omit = list(params, 'omit', true);
  if (pick && omit) throw invalidRequest('pick and omit cannot be used together (clause 4.21)');
  const datasetIds = list(params, 'datasetId');
  for (const ds of datasetIds ?? []) if (ds !== '@none' && !isUri(ds)) throw badRequest(`datasetId ${ds} is not a URI`);
  const geometryProperty = params.geometryProperty;
  if (geometryProperty !== undefined && media !== 'application/geo+json') {
    throw badRequest('geometryProperty is only allowed when the Accept header asks for application/geo+json (clauses 5.7.1.4, 5.7.2.4)');
  }
  const attrs = list(params, 'attrs')?.map((a) => ctx.expand(a));
  return {
    render: {
      format,
      sysAttrs: options.has('sysAttrs'),
      attrs: attrs && new Set(attrs),
      lang: params.lang,
      geometryProperty: geometryProperty === undefined ? undefined : ctx.expand(geometryProperty),
    },
    pick,
    omit,
    attrs,
    datasetIds: datasetIds && new Set(datasetIds.map((d) => (d === '@none' ? undefined : d))),
  };
}

/**
 * format= and the deprecated options= (clauses 6.3.7, 6.3.11, 6.3.20): format wins over options; an option the
 * operation does not know is InvalidRequest.
 */
export function representation(params: Params, formats: string[], flags: string[]): { format: RenderFormat; options: Set<string> } {
  const options = new Set((params.options ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  for (const o of options) {
    if (!formats.includes(o) && !flags.includes(o)) {
      throw invalidRequest(`options=${o} is not supported by this operation; supported: ${[...formats, ...flags].join(', ') || 'none'}`);
    }
  }
  const fromOptions = formats.find((f) => options.has(f));
  const requested = params.format ?? fromOptions ?? 'normalized';
  if (formats.length > 0 && !formats.includes(requested)) {
    throw badRequest(`format=${requested} is not supported; use one of ${formats.join(', ')}`);
  }
  const format: RenderFormat = requested === 'keyValues' ? 'simplified' : (requested as RenderFormat);
  return { format, options };
}
