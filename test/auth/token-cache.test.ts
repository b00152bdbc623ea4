import { describe, expect, it } from 'vitest';
import type { AccessTokenClaims } from '../../src/auth/access-tokens.js';
import { VerifiedTokenCache } from '../../src/auth/token-cache.js';

const key = { name: 'current key' };
const currentKey = (kid: string) => (kid === 'kid-1' ? key : undefined);
const nowMs = 1_800_000_000_000;

function claims(sessionId: string, expiresAt = nowMs / 1000 + 60): AccessTokenClaims {
  return { userId: 'user', sessionId, tokenId: `jti-${sessionId}`, issuedAt: nowMs / 1000, expiresAt };
}

describe('verified token cache', () => {
  it('returns a token verified before', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('token-a', claims('s1'), 'kid-1', key, nowMs);
    expect(cache.get('token-a', currentKey, nowMs + 1000)?.sessionId).toBe('s1');
    expect(cache.get('token-a.', currentKey, nowMs + 1000)).toBeUndefined();
  });

  it('misses at the token exp', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('token-a', claims('s1', nowMs / 1000 + 5), 'kid-1', key, nowMs);
    expect(cache.get('token-a', currentKey, nowMs + 5000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('misses for a clock before verification', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('token-a', claims('s1'), 'kid-1', key, nowMs);
    expect(cache.get('token-a', currentKey, nowMs - 1)).toBeUndefined();
  });

  it('misses once the key is gone', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('token-a', claims('s1'), 'kid-1', key, nowMs);
    expect(cache.get('token-a', () => undefined, nowMs)).toBeUndefined();
    expect(cache.get('token-a', currentKey, nowMs)).toBeUndefined();
  });

  it('drops the least recently used entry', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('token-a', claims('s1'), 'kid-1', key, nowMs);
    cache.set('token-b', claims('s2'), 'kid-1', key, nowMs);
    cache.get('token-a', currentKey, nowMs);
    cache.set('token-c', claims('s3'), 'kid-1', key, nowMs);
    expect(cache.size).toBe(2);
    expect(cache.get('token-b', currentKey, nowMs)).toBeUndefined();
    expect(cache.get('token-a', currentKey, nowMs)?.sessionId).toBe('s1');
  });

  it('forgets revoked sessions', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('token-a', claims('s1'), 'kid-1', key, nowMs);
    cache.set('token-b', claims('s2'), 'kid-1', key, nowMs);
    cache.forgetSessions(['s1']);
    expect(cache.get('token-a', currentKey, nowMs)).toBeUndefined();
    expect(cache.get('token-b', currentKey, nowMs)?.sessionId).toBe('s2');
  });
});
