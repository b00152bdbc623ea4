import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityDocument, LogoutAllDocument } from '../generated/graphql.js';
import { allowRegistrations, limitedEnv } from '../rate-limit/support.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { openClusterProbe, startRedisCluster, type RunningCluster } from '../support/redis-cluster.js';
import { loginUser, registerUser } from '../support/users.js';
import { denyListFilled } from '../support/deny-list.js';
import { revokedKey } from '../../src/auth/redis-revocation-list.js';
import { codeOf } from '../faults/support.js';

describe('redis cluster node restart', () => {
  let cluster: RunningCluster;
  let gatehouse: TestGatehouse;
  let probe: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    gatehouse = await startGatehouse({ redis: false, env: { ...limitedEnv, REDIS_CLUSTER_NODES: cluster.nodes.join(',') } });
    await allowRegistrations(gatehouse);
    probe = openClusterProbe(cluster);
  }, 90_000);
  afterAll(async () => {
    probe?.disconnect();
    await gatehouse?.close();
    await cluster?.stop();
  });

  it('denies a revoked session after restart', async () => {
    expect(await denyListFilled(gatehouse)).toBe(true);
    const user = await registerUser(gatehouse);
    const other = await loginUser(gatehouse, user.email);
    await gatehouse.op(LogoutAllDocument, { keepCurrent: true }, { token: user.accessToken });
    expect(codeOf(await gatehouse.op(IdentityDocument, {}, { token: other.accessToken }))).toBe('UNAUTHENTICATED');

    const key = revokedKey({ userId: user.user.id, sessionId: other.session.id });
    const slot = await probe.cluster('KEYSLOT', key);
    const shards = (await probe.cluster('SHARDS')) as unknown[];
    const node = nodeOfSlot(shards, Number(slot));
    await cluster.restart(node);
    expect(await probe.exists(key)).toBe(0);

    // Each request either fails over to PostgreSQL or reads a deny-list filled again.
    for (let request = 0; request < 10; request++) {
      const response = await gatehouse.op(IdentityDocument, {}, { token: other.accessToken });
      expect(codeOf(response)).toBe('UNAUTHENTICATED');
    }
    const own = await gatehouse.op(IdentityDocument, {}, { token: user.accessToken });
    expect(own.body.data?.identity.userId).toBe(user.user.id);
  }, 60_000);
});

/** Returns `host:port` of the master that serves `slot`, from a CLUSTER SHARDS reply. */
function nodeOfSlot(shards: unknown[], slot: number): string {
  for (const shard of shards as unknown[][]) {
    const fields = new Map<string, unknown>();
    for (let index = 0; index < shard.length; index += 2) fields.set(String(shard[index]), shard[index + 1]);
    const ranges = fields.get('slots') as (number | string)[];
    for (let index = 0; index < ranges.length; index += 2) {
      if (slot < Number(ranges[index]) || slot > Number(ranges[index + 1])) continue;
      const node = (fields.get('nodes') as unknown[][])[0]!;
      const nodeFields = new Map<string, unknown>();
      for (let field = 0; field < node.length; field += 2) nodeFields.set(String(node[field]), node[field + 1]);

      return `127.0.0.1:${String(nodeFields.get('port'))}`;
    }
  }
  throw new Error(`no master serves slot ${slot}`);
}
