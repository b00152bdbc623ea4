import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { generateSigningJwk, loadKeyRing } from '../../src/auth/keys.js';
import { signingKeyAt } from '../../src/auth/key-activation.js';

async function keyOf(alg: string, options: Record<string, unknown> = {}): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...options });

  return { ...(await exportJWK(privateKey)), kid: `${alg}-key`, alg };
}

async function loadError(keys: JWK[]): Promise<ConfigError> {
  try {
    await loadKeyRing({ privateJwks: JSON.stringify({ keys }), privateJwksFile: undefined, dataDir: '/nonexistent' });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);

    return error as ConfigError;
  }
  throw new Error('expected the key set to be rejected');
}

describe('configured signing keys', () => {
  it('accepts Ed25519 and P-256 keys', async () => {
    const ring = await loadKeyRing({
      privateJwks: JSON.stringify({ keys: [await generateSigningJwk(), await keyOf('ES256')] }),
      privateJwksFile: undefined,
      dataDir: '/nonexistent',
    });
    expect(ring.source).toBe('environment');
    expect(signingKeyAt(ring, Date.now()).alg).toBe('EdDSA');
    expect(ring.verification.size).toBe(2);
  });

  it('rejects a shared-secret key', async () => {
    const secret: JWK = { kty: 'oct', k: Buffer.from('secret').toString('base64url'), kid: 'hs', alg: 'HS256' };
    expect((await loadError([secret])).message).toMatch(/JWT_PRIVATE_JWKS/);
  });

  it('rejects RSA keys', async () => {
    expect((await loadError([await keyOf('RS256', { modulusLength: 2048 })])).message).toMatch(/JWT_PRIVATE_JWKS/);
  });

  it('rejects a public key without its private part', async () => {
    const { d: _d, ...publicOnly } = await generateSigningJwk();
    expect((await loadError([publicOnly])).message).toMatch(/private/);
  });

  it('rejects a key without kid', async () => {
    const { kid: _kid, ...withoutKid } = await generateSigningJwk();
    expect((await loadError([withoutKid])).message).toMatch(/kid/);
  });

  it('rejects a duplicate kid', async () => {
    // The first key signs but the last one with its kid would verify, so no token would verify.
    const signing = await generateSigningJwk();
    const other = { ...(await generateSigningJwk()), kid: signing.kid };
    const error = await loadError([signing, other]);
    expect(error.message).toMatch(/JWT_PRIVATE_JWKS/);
    expect(error.message).toContain(signing.kid);
    expect(error.message).not.toContain(signing.d);
    expect(error.message).not.toContain(other.d);
  });

  it('rejects an empty set and malformed JSON', async () => {
    await expect(
      loadKeyRing({ privateJwks: '{"keys":[]}', privateJwksFile: undefined, dataDir: '/nonexistent' }),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      loadKeyRing({ privateJwks: 'not json', privateJwksFile: undefined, dataDir: '/nonexistent' }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
