import type { Database, RootDatabase } from 'lmdb';
import { alreadyExists, NgsiError } from '../../common/errors.js';
import type { StoredRegistration } from '../../model/registration.js';
import type { StoredSubscription } from '../../model/subscription.js';
import type { LoggedRegistrationChange, RegistrationMutation, RegistrationStore } from '../registration-store.js';
import { deepFreeze, keyProblem } from './embedded-store.js';
import { EmbeddedSubscriptionStore } from './subscription-store.js';

/** A stored row: `seq` orders registrations by creation, across restarts. */
interface Row {
  seq: number;
  registration: StoredRegistration;
}

/** A change log entry as stored; its key is the seq. */
type ChangeRecord = Omit<LoggedRegistrationChange, 'seq'>;

/**
 * Opens the `csource-registrations` database and its change log `csource-registration-changes` in the entity store's
 * lmdb environment (EmbeddedEntityStore.environment), sharing its file and fsync'd commits: a change and its log
 * entry commit together. The environment stays owned by the entity store, which closes it.
 */
export function openEmbeddedRegistrationStore(root: RootDatabase): EmbeddedRegistrationStore {
  return new EmbeddedRegistrationStore(
    root.openDB<Row, [string, string]>({ name: 'csource-registrations', encoding: 'json' }),
    root.openDB<ChangeRecord, number>({ name: 'csource-registration-changes', encoding: 'json' }),
  );
}

/**
 * CSource subscriptions (5.11) are Subscriptions (5.2.12) in their own database `csource-subscriptions`: the
 * subscription store fits them as it is.
 */
export function openEmbeddedCSourceSubscriptionStore(root: RootDatabase): EmbeddedSubscriptionStore {
  return new EmbeddedSubscriptionStore(root.openDB<{ seq: number; subscription: StoredSubscription }, [string, string]>({ name: 'csource-subscriptions', encoding: 'json' }));
}

/**
 * Registrations are few and every distributed operation reads all of a tenant's, so all of them are kept decoded in
 * memory (per tenant, in creation order) beside lmdb, which is the truth: memory changes only after a durable commit
 * and is rebuilt from lmdb on open.
 */
export class EmbeddedRegistrationStore implements RegistrationStore {
  private readonly tenants = new Map<string, Map<string, StoredRegistration>>();
  private seq = 0;
  private changeSeq = 0;
  private readonly changeListeners = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly db: Database<Row, [string, string]>,
    private readonly changes: Database<ChangeRecord, number>,
  ) {
    for (const key of this.changes.getKeys({ reverse: true, limit: 1 })) this.changeSeq = key;
    const rows = [...db.getRange()].map(({ value }) => value).sort((a, b) => a.seq - b.seq);
    for (const row of rows) {
      this.seq = Math.max(this.seq, row.seq);
      this.remember(row.registration.tenant, row.registration.id, deepFreeze(row.registration));
    }
  }

  async create(registration: StoredRegistration): Promise<void> {
    await this.mutate(registration.tenant, registration.id, (current) => {
      if (current) throw alreadyExists(`CSourceRegistration ${registration.id} already exists (clause 5.9.2.4)`);
      return { change: { kind: 'put', registration }, result: undefined };
    });
  }

  async get(tenant: string, id: string): Promise<StoredRegistration | undefined> {
    this.assertOpen();
    return this.tenants.get(tenant)?.get(id);
  }

  async mutate<R>(tenant: string, id: string, decide: (current: StoredRegistration | undefined) => RegistrationMutation<R>): Promise<R> {
    this.assertOpen();
    const problem = keyProblem(tenant, id, 'registration id');
    if (problem) throw new NgsiError('BadRequestData', problem);
    const key: [string, string] = [tenant, id];
    let outcome: { ok: true; result: R } | { ok: false; error: unknown } | undefined;
    let wrote = false;
    let logged = false;
    await this.db.transaction(() => {
      // Read inside the write transaction: it sees the writes of earlier callbacks of the same batch.
      const row = this.db.get(key);
      try {
        const mutation = decide(row?.registration);
        const { change } = mutation;
        // Everything that may throw happens before the write: a throw escaping the callback would not roll back.
        if (change.kind === 'put') {
          const r = change.registration;
          if (r.id !== id || r.tenant !== tenant) throw new Error(`mutate(${tenant}, ${id}) decided to put registration ${r.tenant}/${r.id}`);
          this.db.put(key, { seq: row?.seq ?? ++this.seq, registration: r });
          wrote = true;
        } else if (change.kind === 'delete' && row) {
          this.db.remove(key);
          wrote = true;
        }
        // In the same transaction as the write, so a crash keeps both or neither.
        if (wrote && !(change.kind === 'put' && change.unlogged)) {
          const record: ChangeRecord = { tenant, id, at: new Date().toISOString() };
          if (row) record.before = row.registration;
          if (change.kind === 'put') record.after = change.registration;
          this.changes.put(++this.changeSeq, record);
          logged = true;
        }
        outcome = { ok: true, result: mutation.result };
      } catch (error) {
        outcome = { ok: false, error };
      }
    });
    // Durable now; the committed row is re-read so memory is right when several mutations shared the commit.
    if (wrote) {
      const committed = this.db.get(key);
      if (committed) this.remember(tenant, id, deepFreeze(committed.registration));
      else this.forget(tenant, id);
    }
    if (logged) for (const listener of this.changeListeners) listener();
    if (!outcome) throw new Error('lmdb transaction callback did not run');
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  async readChanges(afterSeq: number, limit: number): Promise<LoggedRegistrationChange[]> {
    this.assertOpen();
    const out: LoggedRegistrationChange[] = [];
    for (const { key, value } of this.changes.getRange({ start: afterSeq + 1, limit })) out.push({ seq: key, ...value });
    return out;
  }

  async ackChanges(upToSeq: number): Promise<void> {
    this.assertOpen();
    const keys = [...this.changes.getKeys({ end: upToSeq + 1 })];
    if (keys.length === 0) return;
    await this.changes.transaction(() => {
      for (const key of keys) this.changes.remove(key);
    });
  }

  onChanges(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return this.mutate(tenant, id, (current) => (current ? { change: { kind: 'delete' }, result: true } : { change: { kind: 'none' }, result: false }));
  }

  async list(tenant: string): Promise<StoredRegistration[]> {
    this.assertOpen();
    return [...(this.tenants.get(tenant)?.values() ?? [])];
  }

  async all(): Promise<StoredRegistration[]> {
    this.assertOpen();
    return [...this.tenants.values()].flatMap((regs) => [...regs.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Replacing a Map entry keeps its position, so an update keeps the creation order. */
  private remember(tenant: string, id: string, registration: StoredRegistration): void {
    let regs = this.tenants.get(tenant);
    if (!regs) this.tenants.set(tenant, (regs = new Map()));
    regs.set(id, registration);
  }

  private forget(tenant: string, id: string): void {
    const regs = this.tenants.get(tenant);
    if (!regs) return;
    regs.delete(id);
    if (regs.size === 0) this.tenants.delete(tenant);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the registration store is closed');
  }
}
