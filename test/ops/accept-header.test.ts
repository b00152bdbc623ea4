import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshDocument, RegisterDocument } from '../generated/graphql.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { defaultPassword, registerUser, uniqueEmail } from '../support/users.js';

// Media types that Yoga 5 does not serve. application/graphql+json is the response media type of
// earlier drafts of the GraphQL over HTTP specification, which clients written for them send.
const unsupported = ['application/graphql+json', 'text/plain', 'application/xml'];

describe('Accept header without a supported media type', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'postgresql' });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it.each(unsupported)('register returns its tokens for %s', async (accept) => {
    const input = { email: uniqueEmail('accept'), password: defaultPassword, displayName: 'Accept' };
    const response = await gatehouse.op(RegisterDocument, { input }, { headers: { accept } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.register.user.email).toBe(input.email);
  });

  it('refresh returns the rotated token', async () => {
    const user = await registerUser(gatehouse);
    const headers = { accept: 'application/graphql+json' };
    const rotated = await gatehouse.op(RefreshDocument, { token: user.refreshToken }, { headers });
    expect(rotated.status).toBe(200);
    const next = rotated.body.data?.refreshToken.refreshToken;
    expect(next).toBeDefined();

    const again = await gatehouse.op(RefreshDocument, { token: next });
    expect(again.body.errors).toBeUndefined();
  });

  it('errors keep their code and status', async () => {
    const response = await gatehouse.gql({ query: '{ identity { userId } }', headers: { accept: 'text/plain' } });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['application/graphql-response+json', /^application\/graphql-response\+json/],
    ['multipart/mixed', /^multipart\/mixed/],
  ])('keeps serving %s', async (accept, contentType) => {
    const response = await fetch(`${gatehouse.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(contentType);
  });
});
