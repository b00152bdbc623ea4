import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryRevocationList } from '../../src/auth/revocations.js';
import { capturingLogger, deferred } from '../support/fill-helpers.js';

const ttlMs = 60_000;

function openList() {
  const { logger, lines } = capturingLogger();
  const closing = new AbortController();

  return { lines, closing, list: new MemoryRevocationList(ttlMs, logger, closing.signal) };
}

const newSession = () => ({ userId: randomUUID(), sessionId: randomUUID() });

/** Waits until queued promise callbacks have run, because they all run before a setImmediate callback. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('memory revocation list', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns unknown before any fill', async () => {
    const { list } = openList();
    const session = newSession();
    await list.add([session]);

    expect(await list.status(session)).toBe('unknown');
  });

  it('returns revoked once filled', async () => {
    const { list } = openList();
    const revokedBeforeStart = newSession();
    const other = newSession();
    const fill = deferred();
    list.onResync(async () => {
      await fill.promise;
      await list.add([revokedBeforeStart]);
    });

    expect(await list.status(revokedBeforeStart)).toBe('unknown');
    fill.resolve();
    await fill.promise;
    await settle();
    expect(await list.status(revokedBeforeStart)).toBe('revoked');
    expect(await list.status(other)).toBe('live');
  });

  it('keeps revocations added during the fill', async () => {
    const { list } = openList();
    const session = newSession();
    const fill = deferred();
    list.onResync(() => fill.promise);
    await list.add([session]);
    fill.resolve();
    await fill.promise;
    await settle();

    expect(await list.status(session)).toBe('revoked');
  });

  it('stays unknown and logs after a failed fill', async () => {
    const { list, lines, closing } = openList();
    const session = newSession();
    const fill = deferred();
    list.onResync(() => fill.promise);
    fill.reject(new Error('database unreachable'));
    await fill.promise.catch(() => undefined);
    await settle();
    closing.abort();

    expect(await list.status(session)).toBe('unknown');
    const failures = lines.filter((line) => line.msg === 'filling the revocation deny-list failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.retryInMs).toBe(5000);
  });

  it('retries a failed fill until it succeeds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const { list } = openList();
    const session = newSession();
    let calls = 0;
    list.onResync(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database unreachable');
    });
    await settle();
    expect(await list.status(session)).toBe('unknown');

    vi.advanceTimersByTime(5000);
    await settle();
    expect(calls).toBe(2);
    expect(await list.status(session)).toBe('live');
  });

  it('stops retrying once closing aborts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const { list, closing } = openList();
    let calls = 0;
    list.onResync(async () => {
      calls += 1;
      throw new Error('database unreachable');
    });
    await settle();
    closing.abort();
    vi.advanceTimersByTime(5000);
    await settle();

    expect(calls).toBe(1);
    expect(await list.status(newSession())).toBe('unknown');
  });
});
