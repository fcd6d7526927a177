import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warningOf } from '../../src/forwarding/errors.js';
import type { RunningBroker } from '../../src/server.js';
import { API, call, register, startCity, useCityWithStubs } from './helpers.js';

/**
 * What a context source or a registration can make a forwarding broker do at its HTTP edge: warning texts that must
 * stay valid header values (6.3.17), loops under other names or across tenants (4.3.6.4), oversized answers.
 */

describe('NGSILD-Warning texts from sources and registrations stay valid headers (6.3.17)', () => {
  const broker = useCityWithStubs({ forwardTimeoutMs: 1000 });

  it('6.3.17: a source error detail with CR/LF or non-Latin-1 text gives a 299 warning, not a 500', async () => {
    let detail = 'bad\r\nX-Injected: yes';
    const failing = await broker.stub(() => ({ status: 500, body: { type: 'https://uri.etsi.org/ngsi-ld/errors/InternalError', title: 'x', detail } }));
    await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Hdr:1', type: 'Hdr', p: { type: 'Property', value: 1 } } });
    await register(broker.url, { endpoint: failing.url, information: [{ entities: [{ type: 'Hdr' }] }], mode: 'inclusive' });
    for (const d of ['bad\r\nX-Injected: yes', '壊れた', 'x'.repeat(5000)]) {
      detail = d;
      for (const path of ['/entities/urn:ngsi-ld:Hdr:1', '/entities?type=Hdr']) {
        const res = await call(broker.url, 'GET', API + path);
        expect(res.status).toBe(200);
        const warning = res.headers.get('ngsild-warning')!;
        expect(warning).toMatch(/^299 /);
        expect(res.headers.get('x-injected')).toBeNull();
        expect(warning).toMatch(/^[\t\x20-\x7e]+$/);
        expect(warning.length).toBeLessThan(450);
      }
    }
  });

  it('6.3.17: warningOf percent-encodes what is not visible ASCII and keeps the warn-agent a token', () => {
    expect(warningOf('status', 'city b', 'a "q" \\ 日')).toBe(`299 city-b "a 'q' ' %E6%97%A5"`);
    expect(warningOf('invalid', '', '\ud800')).toBe('111 - "%EF%BF%BD"');
  });
});

describe('loop detection (4.3.6.4)', () => {
  let city: RunningBroker;
  let port: number;
  beforeAll(async () => {
    city = await startCity({ forwardTimeoutMs: 2000, host: '0.0.0.0' });
    port = Number(new URL(city.url).port);
    for (const tenant of ['', 'other']) {
      const headers: Record<string, string> = tenant ? { 'NGSILD-Tenant': tenant } : {};
      const res = await call(city.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Loop:1', type: 'Loop', p: { type: 'Property', value: tenant || 'default' } }, headers });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await city?.close();
  });

  it('4.3.6.4: a registration naming this broker as localhost:<port> is a loop, skipped with a warning, not a request storm', async () => {
    const id = await register(city.url, { endpoint: `http://localhost:${port}`, information: [{ entities: [{ type: 'Loop' }] }], mode: 'inclusive' });
    const res = await call(city.url, 'GET', `${API}/entities?type=Loop`);
    expect(res.status).toBe(200);
    expect(res.body.map((e: { p: { value: string } }) => e.p.value)).toEqual(['default']);
    expect(res.headers.get('ngsild-warning')).toMatch(/^199 .*loop/);
    const reg = await call(city.url, 'GET', `${API}/csourceRegistrations/${id}`);
    expect(reg.body.timesSent ?? 0).toBe(0);
    expect((await call(city.url, 'DELETE', `${API}/csourceRegistrations/${id}`)).status).toBe(204);
  });

  it('4.3.6.4: this broker under a name it cannot recognise (127.0.0.2) is caught when the request comes back: one hop only', async () => {
    const id = await register(city.url, { endpoint: `http://127.0.0.2:${port}`, information: [{ entities: [{ type: 'Loop' }] }], mode: 'inclusive' });
    const res = await call(city.url, 'GET', `${API}/entities?type=Loop`);
    expect(res.status).toBe(200);
    expect(res.body.map((e: { p: { value: string } }) => e.p.value)).toEqual(['default']);
    let sent = 0;
    for (let i = 0; i < 50 && sent === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      sent = (await call(city.url, 'GET', `${API}/csourceRegistrations/${id}`)).body.timesSent ?? 0;
    }
    expect(sent).toBe(1);
    expect((await call(city.url, 'DELETE', `${API}/csourceRegistrations/${id}`)).status).toBe(204);
  });

  it('4.3.6.4: a request whose Via already has 8 hops is not forwarded any further', async () => {
    const source = await startRawSource(() => '[]');
    try {
      await register(city.url, { endpoint: source.url, information: [{ entities: [{ type: 'Loop' }] }], mode: 'inclusive' }, { 'NGSILD-Tenant': 'deep' });
      const via = Array.from({ length: 8 }, (_, i) => `1.1 hop${i}`).join(', ');
      const res = await call(city.url, 'GET', `${API}/entities?type=Loop`, { headers: { 'NGSILD-Tenant': 'deep', Via: via } });
      expect(res.headers.get('ngsild-warning')).toMatch(/^199 .*loop/);
      expect(source.hits).toBe(0);
      const shorter = await call(city.url, 'GET', `${API}/entities?type=Loop`, { headers: { 'NGSILD-Tenant': 'deep', Via: '1.1 hop0' } });
      expect(shorter.status).toBe(200);
      expect(source.hits).toBe(1);
    } finally {
      await source.close();
    }
  });

  it('4.3.6.4: this broker\'s other tenant is a separate source, not a loop (each tenant is considered separately)', async () => {
    const id = await register(city.url, { endpoint: city.url, tenant: 'other', information: [{ entities: [{ type: 'Loop' }] }], mode: 'inclusive' });
    const one = await call(city.url, 'GET', `${API}/entities/urn:ngsi-ld:Loop:1`);
    expect(one.status).toBe(200);
    expect(one.headers.get('ngsild-warning')).toBeNull();
    const all = await call(city.url, 'GET', `${API}/entities?type=Loop`);
    expect(all.status).toBe(200);
    expect(all.headers.get('ngsild-warning')).toBeNull();
    expect(all.body).toHaveLength(1);
    // other -> third -> other comes back to a tenant the request already passed: that hop is a loop.
    const onward = await register(city.url, { endpoint: city.url, tenant: 'third', information: [{ entities: [{ type: 'Loop' }] }], mode: 'inclusive' }, { 'NGSILD-Tenant': 'other' });
    const back = await register(city.url, { endpoint: city.url, tenant: 'other', information: [{ entities: [{ type: 'Loop' }] }], mode: 'inclusive' }, { 'NGSILD-Tenant': 'third' });
    const again = await call(city.url, 'GET', `${API}/entities?type=Loop`);
    expect(again.status).toBe(200);
    expect(again.body).toHaveLength(1);
    const sent = async (reg: string, tenant: string) => (await call(city.url, 'GET', `${API}/csourceRegistrations/${reg}`, { headers: { 'NGSILD-Tenant': tenant } })).body.timesSent ?? 0;
    for (let i = 0; i < 50 && (await sent(onward, 'other')) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await sent(onward, 'other')).toBe(1);
    expect(await sent(back, 'third')).toBe(0);
    await call(city.url, 'DELETE', `${API}/csourceRegistrations/${id}`);
    await call(city.url, 'DELETE', `${API}/csourceRegistrations/${onward}`, { headers: { 'NGSILD-Tenant': 'other' } });
    await call(city.url, 'DELETE', `${API}/csourceRegistrations/${back}`, { headers: { 'NGSILD-Tenant': 'third' } });
  });
});

describe('answers of sources are read up to a size limit', () => {
  let city: RunningBroker;
  beforeAll(async () => {
    city = await startCity({ forwardTimeoutMs: 2000, maxBodyBytes: 16 * 1024 });
  });
  afterAll(async () => {
    await city?.close();
  });

  it('6.3.17: an answer over the broker\'s maxBodyBytes makes the source fail (111 warning); the local result stands', async () => {
    const big = JSON.stringify([{ id: 'urn:ngsi-ld:Big:2', type: 'Big', p: { type: 'Property', value: 'x'.repeat(64 * 1024) } }]);
    const source = await startRawSource(() => big);
    try {
      await call(city.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Big:1', type: 'Big', p: { type: 'Property', value: 1 } } });
      await register(city.url, { endpoint: source.url, information: [{ entities: [{ type: 'Big' }] }], mode: 'inclusive' });
      const res = await call(city.url, 'GET', `${API}/entities?type=Big`);
      expect(res.status).toBe(200);
      expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:Big:1']);
      expect(res.headers.get('ngsild-warning')).toMatch(/^111 .*over 16384 bytes/);
      source.answer = () => JSON.stringify([{ id: 'urn:ngsi-ld:Big:2', type: 'Big' }]);
      const small = await call(city.url, 'GET', `${API}/entities?type=Big`);
      expect(small.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:Big:1', 'urn:ngsi-ld:Big:2']);
    } finally {
      await source.close();
    }
  });
});

/** A source answering 200 with the given JSON text, counting its requests. */
async function startRawSource(answer: () => string): Promise<{ url: string; hits: number; answer: () => string; close(): Promise<void> }> {
  const state = {
    url: '',
    hits: 0,
    answer,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.hits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(state.answer());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
