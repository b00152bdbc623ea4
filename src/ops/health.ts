import { readFile } from 'node:fs/promises';
import type { RedisClient } from '../state/redis.js';
import type { Database } from '../db/database.js';
import { readMigrations } from '../db/schema-engine.js';
import type { RequestOrigin } from '../audit/audit-log.js';
import { requestLogger, type Logger } from '../logger.js';
import { withTimeout } from '../timeout.js';

/** Readiness of one dependency. `detail` is a fixed phrase, never an error message. */
export interface CheckResult {
  status: 'ok' | 'failed' | 'degraded' | 'disabled';
  detail?: string;
}

export interface ReadinessReport {
  /** ok: serving; degraded: serving without Redis; unavailable: not serving (HTTP 503). */
  status: 'ok' | 'degraded' | 'unavailable';
  /** True after SIGTERM, while the process still serves requests before it stops listening. */
  stopping?: true;
  checks: {
    database: CheckResult;
    migrations: CheckResult & { pending?: string[] };
    redis: CheckResult;
    passwordHashing: CheckResult;
  };
}

export interface VersionReport {
  node: string;
  gatehouse: string;
  postgresql: string | null;
  redis: string | null;
}

/** How long one readiness probe may take before it counts as failed. */
const probeTimeoutMs = 1500;

const probed = <T>(work: Promise<T>): Promise<T> => withTimeout(work, probeTimeoutMs);


/** The request that a check runs for. Its id goes on the check's log lines. */
type RequestIdSource = Pick<RequestOrigin, 'requestId'>;

export interface HealthDependencies {
  db: Database;
  redis: RedisClient | undefined;
  logger: Logger;
  /** Whether the password hashing threads are gone for good, which only a restart repairs. */
  passwordHashingFailed: () => boolean;
}

const hashingFailed: CheckResult = { status: 'failed', detail: 'password hashing threads stopped: restart the process' };

/** Probes the database, its migrations, Redis and password hashing for /ready and the `health` query. */
export class HealthChecks {
  #stopping = false;
  /** Checks that failed on their last run, so an outage logs a warning once, not once per probe. */
  readonly #failing = new Set<string>();

  constructor(private readonly deps: HealthDependencies) {}

  /** Makes readiness unavailable from now on, so load balancers stop routing here before the stop. */
  markStopping(): void {
    this.#stopping = true;
  }

  /**
   * Returns the failed check once the process cannot recover without a restart, because no
   * password hashing thread is left, else undefined. GET /health then returns 503, so an
   * orchestrator restarts the instance.
   */
  livenessFailure(): CheckResult | undefined {
    return this.deps.passwordHashingFailed() ? hashingFailed : undefined;
  }

  /** Runs the checks. A failed check's log line carries the request id of `origin`. */
  async readiness(origin?: RequestIdSource): Promise<ReadinessReport> {
    const [database, migrations, redis] = await Promise.all([
      this.checkDatabase(origin),
      this.checkMigrations(origin),
      this.checkRedis(origin),
    ]);
    const passwordHashing: CheckResult = this.livenessFailure() ?? { status: 'ok' };
    const checks = { database, migrations, redis, passwordHashing };
    const failed = [database, migrations, passwordHashing].some((check) => check.status === 'failed');
    if (this.#stopping) return { status: 'unavailable', stopping: true, checks };
    if (failed) return { status: 'unavailable', checks };
    if (redis.status === 'degraded') return { status: 'degraded', checks };

    return { status: 'ok', checks };
  }

  /** Reads the versions. A failed read's log line carries the request id of `origin`. */
  async versions(origin?: RequestIdSource): Promise<VersionReport> {
    const [postgresql, redis] = await Promise.all([this.postgresVersion(origin), this.redisVersion(origin)]);

    return { node: process.version, gatehouse: await gatehouseVersion(), postgresql, redis };
  }

  private async checkDatabase(origin: RequestIdSource | undefined): Promise<CheckResult> {
    try {
      await probed(this.deps.db.prisma.$queryRaw`SELECT 1`);
      this.#passed('database', origin);
      return { status: 'ok' };
    } catch (error) {
      this.#failed('database', error, origin, 'readiness: database check failed');
      return { status: 'failed', detail: 'database unreachable' };
    }
  }

  /** Compares the applied migrations in _prisma_migrations with the migration folders shipped. */
  private async checkMigrations(origin: RequestIdSource | undefined): Promise<CheckResult & { pending?: string[] }> {
    try {
      const rows = await probed(
        this.deps.db.prisma.$queryRaw<{ migration_name: string }[]>`
          SELECT migration_name FROM _prisma_migrations
          WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      );
      const applied = new Set(rows.map((row) => row.migration_name));
      const { migrationDirectories } = await readMigrations();
      const pending = migrationDirectories.map((dir) => dir.path).filter((name) => !applied.has(name));
      if (pending.length > 0) return { status: 'failed', detail: 'migrations pending', pending };
      this.#passed('migrations', origin);

      return { status: 'ok' };
    } catch (error) {
      this.#failed('migrations', error, origin, 'readiness: migration check failed');
      return { status: 'failed', detail: 'migration state unreadable' };
    }
  }

  private async checkRedis(origin: RequestIdSource | undefined): Promise<CheckResult> {
    const { redis } = this.deps;
    if (!redis) return { status: 'disabled', detail: 'REDIS_URL and REDIS_CLUSTER_NODES not set: single-instance mode' };
    try {
      await probed(redis.ping());
      this.#passed('redis', origin);
      return { status: 'ok' };
    } catch (error) {
      this.#failed('redis', error, origin, 'readiness: redis check failed');
      return { status: 'degraded', detail: 'redis unreachable: revocations and rate limits are per process' };
    }
  }

  /** Logs a check's failure: a warning when it starts failing, at debug level while it goes on. */
  #failed(check: string, error: unknown, origin: RequestIdSource | undefined, message: string): void {
    const logger = requestLogger(this.deps.logger, origin);
    if (this.#failing.has(check)) {
      logger.debug({ err: error, check }, message);
      return;
    }
    this.#failing.add(check);
    logger.warn({ err: error, check }, message);
  }

  #passed(check: string, origin: RequestIdSource | undefined): void {
    if (this.#failing.delete(check)) requestLogger(this.deps.logger, origin).info({ check }, 'readiness: check passes again');
  }

  private async postgresVersion(origin: RequestIdSource | undefined): Promise<string | null> {
    try {
      const rows = await probed(this.deps.db.prisma.$queryRaw<{ version: string }[]>`SELECT current_setting('server_version') AS version`);
      return rows[0]?.version ?? null;
    } catch (error) {
      requestLogger(this.deps.logger, origin).warn({ err: error }, 'reading the PostgreSQL version failed');
      return null;
    }
  }

  private async redisVersion(origin: RequestIdSource | undefined): Promise<string | null> {
    if (!this.deps.redis) return null;
    try {
      const info = await probed(this.deps.redis.info('server'));
      return /^redis_version:(\S+)/m.exec(info)?.[1] ?? null;
    } catch (error) {
      requestLogger(this.deps.logger, origin).warn({ err: error }, 'reading the Redis version failed');
      return null;
    }
  }
}

let packageVersion: string | undefined;

async function gatehouseVersion(): Promise<string> {
  if (packageVersion === undefined) {
    const url = new URL('../../package.json', import.meta.url);
    packageVersion = (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version;
  }

  return packageVersion;
}
