import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { loginUser, registerUser, uniqueEmail } from '../support/users.js';

const registerQuery = 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }';
const loginQuery = 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }';
const refreshQuery = 'mutation($token: String) { refreshToken(token: $token) { accessToken } }';

const valid = () => ({ email: uniqueEmail('bad-input'), password: 'a perfectly fine password', displayName: 'Bad Input' });

// U+1F600 is 4 bytes in UTF-8 and 2 UTF-16 code units, but one character.
const emoji = (count: number) => '\u{1F600}'.repeat(count);
/** Builds a unique email of `length` characters, padded with 4-byte characters. */
const emojiEmail = (length: number) => {
  const tail = uniqueEmail('');
  return `${emoji(length - [...tail].length)}${tail}`;
};

interface Case {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  code: string;
  field?: string;
}

const registerCases: Case[] = [
  { name: 'email of wrong type', query: registerQuery, variables: { input: { ...valid(), email: 42 } }, code: 'BAD_USER_INPUT' },
  { name: 'email missing', query: registerQuery, variables: { input: { ...valid(), email: undefined } }, code: 'BAD_USER_INPUT' },
  { name: 'email empty', query: registerQuery, variables: { input: { ...valid(), email: '   ' } }, code: 'BAD_USER_INPUT', field: 'email' },
  { name: 'email malformed', query: registerQuery, variables: { input: { ...valid(), email: 'no-at-sign' } }, code: 'BAD_USER_INPUT', field: 'email' },
  { name: 'email huge', query: registerQuery, variables: { input: { ...valid(), email: `${'a'.repeat(100_000)}@example.com` } }, code: 'BAD_USER_INPUT', field: 'email' },
  { name: 'password of wrong type', query: registerQuery, variables: { input: { ...valid(), password: ['x'] } }, code: 'BAD_USER_INPUT' },
  { name: 'password empty', query: registerQuery, variables: { input: { ...valid(), password: '' } }, code: 'BAD_USER_INPUT', field: 'password' },
  { name: 'password of 9 characters', query: registerQuery, variables: { input: { ...valid(), password: '123456789' } }, code: 'BAD_USER_INPUT', field: 'password' },
  { name: 'password over 72 bytes', query: registerQuery, variables: { input: { ...valid(), password: 'é'.repeat(37) } }, code: 'BAD_USER_INPUT', field: 'password' },
  { name: 'password with NUL', query: registerQuery, variables: { input: { ...valid(), password: 'abcdefghij\u0000k' } }, code: 'BAD_USER_INPUT', field: 'password' },
  { name: 'password with a lone surrogate', query: registerQuery, variables: { input: { ...valid(), password: 'abcdefghij\ud800k' } }, code: 'BAD_USER_INPUT', field: 'password' },
  { name: 'displayName empty', query: registerQuery, variables: { input: { ...valid(), displayName: ' ' } }, code: 'BAD_USER_INPUT', field: 'displayName' },
  { name: 'displayName huge', query: registerQuery, variables: { input: { ...valid(), displayName: 'n'.repeat(101) } }, code: 'BAD_USER_INPUT', field: 'displayName' },
  { name: 'displayName with control characters', query: registerQuery, variables: { input: { ...valid(), displayName: 'a\u0007b' } }, code: 'BAD_USER_INPUT', field: 'displayName' },
  { name: 'displayName of wrong type', query: registerQuery, variables: { input: { ...valid(), displayName: { a: 1 } } }, code: 'BAD_USER_INPUT' },
  { name: 'displayName of 101 emoji', query: registerQuery, variables: { input: { ...valid(), displayName: emoji(101) } }, code: 'BAD_USER_INPUT', field: 'displayName' },
  { name: 'deviceName of 101 emoji', query: registerQuery, variables: { input: { ...valid(), deviceName: emoji(101) } }, code: 'BAD_USER_INPUT', field: 'deviceName' },
  { name: 'email of 255 characters', query: registerQuery, variables: { input: { ...valid(), email: emojiEmail(255) } }, code: 'BAD_USER_INPUT', field: 'email' },
  { name: 'deviceName huge', query: registerQuery, variables: { input: { ...valid(), deviceName: 'd'.repeat(1000) } }, code: 'BAD_USER_INPUT', field: 'deviceName' },
  { name: 'unknown input field', query: registerQuery, variables: { input: { ...valid(), isPlatformAdmin: true } }, code: 'BAD_USER_INPUT' },
  { name: 'input missing', query: registerQuery, variables: {}, code: 'BAD_USER_INPUT' },
];

const loginCases: Case[] = [
  { name: 'login password empty', query: loginQuery, variables: { input: { email: 'a@example.com', password: '' } }, code: 'BAD_USER_INPUT', field: 'password' },
  { name: 'login password over 72 bytes', query: loginQuery, variables: { input: { email: 'a@example.com', password: 'p'.repeat(73) } }, code: 'BAD_USER_INPUT', field: 'password' },
  { name: 'login password of wrong type', query: loginQuery, variables: { input: { email: 'a@example.com', password: 12345678901 } }, code: 'BAD_USER_INPUT' },
  { name: 'login email of wrong type', query: loginQuery, variables: { input: { email: true, password: 'whatever123' } }, code: 'BAD_USER_INPUT' },
  { name: 'login email huge', query: loginQuery, variables: { input: { email: `${'a'.repeat(100_000)}@example.com`, password: 'whatever123' } }, code: 'BAD_USER_INPUT', field: 'email' },
  { name: 'login email of 255 characters', query: loginQuery, variables: { input: { email: emojiEmail(255), password: 'whatever123' } }, code: 'BAD_USER_INPUT', field: 'email' },
  { name: 'refresh token of wrong type', query: refreshQuery, variables: { token: 123 }, code: 'BAD_USER_INPUT' },
  { name: 'refresh token huge', query: refreshQuery, variables: { token: 'r'.repeat(100_000) }, code: 'INVALID_REFRESH_TOKEN' },
  { name: 'refresh token malformed', query: refreshQuery, variables: { token: '../../etc/passwd' }, code: 'INVALID_REFRESH_TOKEN' },
];

describe.each(backends)('bad input on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
    await registerUser(gatehouse);
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  async function counts() {
    const { prisma } = gatehouse.app.services;
    const [users, sessions, tokens] = await Promise.all([prisma.user.count(), prisma.session.count(), prisma.refreshToken.count()]);

    return { users, sessions, tokens };
  }

  it.each([...registerCases, ...loginCases])('$name', async ({ query, variables, code, field }) => {
    const before = await counts();
    const response = await gatehouse.gql({ query, variables });
    const [error] = response.body.errors ?? [];
    expect(error?.extensions?.code).toBe(code);
    if (field) expect(error?.extensions?.field).toBe(field);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['a missing field', registerQuery, { input: { email: uniqueEmail('echo'), password: 'echo password 123' } }],
    ['an unknown field', loginQuery, { input: { email: 'a@example.com', password: 'echo password 123', admin: true } }],
    ['a password of wrong type', loginQuery, { input: { email: 'a@example.com', password: ['echo password 123'] } }],
  ])('variable error with %s hides the password', async (_name, query, variables) => {
    const response = await gatehouse.gql({ query, variables });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(response.body)).not.toContain('echo password 123');
  });

  it('accepts 4-byte names at the limit', async () => {
    const email = emojiEmail(254);
    const registered = await registerUser(gatehouse, { email, displayName: emoji(100), deviceName: emoji(100) });
    expect(registered.user.email).toBe(email);
    expect(registered.user.displayName).toBe(emoji(100));
    expect(registered.session.deviceName).toBe(emoji(100));
    const loggedIn = await loginUser(gatehouse, email, registered.password);
    expect(loggedIn.user.id).toBe(registered.user.id);
  });

  it.each([
    ['an unquoted password', 'password: echo_password_123'],
    ['a numeric password', 'password: 91827364'],
    ['an object password', 'password: { echo: "echo_password_123" }'],
  ])('literal error with %s hides the password', async (_name, field) => {
    const query = `mutation { login(input: { email: "a@example.com", ${field} }) { accessToken } }`;
    const response = await gatehouse.gql({ query });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(response.body)).not.toContain('echo_password_123');
    expect(JSON.stringify(response.body)).not.toContain('91827364');
  });

  it('a huge login email writes no audit event', async () => {
    const email = `${'h'.repeat(5_000)}@example.com`;
    await gatehouse.gql({ query: loginQuery, variables: { input: { email, password: 'whatever123' } } });
    const events = await gatehouse.app.services.prisma.auditLog.count({
      where: { action: 'user.login_failed', metadata: { path: ['email'], equals: email } },
    });
    expect(events).toBe(0);
  });

  it('a taken email is EMAIL_ALREADY_REGISTERED and writes nothing', async () => {
    const user = await registerUser(gatehouse);
    const before = await counts();
    const response = await gatehouse.gql({
      query: registerQuery,
      variables: { input: { ...valid(), email: user.email.toUpperCase() } },
    });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('EMAIL_ALREADY_REGISTERED');
    expect(response.status).toBe(409);
    expect(await counts()).toEqual(before);
  });
});

describe('malformed requests', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ redis: false });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
    const response = await fetch(`${gatehouse.url}/graphql`, { method: 'POST', headers, body });
    const text = await response.text();

    return { status: response.status, text, json: JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] } };
  }

  const cases: [string, string, string][] = [
    ['malformed JSON', '{"query": "{ me { id } "', 'BAD_REQUEST'],
    ['a JSON string', '"hello"', 'BAD_REQUEST'],
    ['an empty JSON array', '[]', 'BAD_REQUEST'],
    ['no query', '{"variables":{}}', 'BAD_REQUEST'],
    ['query of wrong type', '{"query": 5}', 'BAD_REQUEST'],
    ['variables of wrong type', '{"query":"{ me { id } }","variables":"x"}', 'BAD_REQUEST'],
    ['unparsable document', '{"query":"{ me { "}', 'GRAPHQL_PARSE_FAILED'],
    ['unknown field', '{"query":"{ me { password } }"}', 'GRAPHQL_VALIDATION_FAILED'],
    ['literal of wrong type', '{"query":"mutation { refreshToken(token: 5) { accessToken } }"}', 'GRAPHQL_VALIDATION_FAILED'],
    ['two operations without a name', '{"query":"query a { me { id } } query b { me { id } }"}', 'BAD_REQUEST'],
  ];

  it.each(cases)('%s', async (_name, body, code) => {
    const response = await post(body);
    expect(response.json.errors?.[0]?.extensions?.code).toBe(code);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(response.text).not.toContain('originalError');
  });

  it('a batch answers each malformed operation with BAD_REQUEST', async () => {
    const response = await fetch(`${gatehouse.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1, {"query": 5}]',
    });
    const results = (await response.json()) as { errors?: { extensions?: { code?: string } }[] }[];
    expect(results.map((result) => result.errors?.[0]?.extensions?.code)).toEqual(['BAD_REQUEST', 'BAD_REQUEST']);
  });

  it('a simple form post without the CSRF header is CSRF_HEADER_MISSING', async () => {
    const response = await post('query=%7B%20me%20%7B%20id%20%7D%20%7D', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(response.json.errors?.[0]?.extensions?.code).toBe('CSRF_HEADER_MISSING');
    expect(response.status).toBe(403);
  });

  it('GET never runs a mutation', async () => {
    const response = await fetch(`${gatehouse.url}/graphql?query=${encodeURIComponent('mutation { logout }')}`, {
      headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' },
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(response.status).toBe(405);
    expect(body.errors?.[0]?.extensions?.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('other methods are METHOD_NOT_ALLOWED', async () => {
    const response = await fetch(`${gatehouse.url}/graphql`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(405);
  });
});
