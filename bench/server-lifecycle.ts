/** Replies to "usage" IPC messages from bench/run.ts with this process's CPU time, memory and `extra()`. */
export function answerUsageRequests(extra: () => object = () => ({})): void {
  process.on('message', (message: { type?: string }) => {
    if (message?.type !== 'usage') return;
    process.send?.({ type: 'usage', cpu: process.cpuUsage(), memory: process.memoryUsage(), ...extra() });
  });
}

/**
 * Stops a benchmark server on SIGTERM, SIGINT or when the parent's IPC channel closes, so a
 * killed bench/run.ts leaves no server behind.
 */
export function exitWithParent(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    close()
      .catch((error: unknown) => process.stderr.write(`bench server: close failed: ${String(error)}\n`))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}
