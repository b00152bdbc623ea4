import bcrypt from 'bcrypt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PasswordHasher } from '../../src/auth/passwords.js';
import {
  AddMemberDocument,
  ChangeMemberRoleDocument,
  ChangePasswordDocument,
  CreateWorkspaceDocument,
  LoginDocument,
  LogoutDocument,
  RefreshPairDocument,
  RegisterDocument,
  SetUserDisabledDocument,
} from '../generated/graphql.js';
import { registerPlatformAdmin } from '../support/admins.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { defaultPassword, registerUser, uniqueEmail } from '../support/users.js';
import { codeOf } from './support.js';

const clients = 20;
const cyclesPerClient = 5;

describe('races and audit under load', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    // One email gets 100 attempts below; the per-email registration limit would stop most.
    gatehouse = await startGatehouse({ env: { REGISTER_MAX_PER_IP: '1000' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('100 registrations of one email create one user', async () => {
    const email = uniqueEmail('race');
    const input = { email, password: defaultPassword, displayName: 'Race' };
    const responses = await Promise.all(Array.from({ length: 100 }, () => gatehouse.op(RegisterDocument, { input })));

    expect(responses.filter((response) => response.status >= 500)).toEqual([]);
    expect(responses.filter((response) => response.body.data?.register)).toHaveLength(1);
    const codes = responses.map(codeOf).filter((code) => code !== undefined);
    expect(codes).toHaveLength(99);
    expect(new Set(codes)).toEqual(new Set(['EMAIL_ALREADY_REGISTERED']));
    expect(responses.filter((response) => codeOf(response) !== undefined).every((response) => response.status === 409)).toBe(true);

    const prisma = gatehouse.app.services.prisma;
    const users = await prisma.user.findMany({ where: { email } });
    expect(users).toHaveLength(1);
    expect(await prisma.session.count({ where: { userId: users[0]!.id } })).toBe(1);
    expect(await prisma.auditLog.count({ where: { targetId: users[0]!.id, action: 'user.registered' } })).toBe(1);
  }, 90_000);

  it('concurrent demotions keep an owner in every workspace', async () => {
    const rounds = 10;
    const pairs = await Promise.all(
      Array.from({ length: rounds }, async (_, round) => {
        const first = await registerUser(gatehouse);
        const second = await registerUser(gatehouse);
        const created = await gatehouse.op(CreateWorkspaceDocument, { input: { name: `Race ${round}` } }, { token: first.accessToken });
        const workspace = created.body.data!.createWorkspace;
        const added = await gatehouse.op(
          AddMemberDocument,
          { workspaceId: workspace.id, email: second.email, role: 'OWNER' },
          { token: first.accessToken },
        );

        return { workspace, first, second, firstMemberId: workspace.members[0]!.id, secondMemberId: added.body.data!.addMember.id };
      }),
    );

    // Both owners of every workspace demote each other at the same moment: 20 requests at once.
    const responses = await Promise.all(
      pairs.flatMap(({ workspace, first, second, firstMemberId, secondMemberId }) => [
        gatehouse.op(ChangeMemberRoleDocument, { workspaceId: workspace.id, memberId: secondMemberId, role: 'ADMIN' }, { token: first.accessToken }),
        gatehouse.op(ChangeMemberRoleDocument, { workspaceId: workspace.id, memberId: firstMemberId, role: 'ADMIN' }, { token: second.accessToken }),
      ]),
    );

    expect(responses.filter((response) => response.status >= 500)).toEqual([]);
    const owners = await gatehouse.app.services.prisma.workspaceMember.groupBy({
      by: ['workspaceId'],
      where: { workspaceId: { in: pairs.map((pair) => pair.workspace.id) }, role: 'owner' },
      _count: true,
    });
    expect(owners).toHaveLength(rounds);
    expect(owners.every((row) => row._count === 1)).toBe(true);
  }, 90_000);

  it('one audit event per login, refresh and logout', async () => {
    const users = await Promise.all(Array.from({ length: clients }, () => registerUser(gatehouse)));
    const issued = { login: 0, refresh: 0, logout: 0 };
    const cycle = async (email: string) => {
      for (let round = 0; round < cyclesPerClient; round++) {
        const login = await gatehouse.op(LoginDocument, { input: { email, password: defaultPassword } });
        issued.login += 1;
        expect(codeOf(login)).toBeUndefined();
        const refreshed = await gatehouse.op(RefreshPairDocument, { token: login.body.data!.login.refreshToken });
        issued.refresh += 1;
        expect(codeOf(refreshed)).toBeUndefined();
        const logout = await gatehouse.op(LogoutDocument, {}, { token: refreshed.body.data!.refreshToken.accessToken });
        issued.logout += 1;
        expect(logout.body.data?.logout).toBe(true);
      }
    };
    await Promise.all(users.map((user) => cycle(user.email)));

    const userIds = users.map((user) => user.user.id);
    const rows = await gatehouse.app.services.prisma.auditLog.groupBy({
      by: ['action'],
      where: { targetId: { in: userIds } },
      _count: { _all: true },
    });
    const counts = Object.fromEntries(rows.map((row) => [row.action, row._count._all]));
    expect(issued).toEqual({ login: clients * cyclesPerClient, refresh: clients * cyclesPerClient, logout: clients * cyclesPerClient });
    expect(counts['user.login_succeeded']).toBe(issued.login);
    expect(counts['token.refreshed']).toBe(issued.refresh);
    expect(counts['user.logged_out']).toBe(issued.logout);
    expect(counts['user.registered']).toBe(clients);
    expect(Object.keys(counts).sort()).toEqual(['token.refreshed', 'user.logged_out', 'user.login_succeeded', 'user.registered']);
  }, 90_000);
});

describe('login racing an account change', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  /**
   * Starts a login whose password check waits until `change` has run, so the change lands
   * between the check and the new session's insert. Returns the login's response.
   */
  async function loginAround(email: string, change: () => Promise<unknown>) {
    const verify = PasswordHasher.prototype.verify;
    let started!: () => void;
    const checking = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(PasswordHasher.prototype, 'verify').mockImplementationOnce(async function (this: PasswordHasher, ...args) {
      const valid = await verify.apply(this, args);
      started();
      await released;

      return valid;
    });
    const login = gatehouse.op(LoginDocument, { input: { email, password: defaultPassword } });
    await checking;
    await change();
    release();

    return login;
  }

  it('a password change ends a login in flight', async () => {
    const user = await registerUser(gatehouse);
    const login = await loginAround(user.email, async () => {
      const changed = await gatehouse.op(
        ChangePasswordDocument,
        { currentPassword: defaultPassword, newPassword: 'a brand new passphrase' },
        { token: user.accessToken },
      );
      expect(changed.body.data?.changePassword).toBe(true);
    });

    expect(codeOf(login)).toBe('INVALID_CREDENTIALS');
    const sessions = await gatehouse.app.services.prisma.session.count({ where: { userId: user.user.id, revokedAt: null } });
    expect(sessions).toBe(1);
  });

  it('disabling a user ends a login in flight', async () => {
    const admin = await registerPlatformAdmin(gatehouse);
    const user = await registerUser(gatehouse);
    const login = await loginAround(user.email, async () => {
      const disabled = await gatehouse.op(
        SetUserDisabledDocument,
        { userId: user.user.id, disabled: true },
        { token: admin.accessToken },
      );
      expect(disabled.body.errors).toBeUndefined();
    });

    expect(codeOf(login)).toBe('ACCOUNT_DISABLED');
    const sessions = await gatehouse.app.services.prisma.session.count({ where: { userId: user.user.id, revokedAt: null } });
    expect(sessions).toBe(0);
  });

  it('a rehash by another login keeps a login in flight', async () => {
    const user = await registerUser(gatehouse);
    const { prisma } = gatehouse.app.services;
    // A hash of another cost than the server's, so the first login to finish rehashes it.
    await prisma.user.update({ where: { id: user.user.id }, data: { passwordHash: await bcrypt.hash(defaultPassword, 5) } });
    const login = await loginAround(user.email, async () => {
      const other = await gatehouse.op(LoginDocument, { input: { email: user.email, password: defaultPassword } });
      expect(codeOf(other)).toBeUndefined();
    });

    expect(codeOf(login)).toBeUndefined();
    expect(login.body.data?.login.accessToken).toBeTypeOf('string');
  });

  it('parallel logins that rehash all succeed', async () => {
    const user = await registerUser(gatehouse);
    const { prisma } = gatehouse.app.services;
    await prisma.user.update({ where: { id: user.user.id }, data: { passwordHash: await bcrypt.hash(defaultPassword, 5) } });
    const logins = await Promise.all(
      Array.from({ length: 10 }, () => gatehouse.op(LoginDocument, { input: { email: user.email, password: defaultPassword } })),
    );

    expect(logins.map(codeOf)).toEqual(Array.from({ length: 10 }, () => undefined));
  });
});
