import { describe, expect, it } from 'vitest';
import { FailedLoginTracker } from '../../src/observability/failed-logins.js';

describe('failed login hotspots', () => {
  const start = Date.parse('2026-01-01T00:00:00Z');

  it('counts accounts and addresses over 10 failures', () => {
    const tracker = new FailedLoginTracker();
    for (let attempt = 0; attempt < 11; attempt++) tracker.record('victim@example.com', `198.51.100.${attempt}`, start + attempt);
    for (let attempt = 0; attempt < 11; attempt++) tracker.record(`user${attempt}@example.com`, '203.0.113.9', start + attempt);
    expect(tracker.hotspots(start + 1000)).toEqual({ email: 1, ip: 1 });
  });

  it('ignores 10 failures', () => {
    const tracker = new FailedLoginTracker();
    for (let attempt = 0; attempt < 10; attempt++) tracker.record('ten@example.com', '198.51.100.1', start + attempt);
    expect(tracker.hotspots(start + 1000)).toEqual({ email: 0, ip: 0 });
  });

  it('forgets failures older than 5 minutes', () => {
    const tracker = new FailedLoginTracker();
    for (let attempt = 0; attempt < 11; attempt++) tracker.record('old@example.com', null, start + attempt * 1000);
    expect(tracker.hotspots(start + 11_000)).toEqual({ email: 1, ip: 0 });
    expect(tracker.hotspots(start + 5 * 60_000 + 5_000)).toEqual({ email: 0, ip: 0 });
  });
});
