import { createHmac } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeDocument, SessionsDocument } from '../generated/graphql.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

const base64url = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('access token verification', () => {
  let gatehouse: TestGatehouse;
  let user: Awaited<ReturnType<typeof registerUser>>;
  let kid: string;
  let serverKey: CryptoKey;
  let attackerKey: CryptoKey;
  let attackerJwk: JWK;

  beforeAll(async () => {
    gatehouse = await startGatehouse();
    user = await registerUser(gatehouse);
    kid = gatehouse.app.services.keys.signingKey().kid;
    serverKey = gatehouse.app.services.keys.signingKey().privateKey;
    const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    attackerKey = attacker.privateKey;
    attackerJwk = await exportJWK(attacker.publicKey);
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  const now = () => Math.floor(Date.now() / 1000);

  /** Signs a token like the server does, with every field overridable. */
  function forge(options: {
    key?: CryptoKey;
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    iat?: number;
    exp?: number;
    iss?: string;
    aud?: string;
  } = {}) {
    const issuedAt = options.iat ?? now();
    return new SignJWT({ sid: user.session.id, ...options.claims })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT', ...options.header })
      .setSubject(user.user.id)
      .setJti('forged')
      .setIssuedAt(issuedAt)
      .setExpirationTime(options.exp ?? issuedAt + 600)
      .setIssuer(options.iss ?? 'gatehouse')
      .setAudience(options.aud ?? 'gatehouse')
      .sign(options.key ?? serverKey);
  }

  async function expectRejected(token: string) {
    const response = await gatehouse.op(SessionsDocument, {}, { token });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.body.data).toBeNull();
  }

  it('accepts a token signed like the server does', async () => {
    const response = await gatehouse.op(SessionsDocument, {}, { token: await forge() });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.sessions).toHaveLength(1);
  });

  it('rejects an expired token', async () => {
    await expectRejected(await forge({ iat: now() - 3600, exp: now() - 60 }));
  });

  it('accepts expiry within the clock skew', async () => {
    const response = await gatehouse.op(SessionsDocument, {}, { token: await forge({ iat: now() - 600, exp: now() - 3 }) });
    expect(response.body.errors).toBeUndefined();
  });

  it('rejects a token that is not yet valid', async () => {
    await expectRejected(await forge({ claims: { nbf: now() + 600 } }));
  });

  it('rejects a token issued in the future', async () => {
    await expectRejected(await forge({ iat: now() + 600, exp: now() + 1200 }));
  });

  it('rejects a token signed by another key under our kid', async () => {
    await expectRejected(await forge({ key: attackerKey }));
  });

  it('rejects a tampered payload', async () => {
    const [header, , signature] = (await forge()).split('.');
    const payload = base64url({ sub: user.user.id, sid: user.session.id, exp: now() + 600 });
    await expectRejected(`${header}.${payload}.${signature}`);
  });

  it('rejects alg none', async () => {
    const header = base64url({ alg: 'none', typ: 'JWT', kid });
    const payload = base64url({
      sub: user.user.id, sid: user.session.id, jti: 'x', iat: now(), exp: now() + 600,
      iss: 'gatehouse', aud: 'gatehouse',
    });
    await expectRejected(`${header}.${payload}.`);
  });

  it('rejects HS256 keyed with the public key', async () => {
    const publicJwk = gatehouse.app.services.keys.current().verification.get(kid)!.publicJwk;
    const header = base64url({ alg: 'HS256', typ: 'JWT', kid });
    const payload = base64url({
      sub: user.user.id, sid: user.session.id, jti: 'x', iat: now(), exp: now() + 600,
      iss: 'gatehouse', aud: 'gatehouse',
    });
    const signature = createHmac('sha256', JSON.stringify(publicJwk)).update(`${header}.${payload}`).digest('base64url');
    await expectRejected(`${header}.${payload}.${signature}`);
  });

  it('rejects a wrong issuer', async () => {
    await expectRejected(await forge({ iss: 'someone-else' }));
  });

  it('rejects a wrong audience', async () => {
    await expectRejected(await forge({ aud: 'another-api' }));
  });

  it('rejects an unknown kid', async () => {
    await expectRejected(await forge({ key: attackerKey, header: { kid: 'attacker-key' } }));
  });

  it('rejects a token without kid', async () => {
    await expectRejected(await forge({ header: { kid: undefined } }));
  });

  it('ignores a key embedded in the header', async () => {
    await expectRejected(await forge({ key: attackerKey, header: { jwk: attackerJwk } }));
    await expectRejected(await forge({ key: attackerKey, header: { kid: 'attacker-key', jwk: attackerJwk } }));
  });

  it('ignores key URLs in the header', async () => {
    // Nothing listens at these addresses; a verifier that fetched them would fail or hang.
    await expectRejected(await forge({ key: attackerKey, header: { jku: 'http://127.0.0.1:9/jwks.json' } }));
    await expectRejected(await forge({ key: attackerKey, header: { x5u: 'http://127.0.0.1:9/cert.pem' } }));
  });

  it('rejects a token without a session claim', async () => {
    await expectRejected(await forge({ claims: { sid: undefined } }));
    await expectRejected(await forge({ claims: { sid: 'not-a-uuid' } }));
  });

  it('rejects garbage in the Authorization header', async () => {
    for (const token of ['', 'abc', 'a.b.c', `${base64url('{')}.${base64url('}')}.x`, 'x'.repeat(10_000)]) {
      await expectRejected(token);
    }
    const basic = await gatehouse.gql({ query: '{ sessions { id } }', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('makes me fail instead of returning null for a rejected token', async () => {
    const response = await gatehouse.op(MeDocument, {}, { token: await forge({ iss: 'someone-else' }) });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('logs why a token was rejected without the token', async () => {
    const token = await forge({ aud: 'another-api' });
    await expectRejected(token);
    const line = gatehouse.logs.findLast((entry) => entry.msg === 'access token rejected');
    expect(line?.reason).toBe('wrong_audience');
    expect(gatehouse.rawLogs.some((raw) => raw.includes(token))).toBe(false);
  });
});
