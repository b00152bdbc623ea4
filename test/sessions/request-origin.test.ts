import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  clientFromChain,
  forwardedFor,
  normalizeIp,
  parseForwardedAddress,
  trustedProxyMatcher,
} from '../../src/request-origin.js';
import { SessionDevicesDocument } from '../generated/graphql.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

describe('forwarded address parsing', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7:8443', '203.0.113.7'],
    ['"[2001:DB8::1]:443"', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:198.51.100.4', '198.51.100.4'],
    ['[::ffff:198.51.100.4]:80', '198.51.100.4'],
    ['unknown', null],
    ['_hidden', null],
    ['300.1.1.1', null],
  ])('%s is %s', (value, expected) => {
    expect(parseForwardedAddress(value)).toBe(expected);
  });

  it('reads every for= of a Forwarded header', () => {
    expect(forwardedFor('for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"')).toEqual([
      '192.0.2.60',
      '2001:db8:cafe::17',
    ]);
  });

  it('normalizes socket addresses', () => {
    expect(normalizeIp('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('::1')).toBe('::1');
    expect(normalizeIp(undefined)).toBeNull();
  });
});

describe('client address from the proxy chain', () => {
  const isTrusted = trustedProxyMatcher(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);

  it('matches addresses and ranges', () => {
    expect(isTrusted('10.1.2.3')).toBe(true);
    expect(isTrusted('2001:db8::5')).toBe(true);
    expect(isTrusted('192.0.2.1')).toBe(true);
    expect(isTrusted('192.0.2.2')).toBe(false);
  });

  it('skips only trusted hops from the right', () => {
    expect(clientFromChain('10.0.0.1', ['198.51.100.1', '10.0.0.2'], isTrusted)).toBe('198.51.100.1');
    // A client-sent header is on the left of its real address and is never reached.
    expect(clientFromChain('10.0.0.1', ['6.6.6.6', '198.51.100.1'], isTrusted)).toBe('198.51.100.1');
    expect(clientFromChain('10.0.0.1', ['10.0.0.3'], isTrusted)).toBe('10.0.0.3');
    expect(clientFromChain('10.0.0.1', [null, '10.0.0.2'], isTrusted)).toBe('10.0.0.2');
    expect(clientFromChain('198.51.100.9', ['6.6.6.6'], isTrusted)).toBe('198.51.100.9');
  });

  it('rejects invalid TRUSTED_PROXIES entries', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'proxy.example.com' })).toThrow(/TRUSTED_PROXIES/);
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, ::1 ' }).trustedProxies).toEqual(['10.0.0.0/8', '::1']);
  });
});

describe.each([
  ['untrusted', '', '127.0.0.1', '127.0.0.1'],
  ['trusted', '127.0.0.1', '198.51.100.23', '198.51.100.24'],
])('client IP with an %s peer', (_name, trustedProxies, forwardedClient, xForwardedClient) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ env: { TRUSTED_PROXIES: trustedProxies } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  const ipOfLogin = async (headers: Record<string, string>) => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.gql({
      query: 'mutation($input: LoginInput!) { login(input: $input) { session { ip } } }',
      variables: { input: { email: user.email, password: user.password } },
      headers,
    });

    return (response.body.data as { login: { session: { ip: string } } }).login.session.ip;
  };

  it('reads Forwarded only from a trusted peer', async () => {
    expect(await ipOfLogin({ forwarded: 'for="198.51.100.23:5000"' })).toBe(forwardedClient);
  });

  it('reads X-Forwarded-For only from a trusted peer', async () => {
    expect(await ipOfLogin({ 'x-forwarded-for': '6.6.6.6, 198.51.100.24:443' })).toBe(xForwardedClient);
  });

  it('stores the IP on the session list', async () => {
    const user = await registerUser(gatehouse);
    const list = await gatehouse.op(SessionDevicesDocument, {}, { token: user.accessToken });
    expect(list.body.data?.sessions[0]?.ip).toBe('127.0.0.1');
  });
});
