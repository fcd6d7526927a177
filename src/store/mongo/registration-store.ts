import type { StoredRegistration } from '../../model/registration.js';
import type { LoggedRegistrationChange, RegistrationMutation, RegistrationStore } from '../registration-store.js';
import type { RecordChange } from './record-store.js';
import { MongoRecordStore } from './record-store.js';

/**
 * Context Source Registrations in the `registrations` collection, shared by every broker instance, with their change
 * log (`registration_changes`, always on) written in the same transaction as each change.
 */
export class MongoRegistrationStore implements RegistrationStore {
  constructor(private readonly records: MongoRecordStore<StoredRegistration>) {}

  create(registration: StoredRegistration): Promise<void> {
    return this.records.create(registration);
  }

  get(tenant: string, id: string): Promise<StoredRegistration | undefined> {
    return this.records.get(tenant, id);
  }

  mutate<R>(tenant: string, id: string, decide: (current: StoredRegistration | undefined) => RegistrationMutation<R>): Promise<R> {
    return this.records.mutate(tenant, id, (current) => {
      const { change, result } = decide(current);
      const mapped: RecordChange<StoredRegistration> = change.kind === 'put' ? { kind: 'put', value: change.registration, unlogged: change.unlogged } : change;
      return { change: mapped, result };
    });
  }

  delete(tenant: string, id: string): Promise<boolean> {
    return this.records.delete(tenant, id);
  }

  list(tenant: string): Promise<StoredRegistration[]> {
    return this.records.list(tenant);
  }

  all(): Promise<StoredRegistration[]> {
    return this.records.all();
  }

  readChanges(afterSeq: number, limit: number): Promise<LoggedRegistrationChange[]> {
    return this.records.readChanges(afterSeq, limit);
  }

  ackChanges(upToSeq: number): Promise<void> {
    return this.records.ackChanges(upToSeq);
  }

  onChanges(listener: () => void): () => void {
    return this.records.onChanges(listener);
  }

  /** Stops the change log's wake-ups; the connection belongs to the stores as a whole (see openMongoStores). */
  close(): Promise<void> {
    return this.records.close();
  }
}
