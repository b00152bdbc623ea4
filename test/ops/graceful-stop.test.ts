import { createServer } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gracefulStop } from '../../src/http/graceful-stop.js';
import { createLogger } from '../../src/logger.js';
import type { App } from '../../src/services.js';

describe('graceful stop', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('exits when closing hangs', async () => {
    vi.useFakeTimers();
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as () => never);
    const markStopping = vi.fn();
    const app = { services: { health: { markStopping } }, close: () => new Promise<void>(() => undefined) } as unknown as App;
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

    gracefulStop(http, app, 0, createLogger('silent'))('SIGTERM');
    await vi.advanceTimersByTimeAsync(19_000);
    expect(markStopping).toHaveBeenCalledOnce();
    expect(exit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(exit).toHaveBeenCalledWith(1);
  });
});
