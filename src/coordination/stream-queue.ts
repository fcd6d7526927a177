import type { Redis } from 'ioredis';
import type { DeadLetter, OutboundNotification } from '../notifications/types.js';
import type { DeadLetterStore } from './types.js';

/**
 * The Redis side of shared notification delivery; stream-delivery.ts decides, this module only talks to Redis.
 *
 * Keys (prefix from the coordinator, "musubi:" by default):
 * - `<p>notifications`: a Stream of notifications due now, one field `n` holding the OutboundNotification as JSON,
 *   read through the consumer group `delivery`. An entry is pending for the instance that read it until it is
 *   acknowledged; XACK and XDEL go together, so the stream holds only what is not finished.
 * - `<p>notifications:delayed`: a sorted set of notifications waiting for a retry (score: notBefore). Whichever
 *   instance runs `moveDue` first moves the due ones back to the stream, in one script, so each moves once.
 * - `<p>notifications:parked:<lane>`: per endpoint lane, notifications held back because the lane's circuit breaker
 *   is open or it cools down (score: until when), listed in the set `<p>notifications:parked-lanes`. They come back
 *   when due like retries, or all at once when a delivery to the lane succeeds again (`unpark`), and a starting
 *   instance lets the first of each lane through at once (`probeParked`): it knows nothing of breakers opened by an
 *   instance that may be gone.
 * - `<p>deadletters`: a hash `<tenant>\0<id>` -> DeadLetter JSON, and per tenant `<p>deadletters:<tenant>`, a sorted
 *   set of ids (all scores 0: id order) for paging and counting.
 *
 * Every change that moves a notification from one place to another (acknowledge + retry later, acknowledge + dead
 * letter, dead letter -> stream) is one MULTI or script: it happens whole or not at all.
 */
export interface StreamEntry {
  entryId: string;
  item: OutboundNotification;
}

/** An entry whose field could not be read (never written by musubi): acknowledged and dropped by the consumer. */
export interface BrokenEntry {
  entryId: string;
  broken: string;
}

export interface Fence {
  key: string;
  token: string;
}

export const GROUP = 'delivery';

const TOUCH_OWN = `
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID') end
end
return 1`;

const ENQUEUE = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return redis.error_reply('NOTLEADER this instance no longer holds the leader lease')
end
for i = 2, #ARGV do redis.call('XADD', KEYS[1], '*', 'n', ARGV[i]) end
return #ARGV - 1`;

const MOVE_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'n', member)
  redis.call('ZREM', KEYS[1], member)
end
return #due`;

const REPLAY = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('XADD', KEYS[3], '*', 'n', ARGV[4])
return 1`;

const DELETE_IDLE_CONSUMER = `
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  for i = 1, #c, 2 do
    if c[i] == 'name' and c[i + 1] == ARGV[2] then
      for j = 1, #c, 2 do if c[j] == 'pending' and c[j + 1] == 0 then return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end end
      return 0
    end
  end
end
return 0`;

// Parked lanes are enumerated inside the scripts: musubi needs a standalone Redis (or Sentinel), not Redis Cluster.
const MOVE_DUE_PARKED = `
local moved = 0
for _, lane in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[3] .. lane
  local due = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
  for _, member in ipairs(due) do
    redis.call('XADD', KEYS[2], '*', 'n', member)
    redis.call('ZREM', key, member)
  end
  moved = moved + #due
  if redis.call('ZCARD', key) == 0 then redis.call('SREM', KEYS[1], lane) end
end
return moved`;

const UNPARK = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, member in ipairs(members) do redis.call('XADD', KEYS[2], '*', 'n', member) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return #members`;

const PROBE_PARKED = `
local moved = 0
for _, lane in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. lane
  local first = redis.call('ZRANGE', key, 0, 0)
  if #first > 0 then
    redis.call('XADD', KEYS[2], '*', 'n', first[1])
    redis.call('ZREM', key, first[1])
    moved = moved + 1
  end
  if redis.call('ZCARD', key) == 0 then redis.call('SREM', KEYS[1], lane) end
end
return moved`;

/** Script batches: big enough to be cheap, small enough not to hold Redis for long. */
const ENQUEUE_BATCH = 200;

export class RedisNotificationStream implements DeadLetterStore {
  readonly stream: string;
  private readonly delayed: string;
  private readonly parked: string;
  private readonly parkedLanes: string;
  private readonly dead: string;

  constructor(
    /** Non-blocking commands. */
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.stream = `${prefix}notifications`;
    this.delayed = `${prefix}notifications:delayed`;
    this.parked = `${prefix}notifications:parked:`;
    this.parkedLanes = `${prefix}notifications:parked-lanes`;
    this.dead = `${prefix}deadletters`;
  }

  /** Creates the consumer group (and the stream) unless it exists; from the start of the stream, so nothing is skipped. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.stream, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }

  /**
   * Adds notifications to the stream; resolves once Redis has them (on disk only as far as Redis persists: see
   * docs/architecture.md). With a fence, only while the fence's lease still holds its token.
   */
  async enqueue(items: OutboundNotification[], fence?: Fence): Promise<void> {
    for (let i = 0; i < items.length; i += ENQUEUE_BATCH) {
      const batch = items.slice(i, i + ENQUEUE_BATCH).map((item) => JSON.stringify(withoutSeq(item)));
      await this.redis.eval(ENQUEUE, 2, this.stream, fence?.key ?? this.stream, fence?.token ?? '', ...batch);
    }
  }

  /** New entries for `consumer`, waiting up to `blockMs` for some (on a connection of its own: it blocks). */
  async read(blocking: Redis, consumer: string, count: number, blockMs: number): Promise<Array<StreamEntry | BrokenEntry>> {
    const reply = (await blocking.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.stream, '>')) as unknown[] | null;
    if (!reply || reply.length === 0) return [];
    // RESP2 answers [[key, entries]]; RESP3's map arrives flattened as [key, entries].
    const entries = (typeof reply[0] === 'string' ? reply[1] : (reply[0] as unknown[])[1]) as Array<[string, string[] | null]>;
    return entries.map(parseEntry);
  }

  /**
   * Takes over entries pending for longer than `minIdleMs` (their consumer is believed dead), scanning from `cursor`.
   * Returns the next cursor ('0-0' once the scan went round) and the entries; entries deleted meanwhile are acknowledged.
   */
  async claim(consumer: string, minIdleMs: number, cursor: string, count: number): Promise<{ cursor: string; entries: Array<StreamEntry | BrokenEntry> }> {
    const [next, entries, deleted] = (await this.redis.call('XAUTOCLAIM', this.stream, GROUP, consumer, minIdleMs, cursor, 'COUNT', count)) as [
      string,
      Array<[string, string[] | null]>,
      string[] | undefined,
    ];
    if (deleted && deleted.length > 0) await this.redis.xack(this.stream, GROUP, ...deleted);
    return { cursor: next, entries: entries.filter(([, fields]) => fields !== null).map(parseEntry) };
  }

  /** Marks `consumer` alive for `ttlMs` (renewed by its delivery while it runs; deleted when it closes). */
  async heartbeat(consumer: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.aliveKey(consumer), '1', 'PX', ttlMs);
  }

  async leave(consumer: string): Promise<void> {
    await this.redis.del(this.aliveKey(consumer));
  }

  /**
   * Entries of consumers that are no longer alive (their heartbeat key expired), claimed for `consumer` without
   * waiting for claimIdleMs; consumers left with nothing pending are removed from the group. `minIdleMs` keeps two
   * instances from claiming the same entries at once: a claim resets the idle time.
   */
  async claimFromDead(consumer: string, minIdleMs: number, count: number): Promise<Array<StreamEntry | BrokenEntry>> {
    const consumers = ((await this.redis.call('XINFO', 'CONSUMERS', this.stream, GROUP)) as unknown[][]).map(pairs);
    const out: Array<StreamEntry | BrokenEntry> = [];
    for (const c of consumers) {
      const name = String(c.name);
      if (name === consumer || (await this.redis.exists(this.aliveKey(name))) === 1) continue;
      if (Number(c.pending) === 0) {
        // Only if still nothing pending: DELCONSUMER drops what a consumer has pending.
        await this.redis.eval(DELETE_IDLE_CONSUMER, 1, this.stream, GROUP, name);
        continue;
      }
      if (out.length >= count) continue;
      const pending = (await this.redis.call('XPENDING', this.stream, GROUP, '-', '+', count - out.length, name)) as Array<[string, string, number, number]>;
      if (pending.length === 0) continue;
      const claimed = (await this.redis.call('XCLAIM', this.stream, GROUP, consumer, minIdleMs, ...pending.map(([id]) => id))) as Array<[string, string[] | null]>;
      out.push(...claimed.filter(([, fields]) => fields !== null).map(parseEntry));
    }
    return out;
  }

  /**
   * Resets the idle time of entries `consumer` still holds (not those another instance took over meanwhile): an
   * entry is idle for Redis from its read on, however long it then waited for a slot or was being sent.
   */
  async touch(consumer: string, entryIds: string[]): Promise<void> {
    for (let i = 0; i < entryIds.length; i += 200) await this.redis.eval(TOUCH_OWN, 1, this.stream, GROUP, consumer, ...entryIds.slice(i, i + 200));
  }

  /** Sets the idle time of our entries to `idleMs`, so that other instances take them over at once (at close). */
  async handBack(consumer: string, entryIds: string[], idleMs: number): Promise<void> {
    if (entryIds.length === 0) return;
    await this.redis.call('XCLAIM', this.stream, GROUP, consumer, 0, ...entryIds, 'IDLE', idleMs, 'JUSTID');
  }

  /** Done with an entry: delivered, or dropped. */
  async ack(entryId: string): Promise<void> {
    await this.redis.multi().xack(this.stream, GROUP, entryId).xdel(this.stream, entryId).exec().then(checkExec);
  }

  /** Acknowledges the entry and keeps the notification (as given: attempt, notBefore) for a later try. */
  async retryLater(entryId: string, item: OutboundNotification): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.delayed, String(item.notBefore), JSON.stringify(withoutSeq(item)))
      .xack(this.stream, GROUP, entryId)
      .xdel(this.stream, entryId)
      .exec()
      .then(checkExec);
  }

  /** Moves retries and parked notifications that are due back into the stream; the number moved. */
  async moveDue(now: number, limit = 500): Promise<number> {
    const retries = (await this.redis.eval(MOVE_DUE, 2, this.delayed, this.stream, now, limit)) as number;
    return retries + ((await this.redis.eval(MOVE_DUE_PARKED, 2, this.parkedLanes, this.stream, now, limit, this.parked)) as number);
  }

  /** Acknowledges the entry and holds the notification back with its lane (breaker open, cooldown) until `until`. */
  async park(entryId: string, item: OutboundNotification, lane: string, until: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.parked + lane, String(until), JSON.stringify(withoutSeq(item)))
      .sadd(this.parkedLanes, lane)
      .xack(this.stream, GROUP, entryId)
      .xdel(this.stream, entryId)
      .exec()
      .then(checkExec);
  }

  /** The lane delivers again: everything parked for it is due now. The number moved. */
  async unpark(lane: string): Promise<number> {
    return (await this.redis.eval(UNPARK, 3, this.parked + lane, this.stream, this.parkedLanes, lane)) as number;
  }

  /** The first parked notification of every lane is due now: a probe per lane. The number moved. */
  async probeParked(): Promise<number> {
    return (await this.redis.eval(PROBE_PARKED, 2, this.parkedLanes, this.stream, this.parked)) as number;
  }

  async deadLetter(entryId: string, letter: DeadLetter): Promise<void> {
    const { seq: _seq, ...stored } = letter;
    await this.redis
      .multi()
      .hset(this.dead, fieldOf(letter.tenant, letter.id), JSON.stringify(stored))
      .zadd(this.deadIndex(letter.tenant), '0', letter.id)
      .xack(this.stream, GROUP, entryId)
      .xdel(this.stream, entryId)
      .exec()
      .then(checkExec);
  }

  async deadLetters(tenant: string, page: { limit: number; offset: number }): Promise<{ items: DeadLetter[]; count: number }> {
    const index = this.deadIndex(tenant);
    const count = await this.redis.zcard(index);
    if (page.limit <= 0 || page.offset >= count) return { items: [], count };
    const ids = await this.redis.zrange(index, String(page.offset), String(page.offset + page.limit - 1));
    if (ids.length === 0) return { items: [], count };
    const values = await this.redis.hmget(this.dead, ...ids.map((id) => fieldOf(tenant, id)));
    return { items: values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as DeadLetter), count };
  }

  async getDeadLetter(tenant: string, id: string): Promise<DeadLetter | undefined> {
    const value = await this.redis.hget(this.dead, fieldOf(tenant, id));
    return value === null ? undefined : (JSON.parse(value) as DeadLetter);
  }

  /** Back into the stream as a fresh notification (attempts from zero, due now); false when there is none. */
  async replay(tenant: string, id: string): Promise<boolean> {
    const field = fieldOf(tenant, id);
    // Compare-and-swap: the letter is rewritten here, not in Lua (whose JSON codec would turn [] into {}).
    for (let tries = 0; tries < 5; tries++) {
      const value = await this.redis.hget(this.dead, field);
      if (value === null) return false;
      const { failedAt: _failedAt, ...item } = JSON.parse(value) as DeadLetter;
      const fresh = JSON.stringify({ ...item, attempt: 0, notBefore: Date.now() });
      if ((await this.redis.eval(REPLAY, 3, this.dead, this.deadIndex(tenant), this.stream, field, value, id, fresh)) === 1) return true;
    }
    throw new Error(`the dead letter ${id} kept changing while it was being replayed`);
  }

  async removeDeadLetter(tenant: string, id: string): Promise<boolean> {
    const replies = await this.redis.multi().hdel(this.dead, fieldOf(tenant, id)).zrem(this.deadIndex(tenant), id).exec().then(checkExec);
    return replies[0] === 1;
  }

  private aliveKey(consumer: string): string {
    return `${this.stream}:alive:${consumer}`;
  }

  private deadIndex(tenant: string): string {
    return `${this.dead}:${tenant}`;
  }
}

// Tenants cannot hold NUL (src/http/request.ts), so it separates them from ids.
const fieldOf = (tenant: string, id: string) => `${tenant}\u0000${id}`;

function withoutSeq(item: OutboundNotification): Omit<OutboundNotification, 'seq'> {
  const { seq: _seq, ...rest } = item;
  return rest;
}

/** A flat [key, value, key, value, ...] reply as an object. */
function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

function parseEntry([entryId, fields]: [string, string[] | null]): StreamEntry | BrokenEntry {
  const i = fields ? fields.indexOf('n') : -1;
  if (!fields || i < 0 || i % 2 !== 0) return { entryId, broken: 'no field n' };
  try {
    return { entryId, item: JSON.parse(fields[i + 1]!) as OutboundNotification };
  } catch (err) {
    return { entryId, broken: err instanceof Error ? err.message : String(err) };
  }
}

/** MULTI replies are [error, result] pairs; a failed command inside must not pass silently. */
function checkExec(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (!replies) throw new Error('a Redis transaction was aborted');
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, result]) => result);
}
