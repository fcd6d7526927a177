import pino, { type Logger } from 'pino';
import type { Config } from './config/config.js';

export type { Logger };

/** JSON lines on stdout; asynchronous writes keep logging off the request's critical path. */
export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, base: { name: 'musubi' } }, pino.destination({ sync: false }));
}
