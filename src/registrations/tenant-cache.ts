import type { StoredRegistration } from '../model/registration.js';

/**
 * The registrations of each tenant as last read from the store, for the reads every entity request makes
 * (forwarding's `allOf`/`matching`). Filled lazily; local writes patch it; `invalidate` (another instance wrote)
 * drops a tenant so the next read goes to the store again.
 *
 * A read from the store that was under way while the tenant changed is not kept (its result may predate the change):
 * each tenant has a generation, bumped by every patch and invalidation, and a fill is kept only if the generation it
 * started under is still current.
 */
export class RegistrationCache {
  private readonly byTenant = new Map<string, readonly StoredRegistration[]>();
  /** One read of the store at a time per tenant, shared by the callers that miss meanwhile. */
  private readonly loading = new Map<string, { generation: string; promise: Promise<readonly StoredRegistration[]> }>();
  private readonly generations = new Map<string, number>();
  /** Bumped by invalidateAll, so that no fill of any tenant started before it is kept. */
  private epoch = 0;

  constructor(private readonly load: (tenant: string) => Promise<StoredRegistration[]>) {}

  /** Every registration of the tenant, expired or not, in creation order. The array must not be changed. */
  get(tenant: string): Promise<readonly StoredRegistration[]> {
    const cached = this.byTenant.get(tenant);
    if (cached) return Promise.resolve(cached);
    const generation = this.generation(tenant);
    const pending = this.loading.get(tenant);
    if (pending && pending.generation === generation) return pending.promise;
    const promise = this.load(tenant).then(
      (list) => {
        if (this.loading.get(tenant)?.promise === promise) this.loading.delete(tenant);
        const frozen = Object.freeze([...list]);
        if (this.generation(tenant) === generation) this.byTenant.set(tenant, frozen);
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
    return this.byTenant.get(tenant);
  }

  /** A local write is durable: `after` replaces the registration of the same id (or is appended), or it is removed. */
  apply(tenant: string, id: string, after: StoredRegistration | undefined): void {
    this.bump(tenant);
    const cached = this.byTenant.get(tenant);
    if (!cached) return;
    const at = cached.findIndex((r) => r.id === id);
    let next: StoredRegistration[];
    if (after === undefined) next = cached.filter((r) => r.id !== id);
    else if (at < 0) next = [...cached, after];
    else next = cached.map((r, i) => (i === at ? after : r));
    this.byTenant.set(tenant, Object.freeze(next));
  }

  /** Another instance changed something of the tenant: read it from the store next time. */
  invalidate(tenant: string): void {
    this.bump(tenant);
    this.byTenant.delete(tenant);
  }

  /** Changes may have been missed (cut off from the other instances): read every tenant from the store again. */
  invalidateAll(): void {
    this.epoch++;
    this.generations.clear();
    this.byTenant.clear();
  }

  private generation(tenant: string): string {
    return `${this.epoch}:${this.generations.get(tenant) ?? 0}`;
  }

  private bump(tenant: string): void {
    this.generations.set(tenant, (this.generations.get(tenant) ?? 0) + 1);
  }
}
