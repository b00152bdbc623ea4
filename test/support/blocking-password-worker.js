// A stand-in for src/auth/password-worker.js in tests: a `compare` task blocks its thread until
// the thread is terminated, and a `hash` task returns at once.
export default function runBlockingTask(task) {
  if (task.kind === 'compare') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);

  return 'hashed';
}
