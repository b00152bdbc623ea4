import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Returns the inodes of the sockets this process has open, from /proc/self/fd (Linux only). */
function openSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // The descriptor of readdirSync itself is closed by the time it is read.
    }
  }

  return inodes;
}

/** Returns the inodes of the TCP sockets whose local port is `port`, from /proc/net/tcp and tcp6. */
function inodesOfLocalPort(port: number): string[] {
  const inodes: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = fields[1]?.split(':').pop();
      if (localPort !== undefined && Number.parseInt(localPort, 16) === port) inodes.push(fields[9]!);
    }
  }

  return inodes;
}

/**
 * True while this process has a TCP socket open whose local port is `port`. A socket that the
 * process closed but the kernel still keeps (FIN_WAIT_2, TIME_WAIT) has inode 0 and no descriptor,
 * so it does not count. A socket half-closed with `end()` keeps its descriptor and counts.
 */
export function hasOpenSocketOnPort(port: number): boolean {
  const open = openSocketInodes();

  return inodesOfLocalPort(port).some((inode) => inode !== '0' && open.has(inode));
}
