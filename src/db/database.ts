import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { lockDataDir } from './data-dir-lock.js';
import { listenOnPostgres, type NotificationHandlers, type StopListening } from './notifications.js';
import { applyMigrations } from './schema-engine.js';

export type { PrismaClient };

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  poolSize: number;
  dataDir: string;
}

export interface PoolStats {
  inUse: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Database {
  prisma: PrismaClient;
  kind: 'postgresql' | 'pglite';
  /** Applies pending migrations and returns their names. */
  migrate(): Promise<string[]>;
  /** Connections of the pool right now; PGlite has one connection, reported as idle. */
  poolStats(): PoolStats;
  /**
   * Receives `pg_notify` payloads of one channel from committed transactions until stopped. On
   * PostgreSQL, `applicationName` names the listener's connection in pg_stat_activity.
   */
  listen(channel: string, handlers: NotificationHandlers, applicationName?: string): Promise<StopListening>;
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL through @prisma/adapter-pg when a URL is given, else the embedded PGlite
 * database in DATA_DIR, which needs nothing installed.
 */
export async function openDatabase(options: DatabaseOptions, logger: Logger): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize, logger);

  return openPglite(path.join(options.dataDir, 'pgdata'), logger);
}

async function openPostgres(url: string, poolSize: number, logger: Logger): Promise<Database> {
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { default: pg } = await import('pg');
  const onPoolError = (error: Error) => logger.error({ err: error }, 'database pool error');
  // The pool is created here, not inside the adapter, so its counters can be read for metrics.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 });
  pool.on('error', onPoolError);
  const prisma = withQueryLog(
    new PrismaClient({ adapter: new PrismaPg(pool, { onPoolError }), log: queryLogOption(logger) }),
    logger,
  );

  return {
    prisma,
    kind: 'postgresql',
    migrate: () =>
      runMigrations(new PrismaPg({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 }, { onPoolError }), logger),
    poolStats: () => ({
      inUse: pool.totalCount - pool.idleCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: poolSize,
    }),
    listen: (channel, handlers, applicationName) => listenOnPostgres({ url, channel, logger, applicationName }, handlers),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dir: string, logger: Logger): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  await mkdir(dir, { recursive: true });
  const unlock = await lockDataDir(dir, logger);
  const pglite = await PGlite.create(dir).catch(async (error: unknown) => {
    await unlock();
    throw error;
  });
  const prisma = withQueryLog(
    new PrismaClient({ adapter: new PrismaPGlite(pglite), log: queryLogOption(logger) }),
    logger,
  );

  return {
    prisma,
    kind: 'pglite',
    migrate: () => runMigrations(new PrismaPGlite(pglite), logger),
    poolStats: () => ({ inUse: 0, idle: 1, waiting: 0, max: 1 }),
    // One process owns the embedded database, so every change notifies this listener, and it cannot disconnect.
    listen: async (channel, handlers) => {
      const stop = await pglite.listen(channel, (payload) => handlers.onMessage(payload));
      handlers.onListening();

      return () => stop();
    },
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
      await unlock();
    },
  };
}

/** Query events are emitted only at LOG_LEVEL=trace, so other levels pay nothing for them. */
function queryLogOption(logger: Logger): [{ emit: 'event'; level: 'query' }] | undefined {
  return logger.isLevelEnabled('trace') ? [{ emit: 'event', level: 'query' }] : undefined;
}

/**
 * Logs each SQL statement at trace level, without its parameters, which can hold password
 * hashes and token hashes. Useful to see which requests reach the database.
 */
function withQueryLog(prisma: PrismaClient, logger: Logger): PrismaClient {
  if (logger.isLevelEnabled('trace')) {
    (prisma as PrismaClient<'query'>).$on('query', (event) => {
      logger.trace({ sql: event.query, durationMs: event.duration }, 'database query');
    });
  }

  return prisma;
}

async function runMigrations(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  logger: Logger,
): Promise<string[]> {
  const applied = await applyMigrations(adapter);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrations applied');

  return applied;
}
