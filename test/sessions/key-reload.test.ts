import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JWK } from 'jose';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { signsFromMember } from '../../src/auth/key-activation.js';
import { rotateKeyFile } from '../../src/auth/key-rotation.js';
import { generateSigningJwk } from '../../src/auth/keys.js';
import { IdentityDocument } from '../generated/graphql.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { loginUser, registerUser } from '../support/users.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-key-reload-'));
const retainSeconds = 1800;
let fileCounter = 0;

/** Writes a new key file with one signing key and returns its path and key. */
async function newKeyFile(): Promise<{ file: string; key: JWK }> {
  fileCounter += 1;
  const file = path.join(dir, `keys-${fileCounter}.json`);
  const key = await generateSigningJwk();
  writeFileSync(file, JSON.stringify({ keys: [key] }), { mode: 0o600 });

  return { file, key };
}

const tokenPart = (token: string, index: number) =>
  JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString()) as Record<string, unknown>;
const kidOf = (token: string) => tokenPart(token, 0).kid as string;
const issuedAtOf = (token: string) => tokenPart(token, 1).iat as number;

async function publishedKeys(gatehouse: TestGatehouse): Promise<JWK[]> {
  const response = await fetch(`${gatehouse.url}/.well-known/jwks.json`);

  return ((await response.json()) as { keys: JWK[] }).keys;
}

const publishedKids = async (gatehouse: TestGatehouse) => (await publishedKeys(gatehouse)).map((key) => key.kid);

/** Calls `probe` every 200 ms until it returns a value, at most `attempts` times. */
async function poll<T>(probe: () => Promise<T | undefined>, attempts = 100): Promise<T | undefined> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(200);
  }

  return undefined;
}

async function identityOf(gatehouse: TestGatehouse, token: string) {
  const response = await gatehouse.op(IdentityDocument, {}, { token });

  return { userId: response.body.data?.identity?.userId, code: response.body.errors?.[0]?.extensions?.code };
}

describe('signing key reload', () => {
  const running: TestGatehouse[] = [];
  const databases: Awaited<ReturnType<typeof createTestDatabase>>[] = [];

  async function start(file: string, reloadSeconds: string, databaseUrl?: string) {
    const gatehouse = await startGatehouse({
      databaseUrl,
      env: { JWT_PRIVATE_JWKS_FILE: file, JWT_KEYS_RELOAD_SECONDS: reloadSeconds },
    });
    running.push(gatehouse);

    return gatehouse;
  }

  afterEach(async () => {
    for (const gatehouse of running.splice(0)) await gatehouse.close();
    for (const database of databases.splice(0)) await database.drop();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes a rotated key first, then signs with it', { timeout: 60_000 }, async () => {
    const { file, key: original } = await newKeyFile();
    const gatehouse = await start(file, '1');
    const user = await registerUser(gatehouse);
    expect(kidOf(user.accessToken)).toBe(original.kid);

    const rotation = await rotateKeyFile(file, retainSeconds, Date.now(), 8);
    const kids = await poll(async () => {
      const published = await publishedKids(gatehouse);
      return published.includes(rotation.signingKid) ? published : undefined;
    });
    expect(kids).toEqual([rotation.signingKid, original.kid]);
    const published = await publishedKeys(gatehouse);
    expect(published.flatMap((key) => Object.keys(key).filter((name) => name === 'd' || name.startsWith('gatehouse_')))).toEqual([]);
    expect((await identityOf(gatehouse, user.accessToken)).userId).toBe(user.user.id);

    // A token issued before the activation second carries the old kid, from then on the new one.
    const early = await loginUser(gatehouse, user.email);
    const expectedKid = issuedAtOf(early.accessToken) < rotation.signsFrom ? original.kid : rotation.signingKid;
    expect(kidOf(early.accessToken)).toBe(expectedKid);

    const activated = await poll(async () => {
      const { accessToken } = await loginUser(gatehouse, user.email);
      return kidOf(accessToken) === rotation.signingKid ? accessToken : undefined;
    });
    expect(activated).toBeDefined();
    expect(issuedAtOf(activated!)).toBeGreaterThanOrEqual(rotation.signsFrom);
    expect((await identityOf(gatehouse, activated!)).userId).toBe(user.user.id);
    expect((await identityOf(gatehouse, user.accessToken)).userId).toBe(user.user.id);
    expect((await identityOf(gatehouse, early.accessToken)).userId).toBe(user.user.id);

    const reloaded = gatehouse.logs.find((line) => line.msg === 'signing keys reloaded');
    expect(reloaded?.verifyingKids).toEqual([rotation.signingKid, original.kid]);
    expect(gatehouse.logs.some((line) => line.msg === 'signing key activated' && line.kid === rotation.signingKid)).toBe(true);
  });

  it('token of one instance verifies on another', { timeout: 60_000 }, async () => {
    const { file } = await newKeyFile();
    const database = await createTestDatabase();
    databases.push(database);
    const first = await start(file, '1', database.url);
    const second = await start(file, '1', database.url);
    const user = await registerUser(first);

    const rotation = await rotateKeyFile(file, retainSeconds, Date.now(), 2);
    const activated = await poll(async () => {
      const { accessToken } = await loginUser(first, user.email);
      return kidOf(accessToken) === rotation.signingKid ? accessToken : undefined;
    });
    expect(activated).toBeDefined();
    // The second instance reads the file on its own timer, so wait for that rather than for a clock.
    const seen = await poll(async () => ((await publishedKids(second)).includes(rotation.signingKid) ? true : undefined));
    expect(seen).toBe(true);
    expect((await identityOf(second, activated!)).userId).toBe(user.user.id);
    const fromSecond = await loginUser(second, user.email);
    expect(kidOf(fromSecond.accessToken)).toBe(rotation.signingKid);
    expect((await identityOf(first, fromSecond.accessToken)).userId).toBe(user.user.id);
  });

  it('corrupt file keeps the current keys', async () => {
    const { file, key: original } = await newKeyFile();
    const gatehouse = await start(file, '0');
    const user = await registerUser(gatehouse);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length - 30));

    expect(await gatehouse.app.keyReloader?.reload()).toBe('failed');
    expect(await publishedKids(gatehouse)).toEqual([original.kid]);
    expect((await identityOf(gatehouse, user.accessToken)).userId).toBe(user.user.id);
    expect(kidOf((await loginUser(gatehouse, user.email)).accessToken)).toBe(original.kid);
    const errors = gatehouse.logs.filter((line) => line.msg === 'reloading signing keys failed, keeping the current keys');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.level).toBe(50);
    expect(gatehouse.rawLogs.join('\n')).not.toContain(original.d!);

    // Repairing the file applies it.
    writeFileSync(file, text);
    await rotateKeyFile(file, retainSeconds, Date.now(), 0);
    expect(await gatehouse.app.keyReloader?.reload()).toBe('reloaded');
    expect(await publishedKids(gatehouse)).toHaveLength(2);
  });

  it('direct reload applies a change at once', async () => {
    const { file, key: original } = await newKeyFile();
    const gatehouse = await start(file, '0');
    const user = await registerUser(gatehouse);
    expect((await identityOf(gatehouse, user.accessToken)).userId).toBe(user.user.id);

    const rotation = await rotateKeyFile(file, retainSeconds, Date.now(), 0);
    expect(await gatehouse.app.keyReloader?.reload()).toBe('reloaded');
    expect(await publishedKids(gatehouse)).toEqual([rotation.signingKid, original.kid]);
    const fresh = await loginUser(gatehouse, user.email);
    expect(kidOf(fresh.accessToken)).toBe(rotation.signingKid);

    // A token whose kid left the set fails on its next use, although it is cached and unexpired.
    const rotated = JSON.parse(readFileSync(file, 'utf8')) as { keys: JWK[] };
    writeFileSync(file, JSON.stringify({ keys: rotated.keys.filter((key) => key.kid !== original.kid) }));
    expect(await gatehouse.app.keyReloader?.reload()).toBe('reloaded');
    expect((await identityOf(gatehouse, user.accessToken)).code).toBe('UNAUTHENTICATED');
    expect((await identityOf(gatehouse, fresh.accessToken)).userId).toBe(user.user.id);
  });

  it('pending key in JWT_PRIVATE_JWKS only verifies', async () => {
    const current = await generateSigningJwk();
    const pending = { ...(await generateSigningJwk()), [signsFromMember]: Math.floor(Date.now() / 1000) + 3600 };
    const gatehouse = await startGatehouse({ env: { JWT_PRIVATE_JWKS: JSON.stringify({ keys: [pending, current] }) } });
    running.push(gatehouse);
    expect(gatehouse.app.keyReloader).toBeUndefined();
    expect(await publishedKids(gatehouse)).toEqual([pending.kid, current.kid]);
    const user = await registerUser(gatehouse);
    expect(kidOf(user.accessToken)).toBe(current.kid);
  });
});
