import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ruleFor } from '../../src/rate-limit/config-store.js';
import { patternMatches } from '../../src/rate-limit/patterns.js';
import { executedOperation } from '../../src/rate-limit/root-fields.js';
import { canonicalAddress, clientNetwork } from '../../src/rate-limit/subject.js';
import type { LimitRule } from '../../src/rate-limit/windows.js';

describe('executed root fields', () => {
  it('counts aliases and fragments on the root', () => {
    const document = parse(`
      query Q { a: me { id } b: me { id } ...Root ... on Query { c: me { id } } }
      fragment Root on Query { sessions { id } d: me { id } }
    `);
    expect([...(executedOperation(document, 'Q', {})?.rootFields ?? [])].sort()).toEqual(['me', 'me', 'me', 'me', 'sessions']);
  });

  it('merges fields with one response key', () => {
    const document = parse('{ me { id } me { email } ...F ...F } fragment F on Query { me { id } }');
    expect(executedOperation(document, undefined, {})?.rootFields).toEqual(['me']);
  });

  it('honours skip and include', () => {
    const document = parse('query Q($no: Boolean!) { a: me @skip(if: true) { id } b: me @include(if: $no) { id } c: me { id } }');
    expect(executedOperation(document, 'Q', { no: false })?.rootFields).toEqual(['me']);
  });

  it('walks a document again when variables decide its root fields', () => {
    const document = parse('query Q($no: Boolean!) { a: me @include(if: $no) { id } b: sessions { id } }');
    expect(executedOperation(document, 'Q', { no: true })?.rootFields).toEqual(['me', 'sessions']);
    expect(executedOperation(document, 'Q', { no: false })?.rootFields).toEqual(['sessions']);
    expect(executedOperation(document, 'Q', { no: true })?.rootFields).toEqual(['me', 'sessions']);
  });

  it('shares one frozen result per document and operation without directives', () => {
    const document = parse('query A { me { id } } query B { sessions { id } }');
    const first = executedOperation(document, 'A', {});
    expect(executedOperation(document, 'A', { any: 1 })).toBe(first);
    expect(Object.isFrozen(first?.rootFields)).toBe(true);
    expect(executedOperation(document, 'B', {})?.rootFields).toEqual(['sessions']);
  });

  it('picks the named operation', () => {
    const document = parse('query A { me { id } } mutation B { logout x: logout }');
    expect(executedOperation(document, 'B', {})).toEqual({ type: 'mutation', name: 'B', rootFields: ['logout', 'logout'], responseKeys: ['logout', 'x'] });
    expect(executedOperation(document, undefined, {})).toBeUndefined();
  });
});

describe('rule matching', () => {
  const rule = (operation: string, points: number): LimitRule => ({
    plan: 'free',
    operation,
    window: 'minute',
    points,
    cost: 1,
    failMode: 'open',
  });
  const rules = [rule('*', 1), rule('log*', 2), rule('login', 3), rule('Guess', 4), rule('Slow', 1)];

  it('prefers exact names over globs over the default', () => {
    expect(ruleFor(rules, 'free', 'minute', 'login', undefined)?.points).toBe(3);
    expect(ruleFor(rules, 'free', 'minute', 'logout', undefined)?.points).toBe(2);
    expect(ruleFor(rules, 'free', 'minute', 'me', undefined)?.points).toBe(1);
    expect(ruleFor(rules, 'free', 'minute', 'me', 'Slow')?.operation).toBe('Slow');
    expect(ruleFor(rules, 'pro', 'minute', 'me', undefined)).toBeUndefined();
    expect(ruleFor(rules, 'free', 'hour', 'me', undefined)).toBeUndefined();
  });

  it('ignores operation-name rules looser than the field rule', () => {
    expect(ruleFor(rules, 'free', 'minute', 'me', 'Guess')?.operation).toBe('*');
    expect(ruleFor(rules, 'free', 'minute', 'logout', 'Guess')?.operation).toBe('log*');
    expect(ruleFor(rules, 'free', 'minute', 'logout', 'Slow')?.operation).toBe('Slow');
    expect(ruleFor([rule('Guess', 4)], 'free', 'minute', 'me', 'Guess')?.operation).toBe('Guess');
    expect(ruleFor([rule('*', 1), rule('Sl*', 1), rule('Slow', 9)], 'free', 'minute', 'me', 'Slow')?.operation).toBe('Sl*');
  });

  it('compares points per cost', () => {
    const costly = { ...rule('Guess', 4), cost: 4 };
    expect(ruleFor([rule('*', 1), costly], 'free', 'minute', 'me', 'Guess')?.operation).toBe('Guess');
    expect(ruleFor([{ ...rule('*', 2), cost: 2 }, rule('Guess', 2)], 'free', 'minute', 'me', 'Guess')?.operation).toBe('*');
  });

  it('matches globs on whole names', () => {
    expect(patternMatches('log?n', 'login')).toBe(true);
    expect(patternMatches('log', 'login')).toBe(false);
    expect(patternMatches('*Token', 'refreshToken')).toBe(true);
  });
});

describe('client network', () => {
  it('groups IPv6 by /64 and keeps IPv4', () => {
    expect(clientNetwork('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:DB8:0001:0002:0:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('198.51.100.4')).toBe('198.51.100.4');
    expect(clientNetwork(null)).toBe('unknown');
  });
});

describe('canonical address', () => {
  it('writes IPv6 in one spelling', () => {
    expect(canonicalAddress('2001:DB8:0001:0002:0:0:0:9')).toBe('2001:db8:1:2::9');
    expect(canonicalAddress('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalAddress('2001:db8::1')).toBe('2001:db8::1');
  });

  it('keeps IPv4', () => {
    expect(canonicalAddress('198.51.100.4')).toBe('198.51.100.4');
  });
});
