import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlatformAdmin } from '../../src/auth/platform-admin.js';
import {
  AddMemberDocument,
  AuditLogsDocument,
  CreateWorkspaceDocument,
  UpdateWorkspaceDocument,
  WorkspaceDocument,
  type AuditLogsQuery,
} from '../generated/graphql.js';
import { registerPlatformAdmin } from '../support/admins.js';
import { backends, startGatehouse, type GraphQLResponse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

const eventCount = 1000;
const workspaceA = randomUUID();
const workspaceB = randomUUID();
const base = Date.parse('2026-06-01T00:00:00.000Z');

type User = Awaited<ReturnType<typeof registerUser>>;

/** 1,000 events over two workspaces and four actions; every tenth pair shares a timestamp. */
function seedRows(actorId: string) {
  return Array.from({ length: eventCount }, (_, i) => ({
    action: ['seed.alpha', 'seed.beta', 'seed.gamma', 'seed.delta'][i % 4]!,
    actorId: i % 2 === 0 ? actorId : null,
    targetId: `target-${i % 10}`,
    workspaceId: i % 3 === 0 ? workspaceA : workspaceB,
    ip: i % 5 === 0 ? '10.0.0.5' : '192.0.2.1',
    userAgent: 'seed',
    metadata: { index: i },
    // Pairs of events share a millisecond, so the id breaks ties.
    createdAt: new Date(base + Math.floor(i / 2) * 1000),
  }));
}

describe.each(backends)('auditLogs on %s', (backend) => {
  let gatehouse: TestGatehouse;
  let admin: Awaited<ReturnType<typeof registerPlatformAdmin>>;
  let actorId: string;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
    admin = await registerPlatformAdmin(gatehouse);
    actorId = (await registerUser(gatehouse)).user.id;
    await gatehouse.app.services.prisma.auditLog.createMany({ data: seedRows(actorId) });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  /** Pages through every event matching the filter and returns the metadata indexes in order. */
  async function readAll(filter: Record<string, unknown>, first: number) {
    const indexes: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 200; page++) {
      const response: GraphQLResponse<AuditLogsQuery> = await gatehouse.op(
        AuditLogsDocument,
        { filter, first, after },
        { token: admin.accessToken },
      );
      expect(response.body.errors).toBeUndefined();
      const connection = response.body.data!.auditLogs;
      expect(connection.edges.length).toBeLessThanOrEqual(first);
      indexes.push(...connection.edges.map((edge) => (JSON.parse(edge.node.metadata) as { index: number }).index));
      if (!connection.pageInfo.hasNextPage) return indexes;
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor);
      after = connection.pageInfo.endCursor;
    }
    throw new Error('paging did not end after 200 pages');
  }

  /** Creates a workspace owned by `owner`, adds each member with its role and returns the id. */
  async function createWorkspaceWith(owner: User, name: string, members: [User, 'ADMIN' | 'EDITOR' | 'VIEWER'][]) {
    const created = await gatehouse.op(CreateWorkspaceDocument, { input: { name } }, { token: owner.accessToken });
    const workspaceId = created.body.data!.createWorkspace.id;
    for (const [member, role] of members) {
      const added = await gatehouse.op(AddMemberDocument, { workspaceId, email: member.email, role }, { token: owner.accessToken });
      expect(added.body.errors).toBeUndefined();
    }

    return workspaceId;
  }

  it('admin pages through 1,000 events newest first', async () => {
    // The seeded events lie in June 2026; events of the test's own users are newer.
    const seeded = await readAll({ until: new Date(base + 500_000).toISOString() }, 100);
    expect(seeded).toHaveLength(eventCount);
    expect(new Set(seeded).size).toBe(eventCount);
    // createMany inserts in order, so a higher index has a higher id or a later time.
    expect(seeded).toEqual([...seeded].sort((a, b) => b - a));
  });

  it('filters by action, actor, workspace, ip and time', async () => {
    const beta = await readAll({ action: 'seed.beta' }, 37);
    expect(beta).toHaveLength(eventCount / 4);
    expect(beta.every((index) => index % 4 === 1)).toBe(true);

    const byActor = await readAll({ actorId, action: 'seed.alpha' }, 50);
    expect(byActor).toHaveLength(eventCount / 4);

    const inA = await readAll({ workspaceId: workspaceA }, 100);
    expect(inA).toHaveLength(334);
    expect(inA.every((index) => index % 3 === 0)).toBe(true);

    const byIp = await readAll({ ip: '10.0.0.5', targetId: 'target-0' }, 20);
    expect(byIp).toHaveLength(100);

    const window = await readAll(
      { since: new Date(base + 100_000).toISOString(), until: new Date(base + 109_000).toISOString() },
      7,
    );
    expect(window).toEqual([219, 218, 217, 216, 215, 214, 213, 212, 211, 210, 209, 208, 207, 206, 205, 204, 203, 202, 201, 200]);
  });

  it('defaults to 20 events per page', async () => {
    const response = await gatehouse.op(AuditLogsDocument, {}, { token: admin.accessToken });
    expect(response.body.data?.auditLogs.edges).toHaveLength(20);
    expect(response.body.data?.auditLogs.pageInfo.hasNextPage).toBe(true);
  });

  it.each([
    ['first above 100', { first: 101 }],
    ['first of zero', { first: 0 }],
    ['cursor not from the server', { after: 'not-a-cursor' }],
    ['cursor of other text', { after: Buffer.from('1|2').toString('base64url') }],
    ['actorId not a UUID', { filter: { actorId: 'x' } }],
    ['since after until', { filter: { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' } }],
    ['since before year 0', { filter: { since: '-005000-01-01T00:00:00Z' } }],
    ['until of six digits', { filter: { until: '-271821-04-20T00:00:00.000Z' } }],
    ['since in free text', { filter: { since: 'December 17, 1995 03:24:00' } }],
    ['since on February 30', { filter: { since: '2026-02-30T00:00:00Z' } }],
    ['until on April 31', { filter: { until: '2026-04-31' } }],
  ])('rejects %s as BAD_USER_INPUT', async (_name, variables) => {
    const response = await gatehouse.op(AuditLogsDocument, variables, { token: admin.accessToken });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.data?.auditLogs).toBeUndefined();
  });

  it('anonymous callers are UNAUTHENTICATED', async () => {
    const response = await gatehouse.op(AuditLogsDocument, {});
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('users who are not admins are FORBIDDEN', async () => {
    const user = await registerUser(gatehouse);
    const all = await gatehouse.op(AuditLogsDocument, {}, { token: user.accessToken });
    expect(all.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const workspace = await gatehouse.op(AuditLogsDocument, { filter: { workspaceId: workspaceA } }, { token: user.accessToken });
    expect(workspace.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('workspace admins read only their workspace', async () => {
    const owner = await registerUser(gatehouse);
    const workspaceAdmin = await registerUser(gatehouse);
    const editor = await registerUser(gatehouse);
    const workspaceId = await createWorkspaceWith(owner, 'Audited', [[workspaceAdmin, 'ADMIN'], [editor, 'EDITOR']]);

    const own = await gatehouse.op(AuditLogsDocument, { filter: { workspaceId } }, { token: workspaceAdmin.accessToken });
    expect(own.body.errors).toBeUndefined();
    const actions = own.body.data?.auditLogs.edges.map((edge) => edge.node.action);
    expect(actions).toEqual(['role.granted', 'role.granted', 'workspace.created']);
    expect(own.body.data?.auditLogs.edges.every((edge) => edge.node.workspaceId === workspaceId)).toBe(true);

    const other = await gatehouse.op(AuditLogsDocument, { filter: { workspaceId: workspaceB } }, { token: workspaceAdmin.accessToken });
    expect(other.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unscoped = await gatehouse.op(AuditLogsDocument, {}, { token: workspaceAdmin.accessToken });
    expect(unscoped.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const asEditor = await gatehouse.op(AuditLogsDocument, { filter: { workspaceId } }, { token: editor.accessToken });
    expect(asEditor.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('keeps outsiders\' denials out of the workspace log', async () => {
    const owner = await registerUser(gatehouse);
    const workspaceAdmin = await registerUser(gatehouse);
    const viewer = await registerUser(gatehouse);
    const outsider = await registerUser(gatehouse);
    const workspaceId = await createWorkspaceWith(owner, 'Probed', [[workspaceAdmin, 'ADMIN'], [viewer, 'VIEWER']]);
    const unknownId = randomUUID();
    for (const id of [workspaceId, unknownId]) {
      const probe = await gatehouse.op(WorkspaceDocument, { id }, { token: outsider.accessToken });
      expect(probe.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    const tooLow = await gatehouse.op(UpdateWorkspaceDocument, { workspaceId, input: { name: 'Renamed' } }, { token: viewer.accessToken });
    expect(tooLow.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const own = await gatehouse.op(
      AuditLogsDocument,
      { filter: { workspaceId, action: 'access.denied' } },
      { token: workspaceAdmin.accessToken },
    );
    expect(own.body.errors).toBeUndefined();
    const seenActors = own.body.data?.auditLogs.edges.map((edge) => edge.node.actorId);
    expect(seenActors).toEqual([viewer.user.id]);

    const probes = await gatehouse.op(
      AuditLogsDocument,
      { filter: { actorId: outsider.user.id, action: 'access.denied' } },
      { token: admin.accessToken },
    );
    expect(probes.body.errors).toBeUndefined();
    const nodes = probes.body.data!.auditLogs.edges.map((edge) => edge.node);
    expect(nodes.map((node) => node.workspaceId)).toEqual([null, null]);
    const probed = nodes.map((node) => (JSON.parse(node.metadata) as { workspaceId?: string }).workspaceId);
    expect(probed).toEqual([unknownId, workspaceId]);
  });

  it('reads the admin flag once per request', async () => {
    const { prisma } = gatehouse.app.services;
    let lookups = 0;
    const counting = {
      user: {
        findUnique: (args: Parameters<typeof prisma.user.findUnique>[0]) => {
          lookups += 1;
          return prisma.user.findUnique(args);
        },
      },
    };
    const context = {
      request: new Request('http://127.0.0.1/graphql'),
      identity: { userId: admin.user.id, sessionId: admin.session.id },
      services: { ...gatehouse.app.services, prisma: counting as unknown as typeof prisma },
    };
    expect(await isPlatformAdmin(context)).toBe(true);
    expect(await isPlatformAdmin(context)).toBe(true);
    expect(lookups).toBe(1);
    const otherRequest = { ...context, request: new Request('http://127.0.0.1/graphql') };
    expect(await isPlatformAdmin(otherRequest)).toBe(true);
    expect(lookups).toBe(2);
  });
});
