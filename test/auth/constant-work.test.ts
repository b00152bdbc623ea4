import bcrypt from 'bcrypt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PasswordWorkers, type PasswordTask } from '../../src/auth/password-workers.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser, uniqueEmail } from '../support/users.js';

const loginQuery = 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }';

/** Returns the hashes that the recorded worker tasks compared a password against. */
function comparedHashes(calls: [PasswordTask][]): string[] {
  return calls.flatMap(([task]) => (task.kind === 'compare' ? [task.hash] : []));
}

describe('login work for unknown users', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ redis: false });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await gatehouse?.close();
  });

  it('compares one bcrypt hash of the configured cost either way', async () => {
    const user = await registerUser(gatehouse);
    // Every bcrypt call runs as a task on the password worker threads.
    const run = vi.spyOn(PasswordWorkers.prototype, 'run');

    await gatehouse.gql({ query: loginQuery, variables: { input: { email: user.email, password: 'wrong password 1' } } });
    const knownCalls = comparedHashes(run.mock.calls);
    const knownKinds = run.mock.calls.map(([task]) => task.kind);
    run.mockClear();
    await gatehouse.gql({ query: loginQuery, variables: { input: { email: uniqueEmail('ghost'), password: 'wrong password 1' } } });
    const unknownCalls = comparedHashes(run.mock.calls);
    // The stand-in hash was made at start, so the first unknown email does not hash first.
    expect(run.mock.calls.map(([task]) => task.kind)).toEqual(knownKinds);

    expect(knownCalls).toHaveLength(1);
    expect(unknownCalls).toHaveLength(1);
    // Same algorithm and cost prefix, such as "$2b$04$", so both comparisons cost the same.
    expect(unknownCalls[0]!.slice(0, 7)).toBe(knownCalls[0]!.slice(0, 7));
  });

  it('rehashes a password of another cost at login', async () => {
    const user = await registerUser(gatehouse);
    const { prisma } = gatehouse.app.services;
    // A hash from before a change of BCRYPT_COST, because the test server hashes at cost 4.
    const oldHash = await bcrypt.hash(user.password, 5);
    await prisma.user.update({ where: { id: user.user.id }, data: { passwordHash: oldHash } });

    const response = await gatehouse.gql({ query: loginQuery, variables: { input: { email: user.email, password: user.password } } });
    expect(response.body.errors).toBeUndefined();

    const stored = await prisma.user.findUniqueOrThrow({ where: { id: user.user.id } });
    expect(stored.passwordHash.slice(0, 7)).toBe('$2b$04$');
    expect(await bcrypt.compare(user.password, stored.passwordHash)).toBe(true);
  });

  it('keeps a hash of the configured cost at login', async () => {
    const user = await registerUser(gatehouse);
    const { prisma } = gatehouse.app.services;
    const before = await prisma.user.findUniqueOrThrow({ where: { id: user.user.id } });

    await gatehouse.gql({ query: loginQuery, variables: { input: { email: user.email, password: user.password } } });

    const after = await prisma.user.findUniqueOrThrow({ where: { id: user.user.id } });
    expect(after.passwordHash).toBe(before.passwordHash);
  });
});
