import type { Attribute } from '../../src/model/entity.js';
import { matchesTypes } from '../../src/query/type-selector.js';
import type { InstanceQuery, TemporalEntity, TemporalEntityFilter, TemporalInstance, TemporalStore } from '../../src/store/temporal-store.js';

/** A small in-memory TemporalStore: the reference the service tests run against. */
export class MemoryTemporalStore implements TemporalStore {
  private readonly tenants = new Map<string, Map<string, { entity: TemporalEntity; attrs: Map<string, TemporalInstance[]> }>>();

  private tenant(t: string) {
    let m = this.tenants.get(t);
    if (!m) this.tenants.set(t, (m = new Map()));
    return m;
  }

  async getEntity(tenant: string, id: string) {
    return this.tenants.get(tenant)?.get(id)?.entity;
  }

  async listEntities(tenant: string, filter: TemporalEntityFilter, page: { limit: number; after?: string }) {
    const all = [...(this.tenants.get(tenant)?.values() ?? [])].sort((a, b) => (a.entity.id < b.entity.id ? -1 : 1));
    return all
      .filter((r) => page.after === undefined || r.entity.id > page.after)
      .filter((r) => !filter.ids || filter.ids.includes(r.entity.id))
      .filter((r) => !filter.idPattern || new RegExp(filter.idPattern).test(r.entity.id))
      .filter((r) => !filter.types || matchesTypes(filter.types, r.entity.type))
      .filter((r) => !filter.attrs || filter.attrs.some((a) => (r.attrs.get(a)?.length ?? 0) > 0))
      .slice(0, page.limit)
      .map((r) => r.entity);
  }

  async attributes(tenant: string, id: string) {
    return [...(this.tenants.get(tenant)?.get(id)?.attrs.keys() ?? [])];
  }

  async instances(tenant: string, id: string, attr: string, q: InstanceQuery) {
    const list = this.tenants.get(tenant)?.get(id)?.attrs.get(attr) ?? [];
    const time = (i: TemporalInstance) => (q.timeproperty === 'deletedAt' ? i.deletedAt : i.attribute[q.timeproperty]);
    let out = list.filter((i) => {
      const t = time(i);
      if (t === undefined) return false;
      if (q.from !== undefined && Date.parse(t) < Date.parse(q.from)) return false;
      if (q.to !== undefined && Date.parse(t) >= Date.parse(q.to)) return false;
      if (q.datasetIds && !q.datasetIds.has(i.attribute.datasetId)) return false;
      return !q.where || q.where(i);
    });
    out.sort((a, b) => Date.parse(time(a)!) - Date.parse(time(b)!));
    if (q.lastN !== undefined) out = out.reverse().slice(0, q.lastN);
    return out.slice(0, q.limit);
  }

  async append(tenant: string, entity: { id: string; type: string[]; scope?: string[] }, instances: Record<string, TemporalInstance[]>) {
    const now = new Date().toISOString();
    const m = this.tenant(tenant);
    let r = m.get(entity.id);
    if (!r) m.set(entity.id, (r = { entity: { ...entity, createdAt: now, modifiedAt: now }, attrs: new Map() }));
    else r.entity = { ...r.entity, type: entity.type, scope: entity.scope, modifiedAt: now };
    for (const [name, list] of Object.entries(instances)) {
      const target = r.attrs.get(name) ?? [];
      target.push(...list);
      r.attrs.set(name, target);
    }
  }

  async updateInstance(tenant: string, id: string, attr: string, instanceId: string, attribute: Attribute) {
    const list = this.tenants.get(tenant)?.get(id)?.attrs.get(attr);
    const i = list?.findIndex((x) => x.instanceId === instanceId) ?? -1;
    if (i < 0) return false;
    list![i] = { instanceId, attribute };
    return true;
  }

  async deleteInstance(tenant: string, id: string, attr: string, instanceId: string) {
    const list = this.tenants.get(tenant)?.get(id)?.attrs.get(attr);
    const i = list?.findIndex((x) => x.instanceId === instanceId) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    return true;
  }

  async deleteAttribute(tenant: string, id: string, attr: string, target: { datasetId?: string; all: boolean }) {
    const r = this.tenants.get(tenant)?.get(id);
    const list = r?.attrs.get(attr);
    if (!r || !list || list.length === 0) return false;
    if (target.all) {
      r.attrs.delete(attr);
      return true;
    }
    const kept = list.filter((i) => i.attribute.datasetId !== target.datasetId);
    if (kept.length === list.length) return false;
    r.attrs.set(attr, kept);
    return true;
  }

  async deleteEntity(tenant: string, id: string) {
    return this.tenants.get(tenant)?.delete(id) ?? false;
  }

  async purgeBefore(cutoff: string) {
    let n = 0;
    for (const m of this.tenants.values())
      for (const r of m.values())
        for (const [name, list] of r.attrs) {
          const kept = list.filter((i) => Date.parse(i.attribute.modifiedAt) >= Date.parse(cutoff));
          n += list.length - kept.length;
          r.attrs.set(name, kept);
        }
    return n;
  }
}
