import fs from 'node:fs';

const NODE_DEFAULT_BACKLOG = 511;

/** The longest listen queue the kernel allows (net.core.somaxconn on Linux), or Node's default. */
export function systemBacklog(): number {
  try {
    const value = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isInteger(value) && value > 0 ? value : NODE_DEFAULT_BACKLOG;
  } catch {
    return NODE_DEFAULT_BACKLOG;
  }
}
