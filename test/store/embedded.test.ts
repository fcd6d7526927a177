import { describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import type { Entity } from '../../src/model/entity.js';
import { openStore } from '../../src/store/index.js';
import { del, entity, NS, put, sorted, TempDirs, useEmbeddedStore } from './helpers.js';

const ctx = useEmbeddedStore();
const reopen = () => ctx.reopen();

describe('EmbeddedEntityStore: entities', () => {
  it('creates, reads, updates and deletes through mutate', async () => {
    const seen: (Entity | undefined)[] = [];
    const a = entity('urn:a', ['T'], { n: 1 });
    expect(await ctx.store.mutate('', 'urn:a', (cur) => (seen.push(cur), put(a)()))).toBe('put');
    expect(seen[0]).toBeUndefined();
    expect(await ctx.store.get('', 'urn:a')).toEqual(a);

    const a2 = entity('urn:a', ['T'], { n: 2 });
    await ctx.store.mutate('', 'urn:a', (cur) => (seen.push(cur), put(a2)()));
    expect(seen[1]).toEqual(a);
    expect(await ctx.store.get('', 'urn:a')).toEqual(a2);

    expect(await ctx.store.mutate('', 'urn:a', del)).toBe('deleted');
    expect(await ctx.store.get('', 'urn:a')).toBeUndefined();
    // Deleting what is absent is allowed and changes nothing.
    expect(await ctx.store.mutate('', 'urn:a', del)).toBe('deleted');
  });

  it('hands out frozen entities: nobody can change the store by changing what they read', async () => {
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    const got = (await ctx.store.get('', 'urn:a'))!;
    expect(() => got.type.push('changed')).toThrow(TypeError);
    expect(() => {
      got.attrs[NS + 'n'][0].value = 99;
    }).toThrow(TypeError);
    expect(await ctx.store.get('', 'urn:a')).toEqual(entity('urn:a', ['T'], { n: 1 }));
  });

  it('serves reads from the object cache, which follows every write and delete', async () => {
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    const first = await ctx.store.get('', 'urn:a');
    expect(await ctx.store.get('', 'urn:a')).toBe(first);
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 2 })));
    const second = (await ctx.store.get('', 'urn:a'))!;
    expect(second).not.toBe(first);
    expect(second.attrs[NS + 'n'][0].value).toBe(2);
    await ctx.store.mutate('', 'urn:a', del);
    expect(await ctx.store.get('', 'urn:a')).toBeUndefined();
  });

  it("writes nothing for a 'none' change and still returns the result", async () => {
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    const r = await ctx.store.mutate('', 'urn:a', () => ({ change: { kind: 'none' }, result: 42 }));
    expect(r).toBe(42);
    expect(await ctx.store.get('', 'urn:a')).toEqual(entity('urn:a', ['T'], { n: 1 }));
    await ctx.store.mutate('t1', 'urn:b', () => ({ change: { kind: 'none' }, result: null }));
    expect(await ctx.store.get('t1', 'urn:b')).toBeUndefined();
    expect(await ctx.store.hasTenant('t1')).toBe(false);
  });

  it('rejects with the error decide throws and writes nothing', async () => {
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    const boom = new Error('boom');
    const others = [ctx.store.mutate('', 'urn:b', put(entity('urn:b', ['T'])))];
    const failing = ctx.store.mutate('', 'urn:a', () => {
      throw boom;
    });
    others.push(ctx.store.mutate('', 'urn:c', put(entity('urn:c', ['T']))));
    await expect(failing).rejects.toBe(boom);
    await expect(ctx.store.mutate('t9', 'urn:new', () => { throw boom; })).rejects.toBe(boom);
    await Promise.all(others);
    expect(await ctx.store.get('', 'urn:a')).toEqual(entity('urn:a', ['T'], { n: 1 }));
    expect(await ctx.store.get('t9', 'urn:new')).toBeUndefined();
    expect(await ctx.store.hasTenant('t9')).toBe(false);
    // Mutations batched with the failing one are unaffected.
    expect(sorted(ctx.store.allIds(''))).toEqual(['urn:a', 'urn:b', 'urn:c']);
  });

  it('rejects, writing nothing, when the decided entity cannot be encoded', async () => {
    const bad = entity('urn:a', ['T'], { n: 10n });
    await expect(ctx.store.mutate('t1', 'urn:a', put(bad))).rejects.toThrow(TypeError);
    expect(await ctx.store.get('t1', 'urn:a')).toBeUndefined();
    expect(await ctx.store.hasTenant('t1')).toBe(false);
    expect(ctx.store.allIds('')).toEqual([]);
  });

  it('refuses to put an entity under another id', async () => {
    await expect(ctx.store.mutate('', 'urn:a', put(entity('urn:b', ['T'])))).rejects.toThrow(/urn:b/);
    expect(await ctx.store.get('', 'urn:a')).toBeUndefined();
    expect(await ctx.store.get('', 'urn:b')).toBeUndefined();
  });

  it('serializes 200 concurrent increments of one entity', async () => {
    await ctx.store.mutate('', 'urn:c', put(entity('urn:c', ['Counter'], { n: 0 })));
    const increment = (cur: Entity | undefined) => {
      const n = cur!.attrs[NS + 'n'][0].value as number;
      return { change: { kind: 'put' as const, entity: entity('urn:c', ['Counter'], { n: n + 1 }) }, result: n + 1 };
    };
    const results = await Promise.all(Array.from({ length: 200 }, () => ctx.store.mutate('', 'urn:c', increment)));
    expect(sorted(results.map(String))).toEqual(sorted(Array.from({ length: 200 }, (_, i) => String(i + 1))));
    expect((await ctx.store.get('', 'urn:c'))!.attrs[NS + 'n'][0].value).toBe(200);
  });

  it('makes a write readable as soon as mutate resolves', async () => {
    for (let i = 0; i < 50; i++) {
      await ctx.store.mutate('', 'urn:r', put(entity('urn:r', ['T'], { i })));
      expect((await ctx.store.get('', 'urn:r'))!.attrs[NS + 'i'][0].value).toBe(i);
    }
  });

  it('round-trips values exactly, also after reopening', async () => {
    const tricky: Record<string, unknown> = {
      nested: { [NS + 'a']: { [NS + 'b']: [1, [2, [3]], { [NS + 'c']: null }] }, [NS + 'empty']: {} },
      arrays: [[], [null], [true, false], ['x', 1.5, { k: [] }]],
      unicode: 'héllo ✓ 日本語 🎉 \u0000 \u2028',
      numbers: [1.5, 1e21, -1e-7, 0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 40, 0.1 + 0.2, Number.MAX_VALUE],
      booleans: [true, false],
      nullInside: { [NS + 'x']: null, [NS + 'y']: [null, { [NS + 'z']: null }] },
      emptyObject: {},
      emptyString: '',
      loneSurrogate: 'a\ud800b',
      raw: JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1, "": ""}'),
    };
    const e = entity('urn:v', ['T'], tricky);
    e.attrs[NS + 'json'] = [{ type: 'JsonProperty', json: JSON.parse('{"__proto__": [1], "a": {}}'), createdAt: 'x', modifiedAt: 'x' }];
    e.attrs[NS + 'lang'] = [{ type: 'LanguageProperty', languageMap: { en: 'hi', '@none': ['a', 'b'] }, createdAt: 'x', modifiedAt: 'x' }];
    e.scope = ['/a/b'];
    const check = async () => {
      const back = (await ctx.store.get('', 'urn:v'))!;
      expect(JSON.stringify(back)).toBe(JSON.stringify(e));
      expect(Object.hasOwn(back.attrs[NS + 'raw'][0].value as object, '__proto__')).toBe(true);
      expect(Object.hasOwn(back.attrs[NS + 'json'][0].json as object, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    };
    await ctx.store.mutate('', 'urn:v', put(e));
    await check();
    await reopen();
    await check();
  });

  it('refuses ids it cannot key on, and finds nothing under them', async () => {
    const long = 'urn:x:' + 'y'.repeat(1900);
    await expect(ctx.store.mutate('', long, put(entity(long, ['T'])))).rejects.toBeInstanceOf(NgsiError);
    await expect(ctx.store.mutate('', 'urn:\u0000', put(entity('urn:\u0000', ['T'])))).rejects.toBeInstanceOf(NgsiError);
    await expect(ctx.store.mutate('', 'urn:\ud800', put(entity('urn:\ud800', ['T'])))).rejects.toBeInstanceOf(NgsiError);
    expect(await ctx.store.get('', long)).toBeUndefined();
    expect(await ctx.store.get('t', 'urn:\u0000')).toBeUndefined();
    // Right at the limit it works.
    const max = 'urn:' + 'z'.repeat(1896);
    await ctx.store.mutate('', max, put(entity(max, ['T'])));
    expect((await ctx.store.get('', max))!.id).toBe(max);
  });

  it('rejects use after close', async () => {
    await ctx.store.close();
    await expect(ctx.store.get('', 'urn:a')).rejects.toThrow(/closed/);
    await expect(ctx.store.mutate('', 'urn:a', del)).rejects.toThrow(/closed/);
    await ctx.reopen();
  });
});

describe('EmbeddedEntityStore: tenants', () => {
  it('has the default tenant from the start and others after their first write', async () => {
    expect(await ctx.store.hasTenant('')).toBe(true);
    expect(await ctx.store.hasTenant('t1')).toBe(false);
    await ctx.store.mutate('t1', 'urn:a', del);
    expect(await ctx.store.hasTenant('t1')).toBe(false);
    await ctx.store.mutate('t1', 'urn:a', put(entity('urn:a', ['T'])));
    expect(await ctx.store.hasTenant('t1')).toBe(true);
    // A tenant stays once created, even emptied and across restarts.
    await ctx.store.mutate('t1', 'urn:a', del);
    await reopen();
    expect(await ctx.store.hasTenant('t1')).toBe(true);
    expect(await ctx.store.hasTenant('t2')).toBe(false);
    expect(sorted(ctx.store.tenants())).toEqual(['', 't1']);
  });

  it('keeps tenants isolated', async () => {
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { v: 'default' })));
    await ctx.store.mutate('t1', 'urn:a', put(entity('urn:a', ['U'], { v: 't1' })));
    // 't' is a prefix of 't1': key ranges must not bleed into each other.
    await ctx.store.mutate('t', 'urn:b', put(entity('urn:b', ['T'])));
    expect((await ctx.store.get('', 'urn:a'))!.attrs[NS + 'v'][0].value).toBe('default');
    expect((await ctx.store.get('t1', 'urn:a'))!.attrs[NS + 'v'][0].value).toBe('t1');
    expect(await ctx.store.get('', 'urn:b')).toBeUndefined();
    expect(await ctx.store.get('t1', 'urn:b')).toBeUndefined();
    await ctx.store.mutate('t1', 'urn:a', del);
    expect(await ctx.store.get('', 'urn:a')).toBeDefined();
    expect([...ctx.store.idsByType('', NS + 'T')]).toEqual(['urn:a']);
    expect([...ctx.store.idsByType('t', NS + 'T')]).toEqual(['urn:b']);
    expect(ctx.store.idsByType('t1', NS + 'U').size).toBe(0);
    expect(ctx.store.allIds('nope')).toEqual([]);
  });
});

describe('openStore', () => {
  it('opens the embedded backend and refuses mongo for now', async () => {
    const dirs = new TempDirs();
    const other = await openStore({ store: 'embedded', dataDir: await dirs.make() });
    expect(await other.hasTenant('')).toBe(true);
    await other.close();
    await expect(openStore({ store: 'mongo', dataDir: ctx.dataDir })).rejects.toThrow(/MongoDB backend is not available/);
    await dirs.cleanup();
  });
});

describe('change log (for subscriptions)', () => {
  const ctx2 = useEmbeddedStore();

  it('records nothing while logging is off', async () => {
    await ctx2.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    expect(await ctx2.store.readChanges(0, 10)).toEqual([]);
  });

  it('records before/after of every committed change in order, survives a restart until acknowledged', async () => {
    let woken = 0;
    ctx2.store.onChanges(() => woken++);
    ctx2.store.setChangeLogging(true);
    await ctx2.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    await ctx2.store.mutate('t1', 'urn:a', put(entity('urn:a', ['T'], { n: 2 })));
    await ctx2.store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 3 })));
    await ctx2.store.mutate('', 'urn:a', () => ({ change: { kind: 'none' }, result: null }));
    await ctx2.store.mutate('', 'urn:a', del);
    await ctx2.store.mutate('', 'urn:zz', del); // deleting what is absent changes nothing: not logged
    expect(woken).toBe(4);
    const changes = await ctx2.store.readChanges(0, 10);
    expect(changes.map((c) => [c.tenant, c.before?.attrs[NS + 'n']?.[0]?.value, c.after?.attrs[NS + 'n']?.[0]?.value])).toEqual([
      ['', undefined, 1],
      ['t1', undefined, 2],
      ['', 1, 3],
      ['', 3, undefined],
    ]);
    expect(changes.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
    await ctx2.store.ackChanges(changes[1]!.seq);
    await ctx2.reopen();
    const left = await ctx2.store.readChanges(0, 10);
    expect(left.map((c) => c.seq)).toEqual([3, 4]);
    // Numbering continues after the restart, so a reader's cursor never sees a seq twice.
    ctx2.store.setChangeLogging(true);
    await ctx2.store.mutate('', 'urn:b', put(entity('urn:b', ['T'])));
    expect((await ctx2.store.readChanges(4, 10)).map((c) => c.seq)).toEqual([5]);
  });
});
