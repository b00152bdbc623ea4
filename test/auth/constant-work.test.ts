import bcrypt from 'bcrypt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser, uniqueEmail } from '../support/users.js';

const loginQuery = 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }';

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
    const compare = vi.spyOn(bcrypt, 'compare');

    await gatehouse.gql({ query: loginQuery, variables: { input: { email: user.email, password: 'wrong password 1' } } });
    const knownCalls = compare.mock.calls.map(([, hash]) => String(hash));
    compare.mockClear();
    await gatehouse.gql({ query: loginQuery, variables: { input: { email: uniqueEmail('ghost'), password: 'wrong password 1' } } });
    const unknownCalls = compare.mock.calls.map(([, hash]) => String(hash));

    expect(knownCalls).toHaveLength(1);
    expect(unknownCalls).toHaveLength(1);
    // Same algorithm and cost prefix, such as "$2b$04$", so both comparisons cost the same.
    expect(unknownCalls[0]!.slice(0, 7)).toBe(knownCalls[0]!.slice(0, 7));
  });
});
