import { ConfigError, helpText, loadConfig } from './config/config.js';
import { startBroker } from './server.js';

/** Command-line entry point: `musubi [--port 1026] [--data-dir ./data] ...` (see --help). */
async function main(): Promise<void> {
  let parsed;
  try {
    parsed = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`musubi: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const broker = await startBroker(parsed.config);
  const stop = () => {
    broker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`musubi: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
