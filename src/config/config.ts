/**
 * Broker configuration from command-line flags and MUSUBI_* environment variables (flags win).
 * Every value is validated here, so a typo stops the broker at start with a message naming the setting.
 */

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  store: 'embedded' | 'mongo';
  /** URL of the MongoDB replica set or sharded cluster (store mongo); '' when not given. */
  mongoUrl: string;
  /** Database of the MongoDB backend, holding every tenant. */
  mongoDb: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest accepted request body, in bytes (413 past it). */
  maxBodyBytes: number;
  /** Most elements in one batch entity operation (400 past it). */
  maxBatchEntities: number;
  /** Record the history of every entity write for the temporal API. */
  history: boolean;
  /** Page size of queries that give no limit (clause 5.5.9). */
  defaultLimit: number;
  /** Largest page a query may ask for (TooManyResults past it). */
  maxLimit: number;
  /** How long to wait for a remote @context, in milliseconds. */
  contextTimeoutMs: number;
  /** How long a fetched remote @context stays cached, in seconds. */
  contextCacheTtlSec: number;
  /** Deliveries tried per notification before it becomes a dead letter. */
  notificationMaxAttempts: number;
  /** Wait after a notification's first failed delivery; doubled after each further failure (with jitter). */
  notificationBackoffMs: number;
  /** Longest wait between two deliveries of one notification. */
  notificationMaxBackoffMs: number;
  /** Timeout of a notification whose endpoint sets none. */
  notificationTimeoutMs: number;
  /** Notifications in flight at once to one endpoint. */
  notificationConcurrency: number;
  /** Consecutive failures that stop deliveries to an endpoint for notificationBreakerOpenMs. */
  notificationBreakerThreshold: number;
  /** How long deliveries to a failing endpoint stop before one is tried again. */
  notificationBreakerOpenMs: number;
  /** Days of attribute history kept (older instances are dropped hourly); 0 keeps everything. */
  retentionDays: number;
  /** Most instances of one attribute in one temporal response; a longer history is paged with 206 (clause 6.3.10). */
  temporalMaxInstances: number;
  /** Longest wait for one context source in a distributed operation, in milliseconds (clause 6.3.17). */
  forwardTimeoutMs: number;
  /** This broker's pseudonym in Via headers of forwarded requests (clause 6.3.18); '' means a random one per process. */
  forwardAlias: string;
  /** Redis shared by several broker instances (src/coordination); '' runs this instance alone. */
  redisUrl: string;
}

type Parser = (raw: string, name: string) => unknown;

interface Setting {
  key: keyof Config;
  flag: string;
  env: string;
  /** Other environment variables read when `env` is unset (the short names container platforms use). */
  envAliases?: string[];
  help: string;
  default: Config[keyof Config];
  parse: Parser;
}

class ConfigError extends Error {}

const integer =
  (min: number, max: number): Parser =>
  (raw, name) => {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };

const oneOf =
  (...values: string[]): Parser =>
  (raw, name) => {
    if (!values.includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw;
  };

const text: Parser = (raw, name) => {
  if (raw.trim() === '') throw new ConfigError(`${name} must not be empty`);
  return raw;
};

export const SETTINGS: Setting[] = [
  { key: 'port', flag: '--port', env: 'MUSUBI_PORT', help: 'HTTP port (0 picks a free one)', default: 1026, parse: integer(0, 65535) },
  { key: 'host', flag: '--host', env: 'MUSUBI_HOST', help: 'address to listen on', default: '0.0.0.0', parse: text },
  { key: 'dataDir', flag: '--data-dir', env: 'MUSUBI_DATA_DIR', help: 'directory of the embedded store', default: './data', parse: text },
  { key: 'store', flag: '--store', env: 'MUSUBI_STORE', envAliases: ['STORE'], help: 'storage backend: embedded or mongo', default: 'embedded', parse: oneOf('embedded', 'mongo') },
  {
    key: 'mongoUrl',
    flag: '--mongo-url',
    env: 'MUSUBI_MONGO_URL',
    envAliases: ['MONGO_URL'],
    help: 'MongoDB replica set or cluster URL (store mongo)',
    default: '',
    parse: (raw, name) => {
      if (!/^mongodb(\+srv)?:\/\/\S+$/.test(raw)) throw new ConfigError(`${name} must be a mongodb:// or mongodb+srv:// URL, got "${raw}"`);
      return raw;
    },
  },
  {
    key: 'mongoDb',
    flag: '--mongo-db',
    env: 'MUSUBI_MONGO_DB',
    help: 'MongoDB database holding every tenant (store mongo)',
    default: 'musubi',
    parse: (raw, name) => {
      // MongoDB's own rules for database names: at most 63 bytes, none of /\. "$*<>:|? or NUL.
      if (!/^[^/\\. "$*<>:|?\u0000]{1,63}$/.test(raw)) throw new ConfigError(`${name} must be a MongoDB database name (1-63 characters, none of /\\. "$*<>:|?), got "${raw}"`);
      return raw;
    },
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'MUSUBI_LOG_LEVEL',
    help: 'fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  {
    key: 'maxBodyBytes',
    flag: '--max-body-bytes',
    env: 'MUSUBI_MAX_BODY_BYTES',
    help: 'largest request body accepted, in bytes',
    default: 8 * 1024 * 1024,
    parse: integer(1024, 1024 * 1024 * 1024),
  },
  {
    key: 'maxBatchEntities',
    flag: '--max-batch-entities',
    env: 'MUSUBI_MAX_BATCH_ENTITIES',
    help: 'most entities (or ids) in one batch operation request',
    default: 10_000,
    parse: integer(1, 1_000_000),
  },
  {
    key: 'history',
    flag: '--history',
    env: 'MUSUBI_HISTORY',
    help: 'record attribute history for the temporal API: on or off',
    default: true,
    parse: (raw, name) => oneOf('on', 'off')(raw, name) === 'on',
  },
  {
    key: 'defaultLimit',
    flag: '--default-limit',
    env: 'MUSUBI_DEFAULT_LIMIT',
    help: 'page size of queries that give no limit',
    default: 20,
    parse: integer(1, 1_000_000),
  },
  {
    key: 'maxLimit',
    flag: '--max-limit',
    env: 'MUSUBI_MAX_LIMIT',
    help: 'largest page size a query may ask for',
    default: 1000,
    parse: integer(1, 1_000_000),
  },
  {
    key: 'contextTimeoutMs',
    flag: '--context-timeout-ms',
    env: 'MUSUBI_CONTEXT_TIMEOUT_MS',
    help: 'timeout for fetching a remote @context, in ms',
    default: 5000,
    parse: integer(1, 600_000),
  },
  {
    key: 'contextCacheTtlSec',
    flag: '--context-cache-ttl',
    env: 'MUSUBI_CONTEXT_CACHE_TTL',
    help: 'how long a fetched @context is cached, in seconds',
    default: 3600,
    parse: integer(0, 31_536_000),
  },
  {
    key: 'notificationMaxAttempts',
    flag: '--notification-max-attempts',
    env: 'MUSUBI_NOTIFICATION_MAX_ATTEMPTS',
    help: 'deliveries tried per notification before it becomes a dead letter',
    default: 10,
    parse: integer(1, 1000),
  },
  {
    key: 'notificationBackoffMs',
    flag: '--notification-backoff-ms',
    env: 'MUSUBI_NOTIFICATION_BACKOFF_MS',
    help: 'wait after a first failed delivery, doubled per failure, in ms',
    default: 1000,
    parse: integer(1, 3_600_000),
  },
  {
    key: 'notificationMaxBackoffMs',
    flag: '--notification-max-backoff-ms',
    env: 'MUSUBI_NOTIFICATION_MAX_BACKOFF_MS',
    help: 'longest wait between two deliveries of a notification, in ms',
    default: 300_000,
    parse: integer(1, 86_400_000),
  },
  {
    key: 'notificationTimeoutMs',
    flag: '--notification-timeout-ms',
    env: 'MUSUBI_NOTIFICATION_TIMEOUT_MS',
    help: 'delivery timeout when the endpoint sets none, in ms',
    default: 10_000,
    parse: integer(1, 600_000),
  },
  {
    key: 'notificationConcurrency',
    flag: '--notification-concurrency',
    env: 'MUSUBI_NOTIFICATION_CONCURRENCY',
    help: 'notifications in flight at once to one endpoint',
    default: 8,
    parse: integer(1, 1000),
  },
  {
    key: 'notificationBreakerThreshold',
    flag: '--notification-breaker-threshold',
    env: 'MUSUBI_NOTIFICATION_BREAKER_THRESHOLD',
    help: 'consecutive failures that pause deliveries to an endpoint',
    default: 5,
    parse: integer(1, 1_000_000),
  },
  {
    key: 'notificationBreakerOpenMs',
    flag: '--notification-breaker-open-ms',
    env: 'MUSUBI_NOTIFICATION_BREAKER_OPEN_MS',
    help: 'how long such a pause lasts before one delivery is tried, in ms',
    default: 30_000,
    parse: integer(1, 86_400_000),
  },
  {
    key: 'retentionDays',
    flag: '--retention-days',
    env: 'MUSUBI_RETENTION_DAYS',
    help: 'days of attribute history kept, purged hourly (0: unlimited)',
    default: 0,
    parse: integer(0, 1_000_000),
  },
  {
    key: 'temporalMaxInstances',
    flag: '--temporal-max-instances',
    env: 'MUSUBI_TEMPORAL_MAX_INSTANCES',
    help: 'most instances of one attribute in a temporal response (206 paging past it)',
    default: 1000,
    parse: integer(1, 1_000_000),
  },
  {
    key: 'forwardTimeoutMs',
    flag: '--forward-timeout-ms',
    env: 'MUSUBI_FORWARD_TIMEOUT_MS',
    help: 'timeout for one context source in a distributed operation, in ms',
    default: 5000,
    parse: integer(1, 600_000),
  },
  {
    key: 'forwardAlias',
    flag: '--forward-alias',
    env: 'MUSUBI_FORWARD_ALIAS',
    help: 'pseudonym of this broker in Via headers of forwarded requests (default: musubi-<8 random hex digits>, new at each start)',
    default: '',
    parse: (raw, name) => {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z:\[\]]+$/.test(raw)) throw new ConfigError(`${name} must be a Via pseudonym (a token, e.g. city-a.example:1026), got "${raw}"`);
      return raw;
    },
  },
  {
    key: 'redisUrl',
    flag: '--redis-url',
    env: 'MUSUBI_REDIS_URL',
    envAliases: ['REDIS_URL'],
    help: 'Redis that several broker instances share (caches, leader, notification delivery); unset: one instance',
    default: '',
    parse: (raw, name) => {
      if (!/^rediss?:\/\/\S+$/.test(raw)) throw new ConfigError(`${name} must be a redis:// or rediss:// URL, got "${raw}"`);
      return raw;
    },
  },
];

export const DEFAULT_CONFIG: Config = Object.fromEntries(SETTINGS.map((s) => [s.key, s.default])) as unknown as Config;

export function helpText(): string {
  const rows = SETTINGS.map((s) => `  ${`${s.flag} <value>`.padEnd(28)} ${s.help} (env ${s.env}, default ${typeof s.default === 'boolean' ? (s.default ? 'on' : 'off') : JSON.stringify(s.default)})`);
  return ['Usage: musubi [options]', '', 'Options:', ...rows, `  ${'--help'.padEnd(28)} show this help`].join('\n');
}

export type ParsedArgs = { help: true } | { help: false; config: Config };

/** Reads flags (`--port 1030` or `--port=1030`) and MUSUBI_* variables; throws ConfigError with a readable message. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const raw = new Map<Setting, { value: string; name: string }>();
  for (const s of SETTINGS) {
    const name = [s.env, ...(s.envAliases ?? [])].find((n) => env[n] !== undefined);
    if (name !== undefined) raw.set(s, { value: env[name]!, name });
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const s = SETTINGS.find((x) => x.flag === flag);
    if (!s) throw new ConfigError(`unknown option "${arg}" (see musubi --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`);
    raw.set(s, { value, name: flag });
  }
  const config = { ...DEFAULT_CONFIG } as Record<string, unknown>;
  for (const [s, { value, name }] of raw) config[s.key] = s.parse(value, name);
  if (config.store === 'mongo' && config.mongoUrl === '') {
    throw new ConfigError('--store mongo needs the MongoDB URL: --mongo-url or MUSUBI_MONGO_URL (e.g. mongodb://localhost:27017/?replicaSet=rs0)');
  }
  return { help: false, config: config as unknown as Config };
}

export { ConfigError };
