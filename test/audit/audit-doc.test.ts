import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditActions } from '../../src/audit/audit-log.js';

const doc = readFileSync(new URL('../../docs/audit-log.md', import.meta.url), 'utf8');

/** Action names in the first column of the actions table. */
function documentedActions(): string[] {
  const section = doc.split('## Actions')[1]?.split('\n## ')[0] ?? '';

  return [...section.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((match) => match[1]!);
}

describe('audit log documentation', () => {
  it('lists every action of auditActions', () => {
    expect(documentedActions().sort()).toEqual(Object.values(auditActions).sort());
  });

  it('lists each action once', () => {
    const actions = documentedActions();
    expect(new Set(actions).size).toBe(actions.length);
  });
});
