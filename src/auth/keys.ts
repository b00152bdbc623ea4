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
import { chooseFallbackSigner, signingKeyAt, signsFromOf, signsFromProblem } from './key-activation.js';

/** Signature algorithms Gatehouse signs and accepts. Anything else, `none` included, is rejected. */
export const allowedAlgorithms = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof allowedAlgorithms)[number];

export interface VerificationKey {
  kid: string;
  alg: SigningAlgorithm;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  /** Time from which the key may sign, in seconds since the epoch. Undefined means at once. */
  signsFrom: number | undefined;
}

export interface KeyRing {
  /** Every key of the set in file order. The first one whose activation time has passed signs. */
  signers: SigningKey[];
  /** The key that signs while no key of `signers` is active yet. */
  fallbackSigner: SigningKey;
  /** Every key that verifies, by `kid`, the signing key included. */
  verification: Map<string, VerificationKey>;
  /** Source of the keys, for the start-up log. */
  source: 'environment' | 'file' | 'generated';
}

/** Returns why a private JWK cannot sign Gatehouse tokens, or undefined when it can. */
export function jwkProblem(jwk: JWK): string | undefined {
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) return 'every key needs a "kid"';
  if (typeof jwk.d !== 'string') return `key ${jwk.kid} has no private part ("d")`;
  const activationProblem = signsFromProblem(jwk);
  if (activationProblem) return activationProblem;
  if (jwk.alg === 'EdDSA' && jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return undefined;
  if (jwk.alg === 'ES256' && jwk.kty === 'EC' && jwk.crv === 'P-256') return undefined;

  return `key ${jwk.kid} must be an Ed25519 key with "alg": "EdDSA" or a P-256 key with "alg": "ES256"`;
}

const privateMembers = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth']);

/**
 * Returns the public part of a private JWK. Members named `gatehouse_*` are key-rotation
 * bookkeeping, such as retirement and activation times, and are never published either.
 */
function publicPart(jwk: JWK): JWK {
  const members = Object.entries(jwk).filter(([name]) => !privateMembers.has(name) && !name.startsWith('gatehouse_'));

  return { ...(Object.fromEntries(members) as JWK), use: 'sig' };
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
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError(`Invalid ${variable}: expected {"keys":[...]} with at least one key.`);
  }
  // A `kid` must name one key, because the first key with it would sign and the last one verify.
  const kids = new Set<string>();
  for (const key of keys as JWK[]) {
    if (typeof key !== 'object' || key === null) throw new ConfigError(`Invalid ${variable}: every key must be a JSON object.`);
    const problem = jwkProblem(key);
    if (problem) throw new ConfigError(`Invalid ${variable}: ${problem}.`);
    if (kids.has(key.kid!)) {
      throw new ConfigError(`Invalid ${variable}: two keys have the kid ${key.kid}. Give each key its own "kid".`);
    }
    kids.add(key.kid!);
  }

  return keys as JWK[];
}

/**
 * Imports a key with jose. Import errors are replaced by a message naming only the `kid`,
 * because the messages of the crypto library may quote key material.
 */
async function importKey(jwk: JWK, alg: SigningAlgorithm, variable: string): Promise<CryptoKey> {
  try {
    return (await importJWK(jwk, alg)) as CryptoKey;
  } catch {
    throw new ConfigError(`Invalid ${variable}: key ${jwk.kid} cannot be imported. Check its "x", "y" and "d" members.`);
  }
}

/**
 * Returns the verification key of a JWK. The key object of `previous` is reused when its public
 * JWK is unchanged, so the verified-token cache keeps the entries it verified.
 */
async function verificationKeyOf(jwk: JWK, variable: string, previous: KeyRing | undefined): Promise<VerificationKey> {
  const kid = jwk.kid as string;
  const alg = jwk.alg as SigningAlgorithm;
  const publicJwk = publicPart(jwk);
  const known = previous?.verification.get(kid);
  if (known && known.alg === alg && JSON.stringify(known.publicJwk) === JSON.stringify(publicJwk)) return known;

  return { kid, alg, publicKey: await importKey(publicJwk, alg, variable), publicJwk };
}

async function buildKeyRing(
  jwks: JWK[],
  variable: string,
  source: KeyRing['source'],
  previous?: KeyRing,
  nowMs = Date.now(),
): Promise<KeyRing> {
  const verification = new Map<string, VerificationKey>();
  const signers: SigningKey[] = [];
  for (const jwk of jwks) {
    const kid = jwk.kid as string;
    const alg = jwk.alg as SigningAlgorithm;
    verification.set(kid, await verificationKeyOf(jwk, variable, previous));
    signers.push({ kid, alg, privateKey: await importKey(jwk, alg, variable), signsFrom: signsFromOf(jwk) });
  }
  const previousKid = previous ? signingKeyAt(previous, nowMs).kid : undefined;

  return { signers, fallbackSigner: chooseFallbackSigner(signers, previousKid), verification, source };
}

/**
 * Parses and imports a private JWK set. `variable` names the setting or file in error messages.
 * Throws a ConfigError that names at most a `kid`, never key material.
 */
export async function parseKeyRing(
  text: string,
  variable: string,
  source: KeyRing['source'],
  previous?: KeyRing,
): Promise<KeyRing> {
  return buildKeyRing(parseJwks(text, variable), variable, source, previous);
}

export interface KeySource {
  privateJwks: string | undefined;
  privateJwksFile: string | undefined;
  dataDir: string;
}

/** Path of the key file that the embedded defaults generate on first start. */
export const generatedKeyFile = (dataDir: string) => path.join(dataDir, 'jwks.json');

/** A loaded key ring, and the file it came from unless JWT_PRIVATE_JWKS contained the keys. */
export interface LoadedKeys {
  ring: KeyRing;
  file?: {
    path: string;
    /** Name used in error messages: JWT_PRIVATE_JWKS_FILE or the generated file's path. */
    variable: string;
    /** The content read, so a reload can skip an unchanged file. */
    text: string;
  };
}

/**
 * Loads the signing keys: from JWT_PRIVATE_JWKS, else from JWT_PRIVATE_JWKS_FILE, else from the
 * file in DATA_DIR, which is generated on first start. Production never reaches the last case.
 */
export async function loadKeys(source: KeySource): Promise<LoadedKeys> {
  if (source.privateJwks) {
    return { ring: await parseKeyRing(source.privateJwks, 'JWT_PRIVATE_JWKS', 'environment') };
  }
  if (source.privateJwksFile) {
    const variable = 'JWT_PRIVATE_JWKS_FILE';
    const text = await readFile(source.privateJwksFile, 'utf8').catch((error: Error) => {
      throw new ConfigError(`Invalid ${variable}: cannot read it (${error.message}).`);
    });

    return { ring: await parseKeyRing(text, variable, 'file'), file: { path: source.privateJwksFile, variable, text } };
  }
  const file = generatedKeyFile(source.dataDir);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  const text = existing ?? (await generateKeyFile(source.dataDir, file));

  return { ring: await parseKeyRing(text, file, 'generated'), file: { path: file, variable: file, text } };
}

/** Writes a new key set to `file` unless another process wrote it first, and returns the file's content. */
async function generateKeyFile(dataDir: string, file: string): Promise<string> {
  const jwks = { keys: [await generateSigningJwk()] };
  await mkdir(dataDir, { recursive: true });
  // The "wx" flag fails if another process wrote the file first; then that file wins.
  await writeFile(file, JSON.stringify(jwks, null, 2), { mode: 0o600, flag: 'wx' }).catch(
    () => undefined,
  );

  return readFile(file, 'utf8');
}

/** Loads the signing keys like {@link loadKeys} and returns only the key ring. */
export async function loadKeyRing(source: KeySource): Promise<KeyRing> {
  return (await loadKeys(source)).ring;
}

/** Returns the public JWK set, as published at /.well-known/jwks.json. */
export function publicJwks(ring: KeyRing): { keys: JWK[] } {
  return { keys: [...ring.verification.values()].map((key) => key.publicJwk) };
}
