#!/usr/bin/env node
// Runs the NGSI-LD conformance suite (the vitest project "conformance").
//   npm run conformance                               # against a musubi broker started in-process
//   npm run conformance -- --url http://host:1026     # against any NGSI-LD broker
// Arguments after a lone "--" go to vitest unchanged, e.g. `-- -t "AlreadyExists"`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const USAGE = `Usage: npm run conformance -- [options] [-- <vitest args>]

Runs the black-box NGSI-LD conformance suite (ETSI GS CIM 009 v1.9.1).

Options:
  --url <url>          base URL of the broker under test, e.g. http://localhost:1026
                       (without it, a musubi broker is started in-process)
  --no-extensions      skip tests of musubi extensions (conformance/extensions/)
  -h, --help           show this help

Environment:
  MUSUBI_CONFORMANCE_URL             same as --url
  MUSUBI_CONFORMANCE_EXTENSIONS=0    same as --no-extensions
  MUSUBI_CONFORMANCE_MAX_BODY        body size in bytes used for the 413 test (default 9437184 = 9 MiB)
  MUSUBI_CONFORMANCE_CONTEXT_BIND    address the test @context server listens on (default 127.0.0.1)
  MUSUBI_CONFORMANCE_CONTEXT_HOST    host name the broker uses to reach that server (default: the bind address)
  MUSUBI_CONFORMANCE_RECEIVER_BIND   address the test notification receiver listens on (default 127.0.0.1)
  MUSUBI_CONFORMANCE_RECEIVER_HOST   host name the broker uses to reach the receiver (default: the bind address)
  MUSUBI_CONFORMANCE_NOTIFY_TIMEOUT  milliseconds to wait for an expected notification (default 5000)`;

function fail(message) {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const env = { ...process.env };
const passThrough = [];
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '--') {
    passThrough.push(...argv.slice(i + 1));
    break;
  }
  if (arg === '-h' || arg === '--help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (arg === '--no-extensions') {
    env.MUSUBI_CONFORMANCE_EXTENSIONS = '0';
    continue;
  }
  if (arg === '--url' || arg.startsWith('--url=')) {
    const value = arg === '--url' ? argv[++i] : arg.slice('--url='.length);
    if (!value) fail('--url needs a value');
    let url;
    try {
      url = new URL(value);
    } catch {
      fail(`--url is not a valid URL: "${value}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`--url must be http:// or https://, got "${value}"`);
    env.MUSUBI_CONFORMANCE_URL = value.replace(/\/+$/, '');
    continue;
  }
  fail(`unknown argument "${arg}"`);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = env.MUSUBI_CONFORMANCE_URL ? env.MUSUBI_CONFORMANCE_URL : 'an in-process musubi broker';
process.stdout.write(`NGSI-LD conformance suite against ${target}\n`);

const child = spawn('npx', ['vitest', 'run', '--project', 'conformance', ...passThrough], {
  cwd: root,
  env,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (err) => {
  process.stderr.write(`could not start vitest: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
