/** A committed change of one record (entity, registration), as a change log keeps it (before/after absent for create/delete). */
export interface LoggedChange<T> {
  /** Position in commit order; increases with every logged change. */
  seq: number;
  tenant: string;
  id: string;
  before?: T;
  after?: T;
  /** When it was committed. */
  at: string;
}

/**
 * The reading side of a backend's change log (EmbeddedChangeLog, MongoChangeLog): what EntityStore and
 * RegistrationChangeLog offer as readChanges / ackChanges / onChanges.
 */
export interface ChangeLog<T> {
  /** Logged changes with seq > afterSeq, in commit order, at most `limit`. */
  read(afterSeq: number, limit: number): Promise<LoggedChange<T>[]>;
  /** Drops logged changes up to and including `upToSeq`. */
  ack(upToSeq: number): Promise<void>;
  /** Calls `listener` after commits that logged changes; returns the unsubscribe function. */
  onChanges(listener: () => void): () => void;
}

/** A store whose readChanges / ackChanges / onChanges are those of its change log. */
export abstract class WithChangeLog<T> {
  protected abstract readonly changeLog: ChangeLog<T>;

  readChanges(afterSeq: number, limit: number): Promise<LoggedChange<T>[]> {
    return this.changeLog.read(afterSeq, limit);
  }

  ackChanges(upToSeq: number): Promise<void> {
    return this.changeLog.ack(upToSeq);
  }

  onChanges(listener: () => void): () => void {
    return this.changeLog.onChanges(listener);
  }
}
