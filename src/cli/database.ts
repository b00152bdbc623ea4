import { loadConfig, type Config } from '../config/index.js';
import { openDatabase, type Database } from '../db/database.js';
import { createLogger } from '../logger.js';

/**
 * Opens the database the server would open, from the same environment: PostgreSQL at
 * DATABASE_URL, else the embedded PGlite database in DATA_DIR, with pending migrations applied.
 * The embedded database takes one process at a time, so stop the server first. Logs go to
 * stderr at warn level or the LOG_LEVEL set, whichever is quieter, so stdout holds only results.
 */
export async function openCliDatabase(): Promise<{ config: Config; db: Database }> {
  const config = loadConfig();
  const level = ['debug', 'trace'].includes(config.logLevel) ? config.logLevel : 'warn';
  const logger = createLogger(config.logLevel === 'silent' ? 'silent' : level, process.stderr);
  const db = await openDatabase(
    { databaseUrl: config.databaseUrl, poolSize: 2, dataDir: config.dataDir },
    logger,
  );
  try {
    await db.migrate();
  } catch (error) {
    await db.close();
    throw error;
  }

  return { config, db };
}

/**
 * Names the database a command used, without credentials, for messages such as a user not found:
 * a command run without the server's DATABASE_URL reads the embedded database instead.
 */
export function databaseLabel(config: Config): string {
  if (!config.databaseUrl) return `the embedded database in ${config.dataDir} (DATABASE_URL is not set)`;
  const url = new URL(config.databaseUrl);

  return `PostgreSQL at ${url.host}${url.pathname}`;
}
