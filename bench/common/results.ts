// Process figures (from /proc) and the results file that a benchmark writes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A field of /proc/self/status in kB (VmRSS, VmHWM, ...); -1 where absent. */
export function statusKB(field: string): number {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
  return m ? Number(m[1]) : -1;
}

/** Minor page faults of this process so far (field 10 of /proc/self/stat). */
export function minorFaults(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

/** Writes `result` as indented JSON (creating the folder) and says so. */
export function writeResults(path: string, result: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  console.log(`results written to ${path}`);
}
