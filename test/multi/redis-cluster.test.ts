import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityDocument, LoginDocument, LogoutAllDocument, RateLimitDocument } from '../generated/graphql.js';
import { allowRegistrations, commandCount, countDelta, limitedEnv, setRule } from '../rate-limit/support.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { openClusterProbe, startRedisCluster, type RunningCluster } from '../support/redis-cluster.js';
import { loginUser, registerUser } from '../support/users.js';
import { boundedGql, eventually, sleep } from '../faults/support.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { denyListFilled } from '../support/deny-list.js';
import type { RedisClient } from '../../src/state/redis.js';

const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions?.code;

/** Records the name of every command the cluster client sends, until `restore`. */
function recordClusterCommands(client: RedisClient): { names: string[]; restore(): void } {
  const cluster = client as Cluster;
  const names: string[] = [];
  const original = cluster.sendCommand.bind(cluster);
  cluster.sendCommand = ((...args: Parameters<Cluster['sendCommand']>) => {
    names.push(args[0].name);
    return original(...args);
  }) as Cluster['sendCommand'];

  return { names, restore: () => void (cluster.sendCommand = original) };
}

/** Calls per command name summed over every master of the cluster, from INFO commandstats. */
async function clusterCommandCount(probe: Cluster): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const node of probe.nodes('master')) {
    for (const [name, calls] of await commandCount(node)) counts.set(name, (counts.get(name) ?? 0) + calls);
  }

  return counts;
}

describe('gatehouse on a redis cluster', () => {
  let cluster: RunningCluster;
  let gatehouse: TestGatehouse;
  let probe: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    gatehouse = await startGatehouse({
      redis: false,
      env: { ...limitedEnv, REDIS_CLUSTER_NODES: cluster.nodes.join(','), LOGIN_MAX_FAILURES_PER_EMAIL: '3' },
    });
    await allowRegistrations(gatehouse);
    await setRule(gatehouse, { operation: 'me', points: 2, failMode: 'closed' });
    probe = openClusterProbe(cluster);
  }, 90_000);
  afterAll(async () => {
    probe?.disconnect();
    await gatehouse?.close();
    await cluster?.stop();
  });

  it('uses the cluster client', () => {
    expect(gatehouse.app.redis).toBeInstanceOf(Cluster);
    expect(gatehouse.app.redis?.status).toBe('ready');
  });

  it('logs in and authenticates', async () => {
    const user = await registerUser(gatehouse);
    const login = await loginUser(gatehouse, user.email);
    const identity = await gatehouse.op(IdentityDocument, {}, { token: login.accessToken });
    expect(identity.body.data?.identity.sessionId).toBe(login.session.id);
  });

  it('sends one command per authenticated request', async () => {
    expect(await denyListFilled(gatehouse)).toBe(true);
    const user = await registerUser(gatehouse);
    // The first use loads the script and records lastUsedAt. Later uses within the minute do neither.
    await gatehouse.op(IdentityDocument, {}, { token: user.accessToken });
    const before = await clusterCommandCount(probe);
    const sent = recordClusterCommands(gatehouse.app.redis!);
    let response;
    try {
      response = await gatehouse.op(IdentityDocument, {}, { token: user.accessToken });
    } finally {
      sent.restore();
    }
    const delta = countDelta(before, await clusterCommandCount(probe));
    expect(response.body.data?.identity.sessionId).toBe(user.session.id);
    expect(sent.names).toEqual(['evalsha']);
    expect(delta.get('evalsha')).toBe(1);
    // The script read the session's deny-list entry.
    expect(delta.get('exists')).toBe(1);
  });

  it('rejects a revoked session in the quota script', async () => {
    expect(await denyListFilled(gatehouse)).toBe(true);
    const user = await registerUser(gatehouse);
    const other = await loginUser(gatehouse, user.email);
    await gatehouse.op(IdentityDocument, {}, { token: other.accessToken });
    await gatehouse.op(LogoutAllDocument, { keepCurrent: true }, { token: user.accessToken });
    const sent = recordClusterCommands(gatehouse.app.redis!);
    let response;
    try {
      response = await gatehouse.op(IdentityDocument, {}, { token: other.accessToken });
    } finally {
      sent.restore();
    }
    expect(codeOf(response)).toBe('UNAUTHENTICATED');
    // The first call found the entry and consumed nothing. The second charged the client address.
    expect(sent.names).toEqual(['evalsha', 'evalsha']);
  });

  it('keeps deny-list and quota keys of a user in one slot', async () => {
    const user = await registerUser(gatehouse);
    const sessions = [user, ...(await Promise.all([1, 2, 3].map(() => loginUser(gatehouse, user.email))))];
    const quotaSlot = await probe.cluster('KEYSLOT', `gatehouse:rl:{user:${user.user.id}}:free:*:minute`);
    const slotOf = (key: string) => probe.cluster('KEYSLOT', key);
    const keys = sessions.map((session) => `gatehouse:revoked:{user:${user.user.id}}:${session.session.id}`);
    expect(new Set(await Promise.all(keys.map(slotOf)))).toEqual(new Set([quotaSlot]));
    // Entries are also written under the key names of the previous version, which spread over slots.
    const legacyKeys = sessions.map((session) => `gatehouse:revoked:${session.session.id}`);
    expect(new Set(await Promise.all(legacyKeys.map(slotOf))).size).toBeGreaterThan(1);

    const loggedOut = await gatehouse.op(LogoutAllDocument, {}, { token: user.accessToken });
    expect(loggedOut.body.data?.logoutAll).toBe(4);
    for (const [index, session] of sessions.entries()) {
      expect(await probe.exists(keys[index]!)).toBe(1);
      expect(await probe.exists(legacyKeys[index]!)).toBe(1);
      expect(codeOf(await gatehouse.op(IdentityDocument, {}, { token: session.accessToken }))).toBe('UNAUTHENTICATED');
    }
    expect(gatehouse.logs.filter((line) => line.msg === 'revocation not written to redis')).toEqual([]);
  });

  it('counts quotas in the cluster', async () => {
    const user = await registerUser(gatehouse);
    const status = await gatehouse.op(RateLimitDocument, {}, { token: user.accessToken });
    const extension = status.body.extensions?.rateLimit as { degraded: boolean; windows: unknown[] };
    expect(extension.degraded).toBe(false);
    expect(extension.windows.length).toBeGreaterThan(1);

    const responses = [];
    for (let request = 0; request < 3; request++) {
      responses.push(await gatehouse.gql({ query: '{ me { id } }', token: user.accessToken }));
    }
    expect(responses.map((response) => response.status)).toEqual([200, 200, 429]);
    expect(codeOf(responses[2]!)).toBe('RATE_LIMITED');
    const keys = await Promise.all(probe.nodes('master').map((node) => node.keys(`gatehouse:rl:*${user.user.id}*`)));
    expect(keys.flat().length).toBeGreaterThan(0);
  });

  it('locks an email after failed logins', async () => {
    const user = await registerUser(gatehouse);
    const input = { email: user.email, password: 'wrong password 123' };
    const codes = [];
    for (let attempt = 0; attempt < 4; attempt++) codes.push(codeOf(await gatehouse.op(LoginDocument, { input })));
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
    const keys = await Promise.all(probe.nodes('master').map((node) => node.keys('gatehouse:login:email:*')));
    expect(keys.flat().length).toBeGreaterThan(0);
  });

  it('logs no redis error', () => {
    const errors = gatehouse.logs.filter((line) => (line.level as number) >= 50 && String(line.msg).includes('redis'));
    expect(errors).toEqual([]);
  });

  // Runs last: it stops the cluster for good.
  it('keeps serving when the cluster is gone', async () => {
    const user = await registerUser(gatehouse);
    const revoked = await loginUser(gatehouse, user.email);
    await gatehouse.gql({ query: 'mutation ($id: ID!) { revokeSession(id: $id) }', variables: { id: revoked.session.id }, token: user.accessToken });
    probe.disconnect();
    await cluster.stop();

    for (let request = 0; request < 5; request++) {
      const response = await boundedGql(gatehouse.url, { query: '{ rateLimit { degraded } identity { userId } }', token: user.accessToken });
      expect(response.hung).toBe(false);
      expect(response.status).toBe(200);
      expect((response.body.extensions?.rateLimit as { degraded: boolean }).degraded).toBe(true);
    }
    const rejected = await boundedGql(gatehouse.url, { query: '{ identity { userId } }', token: revoked.accessToken });
    expect(codeOf(rejected)).toBe('UNAUTHENTICATED');
    // The cluster client reports the outage when its next slot refresh fails, after the requests.
    const outages = () => gatehouse.logs.filter((line) => line.msg === 'redis cluster unreachable; retrying in the background');
    expect(await eventually(async () => outages().length > 0)).toBe(true);
    // Several more reconnect attempts fail (the retry delay is at most 2 s), yet one line stays.
    await sleep(4000);
    expect(outages()).toHaveLength(1);
  });
});

describe('REDIS_CLUSTER_NODES', () => {
  it('accepts host:port entries', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, [::1]:7001,redis-a.internal:7002' });
    expect(config.redisClusterNodes).toEqual(['127.0.0.1:7000', '[::1]:7001', 'redis-a.internal:7002']);
  });

  it.each(['127.0.0.1', 'redis://127.0.0.1:7000', '127.0.0.1:port', ':7000'])('rejects %s', (nodes) => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: nodes })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: nodes })).toThrow(/REDIS_CLUSTER_NODES/);
  });
});
