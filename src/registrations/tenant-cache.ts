import type { StoredRegistration } from '../model/registration.js';

/**
 * The registrations of each tenant as last read from the store, for the reads every entity request makes
 * (forwarding's `allOf`/`matching`). Filled lazily; local writes patch it; `invalidate` (another instance wrote)
 * drops a tenant so the next read goes to the store again.
 *
 * A read from the store that was under way while the tenant changed is not kept (its result may predate the change):
 * each tenant has a generation, bumped by every patch and invalidation, and a fill is kept only if the generation it
 * started under is still current.
 *
 * Tenants are named by clients (any NGSILD-Tenant value), so the tenants found to have no registration are kept in a
 * bounded, least-recently-used set rather than one entry each forever; those beyond it are read again when asked.
 */
const NONE: readonly StoredRegistration[] = Object.freeze([]);

export class RegistrationCache {
  /** Tenants with at least one registration. */
  private readonly byTenant = new Map<string, readonly StoredRegistration[]>();
  /** Tenants known to have none, oldest use first (a Map keeps insertion order). */
  private readonly empty = new Map<string, true>();
  /** One read of the store at a time per tenant, shared by the callers that miss meanwhile. */
  private readonly loading = new Map<string, { generation: string; promise: Promise<readonly StoredRegistration[]> }>();
  private readonly generations = new Map<string, number>();
  /** Bumped by invalidateAll, so that no fill of any tenant started before it is kept. */
  private epoch = 0;

  constructor(
    private readonly load: (tenant: string) => Promise<StoredRegistration[]>,
    private readonly maxEmptyTenants = 1024,
  ) {}

  /** Every registration of the tenant, expired or not, in creation order. The array must not be changed. */
  get(tenant: string): Promise<readonly StoredRegistration[]> {
    const cached = this.cached(tenant);
    if (cached) return Promise.resolve(cached);
    const generation = this.generation(tenant);
    const pending = this.loading.get(tenant);
    if (pending && pending.generation === generation) return pending.promise;
    const promise = this.load(tenant).then(
      (list) => {
        if (this.loading.get(tenant)?.promise === promise) this.loading.delete(tenant);
        const frozen = list.length === 0 ? NONE : Object.freeze([...list]);
        if (this.generation(tenant) === generation) this.keep(tenant, frozen);
        return frozen;
      },
      (err: unknown) => {
        if (this.loading.get(tenant)?.promise === promise) this.loading.delete(tenant);
        throw err;
      },
    );
    this.loading.set(tenant, { generation, promise });
    return promise;
  }

  /** The tenant's registrations if they are cached, without waiting: for the hot path's "nothing registered" test. */
  peek(tenant: string): readonly StoredRegistration[] | undefined {
    return this.cached(tenant);
  }

  /** A local write is durable: `after` replaces the registration of the same id (or is appended), or it is removed. */
  apply(tenant: string, id: string, after: StoredRegistration | undefined): void {
    this.bump(tenant);
    const cached = this.cached(tenant);
    if (!cached) return;
    const at = cached.findIndex((r) => r.id === id);
    let next: StoredRegistration[];
    if (after === undefined) next = cached.filter((r) => r.id !== id);
    else if (at < 0) next = [...cached, after];
    else next = cached.map((r, i) => (i === at ? after : r));
    this.keep(tenant, next.length === 0 ? NONE : Object.freeze(next));
  }

  /** Another instance changed something of the tenant: read it from the store next time. */
  invalidate(tenant: string): void {
    this.bump(tenant);
    this.byTenant.delete(tenant);
    this.empty.delete(tenant);
  }

  /** Changes may have been missed (cut off from the other instances): read every tenant from the store again. */
  invalidateAll(): void {
    this.epoch++;
    this.generations.clear();
    this.byTenant.clear();
    this.empty.clear();
  }

  /** How many tenants are cached as having no registration (bounded by maxEmptyTenants). */
  get emptyTenants(): number {
    return this.empty.size;
  }

  private cached(tenant: string): readonly StoredRegistration[] | undefined {
    const list = this.byTenant.get(tenant);
    if (list) return list;
    if (!this.empty.has(tenant)) return undefined;
    this.empty.delete(tenant); // most recently used goes last
    this.empty.set(tenant, true);
    return NONE;
  }

  private keep(tenant: string, list: readonly StoredRegistration[]): void {
    if (list.length > 0) {
      this.empty.delete(tenant);
      this.byTenant.set(tenant, list);
      return;
    }
    this.byTenant.delete(tenant);
    this.empty.delete(tenant);
    this.empty.set(tenant, true);
    while (this.empty.size > this.maxEmptyTenants) this.empty.delete(this.empty.keys().next().value!);
  }

  private generation(tenant: string): string {
    return `${this.epoch}:${this.generations.get(tenant) ?? 0}`;
  }

  private bump(tenant: string): void {
    this.generations.set(tenant, (this.generations.get(tenant) ?? 0) + 1);
  }
}
