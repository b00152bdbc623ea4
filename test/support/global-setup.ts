import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../../src/db/schema-engine.js';
import { startPostgres, startRedis, type RunningServer } from './processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test PostgreSQL server. */
    postgresAdminUrl: string;
    /** Database with every migration applied, copied for each test database. */
    templateDatabase: string;
    redisUrl: string;
  }
}

export const templateDatabase = 'gatehouse_template';

/**
 * Starts PostgreSQL and Redis for the whole run, unless TEST_DATABASE_URL and TEST_REDIS_URL
 * name servers to use, and builds the template database that every test database copies.
 */
export default async function setup(project: TestProject) {
  const started: RunningServer[] = [];
  let postgresAdminUrl = process.env.TEST_DATABASE_URL;
  if (!postgresAdminUrl) {
    const server = await startPostgres();
    started.push(server);
    postgresAdminUrl = server.url;
  }
  let redisUrl = process.env.TEST_REDIS_URL;
  if (!redisUrl) {
    const server = await startRedis();
    started.push(server);
    redisUrl = server.url;
  }

  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase}`);
  await admin.query(`CREATE DATABASE ${templateDatabase}`);
  await admin.end();
  const templateUrl = new URL(postgresAdminUrl);
  templateUrl.pathname = `/${templateDatabase}`;
  await applyMigrations(new PrismaPg({ connectionString: templateUrl.toString(), max: 1 }));

  project.provide('postgresAdminUrl', postgresAdminUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('redisUrl', redisUrl);

  return async () => {
    for (const server of started) await server.stop();
  };
}
