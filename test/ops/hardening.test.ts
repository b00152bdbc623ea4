import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningJwk } from '../../src/auth/keys.js';
import { IntrospectionTypesDocument, LogoutDocument, MeDocument } from '../generated/graphql.js';
import { registerPlatformAdmin } from '../support/admins.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request with node:http, which, unlike fetch, lets a test set the Host header. */
function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; chunked?: boolean }) {
  return new Promise<RawResponse>((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    if (options.body !== undefined && options.chunked) {
      // Without Content-Length, Node sends the body with chunked transfer encoding.
      for (let offset = 0; offset < options.body.length; offset += 8192) request.write(options.body.slice(offset, offset + 8192));
    } else if (options.body !== undefined) {
      request.write(options.body);
    }
    request.end();
  });
}

const meQuery = JSON.stringify({ query: '{ me { id } }' });

describe('security headers and limits in development', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({
      backend: 'pglite',
      env: { CORS_ORIGINS: 'https://app.example.com,https://admin.example.com', MAX_BODY_BYTES: '2048' },
    });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it.each(['/graphql', '/health', '/ready', '/.well-known/jwks.json'])('sets security headers on %s', async (path) => {
    const response = path === '/graphql' ? await gatehouse.gql({ query: '{ me { id } }' }) : { headers: (await fetch(`${gatehouse.url}${path}`)).headers };
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('GraphiQL page uses a fresh nonce per response', async () => {
    const pages = await Promise.all(
      [1, 2].map(() => fetch(`${gatehouse.url}/graphql`, { headers: { accept: 'text/html' } })),
    );
    const nonces: string[] = [];
    for (const page of pages) {
      expect(page.status).toBe(200);
      const policy = page.headers.get('content-security-policy') ?? '';
      const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
      expect(nonce).toBeDefined();
      expect(policy).toContain("frame-ancestors 'none'");
      const html = await page.text();
      const scripts = html.match(/<script[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.every((tag) => tag.includes(`nonce="${nonce}"`))).toBe(true);
      expect(html).not.toContain('raw.githubusercontent.com');
      nonces.push(nonce!);
    }
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  it('CORS allows listed origins with credentials', async () => {
    const response = await gatehouse.gql({ query: '{ me { id } }', headers: { origin: 'https://admin.example.com' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    const preflight = await fetch(`${gatehouse.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('CORS ignores origins not listed', async () => {
    const response = await gatehouse.gql({ query: '{ me { id } }', headers: { origin: 'https://evil.example.net' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('rejects a large body with Content-Length', async () => {
    const body = JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(4096)}` });
    const response = await rawRequest(`${gatehouse.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects a large chunked body', async () => {
    const body = JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(40_000)}` });
    const response = await rawRequest(`${gatehouse.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      chunked: true,
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('accepts a body under the limit', async () => {
    const response = await rawRequest(`${gatehouse.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: meQuery,
      chunked: true,
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).data).toEqual({ me: null });
  });

  it('echoes a safe X-Request-Id', async () => {
    // A broken token makes the request write a line of its own.
    const response = await gatehouse.gql({ query: '{ me { id } }', token: 'broken', headers: { 'x-request-id': 'proxy-1234.abc' } });
    expect(response.headers.get('x-request-id')).toBe('proxy-1234.abc');
    const lines = gatehouse.logs.filter((line) => line.requestId === 'proxy-1234.abc');
    expect(lines.map((line) => line.msg)).toContain('access token rejected');
  });

  it('replaces an unsafe X-Request-Id', async () => {
    const unsafe = 'a b\u0001<script>'.padEnd(80, 'x');
    const response = await gatehouse.gql({ query: '{ me { id } }', headers: { 'x-request-id': unsafe.replace('\u0001', '') } });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('allows introspection outside production', async () => {
    const response = await gatehouse.op(IntrospectionTypesDocument, {});
    expect(response.body.data?.__schema.queryType.name).toBe('Query');
  });
});

describe('hardening in production', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({
      backend: 'postgresql',
      env: {
        NODE_ENV: 'production',
        JWT_PRIVATE_JWKS: JSON.stringify({ keys: [await generateSigningJwk()] }),
        ALLOWED_HOSTS: 'auth.example.com,127.0.0.1',
        BCRYPT_COST: '10',
      },
    });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('sends HSTS', async () => {
    const response = await gatehouse.gql({ query: '{ me { id } }' });
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it.each(['auth.example.com', 'auth.example.com:443', '127.0.0.1:4000'])('accepts Host %s', async (host) => {
    const response = await rawRequest(`${gatehouse.url}/graphql`, {
      method: 'POST',
      headers: { host, 'content-type': 'application/json' },
      body: meQuery,
    });
    expect(response.status).toBe(200);
  });

  it.each(['evil.example.net', 'auth.example.com.evil.net', 'localhost'])('rejects Host %s', async (host) => {
    const graphql = await rawRequest(`${gatehouse.url}/graphql`, {
      method: 'POST',
      headers: { host, 'content-type': 'application/json' },
      body: meQuery,
    });
    expect(graphql.status).toBe(400);
    expect(JSON.parse(graphql.body).errors[0].extensions.code).toBe('HOST_NOT_ALLOWED');
    const jwks = await rawRequest(`${gatehouse.url}/.well-known/jwks.json`, { headers: { host } });
    expect(jwks.status).toBe(400);
    const metrics = await rawRequest(`${gatehouse.url}/metrics`, { headers: { host } });
    expect(metrics.status).toBe(403);
  });

  it('serves probes for any Host', async () => {
    for (const path of ['/health', '/ready']) {
      const response = await rawRequest(`${gatehouse.url}${path}`, { headers: { host: '10.1.2.3:4000' } });
      expect(response.status).toBe(200);
    }
  });

  it('rejects introspection from anonymous callers', async () => {
    const response = await gatehouse.op(IntrospectionTypesDocument, {});
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.body.data ?? null).toBeNull();
  });

  it('rejects introspection from users who are not admins', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.op(IntrospectionTypesDocument, {}, { token: user.accessToken });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const typename = await gatehouse.gql({ query: '{ __typename }', token: user.accessToken });
    expect(typename.body.data).toEqual({ __typename: 'Query' });
  });

  it('allows introspection for platform admins', async () => {
    const admin = await registerPlatformAdmin(gatehouse);
    const response = await gatehouse.op(IntrospectionTypesDocument, {}, { token: admin.accessToken });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.__schema.queryType.name).toBe('Query');
  });

  it('rejects introspection with a revoked admin token', async () => {
    const admin = await registerPlatformAdmin(gatehouse);
    const logout = await gatehouse.op(LogoutDocument, {}, { token: admin.accessToken });
    expect(logout.body.data?.logout).toBe(true);

    // The loopback client is exempt from quotas, so the deny-list check runs in its own plugin.
    const response = await gatehouse.op(IntrospectionTypesDocument, {}, { token: admin.accessToken });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.body.data ?? null).toBeNull();
  });

  it('hides field suggestions', async () => {
    const response = await gatehouse.gql({ query: '{ mee { id } }' });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.body.errors?.[0]?.message).not.toContain('Did you mean');
    const me = await gatehouse.op(MeDocument, {});
    expect(me.body.data?.me).toBeNull();
  });
});
