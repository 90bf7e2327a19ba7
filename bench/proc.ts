import fs from 'node:fs';

/** CPU time a process has used so far, in ms (Linux: /proc/PID/stat, ticks of 10 ms); 0 once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}
