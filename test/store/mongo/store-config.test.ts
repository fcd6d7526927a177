import { describe, expect, it } from 'vitest';
import { NgsiError } from '../../../src/common/errors.js';
import { loadConfig } from '../../../src/config/config.js';
import { openStores } from '../../../src/store/index.js';
import { isTransactional, redact } from '../../../src/store/mongo/connection.js';
import { MONGO_INDEXES } from '../../../src/store/mongo/indexes.js';
import type { MongoClient } from 'mongodb';
import { inTransaction, keyProblem, MAX_ATTEMPTS, storeError, WriteConflict } from '../../../src/store/mongo/transaction.js';
import { storeFromEnv, testDatabaseName } from '../../helpers/store-env.js';

describe('choosing the MongoDB backend (configuration)', () => {
  it('reads --store mongo, --mongo-url and --mongo-db, and the MUSUBI_* or short environment names', () => {
    const r = loadConfig(['--store', 'mongo', '--mongo-url', 'mongodb://db:27017/?replicaSet=rs0', '--mongo-db', 'city'], {});
    expect(r.help === false && r.config).toMatchObject({ store: 'mongo', mongoUrl: 'mongodb://db:27017/?replicaSet=rs0', mongoDb: 'city' });
    const env = loadConfig([], { STORE: 'mongo', MONGO_URL: 'mongodb+srv://cluster.example.org' });
    expect(env.help === false && env.config).toMatchObject({ store: 'mongo', mongoUrl: 'mongodb+srv://cluster.example.org', mongoDb: 'musubi' });
    const both = loadConfig([], { STORE: 'embedded', MUSUBI_STORE: 'mongo', MUSUBI_MONGO_URL: 'mongodb://a', MONGO_URL: 'mongodb://b' });
    expect(both.help === false && both.config).toMatchObject({ store: 'mongo', mongoUrl: 'mongodb://a' });
  });

  it('names the setting and the problem for bad values', () => {
    expect(() => loadConfig(['--store', 'mongo'], {})).toThrow(/--store mongo needs the MongoDB URL: --mongo-url or MUSUBI_MONGO_URL/);
    expect(() => loadConfig(['--mongo-url', 'http://db'], {})).toThrow(/--mongo-url must be a mongodb:\/\/ or mongodb\+srv:\/\/ URL, got "http:\/\/db"/);
    expect(() => loadConfig([], { MUSUBI_MONGO_DB: 'a.b' })).toThrow(/MUSUBI_MONGO_DB must be a MongoDB database name/);
  });

  it('fails to open the mongo backend without a URL, with a message naming the flag', async () => {
    await expect(openStores({ store: 'mongo', dataDir: '/nonexistent' })).rejects.toThrow(/--mongo-url or MUSUBI_MONGO_URL/);
  });
});

describe('an unreachable MongoDB (the real driver, nothing listening on port 1)', () => {
  it('stops the start with a message naming MongoDB and the URL, without its password', async () => {
    const url = 'mongodb://admin:s3cret@127.0.0.1:1/?serverSelectionTimeoutMS=500';
    const failure = openStores({ store: 'mongo', dataDir: '/nonexistent', mongoUrl: url, mongoDb: 'musubi_unreachable' });
    await expect(failure).rejects.toThrow(/^cannot connect to MongoDB at mongodb:\/\/admin:\*\*\*@127\.0\.0\.1:1\//);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });
});

describe('MongoDB backend helpers', () => {
  it('accepts replica-set members and mongos (transactions), refuses a standalone server', () => {
    expect(isTransactional({ setName: 'rs0', isWritablePrimary: true })).toBe(true);
    expect(isTransactional({ msg: 'isdbgrid' })).toBe(true);
    expect(isTransactional({ isWritablePrimary: true })).toBe(false);
  });

  it('never prints a password from the URL', () => {
    expect(redact('mongodb://musubi:s3cret@db:27017/x')).toBe('mongodb://musubi:***@db:27017/x');
    expect(redact('mongodb://db:27017')).toBe('mongodb://db:27017');
  });

  it('turns a too large document into BadRequestData (a ProblemDetails 400), leaves other errors alone', () => {
    const tooLarge = storeError(Object.assign(new Error('object to insert too large'), { code: 10334 }));
    expect(tooLarge).toBeInstanceOf(NgsiError);
    expect((tooLarge as NgsiError).kind).toBe('BadRequestData');
    const other = new Error('connection closed');
    expect(storeError(other)).toBe(other);
  });

  it('refuses keys BSON would alter (lone surrogates, NUL) and accepts any other id', () => {
    expect(keyProblem('', 'urn:\uDC00')).toMatch(/cannot key on/);
    expect(keyProblem('t\u0000', 'urn:a')).toMatch(/tenant/);
    expect(keyProblem('', 'urn:😀.$x')).toBeUndefined();
  });

  it('creates the indexes the queries use: unique keys per tenant, queue order, history ranges', () => {
    expect(MONGO_INDEXES.entities.some((i) => i.unique && JSON.stringify(i.key) === '{"t":1,"id":1}')).toBe(true);
    expect(MONGO_INDEXES.outbox.map((i) => Object.keys(i.key))).toContainEqual(['seq']);
    expect(MONGO_INDEXES.temporal_instances.map((i) => i.name)).toEqual(expect.arrayContaining(['instance_id', 'instances_o', 'instances_c', 'instances_m', 'instances_d', 'recorded']));
    for (const indexes of Object.values(MONGO_INDEXES)) for (const i of indexes) expect(i.name).toBeTruthy();
  });
});

/** A client whose transactions fail as scripted, to drive inTransaction's retry loop. */
function scriptedClient(failures: unknown[]): { client: MongoClient; calls: () => number; ended: () => number } {
  let calls = 0;
  let ended = 0;
  const client = {
    startSession: () => ({
      withTransaction: async (fn: (s: unknown) => Promise<unknown>) => {
        calls++;
        const failure = failures.shift();
        if (failure) throw failure;
        return fn({});
      },
      endSession: async () => void ended++,
    }),
  } as unknown as MongoClient;
  return { client, calls: () => calls, ended: () => ended };
}

describe('inTransaction (read-decide-write retried on conflict)', () => {
  it('runs again after a compare-and-swap conflict or a duplicate key, and returns the result', async () => {
    const s = scriptedClient([new WriteConflict('entity urn:a'), Object.assign(new Error('E11000'), { code: 11000 })]);
    expect(await inTransaction(s.client, async () => 'done')).toBe('done');
    expect(s.calls()).toBe(3);
    expect(s.ended()).toBe(3);
  });

  it('gives up with a Conflict ProblemDetails (409) after MAX_ATTEMPTS rounds', async () => {
    const s = scriptedClient(Array.from({ length: MAX_ATTEMPTS }, () => new WriteConflict('entity urn:a')));
    await expect(inTransaction(s.client, async () => 'never')).rejects.toMatchObject({ kind: 'Conflict', status: 409 });
    expect(s.calls()).toBe(MAX_ATTEMPTS);
  });

  it('rethrows anything else at once (what decide throws, server errors)', async () => {
    const s = scriptedClient([new NgsiError('BadRequestData', 'bad')]);
    await expect(inTransaction(s.client, async () => 'never')).rejects.toMatchObject({ kind: 'BadRequestData' });
    expect(s.calls()).toBe(1);
  });
});

describe('test backend selection from the environment', () => {
  it('is embedded unless MUSUBI_STORE (or STORE) says mongo, which needs a URL', () => {
    expect(storeFromEnv({})).toEqual({ store: 'embedded' });
    expect(storeFromEnv({ MUSUBI_STORE: 'mongo', MUSUBI_MONGO_URL: 'mongodb://x' })).toEqual({ store: 'mongo', mongoUrl: 'mongodb://x' });
    expect(storeFromEnv({ STORE: 'mongo', MONGO_URL: 'mongodb://y' })).toEqual({ store: 'mongo', mongoUrl: 'mongodb://y' });
    expect(() => storeFromEnv({ MUSUBI_STORE: 'mongo' })).toThrow(/MUSUBI_MONGO_URL/);
  });

  it('gives each test broker a database of its own, the same one again for the same data directory', () => {
    expect(testDatabaseName('/tmp/a')).toBe(testDatabaseName('/tmp/a'));
    expect(testDatabaseName('/tmp/a')).not.toBe(testDatabaseName('/tmp/b'));
    expect(testDatabaseName()).not.toBe(testDatabaseName());
    expect(testDatabaseName().length).toBeLessThanOrEqual(63);
  });
});
