import type { IndexDescription } from 'mongodb';
import { ENTITY_INDEXES } from './document.js';

/**
 * Every collection of the MongoDB backend and the indexes created at start-up. One database holds every tenant:
 * documents carry the tenant in a field (`t`) that leads every index (see docs/architecture.md for why).
 */
export const COLLECTIONS = {
  /** Current state of entities; shape and indexes in document.ts. */
  entities: 'entities',
  /** Tenants other than the default one, from their first write. */
  tenants: 'tenants',
  /** Sequence counters (`_id`: counter name, `seq`): change log, outbox, creation order of subscriptions. */
  counters: 'counters',
  /** The change log for subscriptions: `_id` is the seq. */
  changes: 'changes',
  /** The change log of registrations, for CSource subscriptions (5.11.7): `_id` is the seq. */
  registrationChanges: 'registration_changes',
  subscriptions: 'subscriptions',
  /** Context Source Registration Subscriptions (clause 5.11), apart from the entity ones. */
  csourceSubscriptions: 'csource_subscriptions',
  registrations: 'registrations',
  /** Notifications not yet delivered. */
  outbox: 'outbox',
  deadLetters: 'deadletters',
  /** What the history knows of an entity as a whole (TemporalEntity). */
  temporalEntities: 'temporal_entities',
  /** Recorded attribute instances, one document each. */
  temporalInstances: 'temporal_instances',
} as const;

export type CollectionName = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];

/** Records ordered by creation within a tenant, versioned for compare-and-swap (subscriptions, registrations). */
const RECORD_INDEXES: IndexDescription[] = [
  { key: { t: 1, id: 1 }, name: 'tenant_id', unique: true },
  { key: { t: 1, seq: 1 }, name: 'tenant_seq' },
];

/**
 * Instance lookups are per attribute and time property; a partial index per property keeps instances without it
 * (most have no observedAt, only deletions have deletedAt) out of that index, as the embedded time keys do.
 */
const timeIndex = (prop: 'o' | 'c' | 'm' | 'd'): IndexDescription => ({
  key: { t: 1, e: 1, a: 1, [prop]: 1, s: 1 },
  name: `instances_${prop}`,
  partialFilterExpression: { [prop]: { $exists: true } },
});

export const MONGO_INDEXES: Record<CollectionName, IndexDescription[]> = {
  entities: ENTITY_INDEXES,
  tenants: [],
  counters: [],
  changes: [],
  registration_changes: [],
  subscriptions: RECORD_INDEXES,
  csource_subscriptions: RECORD_INDEXES,
  registrations: RECORD_INDEXES,
  outbox: [
    { key: { seq: 1 }, name: 'seq', unique: true },
    // A stream's items in order, without scanning other streams (DurableQueue.pendingOfStream).
    { key: { t: 1, sub: 1, uri: 1, seq: 1 }, name: 'stream_seq' },
  ],
  deadletters: [{ key: { t: 1, id: 1 }, name: 'tenant_id', unique: true }],
  temporal_entities: [{ key: { t: 1, id: 1 }, name: 'tenant_id', unique: true }],
  temporal_instances: [
    { key: { t: 1, e: 1, a: 1, i: 1 }, name: 'instance_id', unique: true },
    timeIndex('o'),
    timeIndex('c'),
    timeIndex('m'),
    timeIndex('d'),
    // Retention drops by recording time across tenants.
    { key: { rec: 1 }, name: 'recorded' },
  ],
};
