import { describe, expect, it } from 'vitest';
import { defaultHashConcurrency, QueueAbortedError, Semaphore } from '../../src/auth/hash-concurrency.js';

/** Creates a task that records its start and runs until `finish` is called. */
function gate(started: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));

  return { task: async () => { started.push(name); await done; return name; }, finish: () => finish() };
}

describe('hash concurrency', () => {
  it('keeps a core free, at most 4', () => {
    expect(defaultHashConcurrency(1)).toBe(1);
    expect(defaultHashConcurrency(2)).toBe(1);
    expect(defaultHashConcurrency(4)).toBe(3);
    expect(defaultHashConcurrency(8)).toBe(4);
    expect(defaultHashConcurrency(64)).toBe(4);
  });

  it('runs at most the limit in arrival order', async () => {
    const semaphore = new Semaphore(1);
    const started: string[] = [];
    const [a, b, c] = [gate(started, 'a'), gate(started, 'b'), gate(started, 'c')];
    const results = [semaphore.run(a.task), semaphore.run(b.task), semaphore.run(c.task)];
    await Promise.resolve();
    expect(started).toEqual(['a']);
    a.finish();
    await results[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a', 'b']);
    b.finish();
    c.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
  });

  it('drops a waiting task whose signal aborts', async () => {
    const semaphore = new Semaphore(1);
    const started: string[] = [];
    const [a, b, c] = [gate(started, 'a'), gate(started, 'b'), gate(started, 'c')];
    const controller = new AbortController();
    const first = semaphore.run(a.task);
    const dropped = semaphore.run(b.task, controller.signal);
    const last = semaphore.run(c.task);
    controller.abort();
    await expect(dropped).rejects.toBeInstanceOf(QueueAbortedError);
    a.finish();
    c.finish();
    expect(await first).toBe('a');
    expect(await last).toBe('c');
    expect(started).toEqual(['a', 'c']);
  });

  it('rejects an already aborted task', async () => {
    const semaphore = new Semaphore(2);
    await expect(semaphore.run(async () => 'x', AbortSignal.abort())).rejects.toBeInstanceOf(QueueAbortedError);
  });
});
