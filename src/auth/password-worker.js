// Runs one bcrypt task on a Piscina worker thread. This file is plain JavaScript because a
// worker thread loads it with Node's own loader: vitest runs the server without tsx, and Node 20
// cannot load TypeScript, so a .ts worker would fail there.
import bcrypt from 'bcrypt';

/**
 * Hashes or compares one password. The synchronous bcrypt calls keep the work on this thread,
 * whose scheduling priority Piscina lowered, rather than on the libuv pool.
 *
 * @param {{ kind: 'hash', password: string, cost: number } | { kind: 'compare', password: string, hash: string }} task
 * @returns {string | boolean} the hash for `hash`, whether the password matches for `compare`
 */
export default function runPasswordTask(task) {
  if (task.kind === 'hash') return bcrypt.hashSync(task.password, task.cost);
  if (task.kind === 'compare') return bcrypt.compareSync(task.password, task.hash);

  throw new TypeError(`Unknown password task kind: ${String(task.kind)}`);
}
