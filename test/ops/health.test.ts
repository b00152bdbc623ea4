import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthDocument } from '../generated/graphql.js';
import { registerPlatformAdmin } from '../support/admins.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { PasswordWorkersFailedError } from '../../src/auth/password-workers.js';
import { PasswordHasher } from '../../src/auth/passwords.js';
import { createLogger } from '../../src/logger.js';
import { startRedis } from '../support/processes.js';
import { registerUser } from '../support/users.js';

async function getJson(url: string) {
  const response = await fetch(url);

  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

describe.each(backends)('health endpoints on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('GET /health returns ok', async () => {
    const response = await getJson(`${gatehouse.url}/health`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('GET /ready reports every dependency', async () => {
    const response = await getJson(`${gatehouse.url}/ready`);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.checks.database).toEqual({ status: 'ok' });
    expect(response.body.checks.migrations).toEqual({ status: 'ok' });
    expect(response.body.checks.redis).toEqual({ status: 'ok' });
    expect(response.body.checks.passwordHashing).toEqual({ status: 'ok' });
  });

  it('GET /ready is 503 with a pending migration', async () => {
    const { prisma } = gatehouse.app.services;
    const [last] = await prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1`;
    await prisma.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = ${last!.migration_name}`;
    try {
      const response = await getJson(`${gatehouse.url}/ready`);
      expect(response.status).toBe(503);
      expect(response.body.status).toBe('unavailable');
      expect(response.body.checks.migrations.pending).toEqual([last!.migration_name]);
    } finally {
      await prisma.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE migration_name = ${last!.migration_name}`;
    }
  });

  it('health query shows versions to platform admins', async () => {
    const admin = await registerPlatformAdmin(gatehouse);
    const response = await gatehouse.op(HealthDocument, {}, { token: admin.accessToken });
    expect(response.body.errors).toBeUndefined();
    const health = response.body.data!.health;
    expect(health.status).toBe('ok');
    expect(health.database.status).toBe('ok');
    expect(health.versions.node).toBe(process.version);
    expect(health.versions.gatehouse).toMatch(/^\d+\.\d+\.\d+/);
    expect(health.versions.postgresql).toMatch(/^\d+/);
    expect(health.versions.redis).toMatch(/^\d+\.\d+/);
  });

  it('health query is FORBIDDEN to other users', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.op(HealthDocument, {}, { token: user.accessToken });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await gatehouse.op(HealthDocument, {});
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('readiness without Redis', () => {
  it('states disabled when REDIS_URL is unset', async () => {
    const gatehouse = await startGatehouse({ backend: 'postgresql', redis: false });
    try {
      const response = await getJson(`${gatehouse.url}/ready`);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('ok');
      expect(response.body.checks.redis.status).toBe('disabled');
    } finally {
      await gatehouse.close();
    }
  });

  it('states degraded when Redis is down', async () => {
    const redis = await startRedis();
    let redisStopped = false;
    const gatehouse = await startGatehouse({ backend: 'postgresql', env: { REDIS_URL: redis.url } });
    try {
      expect((await getJson(`${gatehouse.url}/ready`)).body.checks.redis.status).toBe('ok');
      await redis.stop();
      redisStopped = true;
      const response = await getJson(`${gatehouse.url}/ready`);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('degraded');
      expect(response.body.checks.redis.status).toBe('degraded');
      const metrics = await (await fetch(`${gatehouse.url}/metrics`)).text();
      expect(metrics).toMatch(/^gatehouse_redis_degraded 1$/m);
      // Probes repeat every few seconds, so an outage writes one warning, not one per probe.
      expect((await getJson(`${gatehouse.url}/ready`)).body.status).toBe('degraded');
      const failures = gatehouse.logs.filter((line) => line.msg === 'readiness: redis check failed');
      expect(failures.map((line) => line.level)).toEqual([40, 20]);
    } finally {
      await gatehouse.close();
      // stop() waits for an exit event, which a killed process sends only once.
      if (!redisStopped) await redis.stop();
    }
  });
});

/** Returns a hasher whose worker module is missing, after the task that finds no thread left. */
async function failedHasher(): Promise<PasswordHasher> {
  const hasher = new PasswordHasher({
    cost: 4,
    maxConcurrency: 1,
    logger: createLogger('silent'),
    workerFile: new URL('./missing-password-worker.js', import.meta.url),
  });
  // Each task before the last one fails with the error of a worker that could not start.
  for (let attempt = 0; attempt < 10 && !hasher.failed; attempt++) {
    await hasher.hash('correct horse battery').catch((error: unknown) => error);
  }
  await expect(hasher.hash('correct horse battery')).rejects.toBeInstanceOf(PasswordWorkersFailedError);

  return hasher;
}

describe('health after the password threads stopped', () => {
  it('fails liveness and readiness until the hasher works', async () => {
    const gatehouse = await startGatehouse({ backend: 'postgresql' });
    const working = gatehouse.app.services.hasher;
    const failed = await failedHasher();
    try {
      gatehouse.app.services.hasher = failed;
      const liveness = await getJson(`${gatehouse.url}/health`);
      expect(liveness.status).toBe(503);
      expect(liveness.body.status).toBe('failed');
      expect(liveness.body.detail).toMatch(/restart/);
      const readiness = await getJson(`${gatehouse.url}/ready`);
      expect(readiness.status).toBe(503);
      expect(readiness.body.status).toBe('unavailable');
      expect(readiness.body.checks.passwordHashing.status).toBe('failed');
      expect(readiness.body.checks.database.status).toBe('ok');

      gatehouse.app.services.hasher = working;
      expect((await getJson(`${gatehouse.url}/health`)).status).toBe(200);
      expect((await getJson(`${gatehouse.url}/ready`)).body.checks.passwordHashing).toEqual({ status: 'ok' });
    } finally {
      gatehouse.app.services.hasher = working;
      await failed.close();
      await gatehouse.close();
    }
  });
});
