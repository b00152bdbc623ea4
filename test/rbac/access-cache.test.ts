import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessCache, type AccessSnapshot } from '../../src/rbac/access-cache.js';
import { ChangeMemberRoleDocument, MyRoleDocument, RateLimitConfigsDocument } from '../generated/graphql.js';
import { backends, startGatehouse, startInstancePair, type InstancePair, type TestGatehouse } from '../support/gatehouse.js';
import { addMember, createWorkspace, newUser, type Member } from './helpers.js';
import { hasOpenSocketOnPort } from '../support/sockets.js';

const snapshot = (role: 'viewer' | 'owner'): AccessSnapshot => ({ roles: new Map([['w', role]]) });

/** A cache over a loader that counts its calls and returns what `next` holds. */
function countingCache(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
  const state = { loads: 0, next: snapshot('viewer') };
  const cache = new AccessCache({
    ttlMs: options.ttlMs ?? 60_000,
    maxEntries: options.maxEntries,
    now: options.now,
    load: async () => {
      state.loads += 1;
      return state.next;
    },
  });

  return { cache, state };
}

/** A cache whose first read waits for `release`; later reads return the owner role at once. */
function heldFirstRead() {
  const state = { loads: 0 };
  let release: (value: AccessSnapshot) => void = () => undefined;
  const cache = new AccessCache({
    ttlMs: 60_000,
    load: () => {
      state.loads += 1;
      if (state.loads > 1) return Promise.resolve(snapshot('owner'));

      return new Promise((resolve) => (release = resolve));
    },
  });

  return { cache, state, release: (value: AccessSnapshot) => release(value) };
}

describe('access cache', () => {
  it('loads every time while inactive', async () => {
    const { cache, state } = countingCache();
    await cache.get('u');
    await cache.get('u');
    expect(state.loads).toBe(2);
    cache.activate();
    await cache.get('u');
    await cache.get('u');
    expect(state.loads).toBe(3);
    cache.deactivate();
    expect(cache.size).toBe(0);
    await cache.get('u');
    expect(state.loads).toBe(4);
  });

  it('serves an entry until forgotten', async () => {
    const { cache, state } = countingCache();
    cache.activate();
    expect((await cache.get('u')).roles.get('w')).toBe('viewer');
    state.next = snapshot('owner');
    expect((await cache.get('u')).roles.get('w')).toBe('viewer');
    cache.forget('u');
    expect((await cache.get('u')).roles.get('w')).toBe('owner');
    expect(state.loads).toBe(2);
  });

  it('drops a read overtaken by a change', async () => {
    const { cache, state, release } = heldFirstRead();
    cache.activate();
    const stale = cache.get('u');
    cache.forget('u');
    release(snapshot('viewer'));
    expect((await stale).roles.get('w')).toBe('viewer');
    expect((await cache.get('u')).roles.get('w')).toBe('owner');
    expect(state.loads).toBe(2);
  });

  it('keeps a read when another user changes', async () => {
    const { cache, state, release } = heldFirstRead();
    cache.activate();
    const read = cache.get('u');
    cache.forget('someone else');
    release(snapshot('viewer'));
    await read;
    expect((await cache.get('u')).roles.get('w')).toBe('viewer');
    expect(state.loads).toBe(1);
  });

  it('shares one concurrent read', async () => {
    const { cache, state } = countingCache();
    cache.activate();
    await Promise.all(Array.from({ length: 20 }, () => cache.get('u')));
    expect(state.loads).toBe(1);
  });

  it('reloads an expired entry', async () => {
    let now = 1_000;
    const { cache, state } = countingCache({ ttlMs: 500, now: () => now });
    cache.activate();
    await cache.get('u');
    now += 499;
    await cache.get('u');
    expect(state.loads).toBe(1);
    now += 1;
    await cache.get('u');
    expect(state.loads).toBe(2);
  });

  it('evicts beyond maxEntries', async () => {
    const { cache, state } = countingCache({ maxEntries: 2 });
    cache.activate();
    for (const user of ['a', 'b', 'c']) await cache.get(user);
    expect(cache.size).toBe(2);
    await cache.get('c');
    expect(state.loads).toBe(3);
    await cache.get('a');
    expect(state.loads).toBe(4);
  });

  it('never caches with ttl 0', async () => {
    const { cache, state } = countingCache({ ttlMs: 0 });
    cache.activate();
    await cache.get('u');
    await cache.get('u');
    expect(state.loads).toBe(2);
    expect(cache.active).toBe(false);
  });
});

/** Membership reads of one user so far, from the server's debug log. */
const loadsOf = (gatehouse: TestGatehouse, userId: string) =>
  gatehouse.logs.filter((line) => line.msg === 'caller access loaded' && line.userId === userId).length;

/**
 * Sends the role query until one request reads no memberships, at most 20 times, and returns
 * whether that happened. A notification of an earlier change can still arrive and drop the
 * first entries, so a single warm-up request is not enough.
 */
async function servedFromCache(gatehouse: TestGatehouse, member: Member, workspaceId: string): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const before = loadsOf(gatehouse, member.user.id);
    await gatehouse.op(MyRoleDocument, { workspaceId }, { token: member.accessToken });
    if (loadsOf(gatehouse, member.user.id) === before) return true;
  }

  return false;
}

/** Asks for the member's role until it is `expected`, at most 100 times over about 5 s. */
async function eventualRole(gatehouse: TestGatehouse, member: Member, workspaceId: string, expected: string | null) {
  let role: string | null | undefined;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const response = await gatehouse.op(MyRoleDocument, { workspaceId }, { token: member.accessToken });
    role = response.body.data?.myRole ?? (response.body.errors ? 'error' : null);
    if (role === expected) return role;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return role;
}

// The maximum lifetime: within a test, only a notification or a local change can refresh an entry.
const env = { LOG_LEVEL: 'debug', ACCESS_CACHE_SECONDS: '300' };

describe.each(backends)('access cache on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend, env });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('repeated role check reads nothing', async () => {
    const owner = await newUser(gatehouse);
    const workspace = await createWorkspace(gatehouse, owner);
    expect(await servedFromCache(gatehouse, owner, workspace.id)).toBe(true);
    const before = loadsOf(gatehouse, owner.user.id);
    const response = await gatehouse.op(MyRoleDocument, { workspaceId: workspace.id }, { token: owner.accessToken });
    expect(response.body.data?.myRole).toBe('OWNER');
    expect(loadsOf(gatehouse, owner.user.id)).toBe(before);
  });

  it('API role change visible next request', async () => {
    const owner = await newUser(gatehouse);
    const member = await newUser(gatehouse);
    const workspace = await createWorkspace(gatehouse, owner);
    const memberId = await addMember(gatehouse, owner, workspace.id, member, 'VIEWER');
    expect((await gatehouse.op(MyRoleDocument, { workspaceId: workspace.id }, { token: member.accessToken })).body.data?.myRole).toBe('VIEWER');
    const changed = await gatehouse.op(
      ChangeMemberRoleDocument,
      { workspaceId: workspace.id, memberId, role: 'ADMIN' },
      { token: owner.accessToken },
    );
    expect(changed.body.errors).toBeUndefined();
    expect((await gatehouse.op(MyRoleDocument, { workspaceId: workspace.id }, { token: member.accessToken })).body.data?.myRole).toBe('ADMIN');
  });

  /** Adds a new user to a new workspace as VIEWER and waits until the server reports that role. */
  const newViewer = async () => {
    const owner = await newUser(gatehouse);
    const member = await newUser(gatehouse);
    const workspace = await createWorkspace(gatehouse, owner);
    await addMember(gatehouse, owner, workspace.id, member, 'VIEWER');
    expect(await eventualRole(gatehouse, member, workspace.id, 'VIEWER')).toBe('VIEWER');

    return { member, workspace };
  };

  it('sees changes made with SQL', async () => {
    const { prisma } = gatehouse.app.services;
    const { member, workspace } = await newViewer();
    await prisma.$executeRaw`UPDATE workspace_members SET role = 'editor' WHERE user_id = ${member.user.id}::uuid`;
    expect(await eventualRole(gatehouse, member, workspace.id, 'EDITOR')).toBe('EDITOR');
  });

  it('sees changes applied in replica mode', async () => {
    const { prisma } = gatehouse.app.services;
    const { member, workspace } = await newViewer();
    expect(await servedFromCache(gatehouse, member, workspace.id)).toBe(true);
    // A logical replication subscriber applies changes in this mode, where ordinary triggers stay silent.
    await prisma.$transaction([
      prisma.$executeRawUnsafe('SET LOCAL session_replication_role = replica'),
      prisma.$executeRaw`UPDATE workspace_members SET role = 'editor' WHERE user_id = ${member.user.id}::uuid`,
    ]);
    expect(await eventualRole(gatehouse, member, workspace.id, 'EDITOR')).toBe('EDITOR');
  });

  it('reads the admin flag on every request', async () => {
    const { prisma } = gatehouse.app.services;
    const admin = await newUser(gatehouse, { platformAdmin: true });
    const asAdmin = () => gatehouse.op(RateLimitConfigsDocument, {}, { token: admin.accessToken });
    expect((await asAdmin()).body.errors).toBeUndefined();
    await prisma.$executeRaw`UPDATE users SET is_platform_admin = false WHERE id = ${admin.user.id}::uuid`;
    expect((await asAdmin()).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('drops every entry after a TRUNCATE', async () => {
    const owner = await newUser(gatehouse);
    const workspace = await createWorkspace(gatehouse, owner);
    expect(await eventualRole(gatehouse, owner, workspace.id, 'OWNER')).toBe('OWNER');
    await gatehouse.app.services.prisma.$executeRaw`TRUNCATE workspace_members`;
    expect(await eventualRole(gatehouse, owner, workspace.id, null)).toBeNull();
  });
});

describe('access cache across instances', () => {
  let pair: InstancePair;
  let first: TestGatehouse;
  let second: TestGatehouse;
  const offMessage = 'access cache off until the database listener is back: role checks read the database';

  beforeAll(async () => {
    pair = await startInstancePair(env);
    ({ first, second } = pair);
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('change on one instance reaches another', async () => {
    const owner = await newUser(first);
    const member = await newUser(first);
    const workspace = await createWorkspace(first, owner);
    const memberId = await addMember(first, owner, workspace.id, member, 'VIEWER');
    expect(await eventualRole(second, member, workspace.id, 'VIEWER')).toBe('VIEWER');
    await first.op(ChangeMemberRoleDocument, { workspaceId: workspace.id, memberId, role: 'EDITOR' }, { token: owner.accessToken });
    expect(await eventualRole(second, member, workspace.id, 'EDITOR')).toBe('EDITOR');
  });

  it('local change applies without notification', async () => {
    const owner = await newUser(first);
    const member = await newUser(first);
    const workspace = await createWorkspace(first, owner);
    const memberId = await addMember(first, owner, workspace.id, member, 'VIEWER');
    expect(await eventualRole(first, member, workspace.id, 'VIEWER')).toBe('VIEWER');
    expect(await servedFromCache(first, member, workspace.id)).toBe(true);
    expect(await eventualRole(second, member, workspace.id, 'VIEWER')).toBe('VIEWER');
    expect(await servedFromCache(second, member, workspace.id)).toBe(true);

    // With the trigger disabled no notification is sent, so only the local forgetAll() refreshes the entry.
    const { prisma } = first.app.services;
    await prisma.$executeRawUnsafe('ALTER TABLE workspace_members DISABLE TRIGGER workspace_members_notify_access');
    try {
      const changed = await first.op(
        ChangeMemberRoleDocument,
        { workspaceId: workspace.id, memberId, role: 'EDITOR' },
        { token: owner.accessToken },
      );
      expect(changed.body.errors).toBeUndefined();
      const onFirst = await first.op(MyRoleDocument, { workspaceId: workspace.id }, { token: member.accessToken });
      expect(onFirst.body.data?.myRole).toBe('EDITOR');
      // The other instance still serves its cached entry, which shows that no notification came.
      const onSecond = await second.op(MyRoleDocument, { workspaceId: workspace.id }, { token: member.accessToken });
      expect(onSecond.body.data?.myRole).toBe('VIEWER');
    } finally {
      await prisma.$executeRawUnsafe('ALTER TABLE workspace_members ENABLE TRIGGER workspace_members_notify_access');
    }
    // Clears the stale entry of the second instance for the tests after this one.
    await prisma.$executeRaw`UPDATE workspace_members SET role = 'editor' WHERE user_id = ${member.user.id}::uuid`;
    expect(await eventualRole(second, member, workspace.id, 'EDITOR')).toBe('EDITOR');
  });

  /**
   * Gives a member a viewer role that the second instance has cached, and reads the second
   * instance's listener log counts before a test breaks its listener.
   */
  async function cachedViewerAndListenerCounts() {
    const owner = await newUser(first);
    const member = await newUser(first);
    const workspace = await createWorkspace(first, owner);
    await addMember(first, owner, workspace.id, member, 'VIEWER');
    expect(await eventualRole(second, member, workspace.id, 'VIEWER')).toBe('VIEWER');
    const count = (gatehouse: TestGatehouse, message: string) => gatehouse.logs.filter((line) => line.msg === message).length;

    const connectedBefore = count(second, 'database listener connected');
    const offBefore = count(second, offMessage);

    return { member, workspace, count, connectedBefore, offBefore };
  }

  it('listener loss and reconnection', async () => {
    const { member, workspace, count, connectedBefore, offBefore } = await cachedViewerAndListenerCounts();

    // The second argument waits until the listeners' backends have exited.
    await first.app.services.prisma.$executeRaw`
      SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
      WHERE application_name = 'gatehouse-listener' AND datname = current_database()`;
    for (let attempt = 0; attempt < 100 && count(second, offMessage) === offBefore; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(count(second, offMessage)).toBe(offBefore + 1);
    expect(second.app.services.rbac.access.active).toBe(false);
    await first.app.services.prisma.$executeRaw`
      UPDATE workspace_members SET role = 'admin' WHERE user_id = ${member.user.id}::uuid`;
    const role = await second.op(MyRoleDocument, { workspaceId: workspace.id }, { token: member.accessToken });
    expect(role.body.data?.myRole).toBe('ADMIN');

    for (let attempt = 0; attempt < 100 && count(second, 'database listener connected') === connectedBefore; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(count(second, 'database listener connected')).toBe(connectedBefore + 1);
    expect(second.app.services.rbac.access.active).toBe(true);
    expect(await servedFromCache(second, member, workspace.id)).toBe(true);
  });

  // The listener probes every 10 s and waits 5 s for the reply, so this test takes about 15 s.
  it('listener behind a silent peer', { timeout: 90_000 }, async () => {
    const { member, workspace, count, connectedBefore, offBefore } = await cachedViewerAndListenerCounts();
    const prisma = first.app.services.prisma;
    const backends = await prisma.$queryRaw<{ pid: number; client_port: number }[]>`
      SELECT pid, client_port FROM pg_stat_activity
      WHERE application_name = 'gatehouse-listener' AND datname = current_database()`;
    // Both instances of the pair listen, and both run in this process.
    expect(backends).toHaveLength(2);
    for (const backend of backends) expect(hasOpenSocketOnPort(backend.client_port)).toBe(true);

    // A stopped backend reads nothing and sends nothing, but its kernel keeps the connection
    // open: the listener gets what it would get behind a peer that vanished without FIN or RST.
    for (const backend of backends) process.kill(backend.pid, 'SIGSTOP');
    try {
      for (let attempt = 0; attempt < 400 && count(second, 'database listener connected') === connectedBefore; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(count(second, offMessage)).toBe(offBefore + 1);
      expect(count(second, 'database listener connected')).toBe(connectedBefore + 1);
      for (const backend of backends) expect(hasOpenSocketOnPort(backend.client_port)).toBe(false);
    } finally {
      for (const backend of backends) process.kill(backend.pid, 'SIGCONT');
    }

    expect(second.app.services.rbac.access.active).toBe(true);
    expect(await servedFromCache(second, member, workspace.id)).toBe(true);
    await prisma.$executeRaw`UPDATE workspace_members SET role = 'admin' WHERE user_id = ${member.user.id}::uuid`;
    expect(await eventualRole(second, member, workspace.id, 'ADMIN')).toBe('ADMIN');
  });
});

describe('access cache turned off', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ env: { LOG_LEVEL: 'debug', ACCESS_CACHE_SECONDS: '0' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('every role check reads the database', async () => {
    const owner = await newUser(gatehouse);
    const workspace = await createWorkspace(gatehouse, owner);
    await gatehouse.op(MyRoleDocument, { workspaceId: workspace.id }, { token: owner.accessToken });
    const before = loadsOf(gatehouse, owner.user.id);
    const response = await gatehouse.op(MyRoleDocument, { workspaceId: workspace.id }, { token: owner.accessToken });
    expect(response.body.data?.myRole).toBe('OWNER');
    expect(loadsOf(gatehouse, owner.user.id)).toBe(before + 1);
  });
});
