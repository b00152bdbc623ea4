import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const listedOrigin = 'https://app.example.com';
const headerList = (value: string | null) => (value ?? '').split(',').map((name) => name.trim().toLowerCase());

describe('CORS for browser apps', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({
      backend: 'postgresql',
      // Quotas count in this server's memory, apart from other files that let loopback draw quota.
      redis: false,
      // Only 192.0.2.1, a documentation address, is exempt, so loopback requests draw quota and get RateLimit headers.
      env: { CORS_ORIGINS: listedOrigin, RATE_LIMIT_EXEMPT_IPS: '192.0.2.1' },
    });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('exposes the rate-limit headers to listed origins', async () => {
    const response = await gatehouse.gql({ query: '{ identity { userId } }', headers: { origin: listedOrigin } });
    expect(response.headers.get('ratelimit-remaining')).not.toBeNull();
    const exposed = headerList(response.headers.get('access-control-expose-headers'));
    for (const name of ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) {
      expect(exposed).toContain(name);
    }
  });

  it.each([
    ['listed', listedOrigin],
    ['unlisted', 'https://evil.example.net'],
  ])('varies responses by Origin for a %s origin', async (_, origin) => {
    const response = await gatehouse.gql({ query: '{ identity { userId } }', headers: { origin } });
    expect(headerList(response.headers.get('vary'))).toContain('origin');
  });

  it('varies responses by Origin without an Origin header', async () => {
    const response = await gatehouse.gql({ query: '{ identity { userId } }' });
    expect(headerList(response.headers.get('vary'))).toContain('origin');
  });

  it('varies preflight responses by Origin', async () => {
    const preflight = await fetch(`${gatehouse.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: listedOrigin, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(headerList(preflight.headers.get('vary'))).toContain('origin');
  });

  it('preflight allows every accepted CSRF header', async () => {
    for (const name of ['x-graphql-yoga-csrf', 'apollo-require-preflight']) {
      const preflight = await fetch(`${gatehouse.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: listedOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': name },
      });
      expect(headerList(preflight.headers.get('access-control-allow-headers'))).toContain(name);
    }
  });
});
