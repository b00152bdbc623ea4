import { chmod, chown, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import lockfile from 'proper-lockfile';
import { ConfigError } from '../config/index.js';
import { generateSigningJwk, jwkProblem } from './keys.js';
import { signsFromMember } from './key-activation.js';

/**
 * JWK member recording when a key stops signing, as seconds since the epoch: the activation time
 * of the key that replaced it. It is private to Gatehouse: the published JWK set never carries it.
 */
export const retiredAtMember = 'gatehouse_retired_at';

export interface RotationResult {
  /** `kid` of the new signing key. */
  signingKid: string;
  /** When the new key starts signing, in seconds since the epoch. Until then the previous key signs. */
  signsFrom: number;
  /** `kid`s of the keys that now only verify. */
  verifyingKids: string[];
  /** `kid`s dropped because every token they signed has expired. */
  droppedKids: string[];
}

/**
 * Returns a new JWK set whose first key is a new signing key that may sign `activateAfterSeconds`
 * from now. Instances publish and verify with it as soon as they load the set, and the previous
 * signing key signs until then. The previous keys stay to verify the tokens they signed, and the
 * previous signing key is stamped as retired at the new key's activation time. A key retired
 * more than `retainSeconds` ago is dropped, because no token it signed can still be valid.
 */
export async function rotateJwks(
  keys: JWK[],
  retainSeconds: number,
  now = Date.now(),
  activateAfterSeconds = 0,
): Promise<{ keys: JWK[]; result: RotationResult }> {
  const nowSeconds = Math.floor(now / 1000);
  const signsFrom = nowSeconds + activateAfterSeconds;
  const retainedKeys: JWK[] = [];
  const droppedKids: string[] = [];
  for (const key of keys) {
    const stamp = (key as Record<string, unknown>)[retiredAtMember];
    const retiredAt = typeof stamp === 'number' ? stamp : undefined;
    if (retiredAt !== undefined && nowSeconds - retiredAt > retainSeconds) {
      droppedKids.push(String(key.kid));
      continue;
    }
    retainedKeys.push(retiredAt === undefined ? ({ ...key, [retiredAtMember]: signsFrom } as JWK) : key);
  }
  const signing = { ...(await generateSigningJwk()), [signsFromMember]: signsFrom } as JWK;

  return {
    keys: [signing, ...retainedKeys],
    result: {
      signingKid: String(signing.kid),
      signsFrom,
      verifyingKids: retainedKeys.map((key) => String(key.kid)),
      droppedKids,
    },
  };
}

/**
 * Time after which a rotation lock counts as abandoned, in ms. The holder refreshes the lock every
 * half of this time, so an older lock belongs to a rotation that was killed.
 */
const rotationLockStaleMs = 10_000;

/**
 * Rotates the JWK set stored in `file` in place, holding the lock folder `<file>.lock` so that a
 * second rotation fails instead of undoing this one. A lock left by a killed rotation is taken
 * over once it is stale. The new set is renamed over the old file, so readers never see a
 * partial file, and keeps its owner, group and permissions minus access for other users.
 */
export async function rotateKeyFile(
  file: string,
  retainSeconds: number,
  now = Date.now(),
  activateAfterSeconds = 0,
): Promise<RotationResult> {
  const locking = lockfile.lock(file, { realpath: false, stale: rotationLockStaleMs });
  const release = await locking.catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ELOCKED') throw new ConfigError(`Cannot lock the key file ${file}: ${error.message}.`);
    throw new ConfigError(`Another keys rotate is running on ${file}. Wait until it finishes and try again.`);
  });
  try {
    return await rotateLockedKeyFile(file, retainSeconds, now, activateAfterSeconds);
  } finally {
    await release();
  }
}

async function rotateLockedKeyFile(
  file: string,
  retainSeconds: number,
  now: number,
  activateAfterSeconds: number,
): Promise<RotationResult> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new ConfigError(`Cannot read the key file ${file}: ${error.message}.`);
  });
  const { mode, uid, gid } = await stat(file);
  let keys: JWK[];
  try {
    keys = (JSON.parse(text) as { keys: JWK[] }).keys;
  } catch {
    throw new ConfigError(`Invalid key file ${file}: not JSON.`);
  }
  if (!Array.isArray(keys)) throw new ConfigError(`Invalid key file ${file}: expected {"keys":[...]}.`);
  for (const key of keys) {
    const problem = jwkProblem(key);
    if (problem) throw new ConfigError(`Invalid key file ${file}: ${problem}.`);
  }
  const rotated = await rotateJwks(keys, retainSeconds, now, activateAfterSeconds);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify({ keys: rotated.keys }, null, 2), { mode: 0o600 });
  try {
    // Only root may give a file away; other users keep their own files, so their chown is skipped.
    if (process.getuid?.() === 0) await chown(temporary, uid, gid);
    await chmod(temporary, mode & 0o770);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }

  return rotated.result;
}
