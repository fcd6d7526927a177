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
  // Crash-only on the unexpected: an error nothing handled (e.g. the storage engine failing a commit from its
  // own writer) leaves state this process cannot vouch for. Exiting lets a supervisor restart it, and every
  // acknowledged write is on disk; hanging on would leave clients waiting on a broken process.
  const fatal = (kind: string) => (err: unknown) => {
    process.stderr.write(`musubi: ${kind}, exiting: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
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
