import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { PermissionService } from '../../src/rbac/permission-service.js';
import { CheckPermissionDocument, CheckPermissionsDocument } from '../generated/graphql.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { addMember, createWorkspace, expectError, newUser, type Member } from './helpers.js';

describe.each(backends)('permission checks on %s', (backend) => {
  let gatehouse: TestGatehouse;
  let owner: Member;
  let editor: Member;
  let workspaceId: string;
  let foreignId: string;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
    owner = await newUser(gatehouse);
    editor = await newUser(gatehouse);
    workspaceId = (await createWorkspace(gatehouse, owner, 'Checked')).id;
    await addMember(gatehouse, owner, workspaceId, editor, 'EDITOR');
    foreignId = (await createWorkspace(gatehouse, await newUser(gatehouse), 'Elsewhere')).id;
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('checks the caller by default', async () => {
    const enough = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId, minimumRole: 'EDITOR' },
      { token: editor.accessToken },
    );
    expect(enough.body.data?.checkPermission).toEqual({ allowed: true, role: 'EDITOR', reason: 'ROLE_SUFFICIENT' });
    const tooLow = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId, minimumRole: 'ADMIN' },
      { token: editor.accessToken },
    );
    expect(tooLow.body.data?.checkPermission).toEqual({ allowed: false, role: 'EDITOR', reason: 'ROLE_INSUFFICIENT' });
  });

  it('answers a foreign and a missing workspace alike', async () => {
    const foreign = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId: foreignId, minimumRole: 'VIEWER' },
      { token: editor.accessToken },
    );
    const missing = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId: '00000000-0000-4000-8000-000000000000', minimumRole: 'VIEWER' },
      { token: editor.accessToken },
    );
    const expected = { allowed: false, role: null, reason: 'NOT_A_MEMBER' };
    expect(foreign.body.data?.checkPermission).toEqual(expected);
    expect(missing.body.data?.checkPermission).toEqual(expected);
  });

  it('checks other users only for platform admins', async () => {
    const denied = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId, minimumRole: 'VIEWER', userId: owner.user.id },
      { token: editor.accessToken },
    );
    expectError(denied, 'FORBIDDEN', ['checkPermission']);
    const platformAdmin = await newUser(gatehouse, { platformAdmin: true });
    const allowed = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId, minimumRole: 'OWNER', userId: owner.user.id },
      { token: platformAdmin.accessToken },
    );
    expect(allowed.body.data?.checkPermission).toEqual({ allowed: true, role: 'OWNER', reason: 'ROLE_SUFFICIENT' });
    const itself = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId: foreignId, minimumRole: 'OWNER' },
      { token: platformAdmin.accessToken },
    );
    expect(itself.body.data?.checkPermission).toEqual({ allowed: true, role: null, reason: 'PLATFORM_ADMIN' });
  });

  it('answers a batch in order', async () => {
    const response = await gatehouse.op(
      CheckPermissionsDocument,
      {
        checks: [
          { workspaceId, minimumRole: 'VIEWER' },
          { workspaceId, minimumRole: 'OWNER' },
          { workspaceId: foreignId, minimumRole: 'VIEWER' },
          { workspaceId: 'not-a-uuid', minimumRole: 'VIEWER' },
        ],
      },
      { token: editor.accessToken },
    );
    expect(response.body.data?.checkPermissions.map((result) => result.reason)).toEqual([
      'ROLE_SUFFICIENT',
      'ROLE_INSUFFICIENT',
      'NOT_A_MEMBER',
      'NOT_A_MEMBER',
    ]);
    const tooMany = await gatehouse.op(
      CheckPermissionsDocument,
      { checks: Array.from({ length: 101 }, () => ({ workspaceId, minimumRole: 'VIEWER' as const })) },
      { token: editor.accessToken },
    );
    expectError(tooMany, 'BAD_USER_INPUT', ['checkPermissions']);
  });

  it('denies disabled users like non-members', async () => {
    const disabledEditor = await newUser(gatehouse);
    await addMember(gatehouse, owner, workspaceId, disabledEditor, 'EDITOR');
    const disabledAdmin = await newUser(gatehouse, { platformAdmin: true });
    const prisma = gatehouse.app.services.prisma;
    await prisma.user.updateMany({
      where: { id: { in: [disabledEditor.user.id, disabledAdmin.user.id] } },
      data: { disabled: true },
    });
    const platformAdmin = await newUser(gatehouse, { platformAdmin: true });
    const notAMember = { allowed: false, role: null, reason: 'NOT_A_MEMBER' };

    const single = await gatehouse.op(
      CheckPermissionDocument,
      { workspaceId, minimumRole: 'VIEWER', userId: disabledEditor.user.id },
      { token: platformAdmin.accessToken },
    );
    expect(single.body.errors).toBeUndefined();
    expect(single.body.data?.checkPermission).toEqual(notAMember);

    const batch = await gatehouse.op(
      CheckPermissionsDocument,
      {
        checks: [
          { workspaceId, minimumRole: 'VIEWER', userId: disabledEditor.user.id },
          { workspaceId, minimumRole: 'VIEWER', userId: disabledAdmin.user.id },
          { workspaceId: foreignId, minimumRole: 'VIEWER', userId: disabledAdmin.user.id },
          { workspaceId, minimumRole: 'VIEWER', userId: editor.user.id },
        ],
      },
      { token: platformAdmin.accessToken },
    );
    expect(batch.body.errors).toBeUndefined();
    const results = batch.body.data?.checkPermissions;
    expect(results?.[0]).toEqual(notAMember);
    expect(results?.[1]).toEqual(notAMember);
    expect(results?.[2]).toEqual(notAMember);
    expect(results?.[3]).toEqual({ allowed: true, role: 'EDITOR', reason: 'ROLE_SUFFICIENT' });
  });

  it('sends one query for a batch', async () => {
    const operations: string[] = [];
    const counting = gatehouse.app.services.prisma.$extends({
      query: {
        async $allOperations({ operation, args, query }) {
          operations.push(operation);
          return query(args);
        },
      },
    }) as unknown as PrismaClient;
    const service = new PermissionService(counting);
    const actor = { userId: owner.user.id, sessionId: null, isPlatformAdmin: false, origin: { ip: null, userAgent: null } };
    const checks = Array.from({ length: 20 }, (_, index) => ({
      workspaceId: index % 2 === 0 ? workspaceId : foreignId,
      minimumRole: 'admin' as const,
      userId: owner.user.id,
    }));
    const results = await service.check(actor, checks);
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
    // One set_config statement sets the role and caller of the scoped transaction, then one
    // SELECT returns all 20 results.
    expect(operations).toEqual(['$queryRaw', '$queryRaw']);
  });
});
