/**
 * Resolves or rejects as `work` does, or rejects with an error of code `ETIMEDOUT` when `work`
 * takes longer than `ms`. The work itself keeps running, because only the wait for it ends.
 */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });

  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
