/**
 * Test helpers: a real mosquitto broker started on 127.0.0.1 with free ports, a self-signed CA and server
 * certificate made with openssl, and an MQTT subscriber that records what it receives.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';

const INSTALL_HINT =
  'mosquitto is not installed. `.ci/run` installs it (apt-get install -y --no-install-recommends mosquitto); ' +
  'install it the same way to run the MQTT tests.';

function which(name: string, extra: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extra];
  for (const dir of dirs) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** The mosquitto binary (Debian puts it in /usr/sbin, often not on a user's PATH); throws with how to get it. */
export function mosquittoBinary(): string {
  const found = which('mosquitto', ['/usr/sbin', '/usr/local/sbin']);
  if (!found) throw new Error(INSTALL_HINT);
  return found;
}

/**
 * `sh -c WATCHDOG <mosquitto> <config>`: runs mosquitto, and sends it SIGTERM when standard input reaches its end;
 * exits when mosquitto does. (An asynchronous list reads /dev/null unless redirected, hence descriptor 3.)
 */
const WATCHDOG = `exec 3<&0
"$0" -c "$1" </dev/null &
pid=$!
( read -r _ <&3; kill -TERM "$pid" 2>/dev/null ) &
wait "$pid"`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Tls {
  dir: string;
  caCert: string;
  caPem: Buffer;
  serverCert: string;
  serverKey: string;
}

/** A CA and a server certificate for 127.0.0.1/localhost signed by it, in a temporary directory. */
export function makeCertificates(): Tls {
  const openssl = which('openssl', ['/usr/bin']);
  if (!openssl) throw new Error('openssl is not installed (apt-get install -y openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'musubi-mqtt-tls-'));
  const run = (...args: string[]) => {
    const r = spawnSync(openssl, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=musubi test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  const caCert = join(dir, 'ca.crt');
  return {
    dir,
    caCert,
    caPem: readFileSync(caCert),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

export interface MosquittoOptions {
  /** Adds a TLS listener using these certificates. */
  tls?: Tls;
  /** Adds a listener that requires this user name and password. */
  auth?: { username: string; password: string };
}

/** One mosquitto process with a plain listener and optionally a TLS one and one requiring credentials. */
export class Mosquitto {
  private process: ChildProcess | undefined;
  private output = '';
  readonly dir = mkdtempSync(join(tmpdir(), 'musubi-mosquitto-'));
  port = 0;
  tlsPort = 0;
  authPort = 0;

  constructor(private readonly options: MosquittoOptions = {}) {}

  async start(): Promise<void> {
    const binary = mosquittoBinary();
    if (this.port === 0) {
      this.port = await freePort();
      if (this.options.tls) this.tlsPort = await freePort();
      if (this.options.auth) this.authPort = await freePort();
    }
    const lines = [
      'per_listener_settings true',
      'persistence false',
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      // Started as root, mosquitto would switch to the user `mosquitto`, who cannot read our temporary files.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
    ];
    if (this.options.tls) {
      lines.push(
        `listener ${this.tlsPort} 127.0.0.1`,
        'allow_anonymous true',
        `certfile ${this.options.tls.serverCert}`,
        `keyfile ${this.options.tls.serverKey}`,
      );
    }
    if (this.options.auth) {
      const passwords = join(this.dir, 'passwords');
      writeFileSync(passwords, '');
      const tool = which('mosquitto_passwd', ['/usr/bin', '/usr/sbin']);
      if (!tool) throw new Error('mosquitto_passwd is missing (it comes with the mosquitto package)');
      const r = spawnSync(tool, ['-b', passwords, this.options.auth.username, this.options.auth.password], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
      lines.push(`listener ${this.authPort} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwords}`);
    }
    const config = join(this.dir, 'mosquitto.conf');
    writeFileSync(config, `${lines.join('\n')}\n`);
    // Through a small shell that stops mosquitto when its standard input closes: when this test process ends in
    // any way, even killed, the pipe closes and the broker goes with it. Detached, so that a last-resort SIGKILL
    // can reach the shell and mosquitto together through their process group.
    const child = spawn('sh', ['-c', WATCHDOG, binary, config], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.process = child;
    child.stdin?.on('error', () => {});
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    const ports = [this.port, this.tlsPort, this.authPort].filter((p) => p !== 0);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited) throw new Error(`mosquitto exited at start:\n${this.output}`);
      const up = await Promise.all(ports.map(canConnect));
      if (up.every(Boolean)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`mosquitto did not listen on ${ports.join(', ')} within 10 s:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the broker (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin?.end(); // the watchdog sends mosquitto SIGTERM and exits once it has
    });
  }

  get log(): string {
    return this.output;
  }

  /** Stops the broker and removes its temporary directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Received {
  topic: string;
  json: unknown;
  packet: IPublishPacket;
}

/** An MQTT 5.0 subscriber (so it sees the publisher's v5 properties) recording every message it receives. */
export class Subscriber {
  readonly messages: Received[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, json: JSON.parse(payload.toString('utf8')), packet });
    });
  }

  static async connect(port: number, topics: string[], options: IClientOptions = {}): Promise<Subscriber> {
    const client = connect({
      host: '127.0.0.1',
      port,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...options,
    });
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('close', () => reject(new Error(`subscriber could not connect to 127.0.0.1:${port}`)));
    });
    await client.subscribeAsync(topics, { qos: 2 });
    return new Subscriber(client);
  }

  /** Waits until `count` messages satisfy `match` (all messages when omitted). */
  async waitFor(count: number, match: (m: Received) => boolean = () => true, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.filter(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} messages, received ${found.length} after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
