import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { diffMigrationsToSchema, readMigrations } from '../../src/db/schema-engine.js';
import { createTestDatabase } from '../support/gatehouse.js';

describe('migrations', () => {
  it('match the Prisma schema', async () => {
    expect(await diffMigrationsToSchema()).toBe('');
  });

  it('are recorded where prisma migrate deploy looks', async () => {
    const database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
        'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
      );
      const folders = (await readMigrations()).migrationDirectories.map((dir) => dir.path);
      expect(rows.map((row) => row.migration_name)).toEqual(folders);
      expect(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null)).toBe(true);
    } finally {
      await client.end();
      await database.drop();
    }
  });
});
