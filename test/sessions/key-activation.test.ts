import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessTokenError, AccessTokens } from '../../src/auth/access-tokens.js';
import { signingKeyAt, signsFromMember } from '../../src/auth/key-activation.js';
import { KeyReloader } from '../../src/auth/key-reloader.js';
import { retiredAtMember, rotateJwks } from '../../src/auth/key-rotation.js';
import { KeyStore } from '../../src/auth/key-store.js';
import { generateSigningJwk, parseKeyRing, publicJwks } from '../../src/auth/keys.js';
import { createLogger } from '../../src/logger.js';

const options = { issuer: 'gatehouse', audience: 'gatehouse', ttlSeconds: 600, clockSkewSeconds: 0 };
const userId = '11111111-1111-4111-8111-111111111111';
const sessionId = '22222222-2222-4222-8222-222222222222';
const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-key-activation-'));

const setOf = (keys: JWK[]) => JSON.stringify({ keys });
const ringOf = (keys: JWK[]) => parseKeyRing(setOf(keys), 'test keys', 'file');
const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

/** Creates a logger that keeps its lines in memory, parsed. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createLogger('info', {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });

  return { logger, lines, raw };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signing key activation', () => {

  it('previous key signs until activation', async () => {
    const now = Date.UTC(2026, 0, 1);
    const original = await generateSigningJwk();
    const { keys, result } = await rotateJwks([original], 600, now, 60);
    expect(result.signsFrom).toBe(now / 1000 + 60);
    expect((keys[0] as Record<string, unknown>)[signsFromMember]).toBe(now / 1000 + 60);
    // The previous key retires when the new one starts signing, so its retention starts then.
    expect((keys[1] as Record<string, unknown>)[retiredAtMember]).toBe(now / 1000 + 60);
    const ring = await ringOf(keys);
    expect(signingKeyAt(ring, now).kid).toBe(original.kid);
    expect(signingKeyAt(ring, now + 59_999).kid).toBe(original.kid);
    expect(signingKeyAt(ring, now + 60_000).kid).toBe(result.signingKid);
  });

  it('publishes a pending key without bookkeeping', async () => {
    const { keys, result } = await rotateJwks([await generateSigningJwk()], 600, Date.now(), 3600);
    const published = publicJwks(await ringOf(keys)).keys;
    expect(published.map((key) => key.kid)).toEqual([result.signingKid, keys[1]!.kid]);
    for (const key of published) {
      expect(Object.keys(key).filter((name) => name === 'd' || name.startsWith('gatehouse_'))).toEqual([]);
    }
  });

  it('keys without a stamp sign at once', async () => {
    const first = await generateSigningJwk();
    const ring = await ringOf([first, await generateSigningJwk()]);
    expect(signingKeyAt(ring, 0).kid).toBe(first.kid);
  });

  it('current signer keeps signing while none is active', async () => {
    const now = Date.now();
    const current = await generateSigningJwk();
    const previous = await ringOf([current]);
    const later = { ...(await generateSigningJwk()), [signsFromMember]: Math.floor(now / 1000) + 600 } as JWK;
    const reloaded = await parseKeyRing(setOf([later, current]), 'test keys', 'file', previous);
    expect(signingKeyAt(reloaded, now).kid).toBe(current.kid);
    // Without the previous signer in the set, the key that activates first signs early.
    const soon = { ...(await generateSigningJwk()), [signsFromMember]: Math.floor(now / 1000) + 60 } as JWK;
    const pendingOnly = await parseKeyRing(setOf([later, soon]), 'test keys', 'file', previous);
    expect(signingKeyAt(pendingOnly, now).kid).toBe(soon.kid);
  });

  it('rejects an invalid activation time', async () => {
    const key = { ...(await generateSigningJwk()), [signsFromMember]: 'tomorrow' } as JWK;
    await expect(ringOf([key])).rejects.toThrow(signsFromMember);
  });
});

describe('key store swap', () => {
  it('dropped kid stops verifying at once', async () => {
    const original = await generateSigningJwk();
    const store = new KeyStore(await ringOf([original]));
    const tokens = new AccessTokens(store, options);
    const { token } = await tokens.sign(userId, sessionId);
    expect((await tokens.verify(token)).sessionId).toBe(sessionId);
    expect(tokens.cachedClaims(token)).toBeDefined();

    // Same key again: the cached verification survives the swap.
    store.replace(await parseKeyRing(setOf([original]), 'test keys', 'file', store.current()));
    expect(tokens.cachedClaims(token)).toBeDefined();

    const replacement = await generateSigningJwk();
    store.replace(await parseKeyRing(setOf([replacement]), 'test keys', 'file', store.current()));
    expect(tokens.cachedClaims(token)).toBeUndefined();
    const rejection = await tokens.verify(token).catch((error: unknown) => error);
    expect((rejection as AccessTokenError).reason).toBe('unknown_key');
    expect(kidOf((await tokens.sign(userId, sessionId)).token)).toBe(replacement.kid);
  });

  it('same kid with new material misses the cache', async () => {
    const original = await generateSigningJwk();
    const store = new KeyStore(await ringOf([original]));
    const tokens = new AccessTokens(store, options);
    const { token } = await tokens.sign(userId, sessionId);
    await tokens.verify(token);
    const impostor = { ...(await generateSigningJwk()), kid: original.kid };
    store.replace(await parseKeyRing(setOf([impostor]), 'test keys', 'file', store.current()));
    const rejection = await tokens.verify(token).catch((error: unknown) => error);
    expect((rejection as AccessTokenError).reason).toBe('bad_signature');
  });

  it('serves the JWK set of the current ring', async () => {
    const first = await generateSigningJwk();
    const store = new KeyStore(await ringOf([first]));
    const second = await generateSigningJwk();
    store.replace(await ringOf([second, first]));
    const kids = (JSON.parse(store.publicJwksJson()) as { keys: JWK[] }).keys.map((key) => key.kid);
    expect(kids).toEqual([second.kid, first.kid]);
  });
});

describe('key reloader', () => {
  it('skips unchanged files and logs each failure once', async () => {
    const file = path.join(dir, 'reloader.json');
    const original = await generateSigningJwk();
    const text = setOf([original]);
    writeFileSync(file, text);
    const { logger, lines, raw } = memoryLogger();
    const store = new KeyStore(await ringOf([original]), logger);
    const reloader = new KeyReloader({
      store,
      file,
      variable: 'JWT_PRIVATE_JWKS_FILE',
      source: 'file',
      loadedText: text,
      intervalSeconds: 0,
      logger,
    });
    expect(await reloader.reload()).toBe('unchanged');
    expect(lines).toEqual([]);

    writeFileSync(file, text.slice(0, text.length - 20));
    expect(await reloader.reload()).toBe('failed');
    expect(await reloader.reload()).toBe('unchanged');
    const errors = lines.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.signingKid).toBe(original.kid);
    expect(raw.join('\n')).not.toContain(original.d!);

    const added = await generateSigningJwk();
    writeFileSync(file, setOf([added, original]));
    expect(await reloader.reload()).toBe('reloaded');
    const reloaded = lines.find((line) => line.msg === 'signing keys reloaded');
    expect(reloaded?.signingKid).toBe(added.kid);
    expect(reloaded?.verifyingKids).toEqual([added.kid, original.kid]);
    expect(store.signingKey().kid).toBe(added.kid);
    await reloader.stop();
    expect(await reloader.reload()).toBe('unchanged');
  });
  it('fails a read that hangs and starts no second one', async () => {
    // Opening a FIFO for reading blocks until a writer opens it, like a read on stuck storage.
    const fifo = path.join(dir, 'hanging.json');
    execFileSync('mkfifo', [fifo]);
    const original = await generateSigningJwk();
    const { logger, lines } = memoryLogger();
    const reloader = new KeyReloader({
      store: new KeyStore(await ringOf([original]), logger),
      file: fifo,
      variable: 'JWT_PRIVATE_JWKS_FILE',
      source: 'file',
      loadedText: setOf([original]),
      intervalSeconds: 0,
      logger,
      readTimeoutMs: 200,
    });
    try {
      expect(await reloader.reload()).toBe('failed');
      expect(await reloader.reload()).toBe('failed');
      const reasons = lines.filter((line) => line.level === 50).map((line) => line.reason);
      expect(reasons).toEqual(['cannot read the file (ETIMEDOUT)', 'cannot read the file (EBUSY)']);
      await reloader.stop();
    } finally {
      // A writer unblocks the pending open, so the libuv thread it holds is freed.
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    }
  });
});
