import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** Thrown when the environment is invalid. The message names the variable and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Every environment variable Gatehouse reads. Values are strings as they arrive from the
 * environment; the schema coerces and bounds them.
 */
const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** TCP port of the HTTP listener. @default 4000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Listener address. @default 127.0.0.1 outside production, 0.0.0.0 in production */
  HOST: z.string().min(1).optional(),
  /** Folder for the embedded database and the generated signing key. @default ./.data */
  DATA_DIR: z.string().min(1).default('./.data'),
  /** PostgreSQL connection string. Without it, the embedded PGlite database in DATA_DIR is used. */
  DATABASE_URL: z.string().url().optional(),
  /** Maximum connections in the PostgreSQL pool. @default 10 */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  /**
   * Seconds to wait at start for PostgreSQL to accept connections, retrying while it is
   * unreachable or starting up; 0 fails at once. @default 30
   */
  DATABASE_WAIT_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  /**
   * Seconds between SIGTERM and closing the listener. Meanwhile /ready returns 503 and requests
   * are still served, so a load balancer stops sending new ones first. @default 0
   */
  SHUTDOWN_DELAY_SECONDS: z.coerce.number().int().min(0).max(300).default(0),
  /** Redis connection string. Without it, revocations live in this process only. */
  REDIS_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `iss` claim of access tokens, checked on every verification. @default gatehouse */
  JWT_ISSUER: z.string().min(1).default('gatehouse'),
  /** `aud` claim of access tokens, checked on every verification. @default gatehouse */
  JWT_AUDIENCE: z.string().min(1).default('gatehouse'),
  /** Private signing keys as a JWK set; the first key signs, the rest only verify. */
  JWT_PRIVATE_JWKS: z.string().min(1).optional(),
  /** Path of a file holding the JWK set, used when JWT_PRIVATE_JWKS is not set. */
  JWT_PRIVATE_JWKS_FILE: z.string().min(1).optional(),
  /** Clock skew accepted on `exp`, `nbf` and `iat`, in seconds. @default 10 */
  JWT_CLOCK_SKEW_SECONDS: seconds(0, 300).default(10),
  /** Access-token lifetime in seconds. @default 1800 (30 minutes) */
  ACCESS_TOKEN_TTL_SECONDS: seconds(30, 86_400).default(1800),
  /** Refresh-token lifetime in seconds. @default 2592000 (30 days) */
  REFRESH_TOKEN_TTL_SECONDS: seconds(60, 31_536_000).default(2_592_000),
  /** Absolute session lifetime in seconds; no refresh extends it. @default 2592000 (30 days) */
  SESSION_LIFETIME_SECONDS: seconds(60, 31_536_000).default(2_592_000),
  /** A session unused this long cannot refresh, in seconds; 0 disables. @default 604800 (7 days) */
  SESSION_IDLE_TIMEOUT_SECONDS: seconds(0, 31_536_000).default(604_800),
  /** How long a rotated refresh token still returns the child already issued for it. @default 10 */
  REFRESH_REUSE_GRACE_SECONDS: seconds(0, 300).default(10),
  /** bcrypt cost factor. Each step doubles the work. @default 12 */
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  /** Name of the refresh-token cookie. @default gatehouse_refresh */
  REFRESH_COOKIE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." or "-"')
    .default('gatehouse_refresh'),
  /** SameSite attribute of the refresh cookie. @default strict */
  REFRESH_COOKIE_SAME_SITE: z.enum(['strict', 'lax', 'none']).default('strict'),
  /** Whether the refresh cookie carries `Secure`. @default true in production, false otherwise */
  COOKIE_SECURE: booleanFlag.optional(),
  /** Serve GraphiQL on GET /graphql. @default true outside production */
  GRAPHIQL: booleanFlag.optional(),
  /**
   * Proxies whose X-Forwarded-For and Forwarded headers are believed: comma-separated IPs or
   * CIDRs. Listing an address lets it choose the client IP that audit logs and rate limits see.
   * @default none, so the socket address is the client
   */
  TRUSTED_PROXIES: z.string().default(''),
  /** Seconds between runs of the expired session clean-up; 0 disables it. @default 3600 */
  SESSION_CLEANUP_INTERVAL_SECONDS: seconds(0, 604_800).default(3600),
  /** How long expired sessions and refresh tokens are kept before deletion, in seconds. @default 604800 (7 days) */
  SESSION_CLEANUP_RETENTION_SECONDS: seconds(0, 31_536_000).default(604_800),
  /** Maximum selection depth of an operation. @default 10 */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(10),
  /** Maximum aliases in one operation; each aliased root field also costs quota. @default 30 */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(30),
  /** Maximum lexical tokens in one document. @default 2000 */
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(10).max(100_000).default(2000),
  /** Maximum directives in one operation. @default 50 */
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(50),
  /** Maximum graphql-armor cost of one operation (objects 2, scalars 1, depth multiplies). @default 5000 */
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  /** Maximum operations in one batched (JSON array) request; 0 turns batching off. @default 10 */
  GRAPHQL_MAX_BATCH: z.coerce.number().int().min(0).max(100).default(10),
  /** Failed logins in a row for one email before it is locked. @default 10 */
  LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).max(1000).default(10),
  /** Lockout time of an email after too many failed logins, in seconds. @default 900 */
  LOGIN_LOCKOUT_SECONDS: seconds(1, 86_400).default(900),
  /** Failed logins per client network (IPv4 address or IPv6 /64) per window. @default 100 */
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Window and block time of the per-network login limit, in seconds. @default 3600 */
  LOGIN_IP_WINDOW_SECONDS: seconds(1, 86_400).default(3600),
  /** Registrations per client network per hour, and attempts per email per hour. @default 10 */
  REGISTER_MAX_PER_IP: z.coerce.number().int().min(1).max(100_000).default(10),
  /**
   * Comma-separated client addresses exempt from quotas and from the per-address login limit,
   * such as an internal health checker. Anyone sending from them is unlimited. @default none
   */
  RATE_LIMIT_EXEMPT_IPS: z
    .string()
    .transform((value) => value.split(',').map((ip) => ip.trim()).filter((ip) => ip !== ''))
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()])))
    .default([]),
  /** JSON file mapping legacy role names to roles for `import-members`; `--map` wins over it. */
  IMPORT_ROLE_MAP_FILE: z.string().min(1).optional(),
  /** Audit events older than this many days are deleted by the retention job. @default 90 */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Seconds between runs of the audit retention job; 0 disables the job. @default 3600 */
  AUDIT_RETENTION_INTERVAL_SECONDS: seconds(0, 86_400).default(3600),
  /**
   * Comma-separated exact origins (scheme://host[:port]) that browsers may call from, with
   * credentials. Unset means no cross-origin access at all. @default none
   */
  CORS_ORIGINS: z.string().optional(),
  /**
   * Comma-separated Host header values (host or host:port) accepted in production; other hosts
   * get 400 HOST_NOT_ALLOWED. Required in production. @default any host outside production
   */
  ALLOWED_HOSTS: z.string().optional(),
  /** Largest accepted request body in bytes; larger bodies get 413 PAYLOAD_TOO_LARGE. @default 102400 */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(102_400),
  /**
   * Bearer token that lets non-loopback clients read /metrics. Without it, only loopback
   * clients can read /metrics. Use at least 32 random characters. @default none
   */
  METRICS_TOKEN: z.string().min(32, 'use at least 32 characters').optional(),
  /**
   * Seed nodes of a Redis Cluster as comma-separated `host:port` entries. When set, Gatehouse
   * uses the cluster instead of REDIS_URL. @default none
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value) => value.split(',').map((node) => node.trim()).filter((node) => node !== ''))
    .pipe(z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'use host:port entries separated by commas')))
    .default([]),
  /**
   * bcrypt hashes that run at once, each on its own worker thread; more logins wait in line.
   * @default cores - 1 between 1 and 4, which keeps a core for the event loop
   */
  BCRYPT_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
  /**
   * Added to the nice value of the bcrypt worker threads, 0 to 19. 0 keeps their priority. The
   * event loop then gets the CPU first, so under full CPU load logins get less of it than
   * authenticated requests. On one busy core, 5 left hashing about a quarter of the core in the
   * benchmark, and 10 so little that logins timed out. @default 5
   */
  BCRYPT_NICE_INCREMENT: z.coerce.number().int().min(0).max(19).default(5),
  /**
   * Seconds a user's workspace roles stay cached in each instance, at most 300. The database
   * notifies every instance of each change, so this bounds how long a change can go unseen when
   * a notification is lost before the listener's probe notices. 0 turns the cache off: every
   * role check reads the database. @default 30
   */
  ACCESS_CACHE_SECONDS: seconds(0, 300).default(30),
  /**
   * Seconds between reads of the JWK set file (JWT_PRIVATE_JWKS_FILE or the generated file in
   * DATA_DIR), at most 86400. A changed, valid file replaces the keys without a restart, and
   * SIGHUP reads it at once. 0 turns the timer off, so only SIGHUP or a restart applies a
   * change. `keys rotate` delays the new key's signing by two intervals plus
   * JWT_CLOCK_SKEW_SECONDS by default. @default 30
   */
  JWT_KEYS_RELOAD_SECONDS: seconds(0, 86_400).default(30),
});

export type Environment = z.input<typeof environmentSchema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseWaitSeconds: number;
  shutdownDelaySeconds: number;
  redisUrl: string | undefined;
  logLevel: string;
  graphiql: boolean;
  jwt: {
    issuer: string;
    audience: string;
    privateJwks: string | undefined;
    privateJwksFile: string | undefined;
    clockSkewSeconds: number;
    accessTokenTtlSeconds: number;
    /** Seconds between reads of the key file. 0 turns the timer off. */
    keysReloadSeconds: number;
  };
  session: {
    refreshTokenTtlSeconds: number;
    sessionLifetimeSeconds: number;
    idleTimeoutSeconds: number;
    reuseGraceSeconds: number;
  };
  bcryptCost: number;
  /** Entries of TRUSTED_PROXIES: IP addresses and CIDR ranges. */
  trustedProxies: string[];
  cleanup: {
    intervalSeconds: number;
    retentionSeconds: number;
  };
  cookie: {
    name: string;
    sameSite: 'strict' | 'lax' | 'none';
    secure: boolean;
    /** Only requests to the GraphQL endpoint carry the refresh cookie. */
    path: string;
  };
  /** graphql-armor limits and the batch size, checked before anything executes. */
  queryLimits: {
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxCost: number;
    maxBatch: number;
  };
  loginGuard: {
    maxFailuresPerEmail: number;
    emailLockoutSeconds: number;
    maxFailuresPerIp: number;
    ipWindowSeconds: number;
    maxRegistrationsPerIp: number;
  };
  /** Client addresses that no quota or per-address login limit applies to. */
  rateLimitExemptIps: string[];
  importRoleMapFile: string | undefined;
  audit: {
    retentionDays: number;
    /** Milliseconds between retention runs; 0 disables the job. */
    retentionIntervalMs: number;
  };
  /** Exact origins allowed by CORS; empty allows none. */
  corsOrigins: string[];
  /** Host header values accepted; empty accepts any host (only outside production). */
  allowedHosts: string[];
  maxBodyBytes: number;
  metricsToken: string | undefined;
  /** `host:port` seeds of a Redis Cluster; when not empty, used instead of `redisUrl`. */
  redisClusterNodes: string[];
  /** bcrypt hashes at once; undefined means the default of src/auth/hash-concurrency.ts. */
  bcryptMaxConcurrency: number | undefined;
  /** Seconds an entry of the access cache lives; 0 turns the cache off. */
  accessCacheSeconds: number;
  /** Added to the nice value of the bcrypt worker threads. 0 keeps their priority. */
  bcryptNiceIncrement: number;
}

export const graphqlPath = '/graphql';

function describeIssue(issue: z.core.$ZodIssue): string {
  const variable = String(issue.path[0] ?? 'environment');

  return `Invalid ${variable}: ${issue.message}. Set ${variable} to a valid value or unset it to use the default.`;
}

/**
 * Reads and validates the environment once, at start. Throws a ConfigError naming the first
 * invalid variable and the fix.
 */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  // An empty variable counts as unset, so `FOO=` in an env file means the default.
  const present = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new ConfigError(issue ? describeIssue(issue) : 'Invalid environment.');
  }
  const vars = parsed.data;
  const isProduction = vars.NODE_ENV === 'production';
  const config: Config = {
    env: vars.NODE_ENV,
    isProduction,
    port: vars.PORT,
    host: vars.HOST ?? (isProduction ? '0.0.0.0' : '127.0.0.1'),
    dataDir: path.resolve(vars.DATA_DIR),
    databaseUrl: vars.DATABASE_URL,
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    databaseWaitSeconds: vars.DATABASE_WAIT_SECONDS,
    shutdownDelaySeconds: vars.SHUTDOWN_DELAY_SECONDS,
    redisUrl: vars.REDIS_URL,
    logLevel: vars.LOG_LEVEL,
    graphiql: vars.GRAPHIQL ?? !isProduction,
    jwt: {
      issuer: vars.JWT_ISSUER,
      audience: vars.JWT_AUDIENCE,
      privateJwks: vars.JWT_PRIVATE_JWKS,
      privateJwksFile: vars.JWT_PRIVATE_JWKS_FILE,
      clockSkewSeconds: vars.JWT_CLOCK_SKEW_SECONDS,
      accessTokenTtlSeconds: vars.ACCESS_TOKEN_TTL_SECONDS,
      keysReloadSeconds: vars.JWT_KEYS_RELOAD_SECONDS,
    },
    session: {
      refreshTokenTtlSeconds: vars.REFRESH_TOKEN_TTL_SECONDS,
      sessionLifetimeSeconds: vars.SESSION_LIFETIME_SECONDS,
      idleTimeoutSeconds: vars.SESSION_IDLE_TIMEOUT_SECONDS,
      reuseGraceSeconds: vars.REFRESH_REUSE_GRACE_SECONDS,
    },
    bcryptCost: vars.BCRYPT_COST,
    trustedProxies: parseTrustedProxies(vars.TRUSTED_PROXIES),
    cleanup: {
      intervalSeconds: vars.SESSION_CLEANUP_INTERVAL_SECONDS,
      retentionSeconds: vars.SESSION_CLEANUP_RETENTION_SECONDS,
    },
    cookie: {
      name: vars.REFRESH_COOKIE_NAME,
      sameSite: vars.REFRESH_COOKIE_SAME_SITE,
      secure: vars.COOKIE_SECURE ?? isProduction,
      path: graphqlPath,
    },
    queryLimits: {
      maxDepth: vars.GRAPHQL_MAX_DEPTH,
      maxAliases: vars.GRAPHQL_MAX_ALIASES,
      maxTokens: vars.GRAPHQL_MAX_TOKENS,
      maxDirectives: vars.GRAPHQL_MAX_DIRECTIVES,
      maxCost: vars.GRAPHQL_MAX_COST,
      maxBatch: vars.GRAPHQL_MAX_BATCH,
    },
    loginGuard: {
      maxFailuresPerEmail: vars.LOGIN_MAX_FAILURES_PER_EMAIL,
      emailLockoutSeconds: vars.LOGIN_LOCKOUT_SECONDS,
      maxFailuresPerIp: vars.LOGIN_MAX_FAILURES_PER_IP,
      ipWindowSeconds: vars.LOGIN_IP_WINDOW_SECONDS,
      maxRegistrationsPerIp: vars.REGISTER_MAX_PER_IP,
    },
    rateLimitExemptIps: vars.RATE_LIMIT_EXEMPT_IPS,
    importRoleMapFile: vars.IMPORT_ROLE_MAP_FILE,
    audit: {
      retentionDays: vars.AUDIT_RETENTION_DAYS,
      retentionIntervalMs: vars.AUDIT_RETENTION_INTERVAL_SECONDS * 1000,
    },
    corsOrigins: parseOrigins(vars.CORS_ORIGINS),
    allowedHosts: splitList(vars.ALLOWED_HOSTS).map((host) => host.toLowerCase()),
    maxBodyBytes: vars.MAX_BODY_BYTES,
    metricsToken: vars.METRICS_TOKEN,
    redisClusterNodes: vars.REDIS_CLUSTER_NODES,
    bcryptMaxConcurrency: vars.BCRYPT_MAX_CONCURRENCY,
    accessCacheSeconds: vars.ACCESS_CACHE_SECONDS,
    bcryptNiceIncrement: vars.BCRYPT_NICE_INCREMENT,
  };
  checkProductionSafety(config);

  return config;
}

/** Splits TRUSTED_PROXIES and checks each entry is an IP address or a CIDR range. */
function parseTrustedProxies(value: string): string[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const version = isIP(address);
    const maxPrefix = version === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (version === 0 || !validPrefix) {
      throw new ConfigError(
        `Invalid TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range. Use entries such as 10.0.0.5 or 10.0.0.0/8, separated by commas.`,
      );
    }
  }

  return entries;
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Parses CORS_ORIGINS; each entry must be a bare origin, because browsers compare exactly. */
function parseOrigins(value: string | undefined): string[] {
  return splitList(value).map((entry) => {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      origin = undefined;
    }
    if (origin === undefined || origin === 'null' || origin !== entry.replace(/\/$/, '')) {
      throw new ConfigError(
        `Invalid CORS_ORIGINS: "${entry}" is not an origin. List origins such as https://app.example.com, separated by commas.`,
      );
    }

    return origin;
  });
}

function checkProductionSafety(config: Config): void {
  if (config.cookie.sameSite === 'none' && !config.cookie.secure) {
    throw new ConfigError(
      'Invalid REFRESH_COOKIE_SAME_SITE: browsers drop SameSite=None cookies without Secure. Set COOKIE_SECURE=true or choose strict or lax.',
    );
  }
  if (!config.isProduction) return;
  if (!config.cookie.secure) {
    throw new ConfigError(
      'Invalid COOKIE_SECURE: production requires Secure cookies. Unset COOKIE_SECURE or set it to true, and serve Gatehouse over HTTPS.',
    );
  }
  if (!config.jwt.privateJwks && !config.jwt.privateJwksFile) {
    throw new ConfigError(
      'Missing JWT_PRIVATE_JWKS: production does not start with a generated signing key. Run `npm run gatehouse -- keys generate` and set JWT_PRIVATE_JWKS or JWT_PRIVATE_JWKS_FILE.',
    );
  }
  if (config.bcryptCost < 10) {
    throw new ConfigError('Invalid BCRYPT_COST: production requires at least 10. Unset it to use 12.');
  }
  if (config.allowedHosts.length === 0) {
    throw new ConfigError(
      'Missing ALLOWED_HOSTS: production accepts only listed Host headers. Set ALLOWED_HOSTS to the public host names, such as auth.example.com.',
    );
  }
}
