import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../src/server.js';
import { freePort } from '../helpers/broker-process.js';
import { API, call, startCity } from '../forwarding/helpers.js';

/**
 * End to end with FIWARE's own IoT Agent library (iotagent-node-lib), in-process, NGSI-LD mode, memory device
 * registry, pointing at a real musubi: provisioning, measurements, commands (forwarded PATCH, clause 5.6.4 over an
 * exclusive registration, 4.3.6.3) and lazy attributes (forwarded Retrieve Entity, 5.7.1.4).
 */

type Callback<T = unknown> = (error: Error | null | undefined, result?: T) => void;
interface Device {
  id: string;
  name: string;
  type: string;
  service: string;
  subservice: string;
  apikey?: string;
  resource?: string;
}
interface AgentAttribute {
  name: string;
  type: string;
  value: unknown;
}
/** The parts of iotagent-node-lib's API this test uses (the package ships no types). */
interface IotAgentLib {
  activate(config: Record<string, unknown>, cb: Callback): void;
  deactivate(cb: Callback): void;
  clearAll(cb: Callback): void;
  getDevice(id: string, apikey: string | undefined, service: string, subservice: string, cb: Callback<Device>): void;
  update(entityName: string, type: string, apikey: string, attributes: AgentAttribute[], device: Device, cb: Callback): void;
  setCommandResult(entityName: string, resource: string, apikey: string, command: string, result: string, status: string, device: Device, cb: Callback): void;
  setCommandHandler(handler?: (id: string, type: string, service: string, subservice: string, attributes: AgentAttribute[], cb: Callback) => void): void;
  setDataQueryHandler(handler?: (id: string, type: string, service: string, subservice: string, attributes: string[], cb: Callback) => void): void;
  setDataUpdateHandler(handler?: (id: string, type: string, service: string, subservice: string, attributes: AgentAttribute[], cb: Callback) => void): void;
}

const iotAgentLib = createRequire(import.meta.url)('iotagent-node-lib') as IotAgentLib;
const promised = <T>(f: (cb: Callback<T>) => void) => new Promise<T>((ok, fail) => f((err, r) => (err ? fail(err) : ok(r as T))));

const CORE = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld';
const SERVICE = 'smartcity';
const SUBSERVICE = '/';
const APIKEY = 'lampkey';
const RESOURCE = '/iot/d';
const ENTITY = 'urn:ngsi-ld:Lamp:001';
const TENANT = { 'NGSILD-Tenant': SERVICE };

describe('iotagent-node-lib against musubi (clauses 4.3.6.3, 5.6.4, 5.7.1.4, 5.9.2)', () => {
  let musubi: RunningBroker;
  let agentUrl: string;
  const commands: Array<{ id: string; type: string; service: string; attributes: AgentAttribute[] }> = [];
  const lazyQueries: Array<{ id: string; attributes: string[] }> = [];

  beforeAll(async () => {
    musubi = await startCity({ forwardTimeoutMs: 3000 });
    const agentPort = await freePort();
    agentUrl = `http://127.0.0.1:${agentPort}`;
    const { port } = new URL(musubi.url);
    await promised((cb) =>
      iotAgentLib.activate(
        {
          logLevel: 'FATAL',
          contextBroker: { host: '127.0.0.1', port, ngsiVersion: 'ld', jsonLdContext: CORE },
          server: { port: agentPort, host: '127.0.0.1' },
          deviceRegistry: { type: 'memory' },
          types: {},
          service: SERVICE,
          subservice: SUBSERVICE,
          providerUrl: agentUrl,
          defaultResource: RESOURCE,
        },
        cb,
      ),
    );
    // The device's command handler: record what arrived and write the status back to the broker, as an agent does.
    iotAgentLib.setCommandHandler((id, type, service, subservice, attributes, cb) => {
      commands.push({ id, type, service, attributes });
      iotAgentLib.getDevice('lamp001', undefined, service, subservice, (err, device) => {
        if (err || !device) return cb(err ?? new Error('no device'));
        const command = attributes[0]!;
        iotAgentLib.setCommandResult(id, RESOURCE, APIKEY, command.name, `switched ${String(command.value)}`, 'OK', device, (e) => cb(e, { id, type, attributes }));
      });
    });
    iotAgentLib.setDataQueryHandler((id, type, service, subservice, attributes, cb) => {
      lazyQueries.push({ id, attributes });
      const entity: Record<string, unknown> = { id, type };
      for (const name of attributes) if (name === 'temperature') entity.temperature = { type: 'Property', value: 21.5, unitCode: 'CEL' };
      cb(null, entity);
    });
  });

  afterAll(async () => {
    iotAgentLib.setCommandHandler();
    iotAgentLib.setDataQueryHandler();
    await promised((cb) => iotAgentLib.clearAll(cb)).catch(() => undefined);
    await promised((cb) => iotAgentLib.deactivate(cb));
    await musubi?.close();
  });

  const provisioning = { 'fiware-service': SERVICE, 'fiware-servicepath': SUBSERVICE };

  it('provisions a service group and a device with an active attribute, a lazy attribute and a command; the agent registers at musubi', async () => {
    const group = await call(agentUrl, 'POST', '/iot/services', {
      json: { services: [{ apikey: APIKEY, resource: RESOURCE, entity_type: 'Lamp', cbroker: musubi.url }] },
      headers: provisioning,
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const device = await call(agentUrl, 'POST', '/iot/devices', {
      json: {
        devices: [
          {
            device_id: 'lamp001',
            entity_name: ENTITY,
            entity_type: 'Lamp',
            apikey: APIKEY,
            attributes: [{ object_id: 'l', name: 'luminosity', type: 'Number' }],
            lazy: [{ name: 'temperature', type: 'Number' }],
            commands: [{ name: 'switch', type: 'command' }],
          },
        ],
      },
      headers: provisioning,
    });
    expect(device.status, JSON.stringify(device.body)).toBe(201);
    // The agent registered the lazy attribute and the command (exclusive, clause 4.3.6.3) in the service's tenant.
    const regs = await call(musubi.url, 'GET', `${API}/csourceRegistrations?type=Lamp`, { headers: TENANT });
    expect(regs.status).toBe(200);
    expect(regs.body).toHaveLength(1);
    expect(regs.body[0]).toMatchObject({ mode: 'exclusive', endpoint: agentUrl });
    expect(regs.body[0].information[0].propertyNames.sort()).toEqual(['switch', 'temperature']);
  });

  it('a measurement pushed through the library update path becomes the entity in musubi', async () => {
    const device = await promised<Device>((cb) => iotAgentLib.getDevice('lamp001', undefined, SERVICE, SUBSERVICE, cb));
    await promised((cb) => iotAgentLib.update(ENTITY, 'Lamp', APIKEY, [{ name: 'luminosity', type: 'Number', value: 77 }], device, cb));
    const res = await call(musubi.url, 'GET', `${API}/entities/${ENTITY}?local=true`, { headers: TENANT });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ENTITY, type: 'Lamp', luminosity: { type: 'Property', value: 77 } });
  });

  it('5.6.4: PATCH of the command on musubi reaches the agent\'s command handler, which writes the command status back', async () => {
    const res = await call(musubi.url, 'PATCH', `${API}/entities/${ENTITY}/attrs/switch`, {
      json: { type: 'Property', value: 'on' },
      headers: TENANT,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({ id: ENTITY, type: 'Lamp', service: SERVICE });
    expect(commands[0]!.attributes[0]).toMatchObject({ name: 'switch', value: 'on' });
    const entity = await call(musubi.url, 'GET', `${API}/entities/${ENTITY}?local=true`, { headers: TENANT });
    expect(entity.body.switch_status.value).toBe('OK');
    expect(entity.body.switch_info.value).toBe('switched on');
    // The command itself is owned by the agent (exclusive registration): musubi keeps no copy of it.
    expect(entity.body.switch).toBeUndefined();
  });

  it('5.6.2: Update Attributes with the command goes to the agent\'s /attrs path; a plain attribute in the same request stays local', async () => {
    const res = await call(musubi.url, 'PATCH', `${API}/entities/${ENTITY}/attrs`, {
      json: { switch: { type: 'Property', value: 'off' }, label: { type: 'Property', value: 'hall' } },
      headers: TENANT,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(commands).toHaveLength(2);
    expect(commands[1]!.attributes[0]).toMatchObject({ name: 'switch', value: 'off' });
    const entity = await call(musubi.url, 'GET', `${API}/entities/${ENTITY}?local=true`, { headers: TENANT });
    expect(entity.body.label.value).toBe('hall');
    expect(entity.body.switch_info.value).toBe('switched off');
  });

  it('5.6.8: a batch upsert (options=update) naming the command reaches the agent too', async () => {
    const res = await call(musubi.url, 'POST', `${API}/entityOperations/upsert?options=update`, {
      json: [{ id: ENTITY, type: 'Lamp', switch: { type: 'Property', value: 'blink' } }],
      headers: TENANT,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(commands).toHaveLength(3);
    expect(commands[2]!.attributes[0]).toMatchObject({ name: 'switch', value: 'blink' });
  });

  it('5.7.1.4: the lazy attribute is read through musubi from the agent', async () => {
    const res = await call(musubi.url, 'GET', `${API}/entities/${ENTITY}?attrs=temperature`, { headers: TENANT });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.temperature).toMatchObject({ type: 'Property', value: 21.5, unitCode: 'CEL' });
    expect(lazyQueries.at(-1)).toEqual({ id: ENTITY, attributes: ['temperature'] });
    const whole = await call(musubi.url, 'GET', `${API}/entities/${ENTITY}`, { headers: TENANT });
    expect(whole.body.luminosity.value).toBe(77);
    expect(whole.body.temperature.value).toBe(21.5);
  });

  it('5.7.2.4: Query Entities on musubi merges the agent\'s lazy attribute into the device entity', async () => {
    const res = await call(musubi.url, 'GET', `${API}/entities?type=Lamp`, { headers: TENANT });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('ngsild-warning')).toBeNull();
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ id: ENTITY, luminosity: { value: 77 }, temperature: { value: 21.5 } });
  });
});
