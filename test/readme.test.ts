import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists every error code with its status', () => {
    const section = readme.split('\n## Errors')[1]?.split('\n## ')[0] ?? '';
    const rows = [...section.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \| (\d{3}) \|/gm)];
    const documented = new Map<string, number>();
    for (const [, codes, status] of rows) {
      for (const code of codes!.matchAll(/`([A-Z_]+)`/g)) documented.set(code[1]!, Number(status));
    }
    expect(Object.fromEntries(documented)).toEqual(errorCodes);
  });
});
