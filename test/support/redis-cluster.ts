import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { Cluster } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RunningCluster {
  /** `host:port` of every node, for REDIS_CLUSTER_NODES. */
  nodes: string[];
  /**
   * Kills one node (`host:port`) with SIGKILL and starts it again on the same port and nodes.conf.
   * Nodes save no data, so it comes back with its slots and no keys, as after a crash.
   */
  restart(node: string): Promise<void>;
  stop(): Promise<void>;
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Picks a port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node after 200 attempts');
}

function redisCli(args: string[]): string {
  return execFileSync('redis-cli', args, { stdio: 'pipe', timeout: 20_000 }).toString();
}

async function waitForClusterOk(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = ports.map((port) => {
      try {
        return redisCli(['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info']);
      } catch {
        return '';
      }
    });
    if (states.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error(`redis cluster not ok after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (redisCli(['-h', '127.0.0.1', '-p', String(port), 'ping']).includes('PONG')) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`redis node on port ${port} not up after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts a three-node Redis Cluster without replicas on 127.0.0.1, each node with its own
 * folder for nodes.conf, and assigns the 16384 slots across the three.
 */
export async function startRedisCluster(): Promise<RunningCluster> {
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let index = 0; index < 3; index++) {
    const port = await clusterPort(taken);
    taken.add(port).add(port + 10_000);
    ports.push(port);
  }
  const dirs: string[] = [];
  const spawnNode = (port: number, dir: string) =>
    spawn(
      'redis-server',
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes',
        '--cluster-config-file', path.join(dir, 'nodes.conf'),
        '--cluster-node-timeout', '2000',
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
        '--logfile', path.join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
  const children: ChildProcess[] = ports.map((port) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-redis-cluster-'));
    dirs.push(dir);
    return spawnNode(port, dir);
  });
  const restart = async (node: string) => {
    const index = ports.indexOf(Number(node.split(':')[1]));
    const child = children[index];
    if (!child) throw new Error(`${node} is not a node of this cluster`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    children[index] = spawnNode(ports[index]!, dirs[index]!);
    await waitForPing(ports[index]!, 5000);
    await waitForClusterOk(ports, 15_000);
  };
  const stop = async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitForPing(port, 5000);
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    redisCli(['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(ports, 15_000);

    return { nodes, restart, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Opens a cluster client of the test's own, for checks on keys and commands beside Gatehouse. */
export function openClusterProbe(cluster: RunningCluster): Cluster {
  return new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
}
