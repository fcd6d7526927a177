import { randomUUID } from 'node:crypto';
import { alreadyExists, badRequest, notFound, type NgsiError } from '../common/errors.js';
import { requireUri } from '../common/syntax.js';
import { offsetLinks, parsePaging, type PagingLimits, type Params } from '../entities/query-params.js';
import type { RequestScope } from '../entities/service.js';
import { NO_STATS, type RegistrationStats, type StoredRegistration } from '../model/registration.js';
import type { RegistrationChangeLog, RegistrationStore } from '../store/registration-store.js';
import { checkConflicts, type EntityLookup } from './conflicts.js';
import { matchesRegistration, type RegistrationFilter } from './match.js';
import { mergeRegistration, parseRegistration } from './parse.js';
import { matchesRegistrationQuery, parseRegistrationQuery } from './query.js';
import { RegistrationCache } from './tenant-cache.js';
import { inProcessLock, type KeyedLock } from './tenant-lock.js';

/** A page of Query CSourceRegistrations and the parameters of the pages next to it (5.5.9, 6.3.10). */
export interface RegistrationList {
  items: StoredRegistration[];
  count?: number;
  next?: Record<string, string>;
  prev?: Record<string, string>;
}

/**
 * Called once a change is durable: `before` absent for a creation, `after` absent for a deletion (or expiry). In
 * process and best effort (nothing replays it after a crash); CSource notifications follow the store's change log
 * instead (`changeLog`, csource-notifier.ts).
 */
export type RegistrationListener = (tenant: string, before: StoredRegistration | undefined, after: StoredRegistration | undefined) => void;

export interface RegistrationServiceOptions {
  /** Entities held here, for the Conflict rules of exclusive and redirect registrations (4.3.6.3). */
  entities: EntityLookup;
  limits: PagingLimits;
  /** Epoch milliseconds; tests move time. */
  clock?: () => number;
  /** Failures nobody awaits: a throwing listener, a failed expiry deletion. */
  onError?: (err: unknown, what: string) => void;
  /**
   * Serializes the writes of a tenant (key `registrations:<tenant>`): default an in-process mutex; src/server.ts
   * passes the coordinator's lock, which holds across the broker instances sharing the store.
   */
  lock?: KeyedLock;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const EXPIRY_RETRY_MS = 1000;

/**
 * Context Source Registration (5.9) and Discovery (5.10), and what distributed operations need from registrations:
 * `matching` (the candidates of a request) and `recordOutcome` (the counters of Table 5.2.9-2).
 *
 * Writes of one tenant (create, update, delete, expiry) run one at a time under the `lock` option, Conflict check and
 * write together, so two conflicting exclusive registrations sent at the same moment cannot both pass the check
 * (4.3.6.3) — across every broker instance when the lock is the coordinator's (Redis), within this process when it
 * is the default. A lock not had in time fails the write with Conflict before anything is written. Statistics
 * (`recordOutcome`) stay outside: they are on the forwarding path and merge over what is stored. Entity writes are
 * not part of it: an entity created while an exclusive registration for it is being checked may still slip in.
 *
 * `allOf` and `matching` run on every entity request, so they read a per-tenant cache (tenant-cache.ts), not the
 * store. Other instances over the same store tell this one of their writes through `onRemoteChange`/`resync`
 * (src/coordination shareCaches); the statistics in cached copies may lag (`retrieve` and `list` read the store).
 */
export class RegistrationService {
  private readonly listeners = new Set<RegistrationListener>();
  private readonly lock: KeyedLock;
  private readonly cache: RegistrationCache;
  private readonly clock: () => number;
  private readonly onError: (err: unknown, what: string) => void;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  static async open(store: RegistrationStore, opts: RegistrationServiceOptions): Promise<RegistrationService> {
    const service = new RegistrationService(store, opts);
    await service.expire();
    return service;
  }

  private constructor(
    private readonly store: RegistrationStore,
    private readonly opts: RegistrationServiceOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.lock = opts.lock ?? inProcessLock();
    this.onError = opts.onError ?? (() => undefined);
    this.cache = new RegistrationCache((tenant) => this.store.list(tenant));
  }

  /** Register Context Source (5.9.2): the id of the new registration. */
  async create(scope: RequestScope, body: unknown): Promise<string> {
    const now = this.clock();
    const { id: given, spec } = parseRegistration(body, scope.ctx, now);
    const id = given ?? `urn:ngsi-ld:ContextSourceRegistration:${randomUUID()}`;
    const reg = await this.writes(scope.tenant, async () => {
      if (given !== undefined && (await this.store.get(scope.tenant, id))) throw alreadyExistsError(id);
      await checkConflicts(scope.tenant, id, spec, await this.store.list(scope.tenant), this.opts.entities, now);
      const at = new Date(now).toISOString();
      const created: StoredRegistration = { id, tenant: scope.tenant, spec, context: scope.ctx.source, createdAt: at, modifiedAt: at, stats: NO_STATS };
      await this.store.create(created);
      return created;
    });
    this.changed(scope.tenant, undefined, reg);
    return id;
  }

  /** Retrieve Context Source Registration (5.10.1). */
  async retrieve(scope: RequestScope, id: string): Promise<StoredRegistration> {
    requireUri(id, 'CSourceRegistration id');
    const reg = await this.store.get(scope.tenant, id);
    if (!reg || this.expired(reg)) throw notFound(`CSourceRegistration ${id} not found`);
    return reg;
  }

  /** Query Context Source Registrations (5.10.2): filters, then limit, offset and count (5.5.9, 6.3.13). */
  async list(scope: RequestScope, params: Params): Promise<RegistrationList> {
    const paging = parsePaging(params, this.opts.limits);
    if (paging.after !== undefined || paging.before !== undefined) {
      throw badRequest('pageAfter and pageBefore page through entities; registrations page with limit and offset (clause 5.5.9)');
    }
    const query = parseRegistrationQuery(params, scope.ctx);
    const now = this.clock();
    const all = (await this.store.list(scope.tenant)).filter((r) => !this.expired(r, now) && matchesRegistrationQuery(r, query, now));
    const result: RegistrationList = { items: all.slice(paging.offset, paging.offset + paging.limit) };
    if (paging.count) result.count = all.length;
    if (paging.limit === 0 || result.items.length === 0) return result;
    return { ...result, ...offsetLinks(paging, paging.offset + paging.limit < all.length) };
  }

  /** Update Context Source Registration (5.9.3). */
  async update(scope: RequestScope, id: string, fragment: unknown): Promise<void> {
    requireUri(id, 'CSourceRegistration id');
    const now = this.clock();
    const [before, after] = await this.writes(scope.tenant, async () => {
      const current = await this.store.get(scope.tenant, id);
      if (!current || this.expired(current, now)) throw notFound(`CSourceRegistration ${id} not found`);
      const checked = mergeRegistration(current, fragment, scope.ctx, now);
      await checkConflicts(scope.tenant, id, checked, await this.store.list(scope.tenant), this.opts.entities, now);
      const at = new Date(now).toISOString();
      return this.store.mutate(scope.tenant, id, (latest) => {
        if (!latest) throw notFound(`CSourceRegistration ${id} not found`);
        // Merged again over what is stored now, so a counter write (recordOutcome, not serialized) is not lost.
        const registration: StoredRegistration = { ...latest, spec: mergeRegistration(latest, fragment, scope.ctx, now), modifiedAt: at };
        return { change: { kind: 'put', registration }, result: [latest, registration] as const };
      });
    });
    this.changed(scope.tenant, before, after);
  }

  /** Delete Context Source Registration (5.9.4). */
  async delete(scope: RequestScope, id: string): Promise<void> {
    requireUri(id, 'CSourceRegistration id');
    const removed = await this.writes(scope.tenant, () =>
      this.store.mutate(scope.tenant, id, (current) => ({ change: current ? { kind: 'delete' } : { kind: 'none' }, result: current })),
    );
    if (!removed) throw notFound(`CSourceRegistration ${id} not found`);
    this.changed(scope.tenant, removed, undefined);
  }

  /**
   * The registrations of the tenant that a distributed request concerns (clause 5.12 plus operation, mode, datasetId,
   * loop and expiry conditions; see match.ts), in creation order.
   */
  async matching(tenant: string, filter: RegistrationFilter): Promise<StoredRegistration[]> {
    const now = this.clock();
    return (await this.cache.get(tenant)).filter((r) => matchesRegistration(r.spec, filter, now));
  }

  /**
   * True when the tenant is known to have no registration at all, answered synchronously from the cache: entity
   * requests, the hot path, then skip forwarding without a single await. False means "maybe": ask `matching`.
   */
  hasNone(tenant: string): boolean {
    return this.cache.peek(tenant)?.length === 0;
  }

  /** Every live registration of the tenant, in creation order (for CSource subscriptions). */
  async allOf(tenant: string): Promise<StoredRegistration[]> {
    const now = this.clock();
    return (await this.cache.get(tenant)).filter((r) => !this.expired(r, now));
  }

  /** Counts one distributed operation sent on behalf of a registration into Table 5.2.9-2 members. */
  async recordOutcome(tenant: string, id: string, ok: boolean, at = new Date(this.clock()).toISOString()): Promise<void> {
    await this.store.mutate(tenant, id, (current) => {
      if (!current) return { change: { kind: 'none' }, result: undefined };
      const s = current.stats;
      const stats: RegistrationStats = ok
        ? { ...s, timesSent: s.timesSent + 1, lastSuccess: at, status: 'ok' }
        : { ...s, timesSent: s.timesSent + 1, timesFailed: s.timesFailed + 1, lastFailure: at, status: 'failed' };
      // Counters are no change of the registration for CSource subscriptions: kept off the change log.
      return { change: { kind: 'put', registration: { ...current, stats }, unlogged: true }, result: undefined };
    });
  }

  /** The store's log of registration changes, which the CSource notifier tails (csource-notifier.ts). */
  get changeLog(): RegistrationChangeLog {
    return this.store;
  }

  /**
   * Another broker instance created, changed or deleted a registration of the tenant: the whole tenant is read from
   * the store again on next use (a cheap read, and the store's creation order stays right). An expiry may now be
   * due earlier, so the timer is set again too.
   */
  async onRemoteChange(tenant: string): Promise<void> {
    this.cache.invalidate(tenant);
    await this.scheduleExpiry();
  }

  /** Invalidations may have been missed (Redis was out of reach): every tenant is read from the store again. */
  async resync(): Promise<void> {
    this.cache.invalidateAll();
    await this.scheduleExpiry();
  }

  /**
   * Calls `listener` after every durable creation, update, deletion and expiry made by this instance (not for the
   * statistics of recordOutcome, nor for other instances' writes); returns the unsubscribe function.
   */
  onChange(listener: RegistrationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.expiryTimer);
  }

  /** Runs the check and write of a tenant under the tenant's lock. */
  private writes<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    return this.lock(`registrations:${tenant}`, work);
  }

  private expired(reg: StoredRegistration, now = this.clock()): boolean {
    return reg.spec.expiresAt !== undefined && Date.parse(reg.spec.expiresAt) <= now;
  }

  private changed(tenant: string, before: StoredRegistration | undefined, after: StoredRegistration | undefined): void {
    this.cache.apply(tenant, (after ?? before)!.id, after);
    for (const listener of this.listeners) {
      try {
        listener(tenant, before, after);
      } catch (err) {
        this.onError(err, 'registration change listener');
      }
    }
    if (after?.spec.expiresAt !== undefined || before?.spec.expiresAt !== undefined) {
      this.scheduleExpiry().catch((err) => this.onError(err, 'registration expiry'));
    }
  }

  /** 5.9.2.4: "implementations shall delete the Registration when this point in time is reached". */
  private async expire(): Promise<void> {
    const now = this.clock();
    let failed = false;
    for (const reg of await this.store.all()) {
      if (!this.expired(reg, now)) continue;
      try {
        const removed = await this.writes(reg.tenant, () =>
          this.store.mutate(reg.tenant, reg.id, (current) =>
            current && this.expired(current, now) ? { change: { kind: 'delete' }, result: current } : { change: { kind: 'none' }, result: undefined },
          ),
        );
        if (removed) this.changed(reg.tenant, removed, undefined);
      } catch (err) {
        // The tenant's lock was busy or out of reach: the others still expire, this one on the retry.
        failed = true;
        this.onError(err, `expiry of registration ${reg.id}`);
      }
    }
    await this.scheduleExpiry(failed ? EXPIRY_RETRY_MS : 0);
  }

  /** `atLeastMs`: not sooner than that (a retry after a failure must not spin on a registration already due). */
  private async scheduleExpiry(atLeastMs = 0): Promise<void> {
    if (this.closed) return;
    let next = Infinity;
    for (const reg of await this.store.all()) if (reg.spec.expiresAt !== undefined) next = Math.min(next, Date.parse(reg.spec.expiresAt));
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (next === Infinity || this.closed) return;
    const delay = Math.min(Math.max(atLeastMs, next - this.clock()), MAX_TIMER_MS);
    this.expiryTimer = setTimeout(() => void this.expire().catch((err) => this.onError(err, 'registration expiry')), delay).unref();
  }
}

function alreadyExistsError(id: string): NgsiError {
  return alreadyExists(`CSourceRegistration ${id} already exists (clause 5.9.2.4)`);
}
