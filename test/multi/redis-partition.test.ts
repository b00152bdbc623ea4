import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedGql, codeOf, eventually } from '../faults/support.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { loginUser, registerUser } from '../support/users.js';

/** Forwards 127.0.0.1:<port> to Redis, so closing it cuts one instance off while the other stays. */
async function startForwarder(redisPort: number): Promise<{ url: string; cut(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

describe('one instance cut off from redis', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: RunningServer & { port: number };
  let forwarder: Awaited<ReturnType<typeof startForwarder>>;
  let cutOff: TestGatehouse;
  let connected: TestGatehouse;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startRedis();
    forwarder = await startForwarder(redis.port);
    const env = { SESSION_CLEANUP_INTERVAL_SECONDS: '0' };
    cutOff = await startGatehouse({ databaseUrl: database.url, env: { ...env, REDIS_URL: forwarder.url } });
    // Every instance shares the signing key, as a deployment shares JWT_PRIVATE_JWKS.
    connected = await startGatehouse({
      databaseUrl: database.url,
      dataDir: cutOff.config.dataDir,
      env: { ...env, REDIS_URL: redis.url },
    });
  }, 90_000);
  afterAll(async () => {
    forwarder?.cut();
    await connected?.close();
    await cutOff?.close();
    await redis?.stop();
    await database?.drop();
  });

  /** Signs a user in twice, checks the second session on the connected instance, and cuts the other instance off. */
  async function cutOffWithLiveSession() {
    const user = await registerUser(connected);
    const other = await loginUser(connected, user.email);
    const identity = () => boundedGql(connected.url, { query: '{ identity { sessionId } }', token: other.accessToken });
    expect(codeOf(await identity())).toBeUndefined();

    forwarder.cut();
    expect(await eventually(async () => cutOff.app.redis?.status !== 'ready')).toBe(true);

    return { user, other, identity };
  }

  it('revocation reaches the connected instance', async () => {
    const { user, other, identity } = await cutOffWithLiveSession();
    const revoked = await boundedGql(cutOff.url, {
      query: `mutation { revokeSession(id: "${other.session.id}") }`,
      token: user.accessToken,
    });
    expect(codeOf(revoked)).toBeUndefined();
    expect(revoked.body.data?.revokeSession).toBe(true);

    // The instance connected to Redis trusts its deny-list, so the entry must get there.
    expect(await eventually(async () => codeOf(await identity()) === 'UNAUTHENTICATED')).toBe(true);
    expect(codeOf(await boundedGql(cutOff.url, { query: '{ identity { sessionId } }', token: other.accessToken }))).toBe(
      'UNAUTHENTICATED',
    );
  }, 60_000);

  it('revocation missed by a lost listener reaches redis', async () => {
    const { user, other, identity } = await cutOffWithLiveSession();
    const onRelayChannel = (line: Record<string, unknown>) => line.channel === 'gatehouse_revocations';
    const connects = () => connected.logs.filter((line) => onRelayChannel(line) && line.msg === 'database listener connected').length;
    const connectsBefore = connects();
    const losses = () => connected.logs.filter((line) => line.msg === 'relayed revocations may be missed until the database listener is back');
    const lossesBefore = losses().length;
    // Ends the relay listeners of both instances. Each connects again after 0.5 s.
    await connected.app.db.prisma.$queryRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gatehouse-revocation-listener'`;
    expect(await eventually(async () => losses().length > lossesBefore, 50)).toBe(true);
    // Revoked through the cut-off instance while the connected one cannot receive the relay.
    const origin = { ip: '127.0.0.1', userAgent: 'redis-partition test' };
    expect(await cutOff.app.services.sessions.revokeSession(user.user.id, other.session.id, 'test', origin, null)).toBe(true);

    expect(await eventually(async () => connects() > connectsBefore)).toBe(true);
    expect(await eventually(async () => codeOf(await identity()) === 'UNAUTHENTICATED')).toBe(true);
  }, 60_000);
});
