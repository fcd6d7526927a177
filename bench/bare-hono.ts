/**
 * The baseline for bench/entities.ts: a bare hono app on @hono/node-server with the broker's routes
 * and none of its work. GET answers the bytes and headers the broker gave for one entity (whatever the
 * id); PATCH reads the body and answers 204.
 *
 *   node --import tsx bench/bare-hono.ts <port> <response.json>
 *
 * response.json: { "body": "<entity JSON as the broker sent it>", "headers": { "content-type": ..., ... } }
 */
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const [portArg, responseFile] = process.argv.slice(2);
if (!portArg || !responseFile) {
  console.error('usage: bare-hono.ts <port> <response.json>');
  process.exit(2);
}
const saved = JSON.parse(readFileSync(responseFile, 'utf8')) as { body: string; headers: Record<string, string> };
const body = Buffer.from(saved.body, 'utf8');

const app = new Hono();
app.get('/health', (c) => c.json({ status: 'ok' }));
app.get('/ngsi-ld/v1/entities/:id', (c) => {
  c.req.param('id');
  return c.body(body, 200, saved.headers);
});
app.patch('/ngsi-ld/v1/entities/:id/attrs', async (c) => {
  c.req.param('id');
  await c.req.text();
  return c.body(null, 204);
});

const server = serve({ fetch: app.fetch, port: Number(portArg), hostname: '127.0.0.1' });
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
