import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimStoppedOwner, hasStopped, thisProcess } from '../../src/db/lock-owner.js';

describe('lock owner', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-owner-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stopped = { ...thisProcess(), pid: 999_999_999 };

  it('tells stopped from running holders', () => {
    expect(hasStopped(stopped)).toBe(true);
    expect(hasStopped(thisProcess())).toBe(false);
    expect(hasStopped({ ...stopped, pid: process.ppid })).toBe(false);
    expect(hasStopped({ ...stopped, pidNamespace: 'pid:[1]' })).toBe(false);
    expect(hasStopped({ ...stopped, bootId: 'another boot' })).toBe(false);
  });

  it('lets one of two claims win', async () => {
    const file = path.join(dir, 'claimed-once');
    writeFileSync(file, JSON.stringify(stopped));
    const claims = await Promise.all([claimStoppedOwner(file, stopped), claimStoppedOwner(file, stopped)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('puts back a replaced owner file', async () => {
    const file = path.join(dir, 'replaced');
    const running = JSON.stringify(thisProcess());
    writeFileSync(file, running);
    expect(await claimStoppedOwner(file, stopped)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(running);
  });
});
