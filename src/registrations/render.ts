import type { LdContext } from '../jsonld/types.js';
import { CSR_TYPE, type RegistrationInfo, type RegistrationStats, type StoredRegistration } from '../model/registration.js';

export interface RegistrationRenderOptions {
  /** createdAt and modifiedAt (clause 6.3.11). */
  sysAttrs: boolean;
  /** Only these RegistrationInfo elements (filtered CSourceNotifications, 5.11.7); default all. */
  information?: RegistrationInfo[];
}

/**
 * A registration as Retrieve and Query CSourceRegistrations return it (5.10.1.4, 5.10.2): the members the client
 * gave, names compacted with the request's @context (clause 6.3.5), and the read-only members of Table 5.2.9-2.
 */
export function renderRegistration(reg: StoredRegistration, stats: RegistrationStats, ctx: LdContext, opts: RegistrationRenderOptions): Record<string, unknown> {
  const { spec } = reg;
  const compact = (iri: string) => ctx.compact(iri);
  const out: Record<string, unknown> = { id: reg.id, type: CSR_TYPE };
  const put = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  put('registrationName', spec.registrationName);
  put('description', spec.description);
  out.information = (opts.information ?? spec.information).map((info) => renderInfo(info, compact));
  put('tenant', spec.tenant);
  put('observationInterval', spec.observationInterval);
  put('managementInterval', spec.managementInterval);
  put('location', spec.location);
  put('observationSpace', spec.observationSpace);
  put('operationSpace', spec.operationSpace);
  put('expiresAt', spec.expiresAt);
  out.endpoint = spec.endpoint;
  put('contextSourceInfo', spec.contextSourceInfo);
  put('scope', spec.scope);
  put('mode', spec.mode);
  put('operations', spec.operations);
  put('refreshRate', spec.refreshRate);
  put('management', spec.management);
  put('contextSourceAlias', spec.contextSourceAlias);
  put('datasetId', spec.datasetId);
  for (const [name, value] of Object.entries(spec.properties ?? {})) out[compact(name)] = value;
  // Table 5.2.9-2: counters are "0 or greater", but only a registration that was used has a status.
  put('status', stats.status);
  if (stats.timesSent > 0) out.timesSent = stats.timesSent;
  if (stats.timesFailed > 0) out.timesFailed = stats.timesFailed;
  put('lastSuccess', stats.lastSuccess);
  put('lastFailure', stats.lastFailure);
  if (opts.sysAttrs) {
    out.createdAt = reg.createdAt;
    out.modifiedAt = reg.modifiedAt;
  }
  return out;
}

function renderInfo(info: RegistrationInfo, compact: (iri: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (info.entities) {
    out.entities = info.entities.map((e) => ({
      ...(e.id !== undefined && { id: e.id }),
      ...(e.idPattern !== undefined && { idPattern: e.idPattern }),
      type: e.type.length === 1 ? compact(e.type[0]!) : e.type.map(compact),
    }));
  }
  if (info.propertyNames) out.propertyNames = info.propertyNames.map(compact);
  if (info.relationshipNames) out.relationshipNames = info.relationshipNames.map(compact);
  return out;
}
