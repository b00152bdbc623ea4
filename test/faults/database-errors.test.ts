import { createServer, type Server } from 'node:net';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createTestDatabase } from '../support/gatehouse.js';
import { startPostgres } from '../support/processes.js';

/** Runs one query on a fresh client and returns what it threw. */
async function errorOf(url: string, run: (prisma: PrismaClient) => Promise<unknown>): Promise<unknown> {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 2, connectionTimeoutMillis: 1000 }) });
  try {
    await run(prisma);

    return undefined;
  } catch (error) {
    return error;
  } finally {
    await prisma.$disconnect().catch(() => undefined);
  }
}

async function listen(onConnection: (socket: import('node:net').Socket) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return { server, url: `postgresql://gatehouse@127.0.0.1:${port}/gatehouse` };
}

describe('isDatabaseUnavailable on real errors', () => {
  const servers: Server[] = [];
  let postgres: Awaited<ReturnType<typeof startPostgres>>;

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) server.close();
    await postgres?.stop();
  });

  it('server that never answers', async () => {
    const silent = await listen(() => undefined);
    servers.push(silent.server);
    const error = await errorOf(silent.url, (prisma) => prisma.$queryRaw`SELECT 1`);
    expect(error).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('server that closes the socket', async () => {
    const closing = await listen((socket) => socket.destroy());
    servers.push(closing.server);
    const error = await errorOf(closing.url, (prisma) => prisma.user.findFirst());
    expect(error).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('query cut by a fast shutdown, then a stopped server', async () => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: postgres.url, max: 2 }) });
    try {
      await prisma.$queryRaw`SELECT 1`;
      const inFlight = prisma.$queryRaw`SELECT pg_sleep(10)`.then(
        () => undefined,
        (error: unknown) => error,
      );
      // pg_sleep must have started before the shutdown, so wait until the server reports it.
      const probe = new PrismaClient({ adapter: new PrismaPg({ connectionString: postgres.url, max: 1 }) });
      for (let attempt = 0; attempt < 50; attempt++) {
        const [row] = await probe.$queryRaw<{ count: number }[]>`
          SELECT count(*)::int AS count FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'`;
        if ((row?.count ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await probe.$disconnect();
      postgres.pause();

      const cut = await inFlight;
      expect(cut).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(cut)).toBe(true);
      const raw = await prisma.$queryRaw`SELECT 1`.then(() => undefined, (error: unknown) => error);
      expect(isDatabaseUnavailable(raw)).toBe(true);
      const model = await prisma.user.findFirst().then(() => undefined, (error: unknown) => error);
      expect(isDatabaseUnavailable(model)).toBe(true);
      const transaction = await prisma
        .$transaction(async (tx) => tx.$queryRaw`SELECT 1`)
        .then(() => undefined, (error: unknown) => error);
      expect(isDatabaseUnavailable(transaction)).toBe(true);
    } finally {
      postgres.start();
      await prisma.$disconnect().catch(() => undefined);
    }
  }, 60_000);

  it('ordinary query errors are not unavailability', async () => {
    const database = await createTestDatabase();
    try {
      const syntax = await errorOf(database.url, (prisma) => prisma.$queryRawUnsafe('SELEC 1'));
      expect(syntax).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(syntax)).toBe(false);
      const duplicate = await errorOf(database.url, async (prisma) => {
        const data = { email: 'same@example.com', passwordHash: 'x', displayName: 'Same' };
        await prisma.user.create({ data });
        await prisma.user.create({ data });
      });
      expect(duplicate).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(duplicate)).toBe(false);
      expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    } finally {
      await database.drop();
    }
  });
});
