import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser, uniqueEmail } from '../support/users.js';

// PostgreSQL text and jsonb cannot store NUL (U+0000), and jsonb rejects unpaired UTF-16
// surrogates, so a query or audit event that carries one fails. Each text argument that reaches
// a query gets a stable error code instead of INTERNAL_SERVER_ERROR.
describe.each(backends)('unstorable text arguments on %s', (backend) => {
  let gatehouse: TestGatehouse;
  let token: string;
  let workspaceId: string;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
    const owner = await registerUser(gatehouse);
    token = owner.accessToken;
    const created = await gatehouse.gql({
      query: 'mutation { createWorkspace(input: { name: "Nul Tests" }) { id } }',
      token,
    });
    workspaceId = (created.body.data as { createWorkspace: { id: string } }).createWorkspace.id;
  });
  afterAll(async () => gatehouse?.close());

  function send(query: string, variables: Record<string, unknown>, withToken = true) {
    return gatehouse.gql({ query, variables, token: withToken ? token : undefined });
  }

  it('register email with NUL is BAD_USER_INPUT', async () => {
    const response = await send(
      'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }',
      { input: { email: `a\u0000${uniqueEmail()}`, password: 'correct horse battery', displayName: 'Nul' } },
      false,
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('email');
  });

  it('login email with NUL is INVALID_CREDENTIALS', async () => {
    const response = await send(
      'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
      { input: { email: `a\u0000${uniqueEmail()}`, password: 'correct horse battery' } },
      false,
    );
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
  });

  it('addMember email with NUL is NOT_FOUND', async () => {
    const response = await send(
      'mutation($workspaceId: ID!, $email: String!) { addMember(workspaceId: $workspaceId, email: $email, role: VIEWER) { id } }',
      { workspaceId, email: `a\u0000${uniqueEmail()}` },
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('workspace name with NUL is BAD_USER_INPUT', async () => {
    const created = await send('mutation($name: String!) { createWorkspace(input: { name: $name }) { id } }', {
      name: 'a\u0000b',
    });
    expect(created.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(created.body.errors?.[0]?.extensions?.field).toBe('name');
    const updated = await send(
      'mutation($workspaceId: ID!, $name: String!) { updateWorkspace(workspaceId: $workspaceId, input: { name: $name }) { id } }',
      { workspaceId, name: 'a\u0000b' },
    );
    expect(updated.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(updated.body.errors?.[0]?.extensions?.field).toBe('name');
  });

  it.each(['action', 'targetId', 'ip'])('auditLogs filter.%s with NUL is BAD_USER_INPUT', async (field) => {
    const response = await send('query($filter: AuditLogFilter) { auditLogs(filter: $filter) { edges { cursor } } }', {
      filter: { workspaceId, [field]: 'a\u0000b' },
    });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe(`filter.${field}`);
  });

  it('register email with a lone surrogate is BAD_USER_INPUT', async () => {
    const response = await send(
      'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }',
      { input: { email: `a\ud800${uniqueEmail()}`, password: 'correct horse battery', displayName: 'Lone' } },
      false,
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('email');
  });

  it('displayName with a lone surrogate is BAD_USER_INPUT', async () => {
    const response = await send(
      'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }',
      { input: { email: uniqueEmail(), password: 'correct horse battery', displayName: 'a\udc00b' } },
      false,
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('displayName');
  });

  it('login email with a lone surrogate is INVALID_CREDENTIALS', async () => {
    const response = await send(
      'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
      { input: { email: `a\ud800${uniqueEmail()}`, password: 'correct horse battery' } },
      false,
    );
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
  });

  it('workspace name with a lone surrogate is BAD_USER_INPUT', async () => {
    const created = await send('mutation($name: String!) { createWorkspace(input: { name: $name }) { id } }', {
      name: 'a\ud800b',
    });
    expect(created.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(created.body.errors?.[0]?.extensions?.field).toBe('name');
  });
});
