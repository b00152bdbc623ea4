import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import { ConfigError } from '../config/index.js';

/** Signature algorithms Gatehouse signs and accepts. Anything else, `none` included, is rejected. */
export const allowedAlgorithms = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof allowedAlgorithms)[number];

export interface VerificationKey {
  kid: string;
  alg: SigningAlgorithm;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export interface KeyRing {
  /** The one key that signs new tokens. */
  signing: { kid: string; alg: SigningAlgorithm; privateKey: CryptoKey };
  /** Every key that verifies, by `kid`, the signing key included. */
  verification: Map<string, VerificationKey>;
  /** Source of the keys, for the start-up log. */
  source: 'environment' | 'file' | 'generated';
}

/** Returns why a private JWK cannot sign Gatehouse tokens, or undefined when it can. */
export function jwkProblem(jwk: JWK): string | undefined {
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) return 'every key needs a "kid"';
  if (typeof jwk.d !== 'string') return `key ${jwk.kid} has no private part ("d")`;
  if (jwk.alg === 'EdDSA' && jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return undefined;
  if (jwk.alg === 'ES256' && jwk.kty === 'EC' && jwk.crv === 'P-256') return undefined;

  return `key ${jwk.kid} must be an Ed25519 key with "alg": "EdDSA" or a P-256 key with "alg": "ES256"`;
}

function publicPart(jwk: JWK): JWK {
  // `gatehouse_retired_at` is key-rotation bookkeeping, not part of the published key.
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, gatehouse_retired_at: _retired, ...rest } =
    jwk as JWK & { gatehouse_retired_at?: number };

  return { ...rest, use: 'sig' };
}

/** Generates a new Ed25519 private key as a JWK with a random `kid`. */
export async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);

  return { ...jwk, kid: randomUUID(), alg: 'EdDSA', use: 'sig' };
}

function parseJwks(text: string, variable: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`Invalid ${variable}: not JSON. Provide a JWK set such as {"keys":[...]}.`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError(`Invalid ${variable}: expected {"keys":[...]} with at least one key.`);
  }
  for (const key of keys as JWK[]) {
    const problem = jwkProblem(key);
    if (problem) throw new ConfigError(`Invalid ${variable}: ${problem}.`);
  }

  return keys as JWK[];
}

async function buildKeyRing(jwks: JWK[], source: KeyRing['source']): Promise<KeyRing> {
  const verification = new Map<string, VerificationKey>();
  for (const jwk of jwks) {
    const alg = jwk.alg as SigningAlgorithm;
    const publicJwk = publicPart(jwk);
    const publicKey = (await importJWK(publicJwk, alg)) as CryptoKey;
    verification.set(jwk.kid as string, { kid: jwk.kid as string, alg, publicKey, publicJwk });
  }
  const [first] = jwks as [JWK];
  const privateKey = (await importJWK(first, first.alg)) as CryptoKey;

  return {
    signing: { kid: first.kid as string, alg: first.alg as SigningAlgorithm, privateKey },
    verification,
    source,
  };
}

export interface KeySource {
  privateJwks: string | undefined;
  privateJwksFile: string | undefined;
  dataDir: string;
}

/** Path of the key file that the embedded defaults generate on first start. */
export const generatedKeyFile = (dataDir: string) => path.join(dataDir, 'jwks.json');

/**
 * Loads the signing keys: from JWT_PRIVATE_JWKS, else from JWT_PRIVATE_JWKS_FILE, else from the
 * file in DATA_DIR, which is generated on first start. Production never reaches the last case.
 */
export async function loadKeyRing(source: KeySource): Promise<KeyRing> {
  if (source.privateJwks) {
    return buildKeyRing(parseJwks(source.privateJwks, 'JWT_PRIVATE_JWKS'), 'environment');
  }
  if (source.privateJwksFile) {
    const text = await readFile(source.privateJwksFile, 'utf8').catch((error: Error) => {
      throw new ConfigError(`Invalid JWT_PRIVATE_JWKS_FILE: cannot read it (${error.message}).`);
    });

    return buildKeyRing(parseJwks(text, 'JWT_PRIVATE_JWKS_FILE'), 'file');
  }
  const file = generatedKeyFile(source.dataDir);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined) return buildKeyRing(parseJwks(existing, file), 'generated');

  const jwks = { keys: [await generateSigningJwk()] };
  await mkdir(source.dataDir, { recursive: true });
  // The "wx" flag fails if another process wrote the file first; then that file wins.
  await writeFile(file, JSON.stringify(jwks, null, 2), { mode: 0o600, flag: 'wx' }).catch(
    () => undefined,
  );

  return buildKeyRing(parseJwks(await readFile(file, 'utf8'), file), 'generated');
}

/** Returns the public JWK set, as published at /.well-known/jwks.json. */
export function publicJwks(ring: KeyRing): { keys: JWK[] } {
  return { keys: [...ring.verification.values()].map((key) => key.publicJwk) };
}
