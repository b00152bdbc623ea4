import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessTokens, AccessTokenError } from '../../src/auth/access-tokens.js';
import { ConfigError } from '../../src/config/index.js';
import { retiredAtMember, rotateJwks, rotateKeyFile } from '../../src/auth/key-rotation.js';
import { signsFromMember } from '../../src/auth/key-activation.js';
import { generateSigningJwk, loadKeyRing, publicJwks } from '../../src/auth/keys.js';
import { KeyStore } from '../../src/auth/key-store.js';

const options = { issuer: 'gatehouse', audience: 'gatehouse', ttlSeconds: 600, clockSkewSeconds: 0 };
const userId = '11111111-1111-4111-8111-111111111111';
const sessionId = '22222222-2222-4222-8222-222222222222';
const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-keys-'));

async function tokensFrom(file: string) {
  const ring = await loadKeyRing({ privateJwks: undefined, privateJwksFile: file, dataDir: dir });

  return { ring, tokens: new AccessTokens(new KeyStore(ring), options) };
}

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

describe('signing key rotation', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('old tokens verify after rotation and new ones use the new kid', async () => {
    const file = path.join(dir, 'rotate.json');
    const original = await generateSigningJwk();
    writeFileSync(file, JSON.stringify({ keys: [original] }), { mode: 0o644 });
    chmodSync(file, 0o644);
    const before = await tokensFrom(file);
    const oldToken = (await before.tokens.sign(userId, sessionId)).token;

    const result = await rotateKeyFile(file, 600);
    expect(result.verifyingKids).toEqual([original.kid]);
    // The permissions of the old file stay, except any access for other users.
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const after = await tokensFrom(file);
    expect((await after.tokens.verify(oldToken)).sessionId).toBe(sessionId);
    const newToken = (await after.tokens.sign(userId, sessionId)).token;
    expect(kidOf(newToken)).toBe(result.signingKid);
    expect(kidOf(newToken)).not.toBe(original.kid);
    // The published set carries both public keys and no private or bookkeeping member.
    const published = publicJwks(after.ring).keys;
    expect(published.map((key) => key.kid)).toEqual([result.signingKid, original.kid]);
    expect(published.some((key) => 'd' in key || retiredAtMember in key)).toBe(false);
  });

  it('keeps a private key file private', async () => {
    const file = path.join(dir, 'private.json');
    writeFileSync(file, JSON.stringify({ keys: [await generateSigningJwk()] }), { mode: 0o600 });
    chmodSync(file, 0o600);
    await rotateKeyFile(file, 600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it.runIf(process.getuid?.() === 0)('keeps the owner and group as root', async () => {
    const file = path.join(dir, 'owned.json');
    writeFileSync(file, JSON.stringify({ keys: [await generateSigningJwk()] }), { mode: 0o640 });
    // 65534 is the conventional nobody/nogroup id; any id other than root's shows the effect.
    chownSync(file, 65534, 65534);
    await rotateKeyFile(file, 600);
    expect(statSync(file).uid).toBe(65534);
    expect(statSync(file).gid).toBe(65534);
  });

  it('one of two rotations at once fails', async () => {
    const file = path.join(dir, 'concurrent.json');
    writeFileSync(file, JSON.stringify({ keys: [await generateSigningJwk()] }), { mode: 0o600 });
    const outcomes = await Promise.allSettled([rotateKeyFile(file, 600), rotateKeyFile(file, 600)]);
    const done = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const failed = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(done).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConfigError);
    const { signingKid } = (done[0] as PromiseFulfilledResult<{ signingKid: string }>).value;
    const keys = (JSON.parse(readFileSync(file, 'utf8')) as { keys: JWK[] }).keys;
    expect(keys[0]!.kid).toBe(signingKid);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('refuses to rotate while a rotation holds the lock', async () => {
    const file = path.join(dir, 'locked.json');
    const text = JSON.stringify({ keys: [await generateSigningJwk()] });
    writeFileSync(file, text, { mode: 0o600 });
    mkdirSync(`${file}.lock`);
    await expect(rotateKeyFile(file, 600)).rejects.toThrow(/Another keys rotate is running/);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('takes over the lock of a killed rotation', async () => {
    const file = path.join(dir, 'abandoned.json');
    const text = JSON.stringify({ keys: [await generateSigningJwk()] });
    writeFileSync(file, text, { mode: 0o600 });
    mkdirSync(`${file}.lock`);
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, longAgo, longAgo);
    await rotateKeyFile(file, 600);
    expect(readFileSync(file, 'utf8')).not.toBe(text);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('drops keys retired longer than the retention', async () => {
    const now = Date.now();
    const current = await generateSigningJwk();
    const recent = { ...(await generateSigningJwk()), [retiredAtMember]: Math.floor(now / 1000) - 100 } as JWK;
    const old = { ...(await generateSigningJwk()), [retiredAtMember]: Math.floor(now / 1000) - 1000 } as JWK;
    const { keys, result } = await rotateJwks([current, recent, old], 600, now);
    expect(result.droppedKids).toEqual([old.kid]);
    expect(keys.map((key) => key.kid)).toEqual([result.signingKid, current.kid, recent.kid]);
    expect((keys[1] as Record<string, unknown>)[retiredAtMember]).toBe(Math.floor(now / 1000));
    expect((keys[2] as Record<string, unknown>)[retiredAtMember]).toBe(Math.floor(now / 1000) - 100);
  });

  it('rejects a kid that is not published', async () => {
    const file = path.join(dir, 'unknown.json');
    writeFileSync(file, JSON.stringify({ keys: [await generateSigningJwk()] }));
    const { tokens } = await tokensFrom(file);
    const stranger = await generateSigningJwk();
    const forged = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'EdDSA', kid: stranger.kid!, typ: 'JWT' })
      .setSubject(userId)
      .setJti('33333333-3333-4333-8333-333333333333')
      .setIssuedAt()
      .setExpirationTime('5m')
      .setIssuer('gatehouse')
      .setAudience('gatehouse')
      .sign(await importJWK(stranger, 'EdDSA'));
    const rejection = await tokens.verify(forged).catch((error: unknown) => error);
    expect(rejection).toBeInstanceOf(AccessTokenError);
    expect((rejection as AccessTokenError).reason).toBe('unknown_key');
  });

  it('keys rotate command rewrites the file', async () => {
    const file = path.join(dir, 'cli.json');
    const original = await generateSigningJwk();
    writeFileSync(file, JSON.stringify({ keys: [original] }));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'rotate', '--file', file],
      { env: { ...process.env, NODE_ENV: 'test', DATA_DIR: dir }, timeout: 60_000 },
    );
    const printed = JSON.parse(stdout) as { signingKid: string; verifyingKids: string[] };
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: JWK[] };
    expect(stored.keys.map((key) => key.kid)).toEqual([printed.signingKid, original.kid]);
    expect(printed.verifyingKids).toEqual([original.kid]);
  });

  it('keys rotate delays the new key', async () => {
    const file = path.join(dir, 'cli-delay.json');
    writeFileSync(file, JSON.stringify({ keys: [await generateSigningJwk()] }));
    const run = (args: string[], reloadSeconds: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'rotate', '--file', file, ...args], {
        env: { ...process.env, NODE_ENV: 'test', DATA_DIR: dir, JWT_KEYS_RELOAD_SECONDS: reloadSeconds },
        timeout: 60_000,
      });
    const before = Math.floor(Date.now() / 1000);
    const { stdout } = await run(['--activate-after', '120'], '30');
    const printed = JSON.parse(stdout) as { signingKid: string; signsFrom: number };
    expect(printed.signsFrom).toBeGreaterThanOrEqual(before + 120);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, unknown>[] };
    expect(stored.keys[0]?.[signsFromMember]).toBe(printed.signsFrom);
    expect(stored.keys[1]?.[retiredAtMember]).toBe(printed.signsFrom);

    // Without a reload timer there is no default delay, and a bad value is rejected.
    const noDefault = await run([], '0').catch((error: { code: number }) => error);
    expect((noDefault as { code: number }).code).toBe(64);
    const invalid = await run(['--activate-after', 'soon'], '30').catch((error: { code: number }) => error);
    expect((invalid as { code: number }).code).toBe(64);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { keys: unknown[] }).keys).toHaveLength(2);
  });

  it('default delay adds the clock skew', async () => {
    // An instance whose clock runs ahead by up to the skew starts signing that much earlier, so
    // the two reload intervals alone would let it sign before a cached JWK set expires.
    const file = path.join(dir, 'cli-default-delay.json');
    writeFileSync(file, JSON.stringify({ keys: [await generateSigningJwk()] }));
    const before = Math.floor(Date.now() / 1000);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'rotate', '--file', file],
      {
        env: { ...process.env, NODE_ENV: 'test', DATA_DIR: dir, JWT_KEYS_RELOAD_SECONDS: '30', JWT_CLOCK_SKEW_SECONDS: '300' },
        timeout: 60_000,
      },
    );
    const printed = JSON.parse(stdout) as { signsFrom: number };
    expect(printed.signsFrom).toBeGreaterThanOrEqual(before + 2 * 30 + 300);
  });
});
