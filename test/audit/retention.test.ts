import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRetentionJob } from '../../src/audit/retention.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const day = 86_400_000;

describe.each(backends)('audit retention on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    // The timer would race the runs below, so this instance runs the job only on request.
    gatehouse = await startGatehouse({ backend, env: { AUDIT_RETENTION_INTERVAL_SECONDS: '0', AUDIT_RETENTION_DAYS: '30' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('deletes events past the retention period in batches', async () => {
    const { prisma } = gatehouse.app.services;
    const now = new Date();
    const rows = (ageDays: number, count: number, action: string) =>
      Array.from({ length: count }, () => ({ action, createdAt: new Date(now.getTime() - ageDays * day) }));
    await prisma.auditLog.createMany({ data: [...rows(31, 250, 'seed.old'), ...rows(29, 20, 'seed.recent')] });

    const job = new AuditRetentionJob({ prisma, logger: gatehouse.app.logger, retentionDays: 30, intervalMs: 0, batchSize: 100 });
    const run = await job.runOnce(now);
    expect(run).toEqual({ deleted: 250, batches: 3, skipped: false });
    expect(await prisma.auditLog.count({ where: { action: 'seed.old' } })).toBe(0);
    expect(await prisma.auditLog.count({ where: { action: 'seed.recent' } })).toBe(20);

    // One event per batch, written in the transaction of that batch's deletions.
    const purges = await prisma.auditLog.findMany({ where: { action: 'audit.purged' }, orderBy: { id: 'asc' } });
    expect(purges.map((event) => event.metadata)).toEqual([
      { deleted: 100, before: new Date(now.getTime() - 30 * day).toISOString() },
      { deleted: 100, before: new Date(now.getTime() - 30 * day).toISOString() },
      { deleted: 50, before: new Date(now.getTime() - 30 * day).toISOString() },
    ]);
    const logged = gatehouse.logs.filter((line) => line.msg === 'audit retention run finished');
    expect(logged.at(-1)).toMatchObject({ deleted: 250, batches: 3, skipped: false, retentionDays: 30 });
  });

  it('failed purge event keeps the batch', async () => {
    const { prisma } = gatehouse.app.services;
    const now = new Date();
    const purgesBefore = await prisma.auditLog.count({ where: { action: 'audit.purged' } });
    await prisma.auditLog.createMany({
      data: Array.from({ length: 5 }, () => ({ action: 'seed.kept', createdAt: new Date(now.getTime() - 40 * day) })),
    });
    // A real database error on the event insert: a trigger rejects every `audit.purged` row.
    await prisma.$executeRawUnsafe(`
      CREATE FUNCTION reject_audit_purged() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit.purged rejected by test'; END $$`);
    await prisma.$executeRawUnsafe(`
      CREATE TRIGGER reject_audit_purged BEFORE INSERT ON audit_logs FOR EACH ROW
      WHEN (NEW.action = 'audit.purged') EXECUTE FUNCTION reject_audit_purged()`);
    try {
      const job = new AuditRetentionJob({ prisma, logger: gatehouse.app.logger, retentionDays: 30, intervalMs: 0 });
      await expect(job.runOnce(now)).rejects.toThrow();
      expect(await prisma.auditLog.count({ where: { action: 'seed.kept' } })).toBe(5);
      expect(await prisma.auditLog.count({ where: { action: 'audit.purged' } })).toBe(purgesBefore);
    } finally {
      await prisma.$executeRawUnsafe('DROP TRIGGER reject_audit_purged ON audit_logs');
      await prisma.$executeRawUnsafe('DROP FUNCTION reject_audit_purged()');
    }
    const run = await gatehouse.app.auditRetention.runOnce(now);
    expect(run.deleted).toBe(5);
    expect(await prisma.auditLog.count({ where: { action: 'seed.kept' } })).toBe(0);
  });

  it('run with nothing to delete records no purge', async () => {
    const { prisma } = gatehouse.app.services;
    const purgesBefore = await prisma.auditLog.count({ where: { action: 'audit.purged' } });
    const run = await gatehouse.app.auditRetention.runOnce();
    expect(run).toEqual({ deleted: 0, batches: 1, skipped: false });
    expect(await prisma.auditLog.count({ where: { action: 'audit.purged' } })).toBe(purgesBefore);
  });
});

describe('audit retention lock', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'postgresql', env: { AUDIT_RETENTION_INTERVAL_SECONDS: '0' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('skips the run while another instance holds the lock', async () => {
    const { prisma } = gatehouse.app.services;
    await prisma.auditLog.create({ data: { action: 'seed.ancient', createdAt: new Date(Date.now() - 400 * day) } });
    const other = new pg.Client({ connectionString: gatehouse.config.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock(7310442001::bigint)');
      const run = await gatehouse.app.auditRetention.runOnce();
      expect(run).toEqual({ deleted: 0, batches: 0, skipped: true });
      expect(await prisma.auditLog.count({ where: { action: 'seed.ancient' } })).toBe(1);
      await other.query('COMMIT');

      const after = await gatehouse.app.auditRetention.runOnce();
      expect(after.deleted).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('timer runs the job', async () => {
    const timed = await startGatehouse({ backend: 'postgresql', env: { AUDIT_RETENTION_INTERVAL_SECONDS: '1' } });
    try {
      // Bounded wait for the first timer tick: 100 polls of 100 ms.
      for (let poll = 0; poll < 100; poll++) {
        if (timed.logs.some((line) => line.msg === 'audit retention run finished')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(timed.logs.some((line) => line.msg === 'audit retention run finished')).toBe(true);
    } finally {
      await timed.close();
    }
  });
});
