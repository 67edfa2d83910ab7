// One writer per index folder: a lock file holding the writer's pid, created exclusively. A lock left by a
// process that no longer runs (killed) is taken over. `takePidLock` is the mechanism, also used by the bench's
// regime sweep (one process per run folder).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

const LOCK = 'writer.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type PidLockResult = { acquired: true; release: () => void } | { acquired: false; owner: number };

/**
 * Creates `file` exclusively with `pid` in it, or says which live process holds it. A lock whose process is gone
 * is stale and taken over; so is one holding `pid` itself when `ownIsStale`.
 */
export function takePidLock(file: string, pid = process.pid, ownIsStale = false): PidLockResult {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(pid));
      closeSync(fd);
      return { acquired: true, release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(file, 'utf8').trim());
      } catch {
        // Removed between our open and read: try again.
      }
      const held = Number.isInteger(owner) && owner > 0 && (owner === pid ? !ownIsStale : alive(owner));
      if (held) return { acquired: false, owner };
      rmSync(file, { force: true }); // stale (its process is gone) or unreadable: take it over
    }
  }
  throw new Error(`could not take the lock ${file}`);
}

export class IndexLock {
  private constructor(private readonly releaseLock: () => void) {}

  static acquire(dir: string): IndexLock {
    const path = join(dir, LOCK);
    const r = takePidLock(path);
    if (r.acquired) return new IndexLock(r.release);
    if (r.owner === process.pid) throw new Error(`index ${dir} is already open for writing in this process`);
    throw new Error(`index ${dir} is open for writing by process ${r.owner} (a server or another command); stop it first, or search it read-only`);
  }

  release(): void {
    this.releaseLock();
  }
}
