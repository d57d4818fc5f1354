// Reading live processes from /proc, for tests that prove a build's processes are gone.
import { readdirSync, readFileSync } from 'node:fs';

/** Live processes whose process group is `pgid` (zombies are dead already). */
export function processesInGroup(pgid: number): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      // After the command name: state, ppid, pgrp, ...
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') found.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
