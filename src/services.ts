import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import { AccessTokens } from './auth/access-tokens.js';
import { AccountService } from './auth/account-service.js';
import { startCleanupJob, type CleanupJob } from './auth/cleanup.js';
import { SessionActivity } from './auth/session-activity.js';
import { AuthService } from './auth/auth-service.js';
import { loadKeys } from './auth/keys.js';
import { PasswordHasher } from './auth/passwords.js';
import {
  MemoryRevocationList,
  withRevocationListener,
  type RevocationList,
} from './auth/revocations.js';
import { RedisRevocationList } from './auth/redis-revocation-list.js';
import { RevocationRelay } from './auth/revocation-relay.js';
import { SessionService } from './auth/session-service.js';
import type { Config } from './config/index.js';
import { openDatabase, type Database } from './db/database.js';
import { waitForDatabase } from './db/wait-for-database.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type { Logger } from './logger.js';
import { RateLimitService } from './rate-limit/service.js';
import { openRedis, openRedisCluster, type RedisClient } from './state/redis.js';
import { buildRbacServices, type RbacServices } from './rbac/services.js';
import { openAccessSource, type AccessSource } from './rbac/access-source.js';
import { membershipAuditAccess, type AuditAccess } from './audit/audit-access.js';
import { AuditRetentionJob } from './audit/retention.js';
import { GatehouseMetrics } from './observability/metrics.js';
import { HealthChecks } from './ops/health.js';
import { configWarnings } from './config/warnings.js';
import { KeyStore } from './auth/key-store.js';
import { startKeyReloader, type KeyReloader } from './auth/key-reloader.js';

/** The services resolvers call. Resolvers never reach the database on their own. */
export interface Services {
  prisma: PrismaClient;
  auth: AuthService;
  sessions: SessionService;
  accessTokens: AccessTokens;
  /** The signing and verification keys in use. A reload of the key file swaps them. */
  keys: KeyStore;
  account: AccountService;
  /** Throttled writes of each session's `lastUsedAt`. */
  activity: SessionActivity;
  rateLimits: RateLimitService;
  rbac: RbacServices;
  /** Prometheus metrics; other code increments counters such as `rateLimitRejections`. */
  metrics: GatehouseMetrics;
  health: HealthChecks;
  /** Access check for the audit events of a workspace, used for callers who are not platform admins. */
  auditAccess: AuditAccess;
  /** bcrypt on worker threads of lower priority; App.close() terminates them. */
  hasher: PasswordHasher;
}

/** The connections and services of one running Gatehouse, with one way to close them. */
export interface App {
  config: Config;
  logger: Logger;
  db: Database;
  redis: RedisClient | undefined;
  services: Services;
  /** Deletes audit events past AUDIT_RETENTION_DAYS; started here, stopped by close(). */
  auditRetention: AuditRetentionJob;
  /**
   * Reads the key file again every JWT_KEYS_RELOAD_SECONDS, and on reload() such as main.ts
   * calls on SIGHUP. Undefined when JWT_PRIVATE_JWKS contains the keys, because the environment
   * of a running process cannot change. Stopped by close().
   */
  keyReloader: KeyReloader | undefined;
  close(): Promise<void>;
}

/**
 * Opens the database (applying migrations), Redis when configured, and the signing keys, then
 * builds the services on them.
 */
export async function openApp(config: Config, logger: Logger): Promise<App> {
  if (config.databaseUrl) await waitForDatabase(config.databaseUrl, config.databaseWaitSeconds * 1000, logger);
  const db = await openDatabase(
    { databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, dataDir: config.dataDir },
    logger,
  );
  let access: AccessSource | undefined;
  let built: ReturnType<typeof buildServices> | undefined;
  let relay: RevocationRelay | undefined;
  // Aborted by close(), so that no background retry outlives the database connection.
  const closing = new AbortController();
  try {
    await db.migrate();
    const loadedKeys = await loadKeys({ ...config.jwt, dataDir: config.dataDir });
    const keys = new KeyStore(loadedKeys.ring, logger);
    const signing = keys.signingKey();
    logger.info({ kid: signing.kid, alg: signing.alg, source: loadedKeys.ring.source }, 'signing key loaded');
    const redis = openSharedState(config, logger);
    if (redis) {
      await redis.connect().catch(() => undefined);
    } else {
      logger.warn(
        'REDIS_URL is not set: single-instance mode. Revocations and rate limits live in this process only; set REDIS_URL before running more than one instance.',
      );
    }
    for (const warning of configWarnings(config)) logger.warn(warning);
    // The health checks are built before the hasher, so they read it from the services when they run.
    const ops = buildOpsServices(logger, db, redis, () => services.hasher.failed);
    access = await openAccessSource(db, config.accessCacheSeconds * 1000, logger);
    relay = redis ? new RevocationRelay(db, logger) : undefined;
    built = buildServices(config, logger, db.prisma, keys, redis, ops.metrics, closing.signal, relay);
    await relay?.start();
    const { rateLimits } = built;
    const rbac = buildRbacServices(db.prisma, logger, access.cache, (key, ttlMs, origin) => rateLimits.markOnce(key, ttlMs, origin));
    const services: Services = { ...ops, ...built, rbac, auditAccess: membershipAuditAccess(rbac.permissions) };
    // The stand-in hash for unknown emails exists before the first login, so that login costs
    // one comparison like any other.
    await services.hasher.warmUp();
    const cleanup = startCleanup(config, logger, db.prisma);
    const auditRetention = new AuditRetentionJob({
      prisma: db.prisma,
      logger,
      retentionDays: config.audit.retentionDays,
      intervalMs: config.audit.retentionIntervalMs,
    });
    auditRetention.start();
    const keyReloader = startKeyReloader(loadedKeys, keys, config.jwt.keysReloadSeconds, logger);

    return {
      config,
      logger,
      db,
      redis,
      services,
      auditRetention,
      keyReloader,
      async close() {
        closing.abort();
        await keyReloader?.stop();
        await cleanup?.stop();
        services.rateLimits.close();
        await services.hasher.close();
        await auditRetention.stop();
        await access?.close();
        await relay?.stop();
        redis?.disconnect();
        await db.close();
      },
    };
  } catch (error) {
    closing.abort();
    await built?.hasher.close();
    await access?.close();
    await relay?.stop();
    await db.close();
    throw error;
  }
}

function buildServices(
  config: Config,
  logger: Logger,
  prisma: PrismaClient,
  keys: KeyStore,
  redis: RedisClient | undefined,
  metrics: GatehouseMetrics,
  closing: AbortSignal,
  relay?: RevocationRelay,
): Omit<Services, OpsServiceName | 'rbac' | 'auditAccess'> {
  // A deny-list entry must outlive every access token issued before the revocation.
  const revocationTtlMs = (config.jwt.accessTokenTtlSeconds + config.jwt.clockSkewSeconds) * 1000;
  const denyList: RevocationList = redis
    ? new RedisRevocationList(redis, revocationTtlMs, logger)
    : new MemoryRevocationList(revocationTtlMs, logger, closing);
  const accessTokens = new AccessTokens(keys, {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.jwt.accessTokenTtlSeconds,
    clockSkewSeconds: config.jwt.clockSkewSeconds,
  });
  // Revocations through this instance also drop the cached verifications of those sessions.
  // Sessions whose Redis write fails here reach Redis through the instances that can write it.
  const sharedDenyList = relay ? relay.wrap(denyList) : denyList;
  const revocations = withRevocationListener(sharedDenyList, (ids) => accessTokens.forgetSessions(ids));
  const hasher = new PasswordHasher({
    cost: config.bcryptCost,
    maxConcurrency: config.bcryptMaxConcurrency,
    niceIncrement: config.bcryptNiceIncrement,
    logger,
  });
  logger.info(
    { bcryptMaxConcurrency: hasher.maxConcurrency, bcryptNiceIncrement: config.bcryptNiceIncrement, cores: availableParallelism() },
    'password hashing limits',
  );
  const rateLimits = new RateLimitService({
    prisma,
    redis,
    logger,
    loginGuard: config.loginGuard,
    exemptIps: config.rateLimitExemptIps,
  });
  const auth = new AuthService({
    prisma,
    hasher,
    accessTokens,
    policy: config.session,
    logger,
    loginGuard: rateLimits.loginGuard,
    failedLogins: metrics.failedLogins,
  });
  const sessions = new SessionService({ prisma, accessTokens, revocations, policy: config.session, logger });
  // The list logs a failed fill and tries again. Its window is the entries' lifetime, because a
  // token is accepted up to the clock skew past its expiry. The fill writes the deny-list itself,
  // so that a fill whose Redis writes fail sends no relay notifications.
  revocations.onResync(() => sessions.resyncRevocations(revocationTtlMs / 1000, denyList));
  // A Redis that is not ready starts a fill once it is, which reads PostgreSQL after LISTEN anyway.
  const catchUp = async () => {
    if (redis?.status === 'ready') await sessions.resyncRevocations(revocationTtlMs / 1000, denyList);
  };
  relay?.catchUpWith(catchUp);

  const account = new AccountService({ prisma, hasher, revocations, logger, loginGuard: rateLimits.loginGuard });
  const activity = new SessionActivity({ prisma, redis, logger });

  return { prisma, auth, sessions, accessTokens, keys, account, activity, rateLimits, hasher };
}

/** Starts the periodic deletion of expired sessions, unless SESSION_CLEANUP_INTERVAL_SECONDS is 0. */
function startCleanup(config: Config, logger: Logger, prisma: PrismaClient): CleanupJob | undefined {
  const { intervalSeconds, retentionSeconds } = config.cleanup;
  if (intervalSeconds === 0) return undefined;

  return startCleanupJob(prisma, { intervalSeconds, retentionSeconds }, logger);
}

type OpsServiceName = 'metrics' | 'health';

/** Builds metrics, health checks and audit access; services.ts keeps them apart from auth. */
function buildOpsServices(
  logger: Logger,
  db: Database,
  redis: RedisClient | undefined,
  passwordHashingFailed: () => boolean,
): Pick<Services, OpsServiceName> {
  const metrics = new GatehouseMetrics({
    redisDegraded: () => (redis && redis.status !== 'ready' ? 1 : 0),
    databasePool: () => db.poolStats(),
  });

  return { metrics, health: new HealthChecks({ db, redis, logger, passwordHashingFailed }) };
}

/** Opens the Redis Cluster when REDIS_CLUSTER_NODES is set, else the server of REDIS_URL, if any. */
function openSharedState(config: Config, logger: Logger): RedisClient | undefined {
  if (config.redisClusterNodes.length > 0) return openRedisCluster(config.redisClusterNodes, logger);

  return config.redisUrl ? openRedis(config.redisUrl, logger) : undefined;
}
