import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export { waitForPort } from '../test/support/processes.js';

/** Functions that stop what the run started, newest first; run on success, error and Ctrl-C. */
const cleanups: (() => Promise<void>)[] = [];

export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.unshift(cleanup);
}

/** Runs every registered cleanup once, logging failures so that one does not skip the rest. */
export async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.shift()!;
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`bench: cleanup failed: ${String(error)}\n`);
    }
  }
}

const tasksetPath = ['/usr/bin/taskset', '/bin/taskset'].find((candidate) => existsSync(candidate));

export const canPin = tasksetPath !== undefined;

/** Moves a running process and all its threads to one core. */
export function pinProcess(pid: number, core: number): void {
  if (!tasksetPath) return;
  execFileSync(tasksetPath, ['-a', '-c', '-p', String(core), String(pid)], { stdio: 'ignore' });
}

export interface ChildOptions {
  /** Core to pin the child to with taskset, or undefined for no pinning. */
  core: number | undefined;
  env?: Record<string, string>;
  /** Extra Node flags, such as `--cpu-prof`. */
  nodeFlags?: string[];
  /** Destination of the child's stdout and stderr: this terminal, nowhere, or an open file. @default 'inherit' */
  output?: 'inherit' | 'ignore' | number;
}

/**
 * Starts a TypeScript script in a new Node process with an IPC channel. taskset replaces itself
 * with node, so the returned process id is the id of the Node process.
 */
export function startNodeChild(script: string, options: ChildOptions): ChildProcess {
  const nodeArgs = [...(options.nodeFlags ?? []), '--import', 'tsx', script];
  const [command, args] =
    options.core !== undefined && tasksetPath
      ? [tasksetPath, ['-c', String(options.core), process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
  const output = options.output ?? 'inherit';
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', output, output, 'ipc'],
  });
  onCleanup(() => stopChild(child));

  return child;
}

/** Sends SIGTERM, then SIGKILL after `graceMs`, and waits for the exit. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}


/** Resolves with the next IPC message of `child` that has the given type. */
export function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no "${type}" message after ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { type?: string }) => {
      if (message?.type === type) finish(undefined, message as T);
    };
    const onExit = (code: number | null) => finish(new Error(`child exited with code ${code} before "${type}"`));
    function finish(error: Error | undefined, message?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
